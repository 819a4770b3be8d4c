//! `tessera report usage --month YYYY-MM [--out FILE]`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use licfile::YearMonth;

use super::site;
use super::util::{self, Failure};

/// What to report.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// A signed usage report of a month for the vendor's invoice.
    Usage(UsageArgs),
}

/// Arguments of `report usage`.
#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// The month, YYYY-MM.
    #[arg(long, value_parser = parse_month)]
    month: YearMonth,
    /// Write the report here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn parse_month(s: &str) -> Result<YearMonth, String> {
    s.parse()
}

/// Makes and writes the report.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let Cmd::Usage(a) = cmd;
    if let Some(out) = &a.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten",
            out.display()
        )));
    }
    let store = site::connect(ctx)?;
    let (report, armored) = store.usage_report(a.month).map_err(site::refused)?;
    match &a.out {
        Some(out) => {
            util::write_new(out, armored.as_bytes(), false)?;
            let days: usize = report.daily_user_days.iter().map(|u| u.days.len()).sum();
            util::print(&format!(
                "usage report {} for {}: {} pools, {days} daily user-days, {} metered services; written to {}: send it to the vendor\n",
                report.report_id,
                report.month,
                report.pools.len(),
                report.metered.len(),
                out.display()
            ))?;
        }
        None => util::print(&armored)?,
    }
    Ok(ExitCode::SUCCESS)
}
