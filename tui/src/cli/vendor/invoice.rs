//! `tessera vendor invoice REPORT... [--json]`

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use licfile::{Document, DocumentKind};

use super::installation::{self, RegistryArgs};
use crate::cli::util::{self, Failure};

/// Arguments of `vendor invoice`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The usage report from the site; a report in parts needs every part.
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<PathBuf>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Print JSON (amounts as decimal strings).
    #[arg(long)]
    json: bool,
}

/// Prints the invoice lines of the report's month.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let mut docs = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        docs.push(installation::read(path, DocumentKind::UsageReport)?);
    }
    let mut reports = Vec::with_capacity(docs.len());
    for doc in &docs {
        let Document::UsageReport(report) = &doc.document else {
            return Err(Failure::refused("not a usage report"));
        };
        reports.push(report.clone());
    }
    let inv = licfile::invoice::invoice(&reports).map_err(|e| Failure::refused(e.to_string()))?;
    // With a registry, a report is invoiced once: every part is recorded, or none.
    let all: Vec<&Document> = docs.iter().map(|d| &d.document).collect();
    installation::register_all(&args.registry, &all, true)?;
    if args.json {
        let lines: Vec<_> = inv
            .lines
            .iter()
            .map(|l| serde_json::json!({"description": l.description, "quantity": l.quantity, "unit_price": l.unit_price.normalize().to_string(), "amount": l.amount.normalize().to_string()}))
            .collect();
        util::print_json(&serde_json::json!({
            "serial": inv.serial,
            "month": inv.month.to_string(),
            "billed_ahead": inv.billed_ahead.to_string(),
            "lines": lines,
            "total": inv.total.to_string(),
            "currency": inv.currency,
        }))?;
    } else {
        let mut s = format!(
            "Invoice for serial {}, usage of {} (seats billed ahead for {})\n\n",
            inv.serial, inv.month, inv.billed_ahead
        );
        let _ = writeln!(
            s,
            "{:<64} {:>8} {:>10} {:>12}",
            "", "QTY", "PRICE", "AMOUNT"
        );
        for l in &inv.lines {
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
            "Total", "", inv.currency, inv.total
        );
        util::print(&s)?;
    }
    Ok(ExitCode::SUCCESS)
}
