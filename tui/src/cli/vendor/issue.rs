//! `tessera vendor issue --key KEY SPEC [--out FILE]`, `--fulfil REQUEST`,
//! and `--batch SPECS.jsonl --out-dir DIR`
//!
//! Every licence signed is recorded in the vendor's ledger in the
//! transaction that takes its sequence, and its file is written in that
//! transaction too: a licence is never written that the ledger does not
//! hold, and a sequence is issued once for its serial.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use licfile::{Document, EndorsementProblem, SignedDocument, signed};

use ::ledger::{IssuedLicence, LedgerError, Tx};

use super::installation::{self, Refusal, SiteArgs, Written};
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
    /// Without `sequence`, the licence takes the serial's next one.
    #[arg(
        value_name = "SPEC",
        required_unless_present_any = ["batch", "fulfil"],
        conflicts_with = "batch"
    )]
    spec: Option<PathBuf>,
    /// Write the licence here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    out: Option<PathBuf>,
    /// Issue one licence per line of a JSON Lines file, all in one
    /// transaction: one bad line and nothing is issued.
    #[arg(long, value_name = "SPECS.jsonl", requires = "out_dir")]
    batch: Option<PathBuf>,
    /// With --batch: the directory the licences are written to, as SERIAL-SEQUENCE.lic.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Issue the next licence granting what this licence request asks, on
    /// top of the latest licence the ledger holds for its serial (or of SPEC,
    /// the licence in force at the site). A request is fulfilled once.
    #[arg(long, value_name = "REQUEST", conflicts_with = "batch")]
    fulfil: Option<PathBuf>,
    #[command(flatten)]
    site: SiteArgs,
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
        return run_batch(batch, dir, &key, endorsement.as_ref(), &args.site);
    }
    let spec = match &args.spec {
        Some(path) => {
            let text = util::read_text(path, MAX_SPEC_BYTES, "licence spec")?;
            Some(
                LicenceSpec::parse(&text)
                    .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let shown = args
        .spec
        .as_deref()
        .or(args.fulfil.as_deref())
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten (nothing was issued)",
            out.display()
        )));
    }
    let request = match &args.fulfil {
        Some(path) => Some((
            path.as_path(),
            installation::read(path, licfile::DocumentKind::Request)?,
        )),
        None => None,
    };
    let now = chrono::Utc::now();
    let actor = installation::actor();
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let mut written = Written::default();
    let issued = ledger.transaction_with(|tx| {
        written.undo();
        let mut notes = Vec::new();
        let licence = match &request {
            Some((path, doc)) => {
                let (licence, n) = fulfil(tx, spec.clone(), path, doc, &args.site, &actor, now)?;
                notes = n;
                licence
            }
            None => {
                let spec = spec.clone().ok_or_else(|| {
                    Failure::usage("give a SPEC file, --fulfil REQUEST, or --batch")
                })?;
                let sequence = match spec.sequence() {
                    Some(n) => n,
                    None => tx.next_sequence(spec.serial())?,
                };
                spec.into_licence(now, sequence)
            }
        };
        if let Some(e) = &endorsement {
            check_covers(e, &licence, now.date_naive())
                .map_err(|m| Failure::refused(format!("{shown}: {m}")))?;
        }
        let (serial, sequence) = (licence.serial.clone(), licence.sequence);
        let issued = issued_record(&licence, &key, endorsement.as_ref())
            .map_err(|m| Failure::refused(format!("{shown}: {m}")))?;
        tx.record_licence(&issued).map_err(taken_hint)?;
        if let Some(out) = &args.out {
            written.write(out, issued.signed.as_bytes())?;
        }
        Ok::<_, Refusal>((serial, sequence, issued.signed, notes))
    });
    let (serial, sequence, armored, notes) = match issued {
        Ok(v) => v,
        Err(e) => {
            written.undo();
            return Err(e.into_failure(&at));
        }
    };
    for n in notes {
        eprintln_note(&n);
    }
    match args.out {
        Some(path) => {
            util::print(&format!(
                "issued licence {serial} sequence {sequence}, signed by key {}: {} (recorded in the ledger {at})\n",
                key.public().id(),
                path.display()
            ))?;
        }
        None => util::print(&armored)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The licence signed, as the ledger keeps it.
fn issued_record(
    licence: &licfile::Licence,
    key: &licfile::SecretKey,
    endorsement: Option<&SignedDocument>,
) -> Result<IssuedLicence, String> {
    let armored = signed::sign(&Document::Licence(licence.clone()), key, endorsement)
        .map_err(|e| e.to_string())?;
    Ok(IssuedLicence {
        serial: licence.serial.clone(),
        sequence: licence.sequence,
        licence_id: licence.licence_id.clone(),
        issued_at: licence.issued_at.0,
        expiry: licence.expiry.as_ref().map(|e| e.date),
        signer_key_id: key.public().id().to_string(),
        signed: armored,
    })
}

/// A sequence already issued, with what to do about it.
fn taken_hint(e: LedgerError) -> Refusal {
    match e {
        LedgerError::SequenceTaken { .. } => Refusal::Command(Failure::Coded {
            code: e.code(),
            message: format!(
                "{e} (leave `sequence` out of the spec and the ledger gives the next one)"
            ),
        }),
        other => Refusal::Ledger(other),
    }
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

/// The next licence, granting what the request asks, on top of the licence
/// in force at the site: SPEC when given, else the latest the ledger holds
/// for the serial. The request's installation key is checked and the
/// request marked fulfilled in the same transaction: a request is
/// fulfilled once, and the second operator is told who did it and when.
fn fulfil(
    tx: &mut Tx<'_>,
    spec: Option<LicenceSpec>,
    request_path: &Path,
    doc: &SignedDocument,
    site: &SiteArgs,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(licfile::Licence, Vec<String>), Refusal> {
    let licfile::Document::Request(req) = &doc.document else {
        return Err(Failure::refused("not a licence request").into());
    };
    let shown = request_path.display();
    installation::check_key(tx, &doc.document, site.accept_new_key, now.timestamp())?;
    tx.note_request(&req.serial, &req.request_id, Some((actor, now.timestamp())))?;
    let current = match spec {
        Some(spec) => {
            let sequence = match spec.sequence() {
                Some(n) => n,
                // The spec says the licence in force but not which: the latest issued.
                None => tx.next_sequence(spec.serial())?.saturating_sub(1),
            };
            spec.into_licence(now, sequence)
        }
        None => latest_licence(tx, &req.serial)?.ok_or_else(|| {
            Failure::Coded {
                code: "unknown_serial",
                message: format!(
                    "{shown}: the ledger holds no licence issued for serial {}; give the spec of the licence in force at the site",
                    req.serial
                ),
            }
        })?,
    };
    if req.serial != current.serial {
        return Err(Failure::refused(format!(
            "{shown}: request {} is from serial {}, but the spec is for serial {}",
            req.request_id, req.serial, current.serial
        ))
        .into());
    }
    if current.sequence < req.licence_sequence {
        return Err(Failure::refused(format!(
            "{shown}: request {} was made against licence sequence {}, but the spec is the older sequence {}; use the spec of the licence in force at the site",
            req.request_id, req.licence_sequence, current.sequence
        ))
        .into());
    }
    let mut notes = Vec::new();
    if current.sequence > req.licence_sequence {
        // Another request was fulfilled since: its seats are in the spec, and this one adds to them.
        notes.push(format!(
            "request {} was made against sequence {}; it is applied on top of sequence {}",
            req.request_id, req.licence_sequence, current.sequence
        ));
    }
    let today = now.date_naive();
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
                    ))
                    .into());
                }
                pool.count -= c.count;
            }
            licfile::SeatAction::Remove => notes.push(format!(
                "removing {} {} {} ({}) seats takes effect on {}: the site applies it then; issue the licence with fewer seats from that date",
                c.count, c.area, c.licence, c.term, c.effective
            )),
        }
    }
    // Format 2: add-ons and integrations of their own count, applied the
    // way seats are.
    for m in req.module_changes() {
        let (count, follows_standard) = match m.kind {
            licfile::ModuleKind::AddOn => next
                .add_ons
                .iter_mut()
                .find(|a| a.name.eq_ignore_ascii_case(&m.name))
                .map(|a| (&mut a.count, false)),
            licfile::ModuleKind::Integration => next
                .integrations
                .iter_mut()
                .find(|i| i.name.eq_ignore_ascii_case(&m.name))
                .map(|i| (&mut i.count, i.follows_standard)),
        }
        .ok_or_else(|| {
            Failure::refused(format!(
                "{shown}: the licence has no {} called {}; add it to the spec first",
                m.kind, m.name
            ))
        })?;
        if follows_standard {
            return Err(Failure::refused(format!(
                "{shown}: {} follows the standard seat count and has no count of its own; the site cannot ask for it separately",
                m.name
            ))
            .into());
        }
        match m.action {
            licfile::SeatAction::Add => *count = count.saturating_add(m.count),
            licfile::SeatAction::Remove if m.effective <= today => {
                if *count < m.count {
                    return Err(Failure::refused(format!(
                        "{shown}: asks to remove {} {} {} licences, but the licence grants {}",
                        m.count, m.name, m.kind, count
                    ))
                    .into());
                }
                *count -= m.count;
            }
            licfile::SeatAction::Remove => notes.push(format!(
                "removing {} {} {} licences takes effect on {}: the site applies it then; issue the licence with fewer from that date",
                m.count, m.name, m.kind, m.effective
            )),
        }
    }
    next.sequence = current.sequence + 1;
    next.licence_id = format!("{}-{:04}", next.serial, next.sequence);
    next.issued_at = licfile::Timestamp::from(now);
    Ok((next, notes))
}

/// The licence of the highest sequence the ledger holds for `serial`.
fn latest_licence(tx: &mut Tx<'_>, serial: &str) -> Result<Option<licfile::Licence>, Refusal> {
    let Some(issued) = tx.licences(serial)?.pop() else {
        return Ok(None);
    };
    let doc = signed::read(issued.signed.as_bytes()).map_err(|e| Failure::Coded {
        code: "corrupt_ledger",
        message: format!(
            "licence {} in the ledger cannot be read ({e}): the ledger was changed outside Tessera",
            issued.licence_id
        ),
    })?;
    match doc.document {
        Document::Licence(l) => Ok(Some(l)),
        other => Err(Failure::Coded {
            code: "corrupt_ledger",
            message: format!(
                "licence {} in the ledger is a {}",
                issued.licence_id,
                other.kind().describe()
            ),
        }
        .into()),
    }
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

/// Signs every line and records every licence in one transaction, then
/// writes every file in it: a batch with one bad line (or one sequence
/// already issued) issues nothing and writes nothing.
fn run_batch(
    batch: &Path,
    dir: &Path,
    key: &licfile::SecretKey,
    endorsement: Option<&SignedDocument>,
    site: &SiteArgs,
) -> Result<ExitCode, Failure> {
    let text = util::read_text(batch, MAX_BATCH_BYTES, "JSON Lines file of licence specs")?;
    if !dir.is_dir() {
        return Err(Failure::refused(format!(
            "{}: no such directory (create it first)",
            dir.display()
        )));
    }
    let now = chrono::Utc::now();
    // Each line is parsed on its own (26 MB of JSON for 10,000 licences): on
    // every core, the results and problems in the order of the lines.
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .collect();
    let parsed = util::parallel_map(&lines, |(_, line)| {
        LicenceSpec::from_json(line).map_err(|e| e.to_string())
    });
    let mut specs = Vec::with_capacity(lines.len());
    let mut problems = Vec::new();
    for ((i, _), spec) in lines.iter().zip(parsed) {
        match spec {
            Ok(spec) => specs.push((i + 1, spec)),
            Err(e) => problems.push(format!("line {}: {e}", i + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(batch_refused(batch, &problems));
    }
    let mut ledger = site.ledger.open()?;
    let at = ledger.location().to_string();
    let mut written = Written::default();
    let issued = ledger.transaction_with(|tx| {
        written.undo();
        let unsequenced: Vec<&str> = specs
            .iter()
            .filter(|(_, s)| s.sequence().is_none())
            .map(|(_, s)| s.serial())
            .collect();
        let mut next = tx.next_sequences(&unsequenced)?;
        // Each line's licence, or why it cannot be issued; signed below.
        let mut names = std::collections::HashSet::new();
        let mut decided: Vec<(usize, Result<licfile::Licence, String>)> =
            Vec::with_capacity(specs.len());
        for (n, spec) in &specs {
            let sequence = match spec.sequence() {
                Some(s) => s,
                None => {
                    // Lines of one serial without a sequence take the next ones in turn.
                    let slot = next.entry(spec.serial().to_string()).or_insert(1);
                    let s = *slot;
                    *slot = s.saturating_add(1);
                    s
                }
            };
            let licence = spec.clone().into_licence(now, sequence);
            if let Some(e) = endorsement
                && let Err(m) = check_covers(e, &licence, now.date_naive())
            {
                decided.push((*n, Err(m)));
                continue;
            }
            let name = format!("{}-{}.lic", licence.serial, licence.sequence);
            if !names.insert(name.clone()) {
                decided.push((*n, Err(format!("a second licence {name}"))));
                continue;
            }
            decided.push((*n, Ok(licence)));
        }
        // Signing is most of a batch's work and each licence is signed on its
        // own: on every core. The problems keep the order of the lines.
        let signed = util::parallel_map(&decided, |(_, d)| match d {
            Ok(licence) => issued_record(licence, key, endorsement),
            Err(m) => Err(m.clone()),
        });
        let mut problems = Vec::new();
        let mut issued = Vec::with_capacity(specs.len());
        let mut lines = Vec::with_capacity(specs.len());
        for ((n, _), rec) in decided.iter().zip(signed) {
            match rec {
                Ok(rec) => {
                    issued.push(rec);
                    lines.push(*n);
                }
                Err(e) => problems.push(format!("line {n}: {e}")),
            }
        }
        if !problems.is_empty() {
            return Err(Refusal::Command(batch_refused(batch, &problems)));
        }
        let paths: Vec<PathBuf> = issued
            .iter()
            .map(|l| dir.join(format!("{}-{}.lic", l.serial, l.sequence)))
            .collect();
        let existing = paths.iter().find(|p| p.exists());
        // The files are written while the ledger records the licences: the
        // two are independent until the commit, and each mostly waits (on the
        // kernel's file creation; on the database, a server's round trips).
        // If the ledger then refuses the batch, the files are removed again
        // (`written.undo`, as after any refusal): nothing of it is left.
        let (recorded, wrote) = std::thread::scope(|s| {
            let writer = existing.is_none().then(|| {
                let (paths, issued, written) = (&paths, &issued, &mut written);
                s.spawn(move || {
                    for (path, l) in paths.iter().zip(issued) {
                        written.write(path, l.signed.as_bytes())?;
                    }
                    Ok::<_, Failure>(())
                })
            });
            let recorded = tx.record_licences(&issued);
            let wrote = writer.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (recorded, wrote)
        });
        for taken in recorded? {
            let line = match &taken {
                LedgerError::SequenceTaken {
                    serial, sequence, ..
                } => issued
                    .iter()
                    .zip(&lines)
                    .find(|(l, _)| l.serial == *serial && l.sequence == *sequence)
                    .map(|(_, n)| *n),
                _ => None,
            };
            problems.push(match line {
                Some(n) => format!("line {n}: {taken}"),
                None => taken.to_string(),
            });
        }
        if !problems.is_empty() {
            return Err(Refusal::Command(batch_refused(batch, &problems)));
        }
        if let Some(path) = existing {
            return Err(Failure::refused(format!(
                "{} already exists; nothing was issued (licences are never overwritten)",
                path.display()
            ))
            .into());
        }
        if let Some(Err(e)) = wrote {
            let done = written.len();
            return Err(match e {
                Failure::Refused(m) => Failure::refused(format!(
                    "{m}; the {done} licences written before it were removed again and none was recorded: nothing of this batch is left"
                )),
                other => other,
            }
            .into());
        }
        Ok::<_, Refusal>(issued.len())
    });
    let count = match issued {
        Ok(n) => n,
        Err(e) => {
            written.undo();
            return Err(e.into_failure(&at));
        }
    };
    util::print(&format!(
        "issued {count} licences into {}, signed by key {}, recorded in the ledger {at}\n",
        dir.display(),
        key.public().id()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The refusal of a whole batch, naming its first 20 problems.
fn batch_refused(batch: &Path, problems: &[String]) -> Failure {
    let shown = problems.len().min(20);
    let mut msg = format!(
        "{}: {} of the specs cannot be issued; nothing was issued or written:\n  {}",
        batch.display(),
        problems.len(),
        problems[..shown].join("\n  ")
    );
    if problems.len() > shown {
        msg.push_str(&format!("\n  … and {} more", problems.len() - shown));
    }
    Failure::refused(msg)
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
