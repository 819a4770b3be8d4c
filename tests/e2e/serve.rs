//! `tessera serve`: one process owns the store and answers on a Unix socket.
//!
//! Each test makes a demo store, starts `tessera --store st serve --tick-every 1`
//! as a child process and talks to it through the CLI, through
//! `store::client::Remote` and through raw sockets: commands go through the
//! service; many clients at once lose nothing (the counters equal a recount and
//! every acknowledged write is there); a client killed mid-request, garbage,
//! oversized frames and a reader that never reads hold up only themselves; a uid
//! with no login name is refused; subscribers are pushed new events, and the
//! ones they missed; SIGTERM and SIGINT stop it cleanly; after SIGKILL and a
//! restart everything acknowledged is there.
//!
//! Some cases need a second process speaking the protocol (to kill it
//! mid-request, or to run it under another uid): such a test runs this test
//! binary again, filtered to itself, with `TESSERA_E2E_HELPER` set, and in that
//! process it is the client instead, see [`helper_process`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use store::ApiExt as _;

use chrono::NaiveDate;
use licfile::YearMonth;
use serde_json::Value;
use store::client::Remote;
use store::usage::UsageKind;
use store::views::UserQuery;
use store::{NewUser, Store, StoreError, SystemClock, UserState};

use crate::util::{Dir, STORE, stderr, stdout};

/// The metered service the tests count.
const METERED: &str = "emails-sent";

/// How long the service may take to answer after it starts.
const START_LIMIT: Duration = Duration::from_secs(20);

/// A running `tessera serve`, killed if a test panics before stopping it.
pub(crate) struct Service {
    child: Option<Child>,
    socket: PathBuf,
    log: PathBuf,
}

impl Service {
    /// Starts `tessera --store st serve --tick-every 1` in `dir` on the default socket.
    pub(crate) fn start(dir: &Dir) -> Service {
        Service::start_on(dir, None)
    }

    /// Starts the service with more arguments to `serve` on the default socket.
    pub(crate) fn start_with_args(dir: &Dir, extra: &[&str]) -> Service {
        Service::start_with(dir, None, extra)
    }

    /// Starts the service on `socket` and waits until it answers.
    pub(crate) fn start_on_socket(dir: &Dir, socket: &Path) -> Service {
        Service::start_with(dir, Some(socket), &[])
    }

    /// Starts the service, on `socket` if given, and waits until it answers.
    fn start_on(dir: &Dir, socket: Option<&Path>) -> Service {
        Service::start_with(dir, socket, &[])
    }

    /// [`Service::start_on`] with more arguments to `serve`.
    fn start_with(dir: &Dir, socket: Option<&Path>, extra: &[&str]) -> Service {
        let log = dir.path("serve.log");
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("serve log");
        let mut args: Vec<String> = vec!["serve".into(), "--tick-every".into(), "1".into()];
        if let Some(s) = socket {
            args.push("--socket".into());
            args.push(s.to_str().expect("utf-8 path").into());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = dir
            .st_process(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn tessera serve");
        let mut service = Service {
            child: Some(child),
            socket: socket
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.path(STORE).join("tessera.sock")),
            log,
        };
        let start = Instant::now();
        loop {
            if let Some(status) = service.child_mut().try_wait().expect("try_wait") {
                panic!(
                    "tessera serve exited before answering ({status}): {}",
                    service.log_text()
                );
            }
            if service.socket.exists() && Remote::connect(&service.socket).is_ok() {
                return service;
            }
            assert!(
                start.elapsed() < START_LIMIT,
                "tessera serve did not answer within {START_LIMIT:?}: {}",
                service.log_text()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("the service is running")
    }

    /// The service's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("the service is running").id()
    }

    /// A new client connection.
    pub(crate) fn remote(&self) -> Remote {
        Remote::connect(&self.socket)
            .unwrap_or_else(|e| panic!("cannot connect: {e}; log: {}", self.log_text()))
    }

    /// What the service wrote to standard error (across restarts in the same directory).
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (TERM, INT) and waits up to `limit` for the service to exit.
    pub(crate) fn signal_and_wait(&mut self, signal: &str, limit: Duration) -> ExitStatus {
        let pid = self.pid().to_string();
        // The shell's kill: procps (/usr/bin/kill) is not on every machine.
        let ok = std::process::Command::new("sh")
            .args(["-c", &format!("kill -s {signal} {pid}")])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -s {signal} {pid} failed");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child_mut().try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child_mut().kill();
                let _ = self.child_mut().wait();
                self.child = None;
                panic!(
                    "tessera serve did not exit within {limit:?} of SIG{signal}: {}",
                    self.log_text()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the service gets no chance to do anything.
    pub(crate) fn kill(&mut self) {
        let mut child = self.child.take().expect("the service is running");
        child.kill().expect("SIGKILL the service");
        child.wait().expect("reap the service");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A demo store with 40 users (and the login user as Owner/manager).
fn demo() -> Dir {
    let dir = Dir::new();
    dir.st(&["demo", "--users", "40"]).assert().success();
    dir
}

/// Opens the store directly in this process (only while no service runs), runs
/// `f` on it and closes it again.
///
/// sled lets go of its file lock from a background thread a moment after the
/// store is dropped (spacejam/sled#1234): wait for that, so that the next
/// process to open the store is not turned away.
fn direct<R>(dir: &Dir, f: impl FnOnce(&Store) -> R) -> R {
    let store =
        Store::open(&dir.path(STORE), Arc::new(SystemClock)).expect("open the store directly");
    let out = f(&store);
    drop(store);
    let file = std::fs::File::open(dir.path(STORE).join("db/db")).expect("sled's file");
    let start = Instant::now();
    while file.try_lock().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sled still holds its lock"
        );
        thread::sleep(Duration::from_millis(5));
    }
    out
}

/// What a test compares with afterwards, read directly before the service starts.
struct Before {
    today: NaiveDate,
    month: YearMonth,
    /// The month's [`METERED`] total.
    metered: u64,
    /// The charged user-days from today on ([`Before::last_day`]).
    charges: BTreeSet<(String, NaiveDate)>,
}

impl Before {
    fn read(dir: &Dir) -> Before {
        direct(dir, |store| {
            let today = store.today().expect("today");
            let month = YearMonth::of(today);
            Before {
                today,
                month,
                metered: store.metered_used(month, METERED).expect("metered"),
                charges: charges(store, today, today + chrono::Duration::days(400)),
            }
        })
    }

    fn last_day(&self) -> NaiveDate {
        self.today + chrono::Duration::days(400)
    }
}

/// Every charged (user, day) of the months `from..=to`.
fn charges(store: &Store, from: NaiveDate, to: NaiveDate) -> BTreeSet<(String, NaiveDate)> {
    let mut out = BTreeSet::new();
    let mut month = YearMonth::of(from);
    while month <= YearMonth::of(to) {
        for (user, _, days) in store.daily_charges(month).expect("daily charges") {
            out.extend(days.into_iter().map(|d| (user.clone(), d)));
        }
        month = YearMonth::of(month.last_day().succ_opt().expect("next month"));
    }
    out
}

/// The active daily-seat users of the demo store.
fn daily_users(remote: &Remote) -> Vec<String> {
    let page = remote
        .users_page(&UserQuery {
            term: Some(licfile::Term::Daily),
            limit: 1000,
            ..UserQuery::default()
        })
        .expect("daily users");
    let names: Vec<String> = page
        .users
        .into_iter()
        .filter(|u| u.state == "active")
        .map(|u| u.name)
        .collect();
    assert!(
        names.len() >= 2,
        "the demo store has daily users: {names:?}"
    );
    names
}

/// A raw connection that has read the service's greeting.
struct Raw {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Raw {
    fn connect(socket: &Path) -> Raw {
        let stream = UnixStream::connect(socket).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        let writer = stream.try_clone().expect("clone");
        let mut raw = Raw {
            reader: BufReader::new(stream),
            writer,
        };
        let hello = raw.line().expect("a greeting");
        assert_eq!(hello["service"], "tessera", "{hello}");
        assert_eq!(hello["protocol"], 1, "{hello}");
        raw
    }

    /// The next line as JSON; None at the end of the stream (or a reset).
    fn line(&mut self) -> Option<Value> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("the service sent a line that is not JSON ({e}): {line}")
            })),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => None,
            Err(e) => panic!("reading from the service: {e}"),
        }
    }

    /// Sends `bytes` and returns the response.
    fn ask(&mut self, bytes: &[u8]) -> Value {
        self.writer.write_all(bytes).expect("send");
        self.line().expect("a response")
    }
}

/// Asserts `r` is a `bad_request` error for request `id`.
fn assert_bad_request(r: &Value, id: u64, what: &str) {
    assert_eq!(r["ok"], false, "{what}: {r}");
    assert_eq!(r["id"], id, "{what}: {r}");
    assert_eq!(r["error"]["kind"], "bad_request", "{what}: {r}");
    assert!(
        !r["error"]["message"].as_str().unwrap_or("").is_empty(),
        "{what}: no message: {r}"
    );
}

// ---------------------------------------------------------------------------
// A second process speaking the protocol: this test binary, run again.

/// The variable that makes a test of this binary the client another test needs.
const HELPER_MODE: &str = "TESSERA_E2E_HELPER";
/// The socket that client talks to.
const HELPER_SOCKET: &str = "TESSERA_E2E_SOCKET";
/// The request lines an `ask` helper sends.
const HELPER_REQUESTS: &str = "TESSERA_E2E_REQUESTS";

/// This test binary run again as the client process that `test` (its full name,
/// `serve::…`) needs, in `mode`, talking to `socket`: only `test` runs, and it
/// begins with [`as_helper`], which makes it that client instead of the test.
/// No test is there only to be a helper, so none passes without testing; a
/// wrong name runs no test, and the caller then misses the helper's output.
fn helper_process(test: &str, mode: &str, socket: &Path) -> std::process::Command {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(helper_args(test))
        .env(HELPER_MODE, mode)
        .env(HELPER_SOCKET, socket)
        .stdin(Stdio::null());
    cmd
}

/// The arguments that run `test` alone, its output uncaptured.
fn helper_args(test: &str) -> [&str; 4] {
    ["--exact", test, "--nocapture", "--test-threads=1"]
}

/// Whether this process was started by [`helper_process`]; if so, it has been
/// the client it was asked for, and the test that called this returns at once.
///
/// - `half-frame`: connects, writes the first 100 KiB of a request (no end of
///   line), says `HELPER ready` and waits to be killed.
/// - `first-line`: connects, prints the first line the service sends as
///   `HELPER line …`, then `HELPER eof` if the service then closes the connection.
/// - `ask`: sends the request lines of `TESSERA_E2E_REQUESTS` one by one and
///   prints each answer's id and `ok` or error code.
fn as_helper() -> bool {
    let Ok(mode) = std::env::var(HELPER_MODE) else {
        return false;
    };
    let socket = PathBuf::from(std::env::var(HELPER_SOCKET).expect(HELPER_SOCKET));
    let stream = UnixStream::connect(&socket).expect("helper: connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("helper: timeout");
    let mut writer = stream.try_clone().expect("helper: clone");
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).expect("helper: first line");
    let mut out = std::io::stdout().lock();
    match mode.as_str() {
        "half-frame" => {
            let name = "h".repeat(100 * 1024);
            let partial = format!(
                r#"{{"v":1,"id":1,"op":"add_user","args":{{"role":"engineer","name":"half.written{name}"#
            );
            writer.write_all(partial.as_bytes()).expect("helper: write");
            writeln!(out, "HELPER ready").expect("helper: stdout");
            out.flush().expect("helper: flush");
            thread::sleep(Duration::from_secs(120));
        }
        "first-line" => {
            writeln!(out, "HELPER line {}", first.trim_end()).expect("helper: stdout");
            let mut rest = Vec::new();
            match reader.read_to_end(&mut rest) {
                Ok(_) if rest.is_empty() => writeln!(out, "HELPER eof"),
                Ok(_) => writeln!(out, "HELPER more {}", String::from_utf8_lossy(&rest)),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    writeln!(out, "HELPER eof")
                }
                Err(e) => writeln!(out, "HELPER error {e}"),
            }
            .expect("helper: stdout");
        }
        "ask" => {
            // One request a line from TESSERA_E2E_REQUESTS; each answer as
            // `HELPER answer ID ok` or `HELPER answer ID CODE`.
            let requests = std::env::var(HELPER_REQUESTS).expect(HELPER_REQUESTS);
            for line in requests.lines() {
                writer.write_all(line.as_bytes()).expect("helper: write");
                writer.write_all(b"\n").expect("helper: write");
                let answer = loop {
                    let mut text = String::new();
                    reader.read_line(&mut text).expect("helper: answer");
                    let v: Value = serde_json::from_str(&text).expect("helper: JSON");
                    // Events pushed to a subscription carry no id.
                    if v.get("id").is_some() {
                        break v;
                    }
                };
                let code = if answer["ok"] == true {
                    "ok".to_string()
                } else {
                    answer["error"]["code"]
                        .as_str()
                        .unwrap_or("none")
                        .to_string()
                };
                writeln!(out, "HELPER answer {} {code}", answer["id"]).expect("helper: stdout");
            }
        }
        other => panic!("unknown helper mode {other}"),
    }
    true
}

/// The `HELPER …` lines a helper printed.
fn helper_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.find("HELPER ").map(|i| l[i + 7..].to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// (a) The CLI goes through the service.

#[test]
fn commands_go_through_the_service_as_the_login_user() {
    let dir = demo();
    let mut service = Service::start(&dir);
    let me = store::identity::login_name();

    // The service holds the store: nobody else can open it.
    match Store::open(&dir.path(STORE), Arc::new(SystemClock)) {
        Err(StoreError::Busy { holder, .. }) => {
            assert!(holder.command.contains("serve"), "{holder:?}")
        }
        other => panic!("a direct open while the service runs must be refused: {other:?}"),
    }
    assert_eq!(service.remote().hello().user, me);
    // Every command connects anew: the service greets a new client at once.
    let mut greet: Vec<Duration> = (0..31)
        .map(|_| {
            let t = Instant::now();
            drop(service.remote());
            t.elapsed()
        })
        .collect();
    greet.sort();
    assert!(
        greet[15] < Duration::from_millis(5),
        "connecting takes {:?} (median): new clients wait to be accepted",
        greet[15]
    );

    let out = dir
        .st(&[
            "users",
            "add",
            "via.service",
            "--role",
            "engineer",
            "--licence",
            "Jobs User",
            "--term",
            "contracted",
        ])
        .output()
        .expect("run users add");
    assert!(
        out.status.success(),
        "users add through the service: {}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("via.service"), "{}", stdout(&out));

    for args in [
        &["check", "via.service"][..],
        &["status", "--json"],
        &["users", "list", "--search", "via.service"],
        &["usage", "metered", METERED, "--count", "3"],
    ] {
        let out = dir.st(args).output().expect("run tessera");
        assert!(
            out.status.success(),
            "tessera {args:?} through the service: {}",
            stderr(&out)
        );
    }
    // A refusal through the service is still exit 1 with the store's message.
    let out = dir
        .st(&["users", "add", "via.service", "--role", "engineer"])
        .output()
        .expect("run users add");
    crate::util::assert_refused(&out, &["via.service", "taken"]);

    let events = dir.st_json(&["audit", "--json", "--limit", "10"]);
    let added = events
        .as_array()
        .expect("events")
        .iter()
        .find(|e| {
            e["event"] == "User added"
                && e["message"].as_str().unwrap_or("").contains("via.service")
        })
        .unwrap_or_else(|| panic!("no User added event for via.service: {events}"));
    assert_eq!(added["activated_by"], me.as_str(), "{added}");

    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", service.log_text());
    // Directly now: the user is there.
    let user = dir.st_json(&["users", "list", "--json", "--search", "via.service"]);
    assert_eq!(user["users"][0]["name"], "via.service", "{user}");
}

// ---------------------------------------------------------------------------
// (b) Many clients at once: nothing lost.

/// What the writers were told.
#[derive(Default)]
struct Acked {
    /// (user, day, charged) of every acknowledged `record_usage`.
    usage: Vec<(String, NaiveDate, bool)>,
    /// The sum of every acknowledged `record_metered` count.
    metered: u64,
    /// Every acknowledged `add_user`, and whether it was then deactivated.
    users: Vec<(String, bool)>,
}

/// Runs the product's and an administrator's writes on their own connections
/// until `stop` or the first error; returns what was acknowledged and the
/// first error, if any. Daily usage goes to distinct future days per thread
/// (at most 95 of them).
fn writers(
    socket: &Path,
    daily: &[String],
    today: NaiveDate,
    rounds: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<(Acked, Option<String>)>> {
    let mut handles = Vec::new();
    // Three product connections recording daily usage, each on its own days.
    for t in 0..3i64 {
        let (socket, daily, stop) = (socket.to_path_buf(), daily.to_vec(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut acked = Acked::default();
            let remote = match Remote::connect(&socket) {
                Ok(r) => r,
                Err(e) => return (acked, Some(format!("connect: {e}"))),
            };
            for i in 0..rounds as i64 {
                // Diary events booked ahead, each writer on its own 30 days;
                // past 30 rounds the days come round again (repeats, not
                // charges): a booking lies at most 92 days ahead.
                let day = today + chrono::Duration::days(1 + t * 30 + i % 30);
                for user in &daily {
                    if stop.load(Ordering::Relaxed) {
                        return (acked, None);
                    }
                    match remote.record_usage(user, UsageKind::DiaryBooked, Some(day)) {
                        Ok(o) => acked.usage.push((o.user, o.day, o.charged)),
                        Err(e) => return (acked, Some(format!("record_usage: {e}"))),
                    }
                }
                // The product reports the same day again: no second charge.
                match remote.record_usage(&daily[0], UsageKind::DiaryBooked, Some(day)) {
                    Ok(o) if o.charged => {
                        return (acked, Some(format!("charged twice for {day}: {o:?}")));
                    }
                    Ok(o) => acked.usage.push((o.user, o.day, o.charged)),
                    Err(e) => return (acked, Some(format!("record_usage again: {e}"))),
                }
            }
            (acked, None)
        }));
    }
    // One product connection counting a metered service.
    {
        let (socket, stop) = (socket.to_path_buf(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut acked = Acked::default();
            let remote = match Remote::connect(&socket) {
                Ok(r) => r,
                Err(e) => return (acked, Some(format!("connect: {e}"))),
            };
            let mut last = 0;
            for i in 0..rounds as u64 * 2 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let count = 1 + i % 7;
                match remote.record_metered(METERED, count) {
                    Ok(total) if total < last + count => {
                        return (
                            acked,
                            Some(format!(
                                "the total went from {last} to {total} after +{count}"
                            )),
                        );
                    }
                    Ok(total) => {
                        last = total;
                        acked.metered += count;
                    }
                    Err(e) => return (acked, Some(format!("record_metered: {e}"))),
                }
            }
            (acked, None)
        }));
    }
    // An administrator adding users (seats are short: some are over-allocated)
    // and deactivating every third one again.
    {
        let (socket, stop) = (socket.to_path_buf(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut acked = Acked::default();
            let remote = match Remote::connect(&socket) {
                Ok(r) => r,
                Err(e) => return (acked, Some(format!("connect: {e}"))),
            };
            for i in 0..rounds / 2 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let name = format!("conc.{i:03}");
                let term = ["contracted", "monthly", "daily"][i % 3];
                let new = NewUser {
                    name: name.clone(),
                    role: "engineer".into(),
                    licence: Some("Jobs User".into()),
                    term: Some(term.into()),
                    email: None,
                };
                if let Err(e) = remote.add_user(&new) {
                    return (acked, Some(format!("add_user {name}: {e}")));
                }
                acked.users.push((name.clone(), false));
                if i % 3 == 2 {
                    if let Err(e) = remote.deactivate(&name) {
                        return (acked, Some(format!("deactivate {name}: {e}")));
                    }
                    if let Some(last) = acked.users.last_mut() {
                        last.1 = true;
                    }
                }
            }
            (acked, None)
        }));
    }
    handles
}

/// A console's worth of reads on its own connection until `stop`; returns how
/// many were answered, or the first error.
fn reader(
    socket: &Path,
    users: Vec<String>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<Result<u64, String>> {
    let socket = socket.to_path_buf();
    thread::spawn(move || {
        let remote = Remote::connect(&socket).map_err(|e| format!("connect: {e}"))?;
        let mut n = 0u64;
        let mut after: Option<String> = None;
        while !stop.load(Ordering::Relaxed) {
            let status = remote.status().map_err(|e| format!("status: {e}"))?;
            if status.users.total == 0 {
                return Err("status shows no users".into());
            }
            let page = remote
                .users_page(&UserQuery {
                    after: after.clone(),
                    limit: 10,
                    ..UserQuery::default()
                })
                .map_err(|e| format!("users_page: {e}"))?;
            after = page.next;
            let user = &users[n as usize % users.len()];
            let check = remote
                .check(user)
                .map_err(|e| format!("check {user}: {e}"))?;
            if check.user != *user {
                return Err(format!("check {user} answered for {}", check.user));
            }
            remote
                .events(20, None)
                .map_err(|e| format!("events: {e}"))?;
            n += 4;
        }
        Ok(n)
    })
}

#[test]
fn many_clients_at_once_lose_nothing() {
    let dir = demo();
    let before = Before::read(&dir);
    let today = before.today;

    let mut service = Service::start(&dir);
    let remote = service.remote();
    let daily = daily_users(&remote);
    let everyone: Vec<String> = remote
        .users_page(&UserQuery {
            limit: 1000,
            ..UserQuery::default()
        })
        .expect("users")
        .users
        .into_iter()
        .map(|u| u.name)
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let writing = writers(&service.socket, &daily, today, 40, &stop);
    let reading: Vec<_> = (0..2)
        .map(|_| reader(&service.socket, everyone.clone(), stop.clone()))
        .collect();
    // An administrator's commands at the same time, each its own process.
    let cli = {
        let cmds: Vec<std::process::Command> = (0..4)
            .flat_map(|i| {
                [
                    dir.st_process(&["check", &everyone[i]]),
                    dir.st_process(&["status", "--json"]),
                ]
            })
            .collect();
        thread::spawn(move || {
            for mut c in cmds {
                let out = c.output().expect("run tessera");
                // `check` says no with exit 1 (some demo users are inactive).
                if !matches!(out.status.code(), Some(0 | 1)) || out.stdout.is_empty() {
                    return Err(format!("{c:?}: {}", stderr(&out)));
                }
            }
            Ok(())
        })
    };

    let mut acked = Acked::default();
    for h in writing {
        let (a, err) = h.join().expect("a writer panicked");
        assert!(
            err.is_none(),
            "a writer failed: {err:?}\n{}",
            service.log_text()
        );
        acked.usage.extend(a.usage);
        acked.metered += a.metered;
        acked.users.extend(a.users);
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for h in reading {
        reads += h
            .join()
            .expect("a reader panicked")
            .unwrap_or_else(|e| panic!("a reader failed: {e}\n{}", service.log_text()));
    }
    cli.join()
        .expect("the CLI thread panicked")
        .unwrap_or_else(|e| panic!("a command failed: {e}"));
    assert!(reads > 0, "the readers were never answered");
    eprintln!(
        "serve: {} usage records, {} metered, {} users added, {reads} reads in {elapsed:?}",
        acked.usage.len(),
        acked.metered,
        acked.users.len()
    );

    // The counters equal a recount, and the chain is intact.
    let report = remote.audit_verify().expect("audit verify");
    assert!(report.ok(), "audit verify: {:?}", report.problems);
    // Every added user is there, in the state last acknowledged.
    for (name, deactivated) in &acked.users {
        let user = remote
            .user(name)
            .expect("user")
            .unwrap_or_else(|| panic!("{name} was acknowledged but is missing"));
        let want = if *deactivated {
            UserState::Inactive
        } else {
            UserState::Active
        };
        assert_eq!(user.state, want, "{name}");
    }
    drop(remote);

    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", service.log_text());

    // Directly: the metered total is the sum of what was acknowledged, and the
    // new charges are exactly the records acknowledged as charged.
    let (metered, after, report) = direct(&dir, |store| {
        (
            store.metered_used(before.month, METERED).expect("metered"),
            charges(store, today, before.last_day()),
            store.audit_verify().expect("audit"),
        )
    });
    assert_eq!(
        metered,
        before.metered + acked.metered,
        "{METERED}: acknowledged +{} on {}",
        acked.metered,
        before.metered
    );
    let charged: BTreeSet<(String, NaiveDate)> = acked
        .usage
        .iter()
        .filter(|(_, _, c)| *c)
        .map(|(u, d, _)| (u.clone(), *d))
        .collect();
    assert_eq!(
        charged.len(),
        acked.usage.iter().filter(|(_, _, c)| *c).count(),
        "a user-day was charged twice"
    );
    let new: BTreeSet<_> = after.difference(&before.charges).cloned().collect();
    assert_eq!(
        new, charged,
        "the new charges are not the acknowledged ones"
    );
    assert!(report.ok(), "{:?}", report.problems);
}

// ---------------------------------------------------------------------------
// (c) A client killed mid-request.

#[test]
fn a_client_killed_mid_request_holds_up_nobody() {
    if as_helper() {
        return;
    }
    let dir = demo();
    let service = Service::start(&dir);
    let other = service.remote();
    other.status().expect("status before");

    // A process that wrote half a request (100 KiB of it) is killed.
    let mut half = helper_process(
        "serve::a_client_killed_mid_request_holds_up_nobody",
        "half-frame",
        &service.socket,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn the helper");
    let mut lines = BufReader::new(half.stdout.take().expect("helper stdout")).lines();
    let ready = lines.find(|l| {
        l.as_ref()
            .map(|l| l.contains("HELPER ready"))
            .unwrap_or(true)
    });
    assert!(
        matches!(ready, Some(Ok(_))),
        "the helper did not get to write half a request: {ready:?}"
    );
    // While it waits half-written, others are served.
    other
        .check("alice.morgan")
        .expect("check while a request is half-written");
    half.kill().expect("SIGKILL the helper");
    half.wait().expect("reap the helper");
    other.status().expect("status after the kill");
    assert!(
        other
            .users_page(&UserQuery {
                search: Some("half.written".into()),
                limit: 10,
                ..UserQuery::default()
            })
            .expect("search")
            .users
            .is_empty(),
        "half a request must not add a user"
    );

    // `users add` processes killed at different moments: each change happened
    // completely (the user and its event) or not at all.
    for i in 0..12u64 {
        let mut child = dir
            .st_process(&[
                "users",
                "add",
                &format!("killed.{i:02}"),
                "--role",
                "engineer",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn users add");
        thread::sleep(Duration::from_millis(i * 3));
        let _ = child.kill();
        let _ = child.wait();
    }
    let fresh = service.remote();
    fresh.status().expect("a new client is served");
    let events = fresh.events(10_000, None).expect("events");
    for i in 0..12u64 {
        let name = format!("killed.{i:02}");
        let exists = fresh.user(&name).expect("user").is_some();
        let logged = events
            .iter()
            .filter(|e| e.name == "User added" && e.message.starts_with(&format!("{name} ")))
            .count();
        assert_eq!(
            logged,
            usize::from(exists),
            "{name}: exists {exists} but {logged} User added events"
        );
    }
    let report = fresh.audit_verify().expect("audit verify");
    assert!(report.ok(), "{:?}", report.problems);
    // The connection that was there all along still works.
    other.check("alice.morgan").expect("check at the end");
}

// ---------------------------------------------------------------------------
// (d) Garbage, oversized frames and a reader that never reads.

#[test]
fn garbage_gets_bad_request_and_the_connection_stays_usable() {
    let dir = demo();
    let service = Service::start(&dir);
    let mut raw = Raw::connect(&service.socket);

    let good = |id: u64| {
        format!("{{\"v\":1,\"id\":{id},\"op\":\"check\",\"args\":{{\"user\":\"alice.morgan\"}}}}\n")
    };
    let cases: [(&[u8], u64, &str); 8] = [
        (b"not json\n", 0, "not JSON"),
        (b"[1,2,3]\n", 0, "a JSON array"),
        (b"\xff\xfe{}\n", 0, "not UTF-8"),
        (b"{\"v\":1,\"id\":4}\n", 4, "no op"),
        (
            b"{\"v\":1,\"id\":5,\"op\":\"no_such_op\"}\n",
            5,
            "an unknown op",
        ),
        (
            b"{\"v\":2,\"id\":6,\"op\":\"status\"}\n",
            6,
            "protocol version 2",
        ),
        (
            b"{\"v\":1,\"id\":7,\"op\":\"check\"}\n",
            7,
            "missing arguments",
        ),
        (
            b"{\"v\":1,\"id\":8,\"op\":\"check\",\"args\":{\"user\":42}}\n",
            8,
            "a wrong argument type",
        ),
    ];
    for (i, (line, id, what)) in cases.iter().enumerate() {
        let r = raw.ask(line);
        assert_bad_request(&r, *id, what);
        // The same connection still answers.
        let id = 100 + i as u64;
        let r = raw.ask(good(id).as_bytes());
        assert_eq!(r["ok"], true, "after {what}: {r}");
        assert_eq!(r["id"], id, "after {what}: {r}");
        assert_eq!(r["result"]["user"], "alice.morgan", "after {what}: {r}");
    }
    let r = raw.ask(b"{\"v\":2,\"id\":9,\"op\":\"status\"}\n");
    assert!(
        r["error"]["message"].as_str().unwrap_or("").contains('1'),
        "the version error says which version is spoken: {r}"
    );
    // Empty lines are skipped; pipelined requests are answered in order.
    raw.writer
        .write_all(format!("\n\n{}{}", good(201), good(202)).as_bytes())
        .expect("send");
    assert_eq!(raw.line().expect("response")["id"], 201);
    assert_eq!(raw.line().expect("response")["id"], 202);
    // A refusal is not a bad request.
    let r = raw.ask(b"{\"v\":1,\"id\":10,\"op\":\"record_usage\",\"args\":{\"user\":\"nobody.here\",\"kind\":\"Login\"}}\n");
    assert_eq!(r["error"]["kind"], "refused", "{r}");
    assert_eq!(r["id"], 10, "{r}");
    // A long line within the limit is read as a request.
    let long = format!(
        "{{\"v\":1,\"id\":11,\"op\":\"record_usage\",\"args\":{{\"kind\":\"Login\",\"user\":\"{}\"}}}}\n",
        "x".repeat(200 * 1024)
    );
    let r = raw.ask(long.as_bytes());
    assert_eq!(r["id"], 11, "a 200 KiB request is a request");
    assert_eq!(r["error"]["kind"], "refused", "{}", &r.to_string()[..200]);
    let r = raw.ask(good(12).as_bytes());
    assert_eq!(r["ok"], true, "{r}");
}

#[test]
fn an_oversized_frame_closes_only_its_connection() {
    let dir = demo();
    let service = Service::start(&dir);
    let other = service.remote();

    let mut big = Raw::connect(&service.socket);
    // 200 KiB of a line: the service waits for the rest, and serves others meanwhile.
    big.writer
        .write_all(&vec![b'a'; 200 * 1024])
        .expect("send 200 KiB");
    let t = Instant::now();
    other.status().expect("served while a big line arrives");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Past 256 KiB with no end of line: an error, then the connection is closed.
    let mut writer = big.writer.try_clone().expect("clone");
    let rest = thread::spawn(move || {
        // The service may close before it has read everything: ignore EPIPE.
        let _ = writer.write_all(&vec![b'a'; 200 * 1024]);
    });
    let r = big.line().expect("an error before the connection closes");
    assert_bad_request(&r, 0, "a line over 256 KiB");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("262144"),
        "the error names the limit: {r}"
    );
    assert!(
        big.line().is_none(),
        "the connection is closed after an oversized line"
    );
    rest.join().expect("writer thread");
    // Others are still served, and new connections too.
    other
        .check("alice.morgan")
        .expect("check after the oversized line");
    service
        .remote()
        .status()
        .expect("a new connection after the oversized line");
}

#[test]
fn a_reader_that_never_reads_blocks_nobody() {
    let dir = demo();
    let service = Service::start(&dir);

    // Pipelines requests and never reads the answers: the service's replies fill
    // the socket, its writes to this client block, then it stops reading from it.
    let slow = UnixStream::connect(&service.socket).expect("connect");
    slow.set_write_timeout(Some(Duration::from_secs(2)))
        .expect("write timeout");
    let mut writer = slow.try_clone().expect("clone");
    let stuffer = thread::spawn(move || {
        let line = b"{\"v\":1,\"id\":1,\"op\":\"status\"}\n";
        let mut sent = 0usize;
        while sent < 100_000 {
            if writer.write_all(line).is_err() {
                return (sent, true);
            }
            sent += 1;
        }
        (sent, false)
    });
    let (sent, blocked) = stuffer.join().expect("stuffer");
    assert!(
        blocked,
        "{sent} requests went out without the service ever blocking on its replies"
    );

    // Now the service is stuck writing to that client; everyone else is served.
    let other = service.remote();
    let mut worst = Duration::ZERO;
    for i in 0..40 {
        let t = Instant::now();
        if i % 2 == 0 {
            other.status().expect("status while a client does not read");
        } else {
            other
                .record_metered(METERED, 1)
                .expect("a write while a client does not read");
        }
        worst = worst.max(t.elapsed());
    }
    assert!(worst < Duration::from_secs(1), "a request took {worst:?}");
    let t = Instant::now();
    service
        .remote()
        .check("alice.morgan")
        .expect("a new client");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    drop(slow);
    other
        .check("alice.morgan")
        .expect("after the slow reader left");
}

/// The pushed events of `remote` for up to `limit`, until `enough` says stop.
fn pushed(
    remote: &Remote,
    limit: Duration,
    enough: impl Fn(&[store::Event]) -> bool,
) -> Vec<store::Event> {
    let start = Instant::now();
    let mut got = Vec::new();
    while start.elapsed() < limit && !enough(&got) {
        if let Some(e) = remote
            .next_event(Duration::from_millis(100))
            .expect("next event")
        {
            got.push(e);
        }
    }
    got
}

#[test]
fn subscribers_are_sent_events_as_they_happen_and_what_they_missed() {
    let dir = demo();
    let service = Service::start(&dir);
    let admin = service.remote();
    let last = admin
        .events(1, None)
        .expect("events")
        .first()
        .map(|e| e.seq)
        .expect("a demo store has events");

    let watcher = service.remote();
    watcher.subscribe(None).expect("subscribe");
    let add = |name: &str| {
        admin
            .add_user(&NewUser {
                name: name.into(),
                role: "engineer".into(),
                licence: None,
                term: None,
                email: None,
            })
            .expect("add a user");
    };
    add("sub.one");
    let is_added = |e: &store::Event, name: &str| {
        e.name == "User added" && e.message.starts_with(&format!("{name} "))
    };
    let got = pushed(&watcher, Duration::from_secs(5), |got| {
        got.iter().any(|e| is_added(e, "sub.one"))
    });
    assert!(
        got.iter().any(|e| is_added(e, "sub.one")),
        "the change was pushed: {got:?}"
    );
    assert!(got.iter().all(|e| e.seq > last), "only new events: {got:?}");
    // The subscribed connection still answers requests.
    assert!(watcher.check("sub.one").expect("check").user == "sub.one");

    // A console that comes back asks for what it missed, then gets what is new.
    let late = service.remote();
    late.subscribe(Some(last)).expect("subscribe after");
    add("sub.two");
    let got = pushed(&late, Duration::from_secs(5), |got| {
        got.iter().any(|e| is_added(e, "sub.two"))
    });
    assert_eq!(got.first().map(|e| e.seq), Some(last + 1), "{got:?}");
    let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, once each: {seqs:?}"
    );
    assert!(got.iter().any(|e| is_added(e, "sub.one")), "{got:?}");
    assert!(got.iter().any(|e| is_added(e, "sub.two")), "{got:?}");
}

/// Whether this process is root, which `test` needs because it `why`. CI
/// runs as root, so there a test that needs it fails rather than skip;
/// elsewhere it skips, said past the harness's capture of test output so
/// that it shows in a plain `cargo test`.
pub(crate) fn as_root(test: &str, why: &str) -> bool {
    let Some(uid) = store::identity::current_uid() else {
        panic!("no uid for this process");
    };
    if uid == 0 {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{test} {why}, which needs root, and CI (CI={:?}) runs as root, but this is uid {uid}",
        std::env::var("CI").unwrap_or_default()
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: it {why}, which needs root (this is uid {uid}); CI runs it as root"
    );
    false
}

// ---------------------------------------------------------------------------
// (e) A uid with no login name is refused.

#[test]
fn an_unknown_uid_is_refused() {
    if as_helper() {
        return;
    }
    if !as_root(
        "serve::an_unknown_uid_is_refused",
        "runs a client under another uid",
    ) {
        return;
    }
    let stranger = (54321..60000)
        .find(|u| store::identity::name_of_uid(*u).is_none())
        .expect("a uid with no passwd entry");
    let dir = demo();
    // The stranger gets group 0 so that it may open the 0660 socket; the
    // directory lets group 0 through to it (the store itself stays 0700).
    std::fs::set_permissions(
        dir.path(""),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .expect("chmod the test directory");
    let socket = dir.path("svc.sock");
    let service = Service::start_on(&dir, Some(&socket));
    let as_stranger = |program: &Path, args: &[&str]| {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.arg(format!("--reuid={stranger}"))
            .arg("--regid=0")
            .arg("--clear-groups")
            .arg(program)
            .args(args)
            .env_remove("TESSERA_STORE")
            .env("NO_COLOR", "1");
        cmd
    };

    // The CLI under that uid: refused with the service's message.
    let tessera = Path::new(env!("CARGO_BIN_EXE_tessera"));
    let out = as_stranger(
        tessera,
        &["--socket", socket.to_str().expect("utf-8"), "status"],
    )
    .output()
    .expect("run setpriv (util-linux)");
    let err = crate::util::assert_refused(&out, &[&stranger.to_string(), "login name"]);
    assert!(!err.contains("Permission denied"), "{err}");

    // A raw client under that uid: one error line naming the uid, then the end.
    let exe = std::env::current_exe().expect("the test binary");
    let out = as_stranger(&exe, &helper_args("serve::an_unknown_uid_is_refused"))
        .env(HELPER_MODE, "first-line")
        .env(HELPER_SOCKET, &socket)
        .output()
        .expect("run the helper under setpriv");
    let lines = helper_lines(&stdout(&out));
    assert_eq!(lines.len(), 2, "{lines:?}; stderr: {}", stderr(&out));
    let first: Value = serde_json::from_str(
        lines[0]
            .strip_prefix("line ")
            .unwrap_or_else(|| panic!("{lines:?}")),
    )
    .expect("the first line is JSON");
    assert_eq!(first["ok"], false, "{first}");
    assert_eq!(first["error"]["kind"], "refused", "{first}");
    assert!(
        first["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&stranger.to_string()),
        "the refusal names the uid: {first}"
    );
    assert_eq!(
        lines[1], "eof",
        "the service closes the connection: {lines:?}"
    );

    // Root is still served, and the log says who was refused.
    service.remote().status().expect("status as root");
    assert!(
        service
            .log_text()
            .contains(&format!("refused uid {stranger}")),
        "{}",
        service.log_text()
    );
}

// ---------------------------------------------------------------------------
// (f) SIGTERM and SIGINT.

#[test]
fn sigterm_finishes_in_flight_requests_syncs_and_exits_0() {
    let dir = demo();
    let before = Before::read(&dir);
    let mut service = Service::start(&dir);

    // One client connected and idle, two keeping the service busy.
    let idle = service.remote();
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let remote = service.remote();
            thread::spawn(move || {
                let mut acked = 0u64;
                loop {
                    match remote.record_metered(METERED, 1) {
                        Ok(_) => acked += 1,
                        Err(e) => return (acked, e.to_string()),
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let status = service.signal_and_wait("TERM", Duration::from_secs(5));
    let took = t.elapsed();
    assert_eq!(status.code(), Some(0), "{}", service.log_text());
    assert!(
        !service.socket.exists(),
        "the socket is removed on the way out"
    );
    let log = service.log_text();
    assert!(log.contains("stopped; the store is synced"), "{log}");
    eprintln!("serve: SIGTERM under load: exited in {took:?}");

    let mut acked = 0;
    for h in busy {
        let (n, err) = h.join().expect("busy client");
        assert!(n > 0, "the busy client was never answered");
        assert!(
            err.contains("closed") || err.contains("Broken pipe") || err.contains("reset"),
            "{err}"
        );
        acked += n;
    }
    assert!(idle.status().is_err(), "the idle client is disconnected");

    // Directly now: everything acknowledged, nothing more.
    let out = dir.st(&["status"]).output().expect("status");
    assert!(
        out.status.success(),
        "direct status after SIGTERM: {}",
        stderr(&out)
    );
    let (metered, report) = direct(&dir, |store| {
        (
            store.metered_used(before.month, METERED).expect("metered"),
            store.audit_verify().expect("audit"),
        )
    });
    assert_eq!(
        metered,
        before.metered + acked,
        "every acknowledged record and no other"
    );
    assert!(report.ok(), "{:?}", report.problems);
}

#[test]
fn sigint_stops_it_cleanly_too() {
    let dir = demo();
    let mut service = Service::start(&dir);
    let idle = service.remote();
    idle.check("alice.morgan").expect("check");
    let status = service.signal_and_wait("INT", Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", service.log_text());
    assert!(
        !service.socket.exists(),
        "the socket is removed on the way out"
    );
    let out = dir.st(&["audit", "verify"]).output().expect("audit verify");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

// ---------------------------------------------------------------------------
// (g) SIGKILL mid-load, then a restart: everything acknowledged is there.

#[test]
fn sigkill_mid_load_then_restart_keeps_everything_acknowledged() {
    let dir = demo();
    let before = Before::read(&dir);
    let today = before.today;

    let mut service = Service::start(&dir);
    let daily = daily_users(&service.remote());
    let stop = Arc::new(AtomicBool::new(false));
    // The writers are still going when the service dies: they stop only at
    // their first error (how many rounds fit in the time depends on the machine).
    let writing = writers(&service.socket, &daily, today, 1_000_000, &stop);
    thread::sleep(Duration::from_millis(700));
    service.kill();

    let mut acked = Acked::default();
    let mut cut_off = 0;
    for h in writing {
        let (a, err) = h.join().expect("a writer panicked");
        cut_off += usize::from(err.is_some());
        acked.usage.extend(a.usage);
        acked.metered += a.metered;
        acked.users.extend(a.users);
    }
    assert!(
        cut_off > 0,
        "the kill came after the writers finished: make them write longer"
    );
    assert!(
        !acked.usage.is_empty() && acked.metered > 0 && !acked.users.is_empty(),
        "every writer had something acknowledged before the kill"
    );
    assert!(service.socket.exists(), "SIGKILL leaves the socket behind");

    // A new service takes over the stale socket.
    let mut service = Service::start(&dir);
    let remote = service.remote();
    let report = remote.audit_verify().expect("audit verify");
    assert!(report.ok(), "after SIGKILL: {:?}", report.problems);
    for (name, deactivated) in &acked.users {
        let user = remote
            .user(name)
            .expect("user")
            .unwrap_or_else(|| panic!("{name} was acknowledged before the kill but is missing"));
        if *deactivated {
            assert_eq!(user.state, UserState::Inactive, "{name}");
        }
    }
    drop(remote);
    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", service.log_text());

    let (metered, after) = direct(&dir, |store| {
        (
            store.metered_used(before.month, METERED).expect("metered"),
            charges(store, today, before.last_day()),
        )
    });
    // At most the one request in flight when the service died was applied unacknowledged.
    assert!(
        metered >= before.metered + acked.metered && metered <= before.metered + acked.metered + 7,
        "{METERED}: {metered}, acknowledged +{} on {}",
        acked.metered,
        before.metered
    );
    let charged: BTreeMap<(String, NaiveDate), ()> = acked
        .usage
        .iter()
        .filter(|(_, _, c)| *c)
        .map(|(u, d, _)| ((u.clone(), *d), ()))
        .collect();
    let lost: Vec<_> = charged.keys().filter(|k| !after.contains(*k)).collect();
    assert!(lost.is_empty(), "acknowledged charges lost: {lost:?}");
    // Every new charge was acknowledged, but for at most one in flight per writer.
    let unacked = after
        .difference(&before.charges)
        .filter(|k| !charged.contains_key(*k))
        .count();
    assert!(unacked <= 3, "{unacked} charges nobody was told of");
    let out = dir.st(&["audit", "verify"]).output().expect("audit verify");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

// ---------------------------------------------------------------------------
// Changes that race: each is decided inside the transaction that writes it.

/// 50 `request seats` at once, each on its own connection: 50 distinct request
/// ids, and pending equal to their sum.
#[test]
fn fifty_purchases_at_once_get_fifty_ids_and_pend_their_sum() {
    let dir = demo();
    let service = Service::start(&dir);
    let pending = |r: &Remote| -> u64 {
        r.status()
            .expect("status")
            .pools
            .iter()
            .map(|p| p.pending)
            .sum()
    };
    let before = pending(&service.remote());
    let ids: Vec<String> = thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let remote = service.remote();
                scope.spawn(move || {
                    remote
                        .request_seats("Jobs User", "monthly", licfile::SeatAction::Add, 3u32, "")
                        .expect("request seats")
                        .request_id
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a buyer"))
            .collect()
    });
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 50, "{ids:?}");
    let remote = service.remote();
    assert_eq!(pending(&remote), before + 150);
    assert!(remote.audit_verify().expect("audit").ok());
}

/// 20 licences of consecutive sequences imported at once, in random order:
/// the newest is in force, and every other import was either applied or
/// refused as older, never applied over a newer one.
#[test]
fn twenty_licences_imported_at_once_leave_the_newest_in_force() {
    let dir = demo();
    let current = direct(&dir, |s| s.vendor_licence().expect("a licence").licence);
    let key = store::trust::demo_secret().expect("the demo key");
    let mut texts: Vec<(u64, String)> = (1..=20)
        .map(|n| {
            let mut l = current.clone();
            l.sequence = current.sequence + n;
            let doc = licfile::Document::Licence(l);
            (n, licfile::signed::sign(&doc, &key, None).expect("sign"))
        })
        .collect();
    // A fixed shuffle, so that a failure can be replayed.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..texts.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        texts.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let service = Service::start(&dir);
    let outcomes: Vec<Result<(), store::Code>> = thread::scope(|scope| {
        let handles: Vec<_> = texts
            .iter()
            .map(|(_, text)| {
                let remote = service.remote();
                scope.spawn(move || {
                    remote
                        .import(text.as_str())
                        .map(|_| ())
                        .map_err(|e| e.code())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an importer"))
            .collect()
    });
    for o in &outcomes {
        assert!(
            matches!(o, Ok(()) | Err(store::Code::SequenceOlder)),
            "{outcomes:?}"
        );
    }
    let remote = service.remote();
    let licences = remote.licences().expect("licences");
    assert_eq!(licences[0].sequence, current.sequence + 20, "{licences:?}");
    assert!(remote.audit_verify().expect("audit").ok());
}

// ---------------------------------------------------------------------------
// Who may do what, over the socket, as real login users.

/// A request of every operation, about the login user `daemon` where it is
/// about a user.
fn every_request(licence: &str, month: YearMonth) -> Vec<store::Request> {
    use store::{Op, Request};
    Op::ALL
        .iter()
        .map(|op| match op {
            Op::Installation => Request::Installation,
            Op::RequireLicenceReader => Request::RequireLicenceReader,
            Op::Status => Request::Status,
            Op::Licences => Request::Licences,
            Op::UsersPage => Request::UsersPage {
                query: UserQuery::default(),
            },
            Op::PrepareUserSearch => Request::PrepareUserSearch,
            Op::User => Request::User {
                name: "daemon".into(),
            },
            Op::UserDetail => Request::UserDetail {
                name: "daemon".into(),
            },
            Op::AddUser => Request::AddUser {
                new: NewUser {
                    name: "newcomer".into(),
                    role: "engineer".into(),
                    ..Default::default()
                },
            },
            Op::SetUser => Request::SetUser {
                name: "newcomer".into(),
                change: store::UserChange {
                    email: Some("n@example.com".into()),
                    ..Default::default()
                },
            },
            Op::Deactivate => Request::Deactivate {
                name: "newcomer".into(),
            },
            Op::Activate => Request::Activate {
                name: "newcomer".into(),
            },
            Op::DeleteUser => Request::DeleteUser {
                name: "newcomer".into(),
            },
            Op::AddOnHolders => Request::AddOnHolders {
                module: "Outlook connector".into(),
            },
            Op::Check => Request::Check {
                user: "daemon".into(),
            },
            Op::Lease => Request::Lease {
                user: "daemon".into(),
            },
            Op::InstallationKey => Request::InstallationKey,
            Op::SetLeaseHours => Request::SetLeaseHours { hours: 6 },
            Op::RecordUsage => Request::RecordUsage {
                user: "daemon".into(),
                kind: UsageKind::Login,
                day: None,
            },
            Op::RecordStorage => Request::RecordStorage { bytes: 1000 },
            Op::RecordMetered => Request::RecordMetered {
                service: METERED.into(),
                count: 1,
            },
            Op::Import => Request::Import {
                licence: licence.into(),
            },
            Op::Tick => Request::Tick,
            Op::RequestClock => Request::RequestClock,
            Op::ImportClock => Request::ImportClock {
                correction: "not a clock correction".into(),
            },
            Op::Events => Request::Events {
                limit: 3,
                before: None,
            },
            Op::Notifications => Request::Notifications {
                query: store::notifications::NotificationQuery {
                    limit: 3,
                    ..Default::default()
                },
            },
            Op::History => Request::History { days: 30 },
            Op::AuditVerify => Request::AuditVerify,
            Op::QuoteSeats => Request::QuoteSeats {
                licence: "Jobs User".into(),
                term: "monthly".into(),
                action: licfile::SeatAction::Add,
                count: 1,
            },
            Op::RequestSeats => Request::RequestSeats {
                licence: "Jobs User".into(),
                term: "monthly".into(),
                action: licfile::SeatAction::Add,
                count: 1,
                note: String::new(),
            },
            Op::QuoteModules => Request::QuoteModules {
                kind: licfile::ModuleKind::AddOn,
                name: "CRM module".into(),
                action: licfile::SeatAction::Add,
                count: 1,
            },
            Op::RequestModules => Request::RequestModules {
                kind: licfile::ModuleKind::AddOn,
                name: "CRM module".into(),
                action: licfile::SeatAction::Add,
                count: 1,
                note: String::new(),
            },
            Op::UsageReport => Request::UsageReport { month },
            Op::Outbox => Request::Outbox,
            Op::ExportContracts => Request::ExportContracts,
            Op::Subscribe => Request::Subscribe { after: None },
            Op::Metrics => Request::Metrics,
        })
        .collect()
}

/// Every operation asked for over the socket by login users of every kind:
/// an engineer (`daemon`), Financial office staff (`bin`), the licensed
/// product (`sys`), a login with no store account (`nobody`), and the
/// Owner/manager (root). Each is refused with `not_permitted` exactly where
/// the one table says, and nowhere else.
#[test]
fn every_operation_over_the_socket_is_authorised_by_the_one_table() {
    if as_helper() {
        return;
    }
    if !as_root(
        "serve::every_operation_over_the_socket_is_authorised_by_the_one_table",
        "runs clients as other login users",
    ) {
        return;
    }
    let dir = demo();
    for (name, role) in [
        ("daemon", "engineer"),
        ("bin", "financial office staff"),
        ("sys", "licensed product"),
    ] {
        dir.st(&["users", "add", name, "--role", role])
            .assert()
            .success();
    }
    let (records, licence) = direct(&dir, |s| {
        let records: BTreeMap<String, Option<store::User>> =
            ["daemon", "bin", "sys", "nobody", "root"]
                .iter()
                .map(|n| (n.to_string(), s.user_named(n).expect("read")))
                .collect();
        let mut l = s.vendor_licence().expect("a licence").licence;
        l.sequence += 1;
        let key = store::trust::demo_secret().expect("the demo key");
        let text = licfile::signed::sign(&licfile::Document::Licence(l), &key, None).expect("sign");
        (records, text)
    });
    std::fs::set_permissions(
        dir.path(""),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .expect("chmod the test directory");
    let socket = dir.path("svc.sock");
    let service = Service::start_on(&dir, Some(&socket));
    let month = YearMonth::of(chrono::Utc::now().date_naive());
    let requests = every_request(&licence, month);
    let lines: String = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let frame = store::protocol::Frame {
                v: 1,
                id: i as u64 + 1,
                request: r.clone(),
            };
            serde_json::to_string(&frame).expect("a frame") + "\n"
        })
        .collect();
    // root last: its changes (a user deleted, a licence imported) then
    // decide no other caller's answer.
    for login in ["daemon", "bin", "sys", "nobody", "root"] {
        let exe = std::env::current_exe().expect("the test binary");
        let out = std::process::Command::new("setpriv")
            .arg(format!(
                "--reuid={}",
                if login == "root" { 0 } else { uid_of(login) }
            ))
            .arg("--regid=0")
            .arg("--clear-groups")
            .arg(&exe)
            .args(helper_args(
                "serve::every_operation_over_the_socket_is_authorised_by_the_one_table",
            ))
            .env(HELPER_MODE, "ask")
            .env(HELPER_SOCKET, &socket)
            .env(HELPER_REQUESTS, &lines)
            .output()
            .expect("run the helper under setpriv");
        let answers = helper_lines(&stdout(&out));
        assert_eq!(
            answers.len(),
            requests.len(),
            "{login}: {answers:?} {}",
            stderr(&out)
        );
        for (request, answer) in requests.iter().zip(&answers) {
            let op = request.op();
            let want = store::rules::permit::decide(
                op.permit(),
                op.action(),
                login,
                records[login].as_ref(),
                request.subject(),
            )
            .is_ok();
            let refused = answer.ends_with(" not_permitted");
            assert_eq!(!refused, want, "{login} {op:?}: {answer}");
        }
    }
    drop(service);
}

/// The uid of a login name, from `/etc/passwd`.
fn uid_of(name: &str) -> u32 {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name)).then(|| f.get(2)?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {name} in /etc/passwd"))
}

/// What one soaking connection had acknowledged: users added, seats bought,
/// user-days charged.
type Soaked = (Vec<String>, u64, BTreeSet<(String, NaiveDate)>);

/// A mixed soak through the service: users added, deactivated and activated
/// again, seats bought and usage recorded, all at once on several
/// connections. Afterwards every acknowledged change is there, pending seats
/// equal the acknowledged purchases, and the audit (hash chain, and seat and
/// user counters against a recount) passes.
#[test]
fn a_mixed_soak_keeps_every_invariant() {
    let dir = demo();
    let service = Service::start(&dir);
    let remote = service.remote();
    let pending_before: u64 = remote
        .status()
        .expect("status")
        .pools
        .iter()
        .map(|p| p.pending)
        .sum();
    let daily = daily_users(&remote);
    let today = chrono::Utc::now().date_naive();
    let results: Vec<Soaked> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4u32)
            .map(|t| {
                let remote = service.remote();
                let daily = daily.clone();
                scope.spawn(move || {
                    let mut added = Vec::new();
                    let mut bought = 0u64;
                    let mut charged = BTreeSet::new();
                    for i in 0..40u32 {
                        let name = format!("soak{t}x{i}");
                        let term = if i % 2 == 0 { "monthly" } else { "daily" };
                        remote
                            .add_user(NewUser {
                                name: name.clone(),
                                role: "engineer".into(),
                                licence: Some("Jobs User".into()),
                                term: Some(term.into()),
                                email: None,
                            })
                            .expect("add");
                        added.push(name.clone());
                        if i % 3 == 0 {
                            remote.deactivate(name.as_str()).expect("deactivate");
                        }
                        if i % 6 == 0 {
                            remote.activate(name.as_str()).expect("activate");
                        }
                        if i % 5 == 0 {
                            remote
                                .request_seats(
                                    "Jobs User",
                                    "monthly",
                                    licfile::SeatAction::Add,
                                    1u32,
                                    "",
                                )
                                .expect("buy");
                            bought += 1;
                        }
                        if let Some(user) = daily.get((t * 40 + i) as usize % daily.len().max(1)) {
                            let day = today + chrono::Duration::days(i64::from(i % 20));
                            let o = remote
                                .record_usage(user.as_str(), UsageKind::DiaryBooked, Some(day))
                                .expect("usage");
                            if o.charged {
                                charged.insert((o.user, o.day));
                            }
                        }
                        remote.record_metered(METERED, 1u64).expect("metered");
                    }
                    (added, bought, charged)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a soaker"))
            .collect()
    });
    let remote = service.remote();
    for (added, _, _) in &results {
        for name in added {
            assert!(
                remote.user(name.as_str()).expect("user").is_some(),
                "{name} was acknowledged"
            );
        }
    }
    let bought: u64 = results.iter().map(|r| r.1).sum();
    let pending: u64 = remote
        .status()
        .expect("status")
        .pools
        .iter()
        .map(|p| p.pending)
        .sum();
    assert_eq!(pending, pending_before + bought);
    let mut all = BTreeSet::new();
    for (_, _, charged) in &results {
        for c in charged {
            assert!(all.insert(c.clone()), "{c:?} was charged twice");
        }
    }
    let report = remote.audit_verify().expect("audit");
    assert!(report.ok(), "{:?}", report.problems);
}

/// `serve --socket PATH` removes only a stale socket: a file there (even the
/// installation key), a link, or a directory is refused and left as it was.
#[test]
fn serve_never_deletes_what_is_not_a_stale_socket() {
    let dir = demo();
    dir.write("precious.txt", "keep me");
    std::os::unix::fs::symlink("precious.txt", dir.path("link")).expect("a link");
    std::fs::create_dir(dir.path("a-dir")).expect("a directory");
    let key = format!("{STORE}/installation.key");
    let key_before = std::fs::read(dir.path(&key)).expect("the key");
    for target in ["precious.txt", "link", "a-dir", key.as_str()] {
        let out = dir
            .st(&["serve", "--socket", target])
            .output()
            .expect("run");
        crate::util::assert_refused(&out, &["not a socket", target]);
    }
    assert_eq!(dir.read("precious.txt"), "keep me");
    assert!(
        std::fs::symlink_metadata(dir.path("link"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(dir.path("a-dir").is_dir());
    assert_eq!(std::fs::read(dir.path(&key)).expect("the key"), key_before);

    // A stale socket, left by a service that was killed, is taken over.
    let stale = dir.path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("a socket nobody answers on"));
    let service = Service::start_on(&dir, Some(&stale));
    service.remote().status().expect("served on the old path");
    // Made with no access for others, whatever the umask; nothing left beside it.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&stale).expect("the socket").permissions(),
    );
    assert_eq!(mode & 0o777, 0o660);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path(""))
        .expect("the directory")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".tessera-socket-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// One login user cannot use up the service: past the limit per user, a new
/// connection of theirs is refused with a line that says why (and the log
/// says what happened); others, and the same user once a connection closes,
/// are served. A connection that sends nothing is closed after the idle
/// timeout; a subscription is not.
#[test]
fn connections_are_limited_per_user_and_idle_ones_closed() {
    let dir = demo();
    let service = Service::start_with(
        &dir,
        None,
        &["--max-connections-per-user", "3", "--idle-timeout", "1"],
    );
    let subscriber = service.remote();
    subscriber.subscribe(None).expect("subscribe");
    let a = service.remote();
    let asked = service.remote();
    asked.installation().expect("a client that asked something");
    match Remote::connect(&service.socket) {
        Err(StoreError::Remote { code, message }) => {
            assert_eq!(code, store::Code::TooManyConnections, "{message}");
            assert!(message.contains("3 connections"), "{message}");
        }
        Err(e) => panic!("refused otherwise: {e}"),
        Ok(_) => panic!("a fourth connection of the same user was served"),
    }
    assert!(
        service.log_text().contains("the limit per user"),
        "{}",
        service.log_text()
    );
    drop(a);
    // The place comes back once the service sees the connection closed.
    let start = Instant::now();
    let c = loop {
        match Remote::connect(&service.socket) {
            Ok(c) => break c,
            Err(_) if start.elapsed() < Duration::from_secs(5) => {
                thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("no place came back: {e}"),
        }
    };
    c.status().expect("served");
    drop(c);

    // A connection that never asks anything is closed after the timeout; one
    // that has asked, and the subscription, stay.
    let mut silent = UnixStream::connect(&service.socket).expect("connect");
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut all = Vec::new();
    let start = Instant::now();
    let _ = silent.read_to_end(&mut all);
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "an idle connection was kept"
    );
    assert_eq!(
        all.iter().filter(|b| **b == b'\n').count(),
        1,
        "only the greeting"
    );
    asked.status().expect("a client that asked is kept");
    drop(asked);
    let fresh = service.remote();
    fresh
        .add_user(NewUser {
            name: "after.idle".into(),
            role: "engineer".into(),
            ..Default::default()
        })
        .expect("add");
    let mut seen = false;
    let start = Instant::now();
    while !seen && start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(e)) = subscriber.next_event(Duration::from_millis(200)) {
            seen = e.message.contains("after.idle");
        }
    }
    assert!(seen, "the subscription was closed as idle");
}

/// A service out of descriptors still answers every new client: with a
/// greeting while it can, then with a line that says why it turns the client
/// away, never a connection reset; and its log says what happened.
#[test]
fn a_service_out_of_descriptors_still_answers_every_new_client() {
    let dir = demo();
    let socket = dir.path("few.sock");
    let log = dir.path("few.log");
    let mut child = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -n 48 && exec \"$0\" --store st --socket \"$1\" serve --max-connections-per-user 1000")
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .arg(&socket)
        .current_dir(dir.path(""))
        .env_remove("TESSERA_STORE")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn serve under ulimit");
    let start = Instant::now();
    while UnixStream::connect(&socket).is_err() {
        assert!(
            start.elapsed() < START_LIMIT,
            "{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let (mut greeted, mut refused) = (0, 0);
    let mut open = Vec::new();
    for _ in 0..100 {
        let stream = UnixStream::connect(&socket).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut line = String::new();
        BufReader::new(stream.try_clone().expect("clone"))
            .read_line(&mut line)
            .expect("a line, not a reset");
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        if v.get("service").is_some() {
            greeted += 1;
        } else {
            assert_eq!(v["error"]["code"], "too_many_connections", "{v}");
            refused += 1;
        }
        open.push(stream);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        greeted > 5 && refused > 5,
        "greeted {greeted}, refused {refused}"
    );
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("out of descriptors"), "{text}");
    assert!(
        !text.contains("no login name"),
        "a guess in the log: {text}"
    );
}

/// A login user the socket's permissions shut out is told so, and which group
/// the socket admits: not "no store", which would send them the wrong way.
#[test]
fn a_user_the_socket_shuts_out_is_told_which_group_admits_them() {
    if !as_root(
        "a_user_the_socket_shuts_out_is_told_which_group_admits_them",
        "runs the client as nobody",
    ) {
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let dir = demo();
    // Where others may look (a temporary directory is private), as /run/tessera is.
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(dir.path(""), open.clone()).expect("chmod");
    std::fs::create_dir(dir.path("run")).expect("run dir");
    std::fs::set_permissions(dir.path("run"), open).expect("chmod");
    let socket = dir.path("run/tessera.sock");
    let _service = Service::start_on(&dir, Some(&socket));
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_tessera"))
        .arg("--store")
        .arg(dir.path(STORE))
        .arg("--socket")
        .arg(&socket)
        .args(["status", "--json"])
        .output()
        .expect("run as nobody");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refused nobody")
            && err.contains("group root")
            && err.contains("usermod -aG root nobody"),
        "{err}"
    );
    assert!(!err.contains("no store"), "{err}");
    let answer: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(answer["error"]["code"], "not_permitted");
}

/// What the console reads for its charts, notifications, a user's detail and
/// a quote's months arrives over the socket as the store answers it directly.
#[test]
fn the_consoles_reads_arrive_over_the_socket_as_the_store_answers_them() {
    let dir = demo();
    let me = direct(&dir, |s| s.installation().expect("installation").owner);
    let page = store::notifications::NotificationQuery {
        before: None,
        offset: 3,
        limit: 20,
    };
    let (history, notes, detail, quote) = direct(&dir, |s| {
        let api = s.as_user(&me);
        (
            api.history(30u32).expect("history"),
            api.notifications(page).expect("notifications"),
            api.user_detail(&me).expect("detail"),
            api.quote_seats("Jobs User", "contracted", licfile::SeatAction::Add, 2u32)
                .expect("quote"),
        )
    });
    // The demo has months of history: seats in use and charged user-days.
    assert!(
        history
            .seats
            .iter()
            .any(|p| p.months.iter().filter(|m| m.value.unwrap_or(0) > 0).count() > 1),
        "{:?}",
        history.seats
    );
    assert!(
        history
            .daily
            .iter()
            .any(|d| d.days.iter().any(|p| p.charged > 0)),
        "{:?}",
        history.daily
    );
    assert!(notes.total > 23 && notes.items.len() == 20);
    let service = Service::start(&dir);
    let remote = service.remote();
    assert_eq!(remote.history(30u32).expect("history"), history);
    assert_eq!(remote.notifications(page).expect("notifications"), notes);
    assert_eq!(remote.user_detail(&me).expect("detail"), detail);
    let q = remote
        .quote_seats("Jobs User", "contracted", licfile::SeatAction::Add, 2u32)
        .expect("quote");
    assert_eq!(q.breakdown.months, quote.breakdown.months);
}
