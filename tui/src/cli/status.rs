//! `tessera status [--json]`

use std::fmt::Write as _;
use std::process::ExitCode;
use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the installation's status.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    store.require_licence_reader().map_err(site::refused)?;
    let v = store.status().map_err(site::refused)?;
    if args.json {
        let value = serde_json::to_value(&v).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}{} — serial {} ({})",
        if v.demo { "[DEMO] " } else { "" },
        v.licensee,
        v.serial,
        v.installation
    );
    let _ = writeln!(
        s,
        "  Plan         {} (licence sequence {})",
        v.plan, v.sequence
    );
    if let (Some(a), Some(b)) = (v.contract_start, v.contract_end) {
        let _ = writeln!(
            s,
            "  Contract     {a} to {b}{}",
            if v.auto_renew {
                ", renews automatically"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(s, "  Licence      {} ({})", v.state, v.state_detail);
    if let Some(d) = v.next_expiry {
        let _ = writeln!(s, "  Next expiry  {d}");
    }
    if let Some(h) = v.clock_behind_hours {
        let _ = writeln!(
            s,
            "  WARNING      the clock is {h} hours behind the latest time this store has seen"
        );
    }
    let _ = writeln!(
        s,
        "  Users        {} ({} active, {} over-allocated)",
        v.users.total, v.users.active, v.users.over_allocated
    );
    let _ = writeln!(
        s,
        "  Storage      {:.1} GB of {} GB",
        v.storage_used_bytes as f64 / 1e9,
        v.storage_allowance_gb
    );
    let _ = writeln!(
        s,
        "\n  {:<28} {:<11} {:>7} {:>7} {:>9} {:>7}",
        "LICENCE", "TERM", "TOTAL", "IN USE", "AVAILABLE", "PENDING"
    );
    for p in &v.pools {
        let over = if p.over_allocated > 0 {
            format!("  OVER by {}", p.over_allocated)
        } else {
            String::new()
        };
        let name = if p.issuer.is_empty() {
            p.licence.clone()
        } else {
            format!("{}: {}", p.issuer, p.licence)
        };
        let _ = writeln!(
            s,
            "  {:<28} {:<11} {:>7} {:>7} {:>9} {:>7}{over}",
            name, p.term, p.total, p.in_use, p.available, p.pending
        );
    }
    let _ = writeln!(s, "\n  Metered services, {}", v.month);
    for m in &v.metered {
        let _ = writeln!(
            s,
            "  {:<28} {:>9} of {:>9} {}{}",
            m.name,
            m.used,
            m.threshold,
            m.unit,
            if m.excess > 0 {
                format!("  EXCESS {}", m.excess)
            } else {
                String::new()
            }
        );
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}
