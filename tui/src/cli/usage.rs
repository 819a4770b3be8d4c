//! `tessera usage record / storage / metered`: what the licensed product reports.

use std::process::ExitCode;
use store::ApiExt as _;

use chrono::NaiveDate;
use clap::Subcommand;
use store::usage::UsageKind;

use super::site;
use super::util::{self, Failure};

/// The usage subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// A user worked: daily-seat users are charged once per user-day.
    Record(RecordArgs),
    /// The storage in use now.
    Storage(StorageArgs),
    /// Uses of a metered service to add to this month.
    Metered(MeteredArgs),
}

/// Arguments of `usage record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The username.
    user: String,
    /// What happened: login, diary-booked or diary-actioned.
    #[arg(long, value_parser = parse_kind)]
    kind: UsageKind,
    /// The day it is for (default today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = util::parse_date)]
    day: Option<NaiveDate>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `usage storage`.
#[derive(Debug, clap::Args)]
pub struct StorageArgs {
    /// Bytes in use.
    #[arg(long)]
    bytes: u64,
}

/// Arguments of `usage metered`.
#[derive(Debug, clap::Args)]
pub struct MeteredArgs {
    /// The service, e.g. emails-sent.
    service: String,
    /// How many uses to add.
    #[arg(long)]
    count: u64,
}

fn parse_kind(s: &str) -> Result<UsageKind, String> {
    UsageKind::parse(s).ok_or_else(|| format!("{s:?} is not login, diary-booked or diary-actioned"))
}

/// Records the usage.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    match cmd {
        Cmd::Record(a) => {
            let out = store
                .record_usage(&a.user, a.kind, a.day)
                .map_err(site::refused)?;
            if a.json {
                let value =
                    serde_json::to_value(&out).map_err(|e| Failure::refused(e.to_string()))?;
                util::print_json(&value)?;
            } else {
                util::print(&format!("{} {}: {}\n", out.user, out.day, out.reason))?;
            }
        }
        Cmd::Storage(a) => {
            let allowance = store.record_storage(a.bytes).map_err(site::refused)?;
            util::print(&format!(
                "storage: {:.2} GB of {allowance} GB\n",
                a.bytes as f64 / 1e9
            ))?;
        }
        Cmd::Metered(a) => {
            let total = store
                .record_metered(&a.service, a.count)
                .map_err(site::refused)?;
            util::print(&format!("{}: {total} this month\n", a.service))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
