//! `tessera vendor verify-report FILE [--registry FILE] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::DocumentKind;

use super::installation::{self, RegistryArgs};
use crate::cli::describe;
use crate::cli::util::{self, Failure};

/// Arguments of `vendor verify-report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The usage report from the site.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Checks the report's signature and installation key, and prints what it reports.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let doc = installation::read(&args.file, DocumentKind::UsageReport)?;
    let standing = installation::register(&args.registry, &doc.document, false)?;
    if args.json {
        let mut v = describe::json(&doc, true);
        v["inspect"]["registry"] = serde_json::json!(installation::standing_note(standing));
        util::print_json(&v)?;
    } else {
        util::print(&format!(
            "VALID usage report: signature checked; {}\n\n{}",
            installation::standing_note(standing),
            describe::text(&doc)
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
