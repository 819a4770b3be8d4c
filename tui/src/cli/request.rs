//! `tessera request seats --licence L --term T (--add N | --remove N) [--out FILE] [--json]`
//! `tessera request add-on --name NAME (--add N | --remove N) [--out FILE] [--json]`
//! `tessera request integration --name NAME (--add N | --remove N) [--out FILE] [--json]`
//! `tessera request clock [--out FILE]`

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use store::ApiExt as _;

use clap::Subcommand;
use licfile::{ModuleKind, SeatAction};
use store::purchases::RequestOutcome;

use super::site;
use super::util::{self, Failure};

/// What to request.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Buy seats, or give seats back, with the cost shown first.
    Seats(SeatsArgs),
    /// Buy add-on module licences (e.g. an Outlook connector), or give them
    /// back from the next period, with the cost shown first.
    AddOn(ModuleArgs),
    /// Buy licences of an integration with a count of its own, or give them
    /// back from the next period (one that follows the standard seat count
    /// follows the seats instead).
    Integration(ModuleArgs),
    /// Ask the vendor for its time, to correct the store's clock after a wrong
    /// clock moved it ahead (the answer is imported with `tessera import`).
    Clock(ClockArgs),
}

/// Arguments of `request clock`.
#[derive(Debug, clap::Args)]
pub struct ClockArgs {
    /// Write the signed request here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Signs a clock request and writes it.
fn clock(ctx: &site::Ctx, a: ClockArgs) -> Result<ExitCode, Failure> {
    if let Some(out) = &a.out
        && out.exists()
    {
        return Err(Failure::refused(format!(
            "{} already exists; it is never overwritten",
            out.display()
        )));
    }
    let store = site::connect(ctx)?;
    let armored = store.request_clock().map_err(site::refused)?;
    match &a.out {
        Some(out) => {
            if let Err(e) = util::write_new(out, armored.as_bytes(), false) {
                // The request is recorded: keep it where it can be copied.
                util::print(&armored)?;
                return Err(e);
            }
            util::print(&format!(
                "clock request written to {}: send it to the vendor, then `tessera import` the correction it sends back within 48 hours\n",
                out.display()
            ))?;
        }
        None => util::print(&armored)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `request seats`.
#[derive(Debug, clap::Args)]
pub struct SeatsArgs {
    /// The licence, e.g. "Jobs User", "Sales Support".
    #[arg(long, value_name = "L")]
    licence: String,
    /// The term: contracted, monthly or daily.
    #[arg(long, value_name = "T")]
    term: String,
    #[command(flatten)]
    change: ChangeArgs,
}

/// Arguments of `request add-on` and `request integration`.
#[derive(Debug, clap::Args)]
pub struct ModuleArgs {
    /// The add-on module or integration as the licence names it, e.g.
    /// "Outlook connector" (any case).
    #[arg(long, value_name = "NAME")]
    name: String,
    #[command(flatten)]
    change: ChangeArgs,
}

/// How many to buy or give back, and where the request goes.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["add", "remove"])))]
pub struct ChangeArgs {
    /// How many to buy.
    #[arg(long, value_name = "N")]
    add: Option<u32>,
    /// How many to give back (from the next period).
    #[arg(long, value_name = "N")]
    remove: Option<u32>,
    /// A note for the vendor.
    #[arg(long, default_value = "")]
    note: String,
    /// Write the signed request here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the outcome as JSON (the breakdown's amounts as decimal strings).
    #[arg(long)]
    json: bool,
}

impl ChangeArgs {
    /// The action and count asked for; refuses an existing `--out` before
    /// anything is recorded.
    fn checked(&self) -> Result<(SeatAction, u32), Failure> {
        let asked = match (self.add, self.remove) {
            (Some(n), None) => (SeatAction::Add, n),
            (None, Some(n)) => (SeatAction::Remove, n),
            _ => return Err(Failure::usage("give one of --add N or --remove N")),
        };
        if let Some(out) = &self.out
            && out.exists()
        {
            return Err(Failure::refused(format!(
                "{} already exists; it is never overwritten",
                out.display()
            )));
        }
        Ok(asked)
    }
}

/// Records the request and writes it.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let (a, r, unit) = match cmd {
        Cmd::Clock(a) => return clock(ctx, a),
        Cmd::Seats(a) => {
            let (action, count) = a.change.checked()?;
            let store = site::connect(ctx)?;
            let r = store
                .request_seats(&a.licence, &a.term, action, count, &a.change.note)
                .map_err(site::refused)?;
            (a.change, r, "seats")
        }
        Cmd::AddOn(a) => module(ctx, ModuleKind::AddOn, a)?,
        Cmd::Integration(a) => module(ctx, ModuleKind::Integration, a)?,
    };
    print_outcome(&a, &r, unit)
}

/// Buys or gives back add-on or integration licences.
fn module(
    ctx: &site::Ctx,
    kind: ModuleKind,
    a: ModuleArgs,
) -> Result<(ChangeArgs, RequestOutcome, &'static str), Failure> {
    let (action, count) = a.change.checked()?;
    let store = site::connect(ctx)?;
    let r = store
        .request_modules(kind, &a.name, action, count, &a.change.note)
        .map_err(site::refused)?;
    Ok((a.change, r, "licences"))
}

/// Writes the signed request where asked and prints the outcome: the cost
/// breakdown, the notes, where the confirmation went.
fn print_outcome(a: &ChangeArgs, r: &RequestOutcome, unit: &str) -> Result<ExitCode, Failure> {
    if let Some(out) = &a.out {
        util::write_new(out, r.armored.as_bytes(), false)?;
    }
    if a.json {
        let lines: Vec<_> = r
            .breakdown
            .lines
            .iter()
            .map(|l| serde_json::json!({"description": l.description, "amount": store::costs::round(l.amount).to_string(), "exact": l.amount.normalize().to_string(), "in_total": l.in_total}))
            .collect();
        util::print_json(&serde_json::json!({
            "request_id": r.request_id,
            "pool": r.pool,
            "action": r.action,
            "count": r.count,
            "effective": r.effective,
            "lines": lines,
            "total": r.breakdown.total.to_string(),
            "currency": r.breakdown.currency,
            "email": r.email,
            "request_file": a.out.as_ref().map(|p| p.display().to_string()),
            // Without --out the signed request travels in the JSON, so nothing is lost.
            "request": if a.out.is_none() { Some(r.armored.clone()) } else { None },
            "notes": r.notes,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let verb = if r.action == SeatAction::Add {
        "buy"
    } else {
        "give back"
    };
    let _ = writeln!(
        s,
        "Request {}: {verb} {} {} {unit}, effective {}",
        r.request_id, r.count, r.pool, r.effective
    );
    let _ = writeln!(s, "\nCost breakdown ({})", r.breakdown.currency);
    for l in &r.breakdown.lines {
        let amount = store::costs::round(l.amount);
        if l.in_total {
            let _ = writeln!(s, "  {:<78} {:>10}", l.description, amount);
        } else {
            let _ = writeln!(
                s,
                "  {:<78} {:>10}",
                format!("(later) {}", l.description),
                ""
            );
        }
    }
    let _ = writeln!(s, "  {:<78} {:>10}", "Total now", r.breakdown.total);
    for n in &r.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    if let Some(e) = &r.email {
        let _ = writeln!(s, "\nconfirmation e-mail written to the outbox: {e}");
    }
    match &a.out {
        Some(out) => {
            let _ = writeln!(
                s,
                "signed request written to {}: send it to the vendor",
                out.display()
            );
        }
        None => {
            let _ = writeln!(s, "\n{}", r.armored);
        }
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}
