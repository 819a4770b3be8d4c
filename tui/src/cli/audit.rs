//! `tessera audit [--json]` and `tessera audit verify`.

use std::fmt::Write as _;
use std::process::ExitCode;
use store::ApiExt as _;

use clap::Subcommand;

use super::site;
use super::util::{self, Failure};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check the log instead of printing it.
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// How many events, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
}

/// The audit subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Check the hash chain of events and recount seats and users; exit 1 if anything is wrong.
    Verify,
}

fn time(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Prints or checks the action log.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    store.require_licence_reader().map_err(site::refused)?;
    if let Some(Cmd::Verify) = args.cmd {
        let report = store.audit_verify().map_err(site::refused)?;
        if args.json {
            let value =
                serde_json::to_value(&report).map_err(|e| Failure::refused(e.to_string()))?;
            util::print_json(&value)?;
        } else if report.ok() {
            util::print(&format!(
                "ok: {} events, hash chain intact; the counters equal a recount and a replay of the log\n",
                report.events
            ))?;
        } else {
            let mut s = format!(
                "FAILED: {} problems in {} events\n",
                report.problems.len(),
                report.events
            );
            for p in &report.problems {
                let _ = writeln!(s, "  {p}");
            }
            util::print(&s)?;
        }
        return Ok(if report.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let events = store.events(args.limit, None).map_err(site::refused)?;
    if args.json {
        let list: Vec<_> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "seq": e.seq,
                    "event": e.name,
                    "status": e.status.word(),
                    "message": e.message,
                    "description": e.description,
                    "activated": time(e.activated_at),
                    "activated_by": e.activated_by,
                    "finished": e.finished_at.map(time),
                    "type": e.kind.word(),
                    "version": e.version,
                    "action": e.action,
                })
            })
            .collect();
        util::print_json(&serde_json::Value::Array(list))?;
    } else {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>5}  {:<16}  {:<30} {:<9} {:<6} {:<12} MESSAGE",
            "#", "ACTIVATED", "EVENT", "STATUS", "TYPE", "BY"
        );
        for e in &events {
            let _ = writeln!(
                s,
                "{:>5}  {:<16}  {:<30} {:<9} {:<6} {:<12} {}",
                e.seq,
                time(e.activated_at),
                e.name,
                e.status.word(),
                e.kind.word(),
                e.activated_by,
                e.message
            );
        }
        util::print(&s)?;
    }
    Ok(ExitCode::SUCCESS)
}
