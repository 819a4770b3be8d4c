//! `tessera vendor ledger …`: what the vendor's ledger holds, for an accounts
//! team, and the import of an installations.json into it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ::ledger::{Ledger, LedgerError, Location};

use crate::cli::util::{self, Failure};

/// The `--ledger` option every command that uses the ledger takes.
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerArgs {
    /// The vendor's ledger: a SQLite file (made on first use) or a
    /// postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default:
    /// $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite
    /// (under $XDG_DATA_HOME when set).
    #[arg(long, value_name = "LOCATION")]
    pub ledger: Option<String>,
}

impl LedgerArgs {
    /// Opens the ledger these arguments name.
    pub fn open(&self) -> Result<Ledger, Failure> {
        let loc = Location::resolve(self.ledger.as_deref()).map_err(|e| failure(e, None))?;
        Ledger::open(&loc).map_err(|e| failure(e, Some(&loc.to_string())))
    }
}

/// A ledger's refusal as the command line reports it: its message (naming
/// the ledger when the message does not) and its stable code.
pub fn failure(e: LedgerError, ledger: Option<&str>) -> Failure {
    let message = match (&e, ledger) {
        (LedgerError::Unreachable { .. }, _) | (_, None) => e.to_string(),
        (_, Some(at)) => format!("ledger {at}: {e}"),
    };
    Failure::Coded {
        code: e.code(),
        message,
    }
}

/// The ledger's subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// Every installation: its current key, when first seen, licences issued, reports, invoices.
    Installations(InstallationsArgs),
    /// The licences issued for a serial, by sequence.
    Licences(LicencesArgs),
    /// The invoices (of one month), with their lines; --csv for a spreadsheet.
    Invoices(InvoicesArgs),
    /// Take an installations.json (kept by earlier versions with --registry) into the ledger; twice changes nothing.
    Import(ImportArgs),
    /// Record licences signed before the ledger (or elsewhere), so that their
    /// sites can be invoiced; each must verify against a root trusted here.
    AddLicence(AddLicenceArgs),
}

/// Arguments of `vendor ledger add-licence`.
#[derive(Debug, clap::Args)]
pub struct AddLicenceArgs {
    /// The licence files, as issued.
    #[arg(value_name = "LICENCE", required = true)]
    files: Vec<PathBuf>,
    /// Trust this root public key (SPKI PEM) besides the built-in roots; may be repeated.
    #[arg(long, value_name = "ROOT.pub")]
    trust: Vec<PathBuf>,
    /// Also trust the demo root (for demo licences only).
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    ledger: LedgerArgs,
}

/// Arguments of `vendor ledger installations`.
#[derive(Debug, clap::Args)]
pub struct InstallationsArgs {
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `vendor ledger licences`.
#[derive(Debug, clap::Args)]
pub struct LicencesArgs {
    /// The installation serial.
    #[arg(value_name = "SERIAL")]
    serial: String,
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Print JSON (with each licence's file as issued).
    #[arg(long)]
    json: bool,
}

/// Arguments of `vendor ledger invoices`.
#[derive(Debug, clap::Args)]
pub struct InvoicesArgs {
    /// Only the invoices of this month (YYYY-MM): the month reported.
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    month: Option<String>,
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Print JSON (amounts as exact decimal strings).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV (RFC 4180): one row per invoice line.
    #[arg(long)]
    csv: bool,
}

/// Arguments of `vendor ledger import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The registry the vendor commands of earlier versions kept with --registry.
    #[arg(value_name = "installations.json")]
    file: PathBuf,
    #[command(flatten)]
    ledger: LedgerArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The largest installations.json read (as the vendor commands read it).
const MAX_REGISTRY_BYTES: usize = 256 * 1024 * 1024;

fn parse_month(s: &str) -> Result<String, String> {
    s.parse::<licfile::YearMonth>().map(|m| m.to_string())
}

/// A moment for a table: `2026-01-05 09:30 UTC`.
fn when(at: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp(at, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => format!("@{at}"),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(value).map_err(|e| Failure::refused(format!("could not format JSON: {e}")))
}

/// Runs a ledger subcommand.
pub fn run(cmd: Cmd) -> Result<ExitCode, Failure> {
    match cmd {
        Cmd::Installations(args) => installations(args),
        Cmd::Licences(args) => licences(args),
        Cmd::Invoices(args) => invoices(args),
        Cmd::Import(args) => import(args),
        Cmd::AddLicence(args) => add_licence(args),
    }
}

fn installations(args: InstallationsArgs) -> Result<ExitCode, Failure> {
    let mut l = args.ledger.open()?;
    let at = l.location().to_string();
    let rows = l
        .transaction(|tx| tx.installations())
        .map_err(|e| failure(e, Some(&at)))?;
    if args.json {
        util::print_json(&serde_json::json!({ "installations": json(&rows)? }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        util::print(&format!("no installations in the ledger {at}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!(
        "{:<20} {:<16} {:<20} {:>8} {:>6} {:>7} {:>8}\n",
        "SERIAL", "KEY", "FIRST SEEN", "LICENCES", "LATEST", "REPORTS", "INVOICES"
    );
    for r in &rows {
        let _ = writeln!(
            s,
            "{:<20} {:<16} {:<20} {:>8} {:>6} {:>7} {:>8}",
            r.serial,
            r.key_id.as_deref().unwrap_or("-"),
            when(r.first_seen),
            r.licences,
            r.latest_sequence.map_or("-".into(), |n| n.to_string()),
            r.reports,
            r.invoices
        );
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn licences(args: LicencesArgs) -> Result<ExitCode, Failure> {
    let mut l = args.ledger.open()?;
    let at = l.location().to_string();
    let serial = args.serial.trim().to_string();
    let (known, rows) = l
        .transaction(|tx| Ok((tx.installation(&serial)?.is_some(), tx.licences(&serial)?)))
        .map_err(|e| failure(e, Some(&at)))?;
    if !known {
        return Err(Failure::Coded {
            code: "unknown_serial",
            message: format!(
                "serial {serial} is not in the ledger {at} (tessera vendor ledger installations lists those that are)"
            ),
        });
    }
    if args.json {
        util::print_json(&serde_json::json!({ "serial": serial, "licences": json(&rows)? }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        util::print(&format!("no licences issued for serial {serial}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!(
        "{:>8} {:<28} {:<20} {:<10} {}\n",
        "SEQUENCE", "LICENCE ID", "ISSUED", "EXPIRES", "SIGNED BY KEY"
    );
    for r in &rows {
        let _ = writeln!(
            s,
            "{:>8} {:<28} {:<20} {:<10} {}",
            r.sequence,
            r.licence_id,
            when(r.issued_at),
            r.expiry.map_or("never".into(), |d| d.to_string()),
            r.signer_key_id
        );
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn invoices(args: InvoicesArgs) -> Result<ExitCode, Failure> {
    let mut l = args.ledger.open()?;
    let at = l.location().to_string();
    let month = args.month.as_deref();
    let rows = l
        .transaction(|tx| tx.invoices(month))
        .map_err(|e| failure(e, Some(&at)))?;
    if args.csv {
        util::print(&::ledger::invoice_lines_csv(&rows))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        util::print_json(&serde_json::json!({ "month": month, "invoices": json(&rows)? }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        let of = month.map(|m| format!(" of {m}")).unwrap_or_default();
        util::print(&format!("no invoices{of} in the ledger {at}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    for inv in &rows {
        let r = &inv.record;
        let _ = writeln!(
            s,
            "Invoice {} for serial {}, usage of {} (report {}{}), by {} on {}",
            inv.id,
            r.serial,
            r.month,
            r.report_id,
            if r.parts > 1 {
                format!(", {} parts", r.parts)
            } else {
                String::new()
            },
            r.actor,
            when(r.at)
        );
        for l in &r.lines {
            let _ = writeln!(
                s,
                "  {:<62} {:>8} {:>10} {:>12}",
                l.description,
                l.quantity,
                l.unit_price.normalize(),
                l.amount
            );
        }
        let _ = writeln!(
            s,
            "  {:<62} {:>8} {:>10} {:>12}",
            "Total", "", r.currency, r.total
        );
        for f in &r.findings {
            let _ = writeln!(s, "  finding: {f}");
        }
        s.push('\n');
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs) -> Result<ExitCode, Failure> {
    let bytes = util::read_limited(
        &args.file,
        MAX_REGISTRY_BYTES,
        "registry (installations.json)",
    )?;
    let mut l = args.ledger.open()?;
    let at = l.location().to_string();
    let now = chrono::Utc::now().timestamp();
    let counts = l.import_registry(&bytes, now).map_err(|e| {
        let shown = args.file.display();
        match e {
            LedgerError::Import { detail, .. } => Failure::Coded {
                code: "import_refused",
                message: format!("{shown}: {detail}; nothing was imported into the ledger {at}"),
            },
            other => failure(other, Some(&at)),
        }
    })?;
    if args.json {
        util::print_json(&serde_json::json!({
            "file": args.file.display().to_string(),
            "ledger": at,
            "imported": json(&counts)?,
        }))?;
    } else {
        util::print(&format!(
            "{} into the ledger {at}: {counts}\n",
            args.file.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Records licence files in the ledger, all or none: each verified against
/// the roots, none a sequence the ledger gave another licence. A licence the
/// ledger holds already, byte for byte, is counted and left.
fn add_licence(args: AddLicenceArgs) -> Result<ExitCode, Failure> {
    let roots = crate::cli::verify::roots(&args.trust, args.demo)?;
    let mut issued = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let shown = path.display();
        let bytes = util::read_limited(path, licfile::constants::MAX_FILE_BYTES, "licence")?;
        let (doc, _) =
            licfile::verify::read_verified(&bytes, licfile::DocumentKind::Licence, &roots)
                .map_err(|e| Failure::refused(format!("{shown}: {e}")))?;
        let licfile::Document::Licence(l) = &doc.document else {
            return Err(Failure::refused(format!("{shown}: not a licence")));
        };
        let text =
            String::from_utf8(bytes).map_err(|_| Failure::refused(format!("{shown}: not text")))?;
        issued.push(::ledger::IssuedLicence {
            serial: l.serial.clone(),
            sequence: l.sequence,
            licence_id: l.licence_id.clone(),
            issued_at: l.issued_at.0,
            expiry: l.expiry.as_ref().map(|e| e.date),
            signer_key_id: doc.envelope.key_id.to_string(),
            signed: text,
        });
    }
    let mut l = args.ledger.open()?;
    let at = l.location().to_string();
    let (added, already) = l
        .transaction(|tx| {
            let mut already = 0;
            for taken in tx.record_licences(&issued)? {
                let LedgerError::SequenceTaken {
                    serial, sequence, ..
                } = &taken
                else {
                    return Err(taken);
                };
                let same = tx
                    .licences(serial)?
                    .into_iter()
                    .find(|h| h.sequence == *sequence)
                    .zip(
                        issued
                            .iter()
                            .find(|i| i.serial == *serial && i.sequence == *sequence),
                    )
                    .is_some_and(|(held, new)| held.signed == new.signed);
                if !same {
                    return Err(taken);
                }
                already += 1;
            }
            Ok((issued.len() - already, already))
        })
        .map_err(|e| failure(e, Some(&at)))?;
    util::print(&format!(
        "{added} licences recorded in the ledger {at}; {already} were there already\n"
    ))?;
    Ok(ExitCode::SUCCESS)
}
