//! `tessera outbox [--json]`: the confirmation e-mails written for the licensee.

use std::fmt::Write as _;
use std::process::ExitCode;
use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `outbox`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Lists the outbox.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    store.require_licence_reader().map_err(site::refused)?;
    let entries = store.outbox().map_err(site::refused)?;
    if args.json {
        let value = serde_json::to_value(&entries).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!("{} e-mails in the store's outbox\n", entries.len());
    for e in &entries {
        let _ = writeln!(s, "{:<40} {:<32} {}", e.file, e.to, e.subject);
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}
