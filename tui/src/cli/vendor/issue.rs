//! `tessera vendor issue --key KEY SPEC [--out FILE]` and `--batch SPECS.jsonl --out-dir DIR`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use licfile::{Document, EndorsementProblem, SignedDocument, signed};

use crate::cli::util::{self, Failure};
use crate::spec::LicenceSpec;

/// Arguments of `vendor issue`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The signing key: a root key, or an issuer key with --endorsement.
    #[arg(long, value_name = "KEY")]
    key: PathBuf,
    /// The root's endorsement of the issuer key, carried in every licence it signs.
    #[arg(long, value_name = "FILE")]
    endorsement: Option<PathBuf>,
    /// The spec: TOML, or JSON (such as `tessera inspect --json` prints).
    #[arg(
        value_name = "SPEC",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    spec: Option<PathBuf>,
    /// Write the licence here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    out: Option<PathBuf>,
    /// Issue one licence per line of a JSON Lines file.
    #[arg(long, value_name = "SPECS.jsonl", requires = "out_dir")]
    batch: Option<PathBuf>,
    /// With --batch: the directory the licences are written to, as SERIAL-SEQUENCE.lic.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Issue the next licence (sequence + 1) granting what this licence request asks;
    /// SPEC is the licence in force at the site.
    #[arg(long, value_name = "REQUEST", conflicts_with = "batch")]
    fulfil: Option<PathBuf>,
    #[command(flatten)]
    registry: super::installation::RegistryArgs,
}

/// The largest spec file read: a licence spec is a few kilobytes.
const MAX_SPEC_BYTES: usize = 1024 * 1024;
/// The largest batch file read.
const MAX_BATCH_BYTES: usize = 1024 * 1024 * 1024;

/// Signs the licence or licences.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let key = util::read_secret_key(&args.key)?;
    let endorsement = match &args.endorsement {
        Some(path) => Some(read_endorsement(path)?),
        None => None,
    };
    if let Some(batch) = &args.batch {
        let dir = args
            .out_dir
            .as_deref()
            .ok_or_else(|| Failure::usage("--batch needs --out-dir DIR"))?;
        return run_batch(batch, dir, &key, endorsement.as_ref());
    }
    let spec_path = args
        .spec
        .as_deref()
        .ok_or_else(|| Failure::usage("give a SPEC file, or --batch"))?;
    let text = util::read_text(spec_path, MAX_SPEC_BYTES, "licence spec")?;
    let spec = LicenceSpec::parse(&text)
        .map_err(|e| Failure::refused(format!("{}: {e}", spec_path.display())))?;
    let mut licence = spec.into_licence(chrono::Utc::now());
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten (nothing was issued)",
            out.display()
        )));
    }
    let mut fulfilled_request = None;
    if let Some(request) = &args.fulfil {
        let (fulfilled, notes, doc) = fulfil(licence, request, &args.registry)?;
        licence = fulfilled;
        fulfilled_request = Some(doc);
        for n in notes {
            eprintln_note(&n);
        }
    }
    if let Some(e) = &endorsement {
        check_covers(e, &licence, util::today())
            .map_err(|m| Failure::refused(format!("{}: {m}", spec_path.display())))?;
    }
    let (serial, sequence) = (licence.serial.clone(), licence.sequence);
    let armored = signed::sign(&Document::Licence(licence), &key, endorsement.as_ref())
        .map_err(|e| Failure::refused(format!("{}: {e}", spec_path.display())))?;
    match args.out {
        Some(path) => {
            util::write_new(&path, armored.as_bytes(), false)?;
            util::print(&format!(
                "issued licence {serial} sequence {sequence}, signed by key {}: {}\n",
                key.public().id(),
                path.display()
            ))?;
        }
        None => util::print(&armored)?,
    }
    // Only a request whose licence was written counts as fulfilled.
    if let Some(doc) = fulfilled_request {
        super::installation::register(&args.registry, &doc, true)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_endorsement(path: &Path) -> Result<SignedDocument, Failure> {
    let bytes = util::read_limited(
        path,
        licfile::constants::MAX_FILE_BYTES,
        "issuer endorsement",
    )?;
    let doc =
        signed::read(&bytes).map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    if doc.envelope.kind != licfile::DocumentKind::Endorsement {
        return Err(Failure::refused(format!(
            "{}: this is a {}, not an issuer endorsement",
            path.display(),
            doc.envelope.kind.describe()
        )));
    }
    Ok(doc)
}

fn eprintln_note(n: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "tessera: note: {n}");
}

/// The next licence after `current`, granting what the request asks, and the
/// request (to be recorded as fulfilled once the licence is written).
fn fulfil(
    current: licfile::Licence,
    request_path: &Path,
    registry: &super::installation::RegistryArgs,
) -> Result<(licfile::Licence, Vec<String>, licfile::Document), Failure> {
    let doc = super::installation::read(request_path, licfile::DocumentKind::Request)?;
    let licfile::Document::Request(req) = &doc.document else {
        return Err(Failure::refused("not a licence request"));
    };
    let shown = request_path.display();
    if req.serial != current.serial {
        return Err(Failure::refused(format!(
            "{shown}: request {} is from serial {}, but the spec is for serial {}",
            req.request_id, req.serial, current.serial
        )));
    }
    if current.sequence < req.licence_sequence {
        return Err(Failure::refused(format!(
            "{shown}: request {} was made against licence sequence {}, but the spec is the older sequence {}; use the spec of the licence in force at the site",
            req.request_id, req.licence_sequence, current.sequence
        )));
    }
    let mut notes = Vec::new();
    if current.sequence > req.licence_sequence {
        // Another request was fulfilled since: its seats are in the spec, and this one adds to them.
        notes.push(format!(
            "request {} was made against sequence {}; it is applied on top of sequence {}",
            req.request_id, req.licence_sequence, current.sequence
        ));
    }
    // Checked before anything is issued: a request is fulfilled once.
    super::installation::register(registry, &doc.document, false)?;
    let today = chrono::Utc::now().date_naive();
    let mut next = current.clone();
    for c in &req.changes {
        let pool = next
            .seat_pools
            .iter_mut()
            .find(|p| {
                p.term == c.term
                    && p.area.eq_ignore_ascii_case(&c.area)
                    && p.licence.eq_ignore_ascii_case(&c.licence)
            })
            .ok_or_else(|| {
                Failure::refused(format!(
                    "{shown}: the licence does not offer {} {} ({}) seats",
                    c.area, c.licence, c.term
                ))
            })?;
        match c.action {
            licfile::SeatAction::Add => pool.count = pool.count.saturating_add(c.count),
            licfile::SeatAction::Remove if c.effective <= today => {
                if pool.count < c.count {
                    return Err(Failure::refused(format!(
                        "{shown}: asks to remove {} {} {} seats, but the licence grants {}",
                        c.count, c.area, c.licence, pool.count
                    )));
                }
                pool.count -= c.count;
            }
            licfile::SeatAction::Remove => notes.push(format!(
                "removing {} {} {} ({}) seats takes effect on {}: the site applies it then; issue the licence with fewer seats from that date",
                c.count, c.area, c.licence, c.term, c.effective
            )),
        }
    }
    next.sequence = current.sequence + 1;
    next.licence_id = format!("{}-{:04}", next.serial, next.sequence);
    next.issued_at = licfile::Timestamp::from(chrono::Utc::now());
    Ok((next, notes, doc.document))
}

/// A licence the endorsement does not cover would be refused by every site:
/// say so now rather than ship it. The judgement is the one sites make
/// ([`licfile::policy::endorsement_covers`]), on `today`; only the advice is
/// the vendor's.
fn check_covers(
    endorsement: &SignedDocument,
    licence: &licfile::Licence,
    today: chrono::NaiveDate,
) -> Result<(), String> {
    let licfile::Document::Endorsement(e) = &endorsement.document else {
        return Ok(());
    };
    match licfile::policy::endorsement_covers(e, licence, today) {
        Ok(()) => Ok(()),
        Err(EndorsementProblem::WrongProduct { .. }) => Err(format!(
            "the endorsement of \"{}\" covers {}, not product {:?}",
            e.issuer,
            e.products.join(", "),
            licence.product
        )),
        Err(EndorsementProblem::Expired { .. } | EndorsementProblem::IssuedAfter { .. }) => {
            Err(format!(
                "the endorsement of \"{}\" ended {}; ask the root for a new one",
                e.issuer, e.until
            ))
        }
        Err(problem) => Err(format!(
            "{problem}; sites would refuse the licence: check this machine's clock, or ask the root for an endorsement issued today or earlier"
        )),
    }
}

/// Signs every line, then writes every file: a batch with one bad line writes nothing.
fn run_batch(
    batch: &Path,
    dir: &Path,
    key: &licfile::SecretKey,
    endorsement: Option<&SignedDocument>,
) -> Result<ExitCode, Failure> {
    let text = util::read_text(batch, MAX_BATCH_BYTES, "JSON Lines file of licence specs")?;
    if !dir.is_dir() {
        return Err(Failure::refused(format!(
            "{}: no such directory (create it first)",
            dir.display()
        )));
    }
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let licence = match LicenceSpec::from_json(line) {
            Ok(spec) => spec.into_licence(now),
            Err(e) => {
                problems.push(format!("line {n}: {e}"));
                continue;
            }
        };
        if let Some(e) = endorsement
            && let Err(m) = check_covers(e, &licence, now.date_naive())
        {
            problems.push(format!("line {n}: {m}"));
            continue;
        }
        let name = format!("{}-{}.lic", licence.serial, licence.sequence);
        if !names.insert(name.clone()) {
            problems.push(format!("line {n}: a second licence {name}"));
            continue;
        }
        match signed::sign(&Document::Licence(licence), key, endorsement) {
            Ok(armored) => out.push((dir.join(name), armored)),
            Err(e) => problems.push(format!("line {n}: {e}")),
        }
    }
    if !problems.is_empty() {
        let shown = problems.len().min(20);
        let mut msg = format!(
            "{}: {} of the specs are invalid; nothing was written:\n  {}",
            batch.display(),
            problems.len(),
            problems[..shown].join("\n  ")
        );
        if problems.len() > shown {
            msg.push_str(&format!("\n  … and {} more", problems.len() - shown));
        }
        return Err(Failure::refused(msg));
    }
    if let Some((path, _)) = out.iter().find(|(p, _)| p.exists()) {
        return Err(Failure::refused(format!(
            "{} already exists; nothing was written (licences are never overwritten)",
            path.display()
        )));
    }
    // A write that fails part-way (a full disk, a file made meanwhile) takes
    // back the files of this run, so that the batch can simply be run again.
    for (i, (path, armored)) in out.iter().enumerate() {
        if let Err(e) = util::write_new(path, armored.as_bytes(), false) {
            for (written, _) in &out[..i] {
                let _ = std::fs::remove_file(written);
            }
            return Err(match e {
                Failure::Refused(m) => Failure::refused(format!(
                    "{m}; the {i} licences written before it were removed again: nothing of this batch is left"
                )),
                other => other,
            });
        }
    }
    util::print(&format!(
        "issued {} licences into {}, signed by key {}\n",
        out.len(),
        dir.display(),
        key.public().id()
    ))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    /// An endorsement by a root of seed [1; 32], issued 2026-03-01, for
    /// fieldsuite until 2026-12-31, read back as a file would be.
    fn endorsement() -> SignedDocument {
        let root = licfile::SecretKey::from_seed(&[1; 32]).unwrap();
        let issuer = licfile::SecretKey::from_seed(&[2; 32]).unwrap();
        let e = licfile::Endorsement {
            issuer: "Acme".into(),
            issuer_key: issuer.public().raw(),
            products: vec!["fieldsuite".into()],
            issued_at: licfile::Timestamp(1_772_323_200), // 2026-03-01T00:00:00Z
            until: day("2026-12-31"),
        };
        let text = signed::sign(&Document::Endorsement(e), &root, None).unwrap();
        signed::read(text.as_bytes()).unwrap()
    }

    #[test]
    fn the_endorsement_is_judged_on_the_day_of_issue_as_sites_judge_it() {
        let e = endorsement();
        let licence = licfile::sample::licence("NW-000123"); // issued 2026-01-05
        assert_eq!(check_covers(&e, &licence, day("2026-03-01")), Ok(()));
        assert_eq!(check_covers(&e, &licence, day("2026-12-31")), Ok(()));

        // Before the root issued it, a site checking on the same day refuses it.
        let early = check_covers(&e, &licence, day("2026-02-28")).unwrap_err();
        assert!(early.contains("post-dated"), "{early}");
        assert!(early.contains("sites would refuse the licence"), "{early}");

        let late = check_covers(&e, &licence, day("2027-01-01")).unwrap_err();
        assert!(late.contains("ended 2026-12-31"), "{late}");

        let mut other = licence.clone();
        other.product = "planner".into();
        let wrong = check_covers(&e, &other, day("2026-06-01")).unwrap_err();
        assert!(
            wrong.contains("covers fieldsuite, not product \"planner\""),
            "{wrong}"
        );
    }
}
