//! `tessera import FILE`

use std::path::PathBuf;
use std::process::ExitCode;
use store::ApiExt as _;

use store::ImportOutcome;

use super::site;
use super::util::{self, Failure};

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The licence file (`-` for standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Imports a licence file into the store.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let bytes = util::read_limited(
        &args.file,
        licfile::constants::MAX_FILE_BYTES,
        "licence file",
    )?;
    // A clock correction from the vendor comes in the same way as a licence.
    if licfile::armor::parse(&bytes).is_ok_and(|a| a.kind == licfile::DocumentKind::ClockCorrection)
    {
        return import_clock(ctx, &args.file, &bytes);
    }
    let store = site::connect(ctx)?;
    let text = store::licences::licence_text(&bytes).map_err(site::refused)?;
    let outcome = store.import(text).map_err(|e| {
        Failure::refused(format!(
            "{}: {e}; the store is unchanged",
            args.file.display()
        ))
    })?;
    let msg = match outcome {
        ImportOutcome::AlreadyImported { sequence } => {
            format!("already imported: licence sequence {sequence} is in force; nothing changed\n")
        }
        ImportOutcome::Imported {
            issuer,
            sequence,
            replaced,
        } => format!(
            "imported licence sequence {sequence} from {}{}\n",
            if issuer.is_empty() {
                "the vendor".to_string()
            } else {
                format!("issuer {issuer}")
            },
            replaced
                .map(|r| format!(", replacing sequence {r}"))
                .unwrap_or_default()
        ),
    };
    util::print(&msg)?;
    Ok(ExitCode::SUCCESS)
}

/// Imports the vendor's clock correction: the store's latest time seen
/// becomes the vendor's time.
fn import_clock(
    ctx: &site::Ctx,
    file: &std::path::Path,
    bytes: &[u8],
) -> Result<ExitCode, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::refused(format!("{}: not text", file.display())))?;
    let store = site::connect(ctx)?;
    let outcome = store.import_clock(text).map_err(|e| {
        let code = e.code();
        Failure::Store {
            code,
            message: format!("{}: {e}; the store is unchanged", file.display()),
        }
    })?;
    let when = store::rules::check::fmt_minute;
    util::print(&format!(
        "clock corrected: the latest time the store has seen was {}, and is now the vendor's {} (request {})\n",
        when(outcome.from),
        when(outcome.to),
        outcome.request
    ))?;
    Ok(ExitCode::SUCCESS)
}
