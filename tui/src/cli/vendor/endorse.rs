//! `tessera vendor endorse --key ROOT.key --issuer NAME --products … --until DATE ISSUER.pub`
//!
//! The ledger keeps every endorsement signed, with its file.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use licfile::{Document, Endorsement, Timestamp, signed};

use super::installation::{Refusal, Written};
use super::ledger::LedgerArgs;
use crate::cli::util::{self, Failure};

/// Arguments of `vendor endorse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The root's secret key (PKCS#8 PEM).
    #[arg(long, value_name = "ROOT.key")]
    key: PathBuf,
    /// The issuer's name, shown beside its licences.
    #[arg(long)]
    issuer: String,
    /// Products the issuer may license, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    products: Vec<String>,
    /// Last day the endorsement holds (YYYY-MM-DD).
    #[arg(long, value_parser = util::parse_date)]
    until: NaiveDate,
    /// Write the endorsement here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The issuer's public key (SPKI PEM).
    #[arg(value_name = "ISSUER.pub")]
    issuer_key: PathBuf,
    #[command(flatten)]
    ledger: LedgerArgs,
}

/// Signs the endorsement.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let root = util::read_secret_key(&args.key)?;
    let issuer = util::read_public_key(&args.issuer_key)?;
    if issuer.id() == root.public().id() {
        return Err(Failure::refused(
            "the issuer key is the root key itself; a root needs no endorsement",
        ));
    }
    let endorsement = Endorsement {
        issuer: args.issuer.trim().to_string(),
        issuer_key: issuer.raw(),
        products: args.products.iter().map(|p| p.trim().to_string()).collect(),
        issued_at: Timestamp::from(chrono::Utc::now()),
        until: args.until,
    };
    let row = ::ledger::EndorsementRow {
        issuer: endorsement.issuer.clone(),
        issuer_key_id: issuer.id().to_string(),
        products: endorsement.products.clone(),
        until: endorsement.until,
        signed: String::new(),
        at: endorsement.issued_at.0,
    };
    let text = signed::sign(&Document::Endorsement(endorsement), &root, None)
        .map_err(|e| Failure::refused(e.to_string()))?;
    let row = ::ledger::EndorsementRow {
        signed: text.clone(),
        ..row
    };
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten (nothing was signed)",
            out.display()
        )));
    }
    // Recorded in the ledger in the transaction that writes the file: a file
    // the ledger does not hold is never left behind.
    let mut ledger = args.ledger.open()?;
    let at = ledger.location().to_string();
    let mut written = Written::default();
    let recorded = ledger.transaction_with(|tx| {
        written.undo();
        tx.record_endorsement(&row)?;
        if let Some(path) = &args.out {
            written.write(path, text.as_bytes())?;
        }
        Ok::<_, Refusal>(())
    });
    if let Err(e) = recorded {
        written.undo();
        return Err(e.into_failure(&at));
    }
    match args.out {
        Some(path) => {
            util::print(&format!(
                "endorsed issuer key {} until {}: {}\n",
                issuer.id(),
                args.until,
                path.display()
            ))?;
        }
        None => util::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
