//! `tessera verify FILE [--trust PUB …] [--serial S] [--at YYYY-MM-DD] [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use licfile::{Document, LicenceState, Policy, Roots, Status, policy};

use super::util::{self, Failure};

/// Arguments of `verify`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// The document to check (`-` for standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Also trust this root public key (SPKI PEM); may be repeated.
    #[arg(long, value_name = "PUB")]
    trust: Vec<PathBuf>,
    /// Also trust the demo root (for demo licences only).
    #[arg(long)]
    demo: bool,
    /// The installation serial the document must be for.
    #[arg(long, value_name = "S")]
    serial: Option<String>,
    /// Judge as of this day instead of today (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = util::parse_date)]
    at: Option<NaiveDate>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl Args {
    /// The arguments after `verify`, read without clap when they are plain:
    /// `FILE`, `--trust P` (repeated), `--demo`, `--serial S`, `--at DATE`,
    /// `--json`, each value also as `--name=value`. Anything else (help, an
    /// unknown or repeated option, a bad date, a second file) is `None`, and
    /// the full parser then gives its usual message. Why: clap's code is most
    /// of the pages a `verify` process touches, and a process started per file
    /// pays for every page.
    pub fn plain(args: &[std::ffi::OsString]) -> Option<Args> {
        let mut out = Args {
            file: PathBuf::new(),
            trust: Vec::new(),
            demo: false,
            serial: None,
            at: None,
            json: false,
        };
        let mut file = None;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let text = arg.to_str();
            let (name, inline) = match text {
                Some(t) if t.starts_with("--") => match t.split_once('=') {
                    Some((n, v)) => (n, Some(std::ffi::OsString::from(v))),
                    None => (t, None),
                },
                // "-" is standard input; any other dash is an option clap knows better.
                Some(t) if t.starts_with('-') && t != "-" => return None,
                _ => {
                    if file.replace(PathBuf::from(arg)).is_some() {
                        return None;
                    }
                    continue;
                }
            };
            let mut value = || inline.clone().or_else(|| it.next().cloned());
            match name {
                "--trust" => out.trust.push(PathBuf::from(value()?)),
                "--serial" if out.serial.is_none() => {
                    out.serial = Some(value()?.into_string().ok()?)
                }
                "--at" if out.at.is_none() => {
                    out.at = Some(util::parse_date(value()?.to_str()?).ok()?)
                }
                "--demo" if inline.is_none() && !out.demo => out.demo = true,
                "--json" if inline.is_none() && !out.json => out.json = true,
                _ => return None,
            }
        }
        out.file = file?;
        Some(out)
    }
}

/// Checks a lease against the installation keys given with `--trust`, at
/// this moment (or the start of `--at`): exit 0 while it holds, 1 once past
/// its `not_after`, for another serial, or not signed by a trusted key.
fn lease(args: &Args, bytes: &[u8]) -> Result<ExitCode, Failure> {
    if args.trust.is_empty() {
        return Err(Failure::usage(
            "a lease is checked against the installation's public key: add --trust INSTALLATION.pub \
             (`tessera installation key --out INSTALLATION.pub` writes it at the site)",
        ));
    }
    let now = match args.at {
        Some(day) => day
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()),
        None => chrono::Utc::now().timestamp(),
    };
    let now = licfile::Timestamp(now);
    let mut keys = Vec::with_capacity(args.trust.len());
    for path in &args.trust {
        keys.push(util::read_public_key(path)?);
    }
    // The key the lease names decides which error is worth telling; any
    // trusted key that verifies it is enough.
    let mut verdict = Err(licfile::LeaseError::NotALease("nothing"));
    for key in &keys {
        let v = licfile::lease::verify(bytes, key, args.serial.as_deref(), now);
        let better = match (&verdict, &v) {
            (Err(_), Ok(_)) => true,
            (Err(licfile::LeaseError::NotALease(_)), Err(_)) => true,
            (Err(licfile::LeaseError::UntrustedKey { .. }), Err(e)) => {
                !matches!(e, licfile::LeaseError::UntrustedKey { .. })
            }
            _ => false,
        };
        if better {
            verdict = v;
        }
    }
    let shown = args.file.display().to_string();
    match verdict {
        Ok(l) => {
            if args.json {
                util::print_json(&serde_json::json!({
                    "file": shown,
                    "valid": true,
                    "document": "lease",
                    "serial": l.serial,
                    "user": l.user,
                    "seat": l.seat,
                    "issued_at": l.issued_at.to_string(),
                    "not_after": l.not_after.to_string(),
                    "renew_at": l.renew_at().to_string(),
                }))?;
            } else {
                util::print(&format!(
                    "VALID: lease for user {} of serial {}, signed by installation key {}: holds until {} (renew from {})\n",
                    l.user,
                    l.serial,
                    licfile::KeyId::of(&l.installation_key.0),
                    l.not_after,
                    l.renew_at()
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                util::print_json(&serde_json::json!({
                    "file": shown,
                    "valid": false,
                    "document": "lease",
                    "refused_by": e.code(),
                    "reason": e.to_string(),
                }))?;
            } else {
                util::print(&format!("INVALID: lease: {e}\n"))?;
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// The roots a document is checked against: the production roots built in,
/// each `--trust` key, and the demo root with `--demo`.
pub fn roots(trust: &[PathBuf], demo: bool) -> Result<Roots, Failure> {
    let mut roots: Roots = store::trust::production_roots();
    if demo {
        let demo =
            store::trust::demo_root().map_err(|e| Failure::refused(format!("demo root: {e}")))?;
        roots.add(store::trust::DEMO_ROOT_NAME, demo);
    }
    for path in trust {
        let key = util::read_public_key(path)?;
        roots.add(format!("{}", path.display()), key);
    }
    Ok(roots)
}

/// Checks the document and prints the checklist; exit 1 when it is refused.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let bytes = util::read_limited(
        &args.file,
        licfile::constants::MAX_FILE_BYTES,
        "Tessera document",
    )?;
    // A lease is the installation's word, checked against its public key
    // (not the vendor's roots) and to the second.
    if licfile::signed::read_structure(&bytes)
        .is_ok_and(|d| d.envelope.kind == licfile::DocumentKind::Lease)
    {
        return lease(&args, &bytes);
    }
    let roots = roots(&args.trust, args.demo)?;
    let date = args.at.unwrap_or_else(util::today);
    let verdict = policy::check(
        &bytes,
        &Policy {
            roots: &roots,
            serial: args.serial.as_deref(),
            date,
            expected: None,
        },
    );
    if args.json {
        let checks: Vec<_> = verdict
            .checks
            .iter()
            .map(|c| serde_json::json!({"check": c.name, "status": c.status.word().to_lowercase(), "detail": c.detail}))
            .collect();
        let mut out = serde_json::json!({
            "file": args.file.display().to_string(),
            "valid": verdict.is_valid(),
            "date": date,
            "checks": checks,
            "state": verdict.state.map(LicenceState::word),
            "signer": verdict.signer.as_ref().map(|s| serde_json::json!({"name": s.name(), "key_id": s.key_id().to_string()})),
        });
        if let Some(doc) = &verdict.document {
            out["document"] = serde_json::json!(doc.envelope.kind);
            if let Document::Licence(l) = &doc.document {
                out["serial"] = serde_json::json!(l.serial);
                out["sequence"] = serde_json::json!(l.sequence);
                out["licensee"] = serde_json::json!(l.licensee.company);
            }
        }
        if let Some(f) = verdict.first_failure() {
            out["refused_by"] = serde_json::json!(f.name);
            out["reason"] = serde_json::json!(f.detail);
        }
        util::print_json(&out)?;
    } else {
        let mut s = String::new();
        for c in &verdict.checks {
            s.push_str(&format!(
                "{:<12} {:<5} {}\n",
                c.name,
                c.status.word(),
                c.detail
            ));
        }
        match (verdict.first_failure(), &verdict.document) {
            (Some(f), _) => s.push_str(&format!("INVALID: {}: {}\n", f.name, f.detail)),
            (None, Some(doc)) => {
                let what = match &doc.document {
                    Document::Licence(l) => format!(
                        "licence {} sequence {} for {}",
                        l.serial, l.sequence, l.licensee.company
                    ),
                    Document::ClockCorrection(c) => format!(
                        "clock correction for {}: the vendor's time {}, importable until {}",
                        c.serial, c.time, c.valid_until
                    ),
                    other => other.kind().describe().to_string(),
                };
                let warn = verdict.checks.iter().any(|c| c.status == Status::Warn);
                s.push_str(&format!(
                    "VALID{}: {what}\n",
                    if warn { " (with warnings)" } else { "" }
                ));
            }
            (None, None) => s.push_str("INVALID: unreadable\n"),
        }
        util::print(&s)?;
    }
    Ok(if verdict.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Full {
        #[command(flatten)]
        args: Args,
    }

    fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
        args.iter().map(Into::into).collect()
    }

    #[test]
    fn plain_arguments_read_as_clap_reads_them() {
        for case in [
            &["l.lic"][..],
            &["-"],
            &["l.lic", "--json"],
            &["--trust", "a.pub", "l.lic", "--trust=b.pub"],
            &["--at", "2026-11-22", "--serial", "NW-1", "--demo", "l.lic"],
            &["--at=2026-02-28", "--serial=NW-1", "l.lic", "--json"],
        ] {
            let plain = Args::plain(&os(case));
            let full = Full::try_parse_from(std::iter::once("verify").chain(case.iter().copied()))
                .map(|f| f.args)
                .ok();
            assert!(plain.is_some(), "{case:?} is plain");
            assert_eq!(plain, full, "{case:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        for case in [
            &[][..],
            &["--help"],
            &["-h"],
            &["l.lic", "m.lic"],
            &["l.lic", "--at", "2026-02-30"],
            &["l.lic", "--at", "2026-11-22", "--at", "2026-11-23"],
            &["l.lic", "--serial"],
            &["l.lic", "--json=yes"],
            &["l.lic", "--jsn"],
            &["--", "l.lic"],
            &["l.lic", "--json", "--json"],
        ] {
            assert_eq!(Args::plain(&os(case)), None, "{case:?}");
        }
    }
}
