//! A load client for `tessera serve`: N connections, each a thread with its own
//! `store::client::Remote`, issuing what the licensed product issues (`check`
//! and `record_usage` of a login) as fast as the service answers.
//!
//! ```text
//! cargo run --release -p store --example serve_load -- --socket st/tessera.sock \
//!     [--clients 50] [--requests 200000] [--check-percent 50] [--days 1] \
//!     [--users-file FILE] [--seed N]
//! ```
//!
//! - Users: the lines of `--users-file`, else every active user (asked of the
//!   service, which takes a licence reader: run it as the Owner/manager).
//! - `record_usage` days: today and the `--days - 1` days before it (not before
//!   the store's first month). `--days 1` (the default) is the product's
//!   everyday traffic: a daily-seat user's first record of the day is a new
//!   charge (a synced write), every later one a repeat (a read); more days make
//!   more new charges.
//!
//! Prints throughput, latency percentiles (per request, from sending it to
//! reading its answer) and errors; then checks that nothing was lost: no
//! user-day was acknowledged as a new charge twice; recording each acknowledged
//! user-day again is answered "already charged" (so the charge is there); when
//! the signed usage reports of the months touched can be made (a report holds
//! at most 40 KiB, which a store of thousands of daily users outgrows), the
//! user-days charged since the start are exactly those acknowledged; and
//! `audit_verify` is ok. Assumes no other client records usage meanwhile.
//! `--acked FILE` keeps the acknowledged user-days (`user day` lines);
//! `--verify FILE` only re-checks them, e.g. after the service was restarted.
//! Exits 1 on any error or anything lost, 2 on bad arguments.
//!
//! The last line is for scripts:
//! `result: ops_per_s=… p50_ms=… p99_ms=… max_ms=… errors=… lost=…`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

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
    acked: Option<PathBuf>,
    verify: Option<PathBuf>,
}

const USAGE: &str = "usage: serve_load --socket PATH [--clients 50] [--requests 200000] \
[--check-percent 50] [--days 1] [--users-file FILE] [--seed N] [--acked FILE]
       serve_load --socket PATH --verify FILE";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        socket: PathBuf::new(),
        clients: 50,
        requests: 200_000,
        check_percent: 50,
        days: 1,
        users_file: None,
        seed: 1,
        acked: None,
        verify: None,
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
            "--acked" => args.acked = Some(PathBuf::from(value)),
            "--verify" => args.verify = Some(PathBuf::from(value)),
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

/// The kinds of request, for latencies by kind.
const KINDS: [&str; 3] = [
    "check",
    "record_usage, no new charge (a read)",
    "record_usage, new charge (a synced write)",
];

/// Latency percentiles of sorted microseconds: (p50, p90, p99, p99.9, max) in ms.
fn percentiles(sorted: &[u32]) -> [f64; 5] {
    let at = |p: f64| -> f64 {
        if sorted.is_empty() {
            0.0
        } else {
            ms(sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1])
        }
    };
    [at(0.50), at(0.90), at(0.99), at(0.999), at(1.0)]
}

/// What one connection did.
#[derive(Default)]
struct Tally {
    /// Microseconds per request, and its kind ([`KINDS`]).
    latencies: Vec<(u32, u8)>,
    /// The slowest requests: (microseconds, when it started since `epoch`, what).
    slowest: Vec<(u32, Duration, &'static str)>,
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
        for (report, _) in remote.usage_report(*m)? {
            for u in report.daily_user_days.into_iter().flat_map(|g| g.users) {
                out.extend(u.days.dates(*m).map(|d| (u.user.clone(), d)));
            }
        }
    }
    Ok(out)
}

/// How many of `pairs` are not "already charged" when recorded again: lost charges.
fn missing(remote: &Remote, pairs: &[(String, NaiveDate)]) -> Result<Vec<String>, String> {
    let mut lost = Vec::new();
    for (user, day) in pairs {
        let o = remote
            .record_usage(user, UsageKind::Login, Some(*day))
            .map_err(|e| format!("record_usage {user} {day} again: {e}"))?;
        if o.charged {
            lost.push(format!("{user} {day}"));
        }
    }
    Ok(lost)
}

/// `--verify FILE`: every user-day in FILE is charged.
fn verify_only(remote: &Remote, file: &PathBuf) -> Result<bool, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut pairs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (user, day) = line
            .split_once(' ')
            .ok_or_else(|| format!("{}: not `user day`: {line}", file.display()))?;
        let day = day
            .trim()
            .parse()
            .map_err(|e| format!("{}: {line}: {e}", file.display()))?;
        pairs.push((user.to_string(), day));
    }
    let lost = missing(remote, &pairs)?;
    let audit = remote
        .audit_verify()
        .map_err(|e| format!("audit verify: {e}"))?;
    println!(
        "verified    {} acknowledged charged user-days: {} lost{}; audit verify {}",
        pairs.len(),
        lost.len(),
        lost.first()
            .map(|l| format!(" (first: {l})"))
            .unwrap_or_default(),
        if audit.ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {:?}", audit.problems)
        }
    );
    Ok(lost.is_empty() && audit.ok())
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
    if let Some(file) = &args.verify {
        return verify_only(&admin, file);
    }
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
    // The reports' charges before (None when the reports cannot be made).
    let before = match reported(&admin, &months) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("serve_load: no exact recount from the usage reports: {e}");
            None
        }
    };

    eprintln!(
        "serve_load: {} clients, {} requests ({}% check, the rest record_usage over {span} days from {first_day}), {} users, as {}",
        args.clients,
        args.requests,
        args.check_percent,
        users.len(),
        admin.hello().user
    );
    let barrier = Arc::new(Barrier::new(args.clients + 1));
    let epoch = Instant::now();
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
                let mut kind = 0u8;
                if check {
                    match remote.check(user) {
                        Ok(_) => t.checks += 1,
                        Err(e) => t.error(format!("check {user}: {e}")),
                    }
                } else {
                    kind = 1;
                    match remote.record_usage(user, UsageKind::Login, day) {
                        Ok(o) => {
                            t.records += 1;
                            if o.charged {
                                kind = 2;
                                t.charged.push((o.user, o.day));
                            }
                        }
                        Err(e) => t.error(format!("record_usage {user}: {e}")),
                    }
                }
                let us = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                t.latencies.push((us, kind));
                if t.slowest.len() < 3 || us > t.slowest[2].0 {
                    t.slowest.push((us, start - epoch, KINDS[kind as usize]));
                    t.slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
                    t.slowest.truncate(3);
                }
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
        total.slowest.extend(t.slowest);
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

    let all = std::mem::take(&mut total.latencies);
    let mut by_kind: [Vec<u32>; 3] = Default::default();
    for (us, kind) in &all {
        by_kind[*kind as usize].push(*us);
    }
    let mut lat: Vec<u32> = all.into_iter().map(|(us, _)| us).collect();
    lat.sort_unstable();
    let [p50, p90, p99, p999, max] = percentiles(&lat);
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
        "latency     mean {:.3} ms  p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  p99.9 {p999:.3}  max {max:.3} ms",
        mean / 1000.0,
    );
    for (kind, l) in KINDS.iter().zip(by_kind.iter_mut()) {
        l.sort_unstable();
        let [p50, p90, p99, p999, max] = percentiles(l);
        println!(
            "  {:>7} {kind}: p50 {p50:.3}  p90 {p90:.3}  p99 {p99:.3}  p99.9 {p999:.3}  max {max:.3} ms",
            l.len()
        );
    }
    total
        .slowest
        .sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    let since = start - epoch;
    println!(
        "slowest     {}",
        total
            .slowest
            .iter()
            .take(5)
            .map(|(us, at, what)| format!(
                "{:.1} ms {what} at +{:.3} s",
                ms(*us),
                at.saturating_sub(since).as_secs_f64()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in &total.first_errors {
        println!("error       {e}");
    }

    // Nothing lost: every acknowledged charge is there, once.
    let mut acked: BTreeMap<(String, NaiveDate), u32> = BTreeMap::new();
    for k in total.charged {
        *acked.entry(k).or_default() += 1;
    }
    let twice = acked.values().filter(|n| **n > 1).count();
    let pairs: Vec<(String, NaiveDate)> = acked.keys().cloned().collect();
    if let Some(file) = &args.acked {
        let text: String = pairs.iter().map(|(u, d)| format!("{u} {d}\n")).collect();
        std::fs::write(file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    let lost = missing(&admin, &pairs)?.len();
    // And, when the reports can say, nothing was charged that was not acknowledged.
    let recount = match before {
        Some(before) => match reported(&admin, &months) {
            Ok(after) => {
                let new: BTreeSet<_> = after.difference(&before).cloned().collect();
                let unacked = new.iter().filter(|k| !acked.contains_key(*k)).count();
                Some((new.len(), unacked))
            }
            Err(e) => return Err(format!("usage report: {e}")),
        },
        None => None,
    };
    let unacked = recount.map(|(_, u)| u).unwrap_or(0);
    let audit = admin
        .audit_verify()
        .map_err(|e| format!("audit verify: {e}"))?;
    println!(
        "verified    {} acknowledged new charges: {lost} lost, {twice} charged twice; {}; audit verify {}",
        acked.len(),
        match recount {
            Some((new, unacked)) => format!(
                "the usage reports of {} show {new} new charged user-days, {unacked} never acknowledged",
                months
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "no recount from the usage reports".to_string(),
        },
        if audit.ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {:?}", audit.problems)
        }
    );
    println!(
        "result: ops_per_s={ops:.0} p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3} errors={} lost={}",
        total.errors,
        lost + unacked + twice
    );
    Ok(total.errors == 0 && lost == 0 && unacked == 0 && twice == 0 && audit.ok())
}
