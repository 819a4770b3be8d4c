//! `tessera tick`: applies what time has made due (direct mode; the service runs it on a timer).

use std::process::ExitCode;
use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `tick`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the time-driven rules once.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    let report = store.tick().map_err(site::refused)?;
    if args.json {
        let value = serde_json::to_value(&report).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
    } else {
        let mut s = String::new();
        for u in &report.deactivated {
            s.push_str(&format!("deactivated {u}: over-allocation grace ended\n"));
        }
        for n in &report.notices {
            s.push_str(&format!("{n}\n"));
        }
        if s.is_empty() {
            s.push_str("nothing due\n");
        }
        util::print(&s)?;
    }
    Ok(ExitCode::SUCCESS)
}
