//! `tessera check USER`: may this user work now? Exit 0 yes, 1 no.

use std::process::ExitCode;

use super::site;
use super::util::{self, Failure};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The username.
    user: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Answers whether the user may work, and why.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    let r = store.check(&args.user).map_err(site::refused)?;
    if args.json {
        let value = serde_json::to_value(&r).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
    } else {
        let mut s = format!(
            "{}: {}\n",
            if r.allowed { "allowed" } else { "refused" },
            r.reason
        );
        for w in &r.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        util::print(&s)?;
    }
    Ok(if r.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
