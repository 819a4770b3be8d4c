//! `tessera check USER`: may this user work now?
//!
//! Exit 0: may work. Exit 1: may not (the answer, with a reason code).
//! Exit 3: could not answer (no store at that path, the store busy, the
//! service unreachable, an I/O error, or the caller not allowed to ask): the
//! licensed product tells "no" from "no answer" by the exit code alone.

use std::process::ExitCode;

use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The username.
    user: String,
    /// Print JSON: `allowed`, `reason_code`, `reason`, `seat`, `warnings`.
    #[arg(long)]
    json: bool,
}

/// The exit code of "could not answer".
const NO_ANSWER: u8 = 3;

/// Answers whether the user may work, and why.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let answer =
        site::connect(ctx).and_then(|store| store.check(&args.user).map_err(site::refused));
    let r = match answer {
        Ok(r) => r,
        Err(Failure::BrokenPipe) => return Err(Failure::BrokenPipe),
        Err(Failure::Usage(m)) => return Err(Failure::Usage(m)),
        Err(Failure::Store { code, message }) => return no_answer(&args, code.as_str(), &message),
        Err(Failure::Refused(message)) => return no_answer(&args, "refused", &message),
        Err(Failure::Coded { code, message }) => return no_answer(&args, code, &message),
    };
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

/// Says why there is no answer, and exits 3.
fn no_answer(args: &Args, code: &str, message: &str) -> Result<ExitCode, Failure> {
    super::report(&format!("could not answer: {message}"));
    if args.json {
        util::print_json(&serde_json::json!({
            "user": args.user,
            "answered": false,
            "error": { "code": code, "message": message },
        }))?;
    }
    Ok(ExitCode::from(NO_ANSWER))
}
