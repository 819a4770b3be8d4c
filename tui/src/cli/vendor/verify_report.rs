//! `tessera vendor verify-report FILE [--ledger LOCATION] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::{Document, DocumentKind};

use super::installation::{self, Refusal, SiteArgs};
use crate::cli::describe;
use crate::cli::util::{self, Failure};

/// Arguments of `vendor verify-report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The usage report from the site.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    site: SiteArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Checks the report's signature and installation key (against the ledger,
/// which remembers the key on first sight), and prints what it reports and
/// what its chain says against the reports the ledger has from the serial.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let doc = installation::read(&args.file, DocumentKind::UsageReport)?;
    let Document::UsageReport(report) = &doc.document else {
        return Err(Failure::refused("not a usage report"));
    };
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let (standing, findings) = ledger
        .transaction_with(|tx| {
            let standing = installation::check_key(
                tx,
                &doc.document,
                args.site.accept_new_key,
                installation::now(),
            )?;
            let seen: Vec<_> = tx
                .reports(&report.serial)?
                .iter()
                .map(|r| r.seen())
                .collect();
            let findings =
                licfile::report::chain_findings(&seen, &report.report_id, report.chain.as_ref());
            Ok::<_, Refusal>((standing, findings))
        })
        .map_err(|e| e.into_failure(&at))?;
    if args.json {
        let mut v = describe::json(&doc, true);
        v["inspect"]["ledger"] = serde_json::json!({
            "installation_key": installation::standing_note(standing),
            "chain_findings": findings,
        });
        util::print_json(&v)?;
    } else {
        let chain = if findings.is_empty() {
            "its chain follows on from the reports the ledger has from this serial".to_string()
        } else {
            format!("FINDINGS: {}", findings.join("; "))
        };
        util::print(&format!(
            "VALID usage report: signature checked; {}; {chain}\n\n{}",
            installation::standing_note(standing),
            describe::text(&doc)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
