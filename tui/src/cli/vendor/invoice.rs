//! `tessera vendor invoice REPORT… [--json]` and `tessera vendor invoice --batch DIR`
//!
//! An invoice is priced from what the vendor issued, never from what the
//! site says it was sold: seats, add-ons, integrations, thresholds and
//! prices come from the licence the ledger holds in force for the month;
//! the report supplies only what the site alone measures (user-days,
//! metered use, storage). Where the report says otherwise, the difference is
//! a finding on the invoice, as is anything its chain says (a gap, a
//! rollback). A report is invoiced once, and a month of a serial once: the
//! ledger records the report and its invoice in one transaction.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ::ledger::{InvoiceLineRow, InvoiceRecord, ReportRow, SerialFacts, Standing, Tx};
use licfile::{Document, DocumentKind, UsageReport, YearMonth};
use rust_decimal::Decimal;

use super::installation::{self, Refusal, SiteArgs};
use crate::cli::util::{self, Failure};

/// Arguments of `vendor invoice`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The usage report from the site; a report in parts needs every part.
    #[arg(
        value_name = "REPORT",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    reports: Vec<PathBuf>,
    /// Invoice every report in DIR (a month's reports from every site): each
    /// report its own invoice; a refused report is named and the rest go on.
    #[arg(long, value_name = "DIR")]
    batch: Option<PathBuf>,
    #[command(flatten)]
    site: SiteArgs,
    /// Print JSON (amounts as decimal strings).
    #[arg(long)]
    json: bool,
}

/// The largest number of files `--batch` reads from its directory.
const MAX_BATCH_FILES: usize = 1_000_000;

/// One report to invoice: its parts, and the files they came from.
struct Site {
    files: Vec<PathBuf>,
    parts: Vec<UsageReport>,
}

impl Site {
    fn first(&self) -> &UsageReport {
        &self.parts[0]
    }

    fn named(&self) -> String {
        self.files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An invoice recorded, or why a report was not invoiced.
enum Outcome {
    Invoiced {
        id: i64,
        record: InvoiceRecord,
        billed_ahead: YearMonth,
        standing: Standing,
    },
    Refused {
        files: String,
        refusal: Refusal,
    },
}

/// Invoices the report given, or every report of `--batch DIR`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    match &args.batch {
        Some(dir) => run_batch(dir, &args),
        None => run_one(&args),
    }
}

fn run_one(args: &Args) -> Result<ExitCode, Failure> {
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        parts.push(read_report(path)?);
    }
    let site = Site {
        files: args.reports.clone(),
        parts,
    };
    let serial = site.first().serial.clone();
    if let Some(other) = site.parts.iter().find(|p| p.serial != serial) {
        return Err(Failure::refused(format!(
            "the parts given are from two installations, {serial} and {}: give the parts of one report",
            other.serial
        )));
    }
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let mut outcomes = ledger
        .transaction_with(|tx| invoice_all(tx, std::slice::from_ref(&site), args))
        .map_err(|e| e.into_failure(&at))?;
    match outcomes.pop() {
        Some(Outcome::Invoiced {
            id,
            record,
            billed_ahead,
            standing,
        }) => {
            if args.json {
                util::print_json(&invoice_json(id, &record, billed_ahead, &site.files))?;
            } else {
                util::print(&invoice_text(id, &record, billed_ahead, standing))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Outcome::Refused { refusal, .. }) => Err(refusal.into_failure(&at)),
        None => Err(Failure::refused("nothing was invoiced")),
    }
}

fn run_batch(dir: &Path, args: &Args) -> Result<ExitCode, Failure> {
    let (sites, unread) = read_dir(dir)?;
    let mut ledger = args.site.ledger.open()?;
    let at = ledger.location().to_string();
    let outcomes = ledger
        .transaction_with(|tx| invoice_all(tx, &sites, args))
        .map_err(|e| e.into_failure(&at))?;
    let mut invoiced = Vec::new();
    let mut refused: Vec<(String, Refusal)> = unread;
    for o in outcomes {
        match o {
            Outcome::Invoiced {
                id,
                record,
                billed_ahead,
                ..
            } => invoiced.push((id, record, billed_ahead)),
            Outcome::Refused { files, refusal } => refused.push((files, refusal)),
        }
    }
    if args.json {
        let files: HashMap<(String, String), Vec<PathBuf>> = sites
            .iter()
            .map(|s| {
                let r = s.first();
                ((r.serial.clone(), r.report_id.clone()), s.files.clone())
            })
            .collect();
        let inv: Vec<_> = invoiced
            .iter()
            .map(|(id, rec, ahead)| {
                let f = files
                    .get(&(rec.serial.clone(), rec.report_id.clone()))
                    .cloned()
                    .unwrap_or_default();
                invoice_json(*id, rec, *ahead, &f)
            })
            .collect();
        let refs: Vec<_> = refused
            .iter()
            .map(|(files, r)| {
                serde_json::json!({"files": files, "code": r.code(), "message": r.message()})
            })
            .collect();
        util::print_json(&serde_json::json!({"invoiced": inv, "refused": refs}))?;
    } else {
        let mut s = String::new();
        for (id, rec, _) in &invoiced {
            let _ = writeln!(
                s,
                "invoice {id}: {} {} report {}: {} {}{}",
                rec.serial,
                rec.month,
                rec.report_id,
                rec.currency,
                rec.total,
                match rec.findings.len() {
                    0 => String::new(),
                    n => format!(" ({n} findings: see `tessera vendor ledger invoices --json`)"),
                }
            );
        }
        let mut totals: BTreeMap<&str, Decimal> = BTreeMap::new();
        for (_, rec, _) in &invoiced {
            *totals.entry(rec.currency.as_str()).or_default() += rec.total;
        }
        let totals: Vec<String> = totals.iter().map(|(c, t)| format!("{c} {t}")).collect();
        let _ = writeln!(
            s,
            "{} reports invoiced from {} into the ledger {at}{}",
            invoiced.len(),
            dir.display(),
            if totals.is_empty() {
                String::new()
            } else {
                format!(": {}", totals.join(", "))
            }
        );
        util::print(&s)?;
    }
    if refused.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut msg = format!(
        "{} of the reports in {} were refused (the others were invoiced):",
        refused.len(),
        dir.display()
    );
    for (files, r) in &refused {
        let _ = write!(msg, "\n  {files}: {}", r.message());
    }
    crate::cli::report(&msg);
    Ok(ExitCode::from(1))
}

/// Reads and verifies one part of a report.
fn read_report(path: &Path) -> Result<UsageReport, Failure> {
    let doc = installation::read(path, DocumentKind::UsageReport)?;
    match doc.document {
        Document::UsageReport(r) => Ok(r),
        _ => Err(Failure::refused(format!(
            "{}: not a usage report",
            path.display()
        ))),
    }
}

/// Every report in `dir`, its parts together, in the order the ledger
/// should see them (serial, then month); and each file that could not be
/// read, named with why.
type ReadDir = (Vec<Site>, Vec<(String, Refusal)>);

fn read_dir(dir: &Path) -> Result<ReadDir, Failure> {
    let shown = dir.display();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::refused(format!(
            "cannot read the directory {shown}: {e} (give the directory holding the reports)"
        ))
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| Failure::refused(format!("cannot read the directory {shown}: {e}")))?;
        paths.push(entry.path());
        if paths.len() > MAX_BATCH_FILES {
            return Err(Failure::refused(format!(
                "{shown} holds more than {MAX_BATCH_FILES} files; invoice it in smaller directories"
            )));
        }
    }
    paths.sort();
    // Reading and verifying a report is most of a batch's work, and each file
    // is read on its own: on every core, then taken in the order of the paths.
    let read = util::parallel_map(&paths, |path| {
        // Only regular files are opened: a pipe or a device would block or never end.
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => read_report(path),
            Ok(_) => Err(Failure::refused(
                "not a regular file; only report files are invoiced",
            )),
            Err(e) => Err(Failure::refused(format!("cannot read it: {e}"))),
        }
    });
    let mut unread = Vec::new();
    let mut by_report: BTreeMap<(String, YearMonth, String), Site> = BTreeMap::new();
    for (path, report) in paths.into_iter().zip(read) {
        match report {
            Ok(r) => {
                let key = (r.serial.clone(), r.month, r.report_id.clone());
                let site = by_report.entry(key).or_insert_with(|| Site {
                    files: Vec::new(),
                    parts: Vec::new(),
                });
                site.files.push(path);
                site.parts.push(r);
            }
            Err(f) => unread.push((path.display().to_string(), Refusal::Command(f))),
        }
    }
    // Messages name the file already; the batch's line names it again.
    for (name, r) in &mut unread {
        if let Refusal::Command(Failure::Refused(m)) = r {
            let prefix = format!("{name}: ");
            if let Some(rest) = m.strip_prefix(&prefix) {
                *m = rest.to_string();
            }
        }
    }
    Ok((by_report.into_values().collect(), unread))
}

/// Decides on every report and records the invoices of those accepted, in
/// the transaction `tx`: one outcome per site, in order.
fn invoice_all(tx: &mut Tx<'_>, sites: &[Site], args: &Args) -> Result<Vec<Outcome>, Refusal> {
    let now = installation::now();
    let actor = installation::actor();
    let serials: Vec<&str> = sites.iter().map(|s| s.first().serial.as_str()).collect();
    let mut facts = tx.serial_facts(&serials)?;
    let mut decided: Vec<Result<(InvoiceRecord, YearMonth, Standing), Refusal>> =
        Vec::with_capacity(sites.len());
    let mut first_keys: Vec<(String, [u8; 32])> = Vec::new();
    for site in sites {
        let serial = &site.first().serial;
        let f = facts.entry(serial.clone()).or_default();
        let d = decide(tx, site, f, args.site.accept_new_key, &actor, now);
        if let Ok((record, _, standing)) = &d {
            let key = site.first().installation_key.0;
            if *standing == Standing::FirstSight {
                first_keys.push((serial.clone(), key));
            }
            // What later reports of the same serial in this batch are judged against.
            f.current_key = Some((key, licfile::KeyId::of(&key).to_string()));
            f.reports.push(ReportRow {
                report_id: record.report_id.clone(),
                month: Some(record.month.clone()),
                parts: record.parts,
                audit_seq: record.audit_seq,
                audit_head: record.audit_head,
                previous_report: record.previous_report.clone(),
                seen_at: now,
                actor: actor.clone(),
                invoice: None,
            });
        }
        decided.push(d);
    }
    let keys: Vec<(&str, [u8; 32])> = first_keys.iter().map(|(s, k)| (s.as_str(), *k)).collect();
    tx.take_first_keys(&keys, now)?;
    let records: Vec<InvoiceRecord> = decided
        .iter()
        .filter_map(|d| d.as_ref().ok().map(|(r, _, _)| r.clone()))
        .collect();
    let mut recorded = tx.record_invoices(&records)?.into_iter();
    let mut out = Vec::with_capacity(sites.len());
    for (site, d) in sites.iter().zip(decided) {
        let files = site.named();
        out.push(match d {
            Err(refusal) => Outcome::Refused { files, refusal },
            Ok((record, billed_ahead, standing)) => match recorded.next() {
                Some(Ok(id)) => Outcome::Invoiced {
                    id,
                    record,
                    billed_ahead,
                    standing,
                },
                Some(Err(e)) => Outcome::Refused {
                    files,
                    refusal: Refusal::Ledger(e),
                },
                None => Outcome::Refused {
                    files,
                    refusal: Refusal::Command(Failure::refused("the ledger did not answer for it")),
                },
            },
        });
    }
    Ok(out)
}

/// The invoice of one report, priced from the ledger's licence in force for
/// its month, or why it cannot be invoiced.
fn decide(
    tx: &mut Tx<'_>,
    site: &Site,
    facts: &SerialFacts,
    accept_new_key: bool,
    actor: &str,
    now: i64,
) -> Result<(InvoiceRecord, YearMonth, Standing), Refusal> {
    let report = site.first();
    let serial = &report.serial;
    let key = report.installation_key.0;
    if let Some(other) = site.parts.iter().find(|p| p.installation_key.0 != key) {
        return Err(coded(
            "key_changed",
            format!(
                "the parts of report {} are signed by two installation keys ({} and {})",
                report.report_id,
                licfile::KeyId::of(&key),
                licfile::KeyId::of(&other.installation_key.0)
            ),
        ));
    }
    // A serial the vendor never issued a licence for is no customer of its.
    if facts.licences.is_empty() {
        return Err(coded(
            "unknown_serial",
            format!(
                "serial {serial}: the ledger holds no licence issued for it, so there is nothing to price the report from; \
                 a report from an unknown serial is refused (issue its licences through this ledger)"
            ),
        ));
    }
    let standing = match &facts.current_key {
        None => Standing::FirstSight,
        Some((known, _)) if *known == key => Standing::KnownKey,
        // Another key: refused by the ledger, or taken when the vendor says so.
        Some(_) => tx.check_key(serial, &key, accept_new_key, now)?,
    };
    let mut licences = Vec::with_capacity(facts.licences.len());
    for issued in &facts.licences {
        let doc = licfile::signed::read(issued.signed.as_bytes()).map_err(|e| {
            coded(
                "corrupt_ledger",
                format!(
                    "licence {} of serial {serial} in the ledger cannot be read ({e}): the ledger was changed outside Tessera",
                    issued.licence_id
                ),
            )
        })?;
        match doc.document {
            Document::Licence(l) => licences.push(l),
            other => {
                return Err(coded(
                    "corrupt_ledger",
                    format!(
                        "licence {} of serial {serial} in the ledger is a {}",
                        issued.licence_id,
                        other.kind().describe()
                    ),
                ));
            }
        }
    }
    let licence = licfile::invoice::in_force_for(&licences, report.month).ok_or_else(|| {
        coded(
            "no_licence_in_force",
            format!(
                "serial {serial}: no licence the ledger holds was issued by the end of {}, the month report {} covers",
                report.month, report.report_id
            ),
        )
    })?;
    let priced = licfile::invoice::invoice_from_licence(licence, &site.parts)
        .map_err(|e| Failure::refused(format!("report {}: {e}", report.report_id)))?;
    let seen: Vec<_> = facts.reports.iter().map(ReportRow::seen).collect();
    let chain = licfile::report::chain_findings(&seen, &report.report_id, report.chain.as_ref());
    let inv = priced.invoice;
    let mut findings = priced.findings;
    findings.extend(chain);
    let record = InvoiceRecord {
        serial: serial.clone(),
        report_id: report.report_id.clone(),
        month: inv.month.to_string(),
        parts: report.parts.max(1),
        audit_seq: report.chain.as_ref().map(|c| c.audit_seq),
        audit_head: report.chain.as_ref().map(|c| c.audit_head),
        previous_report: report
            .chain
            .as_ref()
            .and_then(|c| c.previous_report.clone()),
        lines: inv
            .lines
            .iter()
            .map(|l| InvoiceLineRow {
                description: l.description.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                amount: l.amount,
            })
            .collect(),
        total: inv.total,
        currency: inv.currency.clone(),
        findings,
        actor: actor.to_string(),
        at: now,
    };
    Ok((record, inv.billed_ahead, standing))
}

fn coded(code: &'static str, message: String) -> Refusal {
    Refusal::Command(Failure::Coded { code, message })
}

fn invoice_json(
    id: i64,
    rec: &InvoiceRecord,
    billed_ahead: YearMonth,
    files: &[PathBuf],
) -> serde_json::Value {
    let lines: Vec<_> = rec
        .lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "description": l.description,
                "quantity": l.quantity,
                "unit_price": l.unit_price.normalize().to_string(),
                "amount": l.amount.normalize().to_string(),
            })
        })
        .collect();
    serde_json::json!({
        "invoice_id": id,
        "serial": rec.serial,
        "report_id": rec.report_id,
        "month": rec.month,
        "billed_ahead": billed_ahead.to_string(),
        "lines": lines,
        "total": rec.total.to_string(),
        "currency": rec.currency,
        "findings": rec.findings,
        "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
    })
}

fn invoice_text(
    id: i64,
    rec: &InvoiceRecord,
    billed_ahead: YearMonth,
    standing: Standing,
) -> String {
    let mut s = format!(
        "Invoice {id} for serial {}, usage of {} (seats billed ahead for {}), report {}\n\
         Priced from the licences the ledger holds; {}\n\n",
        rec.serial,
        rec.month,
        billed_ahead,
        rec.report_id,
        installation::standing_note(standing)
    );
    let _ = writeln!(
        s,
        "{:<64} {:>8} {:>10} {:>12}",
        "", "QTY", "PRICE", "AMOUNT"
    );
    for l in &rec.lines {
        let mut amount = l
            .amount
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        amount.rescale(2);
        let _ = writeln!(
            s,
            "{:<64} {:>8} {:>10} {:>12}",
            l.description,
            l.quantity,
            l.unit_price.normalize(),
            amount
        );
    }
    let _ = writeln!(
        s,
        "{:<64} {:>8} {:>10} {:>12}",
        "Total", "", rec.currency, rec.total
    );
    if !rec.findings.is_empty() {
        let _ = writeln!(
            s,
            "\nFINDINGS (the invoice bills from the ledger, not from the report):"
        );
        for f in &rec.findings {
            let _ = writeln!(s, "  - {f}");
        }
    }
    s
}
