//! A load client for `tessera serve`: N connections, each with one request in
//! flight at a time, issuing what the licensed product issues (`check` and
//! `record_usage` of a login) as fast as the service answers.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --bin serve_load -- \
//!     --socket st/tessera.sock [--clients 50] [--requests 200000] \
//!     [--check-percent 50] [--days 1] [--users-file FILE] [--seed N] \
//!     [--driver threads|epoll|epoll:N] [--rate N]
//! ```
//!
//! - Pace: without `--rate` the load is closed-loop: each connection sends its
//!   next request when the last is answered, so the service runs flat out and
//!   latency is mostly the queue in front of saturated cores. `--rate N` sends
//!   N requests a second in all, each connection's spaced evenly (threads
//!   driver): latency at a given load. A request sent late because the answer
//!   before it was late is timed from when it was due.
//!
//! - Driver: `threads` (the default) gives each connection a thread with its
//!   own `store::client::Remote`, as a product with a process a user would;
//!   on a small machine those threads cost more CPU than the service, and their
//!   own scheduling delays count in the latencies. `epoll` drives every
//!   connection from one thread (`epoll:N`: N threads) with raw protocol lines,
//!   which measures the service more than the client. Each connection sends
//!   the same requests in the same order either way.
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
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use store::ApiExt as _;

use chrono::NaiveDate;
use licfile::YearMonth;
use rustix::buffer::spare_capacity;
use rustix::event::epoll;
use store::client::Remote;
use store::protocol::{Frame, Request, Response, VERSION};
use store::usage::{UsageKind, UsageOutcome};
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
    driver: Driver,
    /// `--rate N`: requests a second in all, paced (threads driver only);
    /// none: each connection sends its next request when the last is answered.
    rate: Option<f64>,
    /// `--tls ADDR,CERT,KEY,CA`: every connection over mutual TLS to `serve --listen`.
    tls: Option<(String, store::tls::ClientFiles)>,
}

/// Where connections go: the socket, or the TLS listener when `--tls` says so.
static TLS: std::sync::OnceLock<Option<(String, store::tls::ClientFiles)>> =
    std::sync::OnceLock::new();

/// A connection of the event-loop driver: the socket, or TLS spoken in the
/// driver's own thread (`store::tls::connect_stream`), as a product on
/// another host would, with no relay thread between.
enum Link {
    Unix(UnixStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>>),
}

impl Link {
    fn set_nonblocking(&self) -> std::io::Result<()> {
        match self {
            Link::Unix(s) => s.set_nonblocking(true),
            Link::Tls(t) => t.sock.set_nonblocking(true),
        }
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        match self {
            Link::Unix(s) => s.set_read_timeout(timeout),
            Link::Tls(t) => t.sock.set_read_timeout(timeout),
        }
    }
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Link::Unix(s) => s.read(buf),
            Link::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Link::Unix(s) => s.write(buf),
            Link::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Link::Unix(s) => s.flush(),
            Link::Tls(t) => t.flush(),
        }
    }
}

impl std::os::fd::AsFd for Link {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Link::Unix(s) => s.as_fd(),
            Link::Tls(t) => t.sock.as_fd(),
        }
    }
}

/// A connection to the service: the socket's, or a TLS stream to its
/// `--listen` address.
fn open_stream(socket: &Path) -> Result<Link, String> {
    match TLS.get().and_then(Option::as_ref) {
        Some((addr, files)) => store::tls::connect_stream(addr, files)
            .map(|t| Link::Tls(Box::new(t)))
            .map_err(|e| e.to_string()),
        None => UnixStream::connect(socket)
            .map(Link::Unix)
            .map_err(|e| e.to_string()),
    }
}

/// A client: on the socket, or over TLS spoken in the client's own thread
/// (as a product on another host would), with no relay thread between.
fn remote(socket: &Path) -> store::Result<Remote> {
    match TLS.get().and_then(Option::as_ref) {
        Some((addr, files)) => store::tls::connect_remote(addr, files),
        None => Remote::connect(socket),
    }
}

/// How the connections are driven.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// A thread a connection.
    Threads,
    /// This many threads, each driving its share of the connections with epoll.
    Epoll(usize),
}

const USAGE: &str = "usage: serve_load --socket PATH [--clients 50] [--requests 200000] \
[--check-percent 50] [--days 1] [--users-file FILE] [--seed N] [--acked FILE] \
[--driver epoll|epoll:N|threads] [--tls ADDR,CERT,KEY,CA]
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
        driver: Driver::Threads,
        rate: None,
        tls: None,
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
            "--rate" => args.rate = Some(num(&value)?.max(1) as f64),
            "--acked" => args.acked = Some(PathBuf::from(value)),
            "--verify" => args.verify = Some(PathBuf::from(value)),
            "--tls" => {
                let parts: Vec<&str> = value.split(',').collect();
                let [addr, cert, key, ca] = parts[..] else {
                    return Err("--tls: give ADDR,CERT,KEY,CA".into());
                };
                args.tls = Some((
                    addr.to_string(),
                    store::tls::ClientFiles {
                        cert: PathBuf::from(cert),
                        key: PathBuf::from(key),
                        ca: PathBuf::from(ca),
                    },
                ));
            }
            "--driver" => {
                args.driver = match value.split_once(':') {
                    _ if value == "threads" => Driver::Threads,
                    _ if value == "epoll" => Driver::Epoll(1),
                    Some(("epoll", n)) => Driver::Epoll(num(n)?.max(1) as usize),
                    _ => {
                        return Err(format!(
                            "--driver: {value:?} is not threads, epoll or epoll:N"
                        ));
                    }
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.socket.as_os_str().is_empty() {
        return Err("--socket is required".into());
    }
    if args.rate.is_some() && args.driver != Driver::Threads {
        return Err("--rate paces the threads driver only".into());
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

/// What the clients ask: the same sequence of requests for each connection
/// whichever driver runs it.
struct Plan {
    users: Arc<Vec<String>>,
    check_percent: u64,
    seed: u64,
    span: i64,
    first_day: NaiveDate,
}

impl Plan {
    fn rng(&self, client: usize) -> Rng {
        Rng::new(self.seed.wrapping_add(client as u64 + 1))
    }

    /// The next request of a connection: (user, check or record, day).
    fn next<'a>(&'a self, rng: &mut Rng) -> (&'a str, bool, Option<NaiveDate>) {
        let user = &self.users[rng.below(self.users.len() as u64) as usize];
        let check = rng.below(100) < self.check_percent;
        let day = (self.span > 1)
            .then(|| self.first_day + chrono::Duration::days(rng.below(self.span as u64) as i64));
        (user, check, day)
    }
}

impl Tally {
    fn took(&mut self, start: Instant, kind: u8, epoch: Instant) {
        let us = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        self.latencies.push((us, kind));
        if self.slowest.len() < 3 || us > self.slowest[2].0 {
            self.slowest.push((us, start - epoch, KINDS[kind as usize]));
            self.slowest
                .sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
            self.slowest.truncate(3);
        }
    }
}

/// `--driver threads`: one thread a connection, each with its own `Remote`,
/// as a product with one process a user would.
fn one_client(
    plan: &Plan,
    socket: &Path,
    c: usize,
    n: usize,
    pace: Option<(f64, usize)>,
    barrier: &Barrier,
    epoch: Instant,
) -> Tally {
    let mut t = Tally {
        latencies: Vec::with_capacity(n),
        ..Tally::default()
    };
    let remote = remote(socket);
    barrier.wait();
    let remote = match remote {
        Ok(r) => r,
        Err(e) => {
            t.error(format!("connect: {e}"));
            return t;
        }
    };
    let mut rng = plan.rng(c);
    // Paced: this connection's k-th request is due at t0 + (c + k * clients) / rate.
    let t0 = Instant::now();
    let mut answered = t0;
    for k in 0..n {
        let (user, check, day) = plan.next(&mut rng);
        let start = match pace {
            None => Instant::now(),
            Some((rate, clients)) => {
                let due = t0 + Duration::from_secs_f64((c + k * clients) as f64 / rate);
                let now = Instant::now();
                if now < due {
                    std::thread::sleep(due - now);
                }
                // Late because the answer before came after this request was
                // due: that wait is the service's and counts (no coordinated
                // omission). Late because the sleep overshot: the client's own.
                if answered > due { due } else { Instant::now() }
            }
        };
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
        t.took(start, kind, epoch);
        answered = Instant::now();
    }
    t
}

/// One connection of the event-loop driver.
struct Conn {
    client: usize,
    stream: Link,
    input: Vec<u8>,
    rng: Rng,
    left: usize,
    next_id: u64,
    /// The request in flight: its id, whether a check, the user, and when it was sent.
    sent: Option<(u64, bool, String, Instant)>,
}

/// `--driver epoll[:N]`: N threads (default 1) each drive their share of the
/// connections with epoll, one request in flight on each, sending the next as
/// soon as the answer is read. The latency of a request runs from just before
/// its line is written to just after its answer is read and parsed.
fn event_loop(
    plan: &Plan,
    socket: &Path,
    mine: &[(usize, usize)],
    barrier: &Barrier,
    epoch: Instant,
) -> Tally {
    let mut t = Tally {
        latencies: Vec::with_capacity(mine.iter().map(|m| m.1).sum()),
        ..Tally::default()
    };
    let mut conns = Vec::new();
    let mut failed = Vec::new();
    for &(c, n) in mine {
        match connect_raw(socket) {
            Ok((stream, input)) => conns.push(Conn {
                client: c,
                stream,
                input,
                rng: plan.rng(c),
                left: n,
                next_id: 1,
                sent: None,
            }),
            Err(e) => failed.push(format!("connect: {e}")),
        }
    }
    barrier.wait();
    for e in failed {
        t.error(e);
    }
    let epoll = match epoll::create(epoll::CreateFlags::CLOEXEC) {
        Ok(e) => e,
        Err(e) => {
            t.error(format!("epoll: {e}"));
            return t;
        }
    };
    let mut active = 0usize;
    for (i, conn) in conns.iter_mut().enumerate() {
        if let Err(e) = conn
            .stream
            .set_nonblocking()
            .map_err(|e| e.to_string())
            .and_then(|_| {
                epoll::add(
                    &epoll,
                    &conn.stream,
                    epoll::EventData::new_u64(i as u64),
                    epoll::EventFlags::IN,
                )
                .map_err(|e| e.to_string())
            })
        {
            t.error(format!("client {}: {e}", conn.client));
            conn.left = 0;
            continue;
        }
        if send_next(plan, conn, &mut t) {
            active += 1;
        }
    }
    let mut events: Vec<epoll::Event> = Vec::with_capacity(64);
    let timeout = rustix::event::Timespec {
        tv_sec: 120,
        tv_nsec: 0,
    };
    let mut chunk = vec![0u8; 64 * 1024];
    while active > 0 {
        events.clear();
        match epoll::wait(&epoll, spare_capacity(&mut events), Some(&timeout)) {
            Ok(0) => {
                t.error(format!("no answer for 120 s on {active} connections"));
                return t;
            }
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                t.error(format!("epoll: {e}"));
                return t;
            }
        }
        for e in &events {
            let conn = &mut conns[e.data.u64() as usize];
            let mut closed = false;
            loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => conn.input.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        t.error(format!("client {}: read: {e}", conn.client));
                        closed = true;
                        break;
                    }
                }
            }
            while let Some(nl) = conn.input.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = conn.input.drain(..=nl).collect();
                answered(conn, &line, &mut t, epoch);
                if !send_next(plan, conn, &mut t) {
                    active -= 1;
                }
            }
            if closed && conn.sent.is_some() {
                t.error(format!(
                    "client {}: the service closed the connection",
                    conn.client
                ));
                conn.sent = None;
                conn.left = 0;
                let _ = epoll::delete(&epoll, &conn.stream);
                active -= 1;
            }
        }
    }
    t
}

/// Connects and reads the greeting; returns the stream and anything read past it.
fn connect_raw(socket: &Path) -> Result<(Link, Vec<u8>), String> {
    let mut stream = open_stream(socket)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let mut input = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(nl) = input.iter().position(|b| *b == b'\n') {
            let hello: Vec<u8> = input.drain(..=nl).collect();
            let h: serde_json::Value =
                serde_json::from_slice(&hello).map_err(|e| format!("greeting: {e}"))?;
            if h.get("service").is_none() {
                return Err(format!("refused: {h}"));
            }
            return Ok((stream, input));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("the service closed the connection".into()),
            Ok(n) => input.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Sends the connection's next request, if it has one left.
fn send_next(plan: &Plan, conn: &mut Conn, t: &mut Tally) -> bool {
    if conn.left == 0 {
        return false;
    }
    conn.left -= 1;
    let (user, check, day) = plan.next(&mut conn.rng);
    let id = conn.next_id;
    conn.next_id += 1;
    let request = if check {
        Request::Check { user: user.into() }
    } else {
        Request::RecordUsage {
            user: user.into(),
            kind: UsageKind::Login,
            day,
        }
    };
    let mut line = match serde_json::to_vec(&Frame {
        v: VERSION,
        id,
        request,
    }) {
        Ok(l) => l,
        Err(e) => {
            t.error(format!("encoding a request: {e}"));
            conn.left = 0;
            return false;
        }
    };
    line.push(b'\n');
    let start = Instant::now();
    let mut at = 0;
    while at < line.len() {
        match conn.stream.write(&line[at..]) {
            Ok(n) => at += n,
            // A request line is small and the service reads it at once.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                t.error(format!("client {}: write: {e}", conn.client));
                conn.left = 0;
                return false;
            }
        }
    }
    // A TLS stream may still hold sealed records the socket did not take.
    loop {
        match conn.stream.flush() {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::yield_now(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                t.error(format!("client {}: write: {e}", conn.client));
                conn.left = 0;
                return false;
            }
        }
    }
    conn.sent = Some((id, check, user.to_string(), start));
    true
}

/// Takes the answer to the request in flight.
fn answered(conn: &mut Conn, line: &[u8], t: &mut Tally, epoch: Instant) {
    let Some((id, check, user, start)) = conn.sent.take() else {
        t.error(format!("client {}: an answer to nothing", conn.client));
        return;
    };
    let response: Response = match serde_json::from_slice(line) {
        Ok(r) => r,
        Err(e) => {
            t.error(format!("client {}: not a response: {e}", conn.client));
            return;
        }
    };
    let what = if check { "check" } else { "record_usage" };
    let mut kind = u8::from(!check);
    if response.id != id {
        t.error(format!(
            "{what} {user}: answer {} to request {id}",
            response.id
        ));
    } else if !response.ok {
        let message = response.error.map(|e| e.message).unwrap_or_default();
        t.error(format!("{what} {user}: {message}"));
    } else if check {
        t.checks += 1;
    } else {
        match serde_json::from_value::<UsageOutcome>(response.result.unwrap_or_default()) {
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
    t.took(start, kind, epoch);
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
    let _ = TLS.set(args.tls.clone());
    let admin = remote(&args.socket).map_err(|e| format!("connect: {e}"))?;
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
    // The reports' charges before (None when the reports cannot be made). A
    // report of the month under way would close that month to further usage
    // (a day in a reported month is never charged), so the recount is made
    // only when the load touches past months alone.
    let before = if months.contains(&YearMonth::of(today)) {
        eprintln!(
            "serve_load: no exact recount from the usage reports: a report of {} would close the month under way",
            YearMonth::of(today)
        );
        None
    } else {
        match reported(&admin, &months) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("serve_load: no exact recount from the usage reports: {e}");
                None
            }
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
    let plan = Arc::new(Plan {
        users: users.clone(),
        check_percent: args.check_percent,
        seed: args.seed,
        span,
        first_day,
    });
    let share =
        |c: usize| args.requests / args.clients + usize::from(c < args.requests % args.clients);
    let epoch = Instant::now();
    let mut handles = Vec::new();
    let barrier = match args.driver {
        Driver::Threads => {
            let barrier = Arc::new(Barrier::new(args.clients + 1));
            for c in 0..args.clients {
                let (plan, barrier, socket) = (plan.clone(), barrier.clone(), args.socket.clone());
                let n = share(c);
                let pace = args.rate.map(|r| (r, args.clients));
                handles.push(std::thread::spawn(move || {
                    one_client(&plan, &socket, c, n, pace, &barrier, epoch)
                }));
            }
            barrier
        }
        Driver::Epoll(threads) => {
            let threads = threads.clamp(1, args.clients);
            let barrier = Arc::new(Barrier::new(threads + 1));
            for d in 0..threads {
                let mine: Vec<(usize, usize)> = (0..args.clients)
                    .filter(|c| c % threads == d)
                    .map(|c| (c, share(c)))
                    .collect();
                let (plan, barrier, socket) = (plan.clone(), barrier.clone(), args.socket.clone());
                handles.push(std::thread::spawn(move || {
                    event_loop(&plan, &socket, &mine, &barrier, epoch)
                }));
            }
            barrier
        }
    };
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
