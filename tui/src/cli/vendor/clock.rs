//! `tessera vendor clock REQUEST --key ROOT.key [--out FILE] [--ledger LOCATION]`

use std::path::PathBuf;
use std::process::ExitCode;

use ::ledger::ClockCorrectionRow;
use licfile::{ClockCorrection, Document, DocumentKind, Timestamp, signed};

use super::installation::{self, Refusal, SiteArgs, Written};
use crate::cli::util::{self, Failure};

/// Arguments of `vendor clock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The site's clock request (from `tessera request clock`).
    #[arg(value_name = "REQUEST")]
    request: PathBuf,
    /// The root's secret key (PKCS#8 PEM): only a root key may vouch for the time.
    #[arg(long, value_name = "ROOT.key")]
    key: PathBuf,
    /// Write the correction here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    site: SiteArgs,
}

/// Answers the request with this machine's time, valid 48 hours, once:
/// the ledger records the correction in the transaction that checks the
/// installation key, and a second answer to the same request is refused.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let root = util::read_secret_key(&args.key)?;
    let doc = installation::read(&args.request, DocumentKind::ClockRequest)?;
    let Document::ClockRequest(request) = &doc.document else {
        return Err(Failure::refused("not a clock request"));
    };
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten",
            out.display()
        )));
    }
    let now = chrono::Utc::now();
    let valid_until = now + chrono::Duration::hours(licfile::constants::CLOCK_CORRECTION_HOURS);
    let correction = ClockCorrection {
        serial: request.serial.clone(),
        nonce: request.nonce,
        time: Timestamp::from(now),
        valid_until: Timestamp::from(valid_until),
        corrected_mark: request.high_water,
    };
    let text = signed::sign(&Document::ClockCorrection(correction), &root, None)
        .map_err(|e| Failure::refused(e.to_string()))?;
    let row = ClockCorrectionRow {
        serial: request.serial.clone(),
        nonce_hex: ::ledger::hex(&request.nonce),
        time: now.timestamp(),
        valid_until: valid_until.timestamp(),
        corrected_mark: request.high_water.0,
        actor: installation::actor(),
        at: now.timestamp(),
    };
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let mut written = Written::default();
    let standing = ledger.transaction_with(|tx| {
        written.undo();
        let standing =
            installation::check_key(tx, &doc.document, args.site.accept_new_key, row.at)?;
        tx.record_clock_correction(&row)?;
        if let Some(path) = &args.out {
            written.write(path, text.as_bytes())?;
        }
        Ok::<_, Refusal>(standing)
    });
    let standing = match standing {
        Ok(s) => s,
        Err(e) => {
            written.undo();
            return Err(e.into_failure(&at));
        }
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| store::rules::check::fmt_minute(t.timestamp());
    match args.out {
        Some(path) => {
            util::print(&format!(
                "clock correction for {} written to {}: the site's latest time seen, {}, becomes {}; it may be imported until {}\n{}\n",
                request.serial,
                path.display(),
                request.high_water,
                fmt(now),
                fmt(valid_until),
                installation::standing_note(standing)
            ))?;
        }
        None => util::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
