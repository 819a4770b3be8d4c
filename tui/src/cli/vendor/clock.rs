//! `tessera vendor clock REQUEST --key ROOT.key [--out FILE] [--registry FILE]`

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::{ClockCorrection, Document, DocumentKind, Timestamp, signed};

use super::installation::{self, RegistryArgs};
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
    registry: RegistryArgs,
}

/// Answers the request with this machine's time, valid 48 hours.
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
    // Checked against the installation key known for the serial, and
    // remembered as answered: a request is answered once.
    let standing = installation::register(&args.registry, &doc.document, true)?;
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
    let fmt = |t: chrono::DateTime<chrono::Utc>| store::rules::check::fmt_minute(t.timestamp());
    match args.out {
        Some(path) => {
            util::write_new(&path, text.as_bytes(), false)?;
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
