//! `tessera vendor verify-request FILE [--registry FILE] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::{Document, DocumentKind};

use super::installation::{self, RegistryArgs};
use crate::cli::describe;
use crate::cli::util::{self, Failure};

/// Arguments of `vendor verify-request`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The licence request from the site.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Checks the request's signature and installation key, and prints what it asks.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let doc = installation::read(&args.file, DocumentKind::Request)?;
    let standing = installation::register(&args.registry, &doc.document, false)?;
    let Document::Request(_) = &doc.document else {
        return Err(Failure::refused("not a licence request"));
    };
    if args.json {
        let mut v = describe::json(&doc, true);
        v["inspect"]["registry"] = serde_json::json!(installation::standing_note(standing));
        util::print_json(&v)?;
    } else {
        util::print(&format!(
            "VALID licence request: signature checked; {}\n\n{}",
            installation::standing_note(standing),
            describe::text(&doc)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
