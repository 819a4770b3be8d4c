//! `tessera vendor verify-request FILE [--ledger LOCATION] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::{Document, DocumentKind};

use super::installation::{self, Refusal, SiteArgs};
use crate::cli::describe;
use crate::cli::util::{self, Failure};

/// Arguments of `vendor verify-request`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The licence request from the site.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    site: SiteArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Checks the request's signature and installation key (against the ledger,
/// which remembers the key on first sight), and prints what it asks and
/// whether it was fulfilled already.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let doc = installation::read(&args.file, DocumentKind::Request)?;
    let Document::Request(req) = &doc.document else {
        return Err(Failure::refused("not a licence request"));
    };
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let (standing, fulfilled) = ledger
        .transaction_with(|tx| {
            let standing = installation::check_key(
                tx,
                &doc.document,
                args.site.accept_new_key,
                installation::now(),
            )?;
            tx.note_request(&req.serial, &req.request_id, None)?;
            let fulfilled = tx.fulfilment(&req.serial, &req.request_id)?;
            Ok::<_, Refusal>((standing, fulfilled))
        })
        .map_err(|e| e.into_failure(&at))?;
    let fulfilled_note = match &fulfilled {
        Some((by, when)) => format!(
            "ALREADY FULFILLED by {by} on {}",
            store::rules::check::fmt_minute(*when)
        ),
        None => "not fulfilled yet".to_string(),
    };
    if args.json {
        let mut v = describe::json(&doc, true);
        v["inspect"]["ledger"] = serde_json::json!({
            "installation_key": installation::standing_note(standing),
            "fulfilled": fulfilled.as_ref().map(|(by, when)| serde_json::json!({
                "by": by,
                "at": licfile::Timestamp(*when).to_string(),
            })),
        });
        util::print_json(&v)?;
    } else {
        util::print(&format!(
            "VALID licence request: signature checked; {}; {fulfilled_note}\n\n{}",
            installation::standing_note(standing),
            describe::text(&doc)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
