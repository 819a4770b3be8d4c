//! A load client for `tessera serve`: N connections, each a thread with its own
//! `store::client::Remote`, issuing what the licensed product issues (`check`
//! and `record_usage` of a login) as fast as the service answers.
//!
//! ```text
//! cargo run --release -p store --example serve_load -- --socket st/tessera.sock \
//!     [--clients 50] [--requests 200000] [--check-percent 50] [--days 28] \
//!     [--users-file FILE] [--seed N]
//! ```
//!
//! - Users: the lines of `--users-file`, else every active user (asked of the
//!   service, which takes a licence reader: run it as the Owner/manager).
//! - `record_usage` days: today and the `--days - 1` days before it (not before
//!   the store's first month), so that many records are new charges (a synced
//!   write) and the rest repeats (a read). `--days 1` is the product's everyday
//!   case: today only, almost all repeats.
//!
//! Prints throughput, latency percentiles (per request, from sending it to
//! reading its answer) and errors; then checks that nothing was lost: the
//! user-days charged since the start, by the signed usage reports of the months
//! touched, are exactly those the service acknowledged as new charges, none
//! twice, and `audit_verify` is ok. Assumes no other client records usage
//! meanwhile. Exits 1 on any error or anything lost, 2 on bad arguments.
//!
//! The last line is for scripts:
//! `result: ops_per_s=… p50_ms=… p99_ms=… max_ms=… errors=… lost=…`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use chrono::NaiveDate;
use licfile::YearMonth;
use store::Api;
use store::client::Remote;
use store::usage::UsageKind;
use store::views::UserQuery;

struct Args {
    socket: PathBuf,
    clients: usize,
    requests: usize,
    check_percent: u64,
    days: i64,
    users_file: Option<PathBuf>,
    seed: u64,
}

const USAGE: &str = "usage: serve_load --socket PATH [--clients 50] [--requests 200000] \
[--check-percent 50] [--days 28] [--users-file FILE] [--seed N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        socket: PathBuf::new(),
        clients: 50,
        requests: 200_000,
        check_percent: 50,
        days: 28,
        users_file: None,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--socket" => args.socket = PathBuf::from(value),
            "--clients" => args.clients = num(&value)?.max(1) as usize,
            "--requests" => args.requests = num(&value)? as usize,
            "--check-percent" => args.check_percent = num(&value)?.min(100),
            "--days" => args.days = num(&value)?.clamp(1, 366) as i64,
            "--users-file" => args.users_file = Some(PathBuf::from(value)),
            "--seed" => args.seed = num(&value)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.socket.as_os_str().is_empty() {
        return Err("--socket is required".into());
    }
    Ok(args)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// What one connection did.
#[derive(Default)]
struct Tally {
    /// Microseconds per answered request.
    latencies: Vec<u32>,
    checks: u64,
    records: u64,
    /// (user, day) of every record acknowledged as a new charge.
    charged: Vec<(String, NaiveDate)>,
    errors: u64,
    first_errors: Vec<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }
}

/// The charged user-days of `months`, as the signed usage reports say.
fn reported(remote: &Remote, months: &[YearMonth]) -> store::Result<BTreeSet<(String, NaiveDate)>> {
    let mut out = BTreeSet::new();
    for m in months {
        let (report, _) = remote.usage_report(*m)?;
        for u in report.daily_user_days {
            out.extend(u.days.into_iter().map(|d| (u.user.clone(), d)));
        }
    }
    Ok(out)
}

fn users(remote: &Remote, file: Option<&PathBuf>) -> Result<Vec<String>, String> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect());
    }
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = remote
            .users_page(&UserQuery {
                after: after.clone(),
                limit: 1000,
                ..UserQuery::default()
            })
            .map_err(|e| format!("listing users: {e}"))?;
        // Inactive daily-seat users are refused usage: ask only for active ones.
        names.extend(
            page.users
                .into_iter()
                .filter(|u| u.state == "active")
                .map(|u| u.name),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(names),
        }
    }
}

fn ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("serve_load: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("serve_load: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let admin = Remote::connect(&args.socket).map_err(|e| format!("connect: {e}"))?;
    let users = Arc::new(users(&admin, args.users_file.as_ref())?);
    if users.is_empty() {
        return Err("no users to ask about".into());
    }
    let inst = admin
        .installation()
        .map_err(|e| format!("installation: {e}"))?;
    // The service's today: what `day: None` means.
    let today = admin.status().map_err(|e| format!("status: {e}"))?.today;
    let created = chrono::DateTime::from_timestamp(inst.created_at, 0)
        .map(|t| YearMonth::of(t.date_naive()).first_day())
        .unwrap_or(today);
    let first_day = (today - chrono::Duration::days(args.days - 1)).max(created);
    let span = (today - first_day).num_days() + 1;
    let mut months = Vec::new();
    let mut m = YearMonth::of(first_day);
    while m <= YearMonth::of(today) {
        months.push(m);
        m = YearMonth::of(m.last_day() + chrono::Duration::days(1));
    }
    let before = reported(&admin, &months).map_err(|e| format!("usage report: {e}"))?;

    eprintln!(
        "serve_load: {} clients, {} requests ({}% check, the rest record_usage over {span} days from {first_day}), {} users, as {}",
        args.clients,
        args.requests,
        args.check_percent,
        users.len(),
        admin.hello().user
    );
    let barrier = Arc::new(Barrier::new(args.clients + 1));
    let mut handles = Vec::new();
    for c in 0..args.clients {
        let n = args.requests / args.clients + usize::from(c < args.requests % args.clients);
        let (users, barrier, socket) = (users.clone(), barrier.clone(), args.socket.clone());
        let (check_percent, seed) = (args.check_percent, args.seed);
        handles.push(std::thread::spawn(move || {
            let mut t = Tally {
                latencies: Vec::with_capacity(n),
                ..Tally::default()
            };
            let remote = Remote::connect(&socket);
            barrier.wait();
            let remote = match remote {
                Ok(r) => r,
                Err(e) => {
                    t.error(format!("connect: {e}"));
                    return t;
                }
            };
            let mut rng = Rng::new(seed.wrapping_add(c as u64 + 1));
            for _ in 0..n {
                let user = &users[rng.below(users.len() as u64) as usize];
                let check = rng.below(100) < check_percent;
                let day = (span > 1)
                    .then(|| first_day + chrono::Duration::days(rng.below(span as u64) as i64));
                let start = Instant::now();
                if check {
                    match remote.check(user) {
                        Ok(_) => t.checks += 1,
                        Err(e) => t.error(format!("check {user}: {e}")),
                    }
                } else {
                    match remote.record_usage(user, UsageKind::Login, day) {
                        Ok(o) => {
                            t.records += 1;
                            if o.charged {
                                t.charged.push((o.user, o.day));
                            }
                        }
                        Err(e) => t.error(format!("record_usage {user}: {e}")),
                    }
                }
                let us = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                t.latencies.push(us);
            }
            t
        }));
    }
    barrier.wait();
    let start = Instant::now();
    let mut total = Tally::default();
    for h in handles {
        let t = h
            .join()
            .map_err(|_| "a client thread panicked".to_string())?;
        total.latencies.extend(t.latencies);
        total.checks += t.checks;
        total.records += t.records;
        total.charged.extend(t.charged);
        total.errors += t.errors;
        for e in t.first_errors {
            if total.first_errors.len() < 5 {
                total.first_errors.push(e);
            }
        }
    }
    let elapsed = start.elapsed();

    let mut lat = std::mem::take(&mut total.latencies);
    lat.sort_unstable();
    let pct = |p: f64| -> u32 {
        if lat.is_empty() {
            0
        } else {
            lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1]
        }
    };
    let answered = lat.len() as f64;
    let ops = answered / elapsed.as_secs_f64().max(1e-9);
    let mean = lat.iter().map(|&u| u64::from(u)).sum::<u64>() as f64 / answered.max(1.0);
    println!(
        "{} requests in {:.2} s: {} check, {} record_usage ({} new charges), {} errors",
        lat.len(),
        elapsed.as_secs_f64(),
        total.checks,
        total.records,
        total.charged.len(),
        total.errors
    );
    println!("throughput  {ops:.0} ops/s");
    println!(
        "latency     mean {:.3} ms  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3} ms",
        mean / 1000.0,
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(0.999)),
        ms(lat.last().copied().unwrap_or(0))
    );
    for e in &total.first_errors {
        println!("error       {e}");
    }

    // Nothing lost: the new charged user-days are exactly the acknowledged ones.
    let after = reported(&admin, &months).map_err(|e| format!("usage report: {e}"))?;
    let mut acked: BTreeMap<(String, NaiveDate), u32> = BTreeMap::new();
    for k in total.charged {
        *acked.entry(k).or_default() += 1;
    }
    let twice = acked.values().filter(|n| **n > 1).count();
    let new: BTreeSet<_> = after.difference(&before).cloned().collect();
    let lost = acked.keys().filter(|k| !after.contains(*k)).count();
    let unacked = new.iter().filter(|k| !acked.contains_key(*k)).count();
    let audit = admin
        .audit_verify()
        .map_err(|e| format!("audit verify: {e}"))?;
    println!(
        "verified    {} new charged user-days in the usage reports of {}; acknowledged {}: {lost} lost, {unacked} never acknowledged, {twice} charged twice; audit verify {}",
        new.len(),
        months
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        acked.len(),
        if audit.ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {:?}", audit.problems)
        }
    );
    println!(
        "result: ops_per_s={ops:.0} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} errors={} lost={}",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(lat.last().copied().unwrap_or(0)),
        total.errors,
        lost + unacked + twice
    );
    Ok(total.errors == 0 && lost == 0 && unacked == 0 && twice == 0 && audit.ok())
}
