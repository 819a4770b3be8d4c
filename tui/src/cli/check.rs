//! `tessera check USER`: may this user work now?
//!
//! Exit 0: may work. Exit 1: may not (the answer, with a reason code).
//! Exit 3: could not answer (no store at that path, the store busy, the
//! service unreachable, an I/O error, or the caller not allowed to ask): the
//! licensed product tells "no" from "no answer" by the exit code alone.
//!
//! With `--lease FILE`, a user who may work also gets a lease written to
//! FILE: signed by the installation key, it lets the product go on while
//! the service cannot be reached, until its `not_after`
//! (`tessera verify FILE --trust INSTALLATION.pub`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The username.
    user: String,
    /// Print JSON: `allowed`, `reason_code`, `reason`, `seat`, `warnings`,
    /// `answered_by` (`service` or `store`), and with --lease the lease's times.
    #[arg(long)]
    json: bool,
    /// For a user who may work, write a signed lease here (replacing the one
    /// there): the product renews it at half its life and, while the service
    /// cannot be reached, lets the user work until it runs out.
    #[arg(long, value_name = "FILE")]
    lease: Option<PathBuf>,
}

/// The exit code of "could not answer".
const NO_ANSWER: u8 = 3;

/// Answers whether the user may work, and why.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let answer = site::connect_by(ctx).and_then(|(store, route)| {
        let outcome = match &args.lease {
            Some(_) => store.lease(&args.user),
            None => store
                .check(&args.user)
                .map(|check| store::lease::LeaseOutcome {
                    check,
                    lease: None,
                    not_after: None,
                }),
        };
        outcome.map(|o| (o, route)).map_err(site::refused)
    });
    let (outcome, route) = match answer {
        Ok(r) => r,
        Err(Failure::BrokenPipe) => return Err(Failure::BrokenPipe),
        Err(Failure::Usage(m)) => return Err(Failure::Usage(m)),
        Err(Failure::Store { code, message }) => return no_answer(&args, code.as_str(), &message),
        Err(Failure::Refused(message)) => return no_answer(&args, "refused", &message),
        Err(Failure::Coded { code, message }) => return no_answer(&args, code, &message),
    };
    let r = &outcome.check;
    // The lease goes to its file before anything is printed: a product that
    // reads "allowed" finds the lease that goes with it.
    let lease = match (&args.lease, &outcome.lease, outcome.not_after) {
        (Some(path), Some(text), Some(not_after)) => {
            if let Err(f) = write_lease(path, text) {
                return no_answer(&args, "refused", &f.message());
            }
            Some((path, not_after))
        }
        _ => None,
    };
    if args.json {
        let mut value = serde_json::to_value(r).map_err(|e| Failure::refused(e.to_string()))?;
        value["answered_by"] = serde_json::json!(route.word());
        if let Some((path, not_after)) = lease {
            value["lease"] = serde_json::json!({
                "file": path.display().to_string(),
                "not_after": licfile::Timestamp(not_after).to_string(),
                "renew_at": licfile::Timestamp(renew_at(not_after)).to_string(),
            });
        }
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
        if let Some((path, not_after)) = lease {
            s.push_str(&format!(
                "lease written to {}: holds until {}, renew it from {}\n",
                path.display(),
                licfile::Timestamp(not_after),
                licfile::Timestamp(renew_at(not_after))
            ));
        }
        util::print(&s)?;
    }
    Ok(if r.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Half-way from now to `not_after`: when the product asks again.
fn renew_at(not_after: i64) -> i64 {
    let now = chrono::Utc::now().timestamp();
    now + (not_after - now).max(0) / 2
}

/// Writes the lease whole or not at all: a new file beside it, renamed over
/// the old one, so that a product reading the file never sees half a lease.
fn write_lease(path: &Path, text: &str) -> Result<(), Failure> {
    let cannot = |e: std::io::Error| {
        Failure::refused(format!("cannot write the lease to {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".lease.")
        .tempfile_in(&dir)
        .map_err(cannot)?;
    use std::io::Write as _;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(cannot)?;
    // Not secret: the product, often another account, reads it.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(cannot)?;
    }
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
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
