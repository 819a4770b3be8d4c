//! A temporary directory to run `tessera` in, and helpers to read what it wrote.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `tessera` binary under test.
pub fn tessera() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_remove("TESSERA_STORE")
        .env_remove("TESSERA_LEDGER")
        .env("NO_COLOR", "1");
    cmd
}

/// The vendor's ledger of a test directory: the file `ledger.sqlite` in it,
/// which every command run there uses unless it says `--ledger`.
pub const LEDGER: &str = "ledger.sqlite";

/// The repository root, for shipped files such as examples/licence.toml.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A scratch directory; commands run inside it.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A new empty directory.
    pub fn new() -> Self {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A path inside the directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `tessera ARGS…` run inside the directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = tessera();
        cmd.current_dir(self.tmp.path())
            .env("TESSERA_LEDGER", self.tmp.path().join(LEDGER))
            .args(args);
        cmd
    }

    /// Runs `tessera ARGS…` inside the directory and returns what happened.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd(args).output().expect("run tessera")
    }

    /// Writes a file.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.path(rel), contents).expect("write");
    }

    /// Reads a file as text.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    /// Makes a key pair PREFIX.key / PREFIX.pub.
    pub fn keygen(&self, prefix: &str) {
        self.cmd(&["vendor", "keygen", "--out", prefix])
            .assert()
            .success();
    }

    /// Writes `example.toml`: the shipped example spec with its issue time
    /// fixed (2026-01-05), so that checks at chosen dates do not depend on today.
    pub fn example_spec(&self) -> &'static str {
        let spec = std::fs::read_to_string(repo("examples/licence.toml")).expect("example spec");
        let fixed = spec.replace("# issued_at = ", "issued_at = ");
        assert_ne!(
            fixed, spec,
            "the example spec has a commented issued_at line"
        );
        self.write("example.toml", fixed);
        "example.toml"
    }

    /// Issues the shipped example licence with `key` into `out`.
    pub fn issue_example(&self, key: &str, out: &str) {
        let spec = self.example_spec();
        self.cmd(&["vendor", "issue", "--key", key, spec, "--out", out])
            .assert()
            .success();
    }
}

/// Standard output of a finished command, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error of a finished command, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A site store made from a demo licence: `Dir::site` issues `site.lic` from the
/// example spec (expiry moved to 2099 so that no test depends on today) and runs
/// `tessera --store st init --licence site.lic`.
pub const STORE: &str = "st";

impl Dir {
    /// Writes the example spec to `rel` with its issue time fixed and its expiry
    /// in 2099, after `edit` has changed what a test needs.
    pub fn spec(&self, rel: &str, edit: impl FnOnce(&mut toml::Table)) {
        let text = std::fs::read_to_string(repo("examples/licence.toml")).expect("example spec");
        let mut spec: toml::Table = text.parse().expect("the example spec is TOML");
        spec.insert(
            "issued_at".into(),
            toml::Value::String("2026-01-05T10:00:00Z".into()),
        );
        let expiry = spec
            .get_mut("expiry")
            .and_then(toml::Value::as_table_mut)
            .expect("the example spec has [expiry]");
        expiry.insert("date".into(), toml::Value::String("2099-01-31".into()));
        edit(&mut spec);
        self.write(rel, toml::to_string(&spec).expect("spec to TOML"));
    }

    /// Signs `spec` with the demo key (a demo store trusts it) into `out`.
    pub fn issue_demo(&self, spec: &str, out: &str) {
        let key = repo("keys/demo/demo.key");
        self.cmd(&[
            "vendor",
            "issue",
            "--key",
            key.to_str().expect("utf-8 path"),
            spec,
            "--out",
            out,
        ])
        .assert()
        .success();
    }

    /// Issues the example licence as sequence `seq` (with `edit` applied) into `out`.
    pub fn issue_sequence(&self, seq: i64, out: &str, edit: impl FnOnce(&mut toml::Table)) {
        let spec = format!("{out}.toml");
        self.spec(&spec, |s| {
            s.insert("sequence".into(), toml::Value::Integer(seq));
            s.insert(
                "licence_id".into(),
                toml::Value::String(format!("NW-000123-{seq:04}")),
            );
            edit(s);
        });
        self.issue_demo(&spec, out);
    }

    /// Makes the store `st` from the example licence (sequence 2).
    pub fn site(&self) {
        self.issue_sequence(2, "site.lic", |_| {});
        self.cmd(&["--store", STORE, "init", "--licence", "site.lic"])
            .assert()
            .success();
    }

    /// `tessera --store st ARGS…` run inside the directory.
    pub fn st(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(&["--store", STORE]);
        cmd.args(args);
        cmd
    }

    /// `tessera --store st ARGS…` as a plain process, to be spawned and killed.
    pub fn st_process(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
        cmd.env_remove("TESSERA_STORE")
            .env("TESSERA_LEDGER", self.tmp.path().join(LEDGER))
            .env("NO_COLOR", "1")
            .current_dir(self.tmp.path())
            .arg("--store")
            .arg(STORE)
            .args(args);
        cmd
    }

    /// Runs `tessera --store st ARGS… --json` (the caller includes `--json`),
    /// requires success and parses standard output.
    pub fn st_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.st(args).output().expect("run tessera");
        assert!(
            out.status.success(),
            "tessera {args:?} failed: {}",
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on standard output")
    }

    /// What a refused command must leave as it was: the status (without the
    /// day it was asked on), the number of events, and every user, deleted ones too.
    pub fn snapshot(&self) -> Snapshot {
        let mut status = self.st_json(&["status", "--json"]);
        if let Some(o) = status.as_object_mut() {
            o.remove("today");
        }
        let verify = self.st_json(&["audit", "--json", "verify"]);
        let users = self.st_json(&["users", "list", "--json", "--deleted", "--limit", "100000"]);
        Snapshot {
            status,
            events: verify["events"].as_u64().expect("event count"),
            users,
        }
    }
}

/// The state of a store as its reader sees it (see [`Dir::snapshot`]).
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    /// `status --json` without `today`.
    pub status: serde_json::Value,
    /// Events in the chain.
    pub events: u64,
    /// `users list --json --deleted`.
    pub users: serde_json::Value,
}

/// Asserts a command failed (exit 1) with `text` on standard error.
#[track_caller]
pub fn assert_fails_saying(out: &std::process::Output, text: &str) {
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

/// Asserts `verify` found a file invalid: exit 1, with `text` on standard output.
#[track_caller]
pub fn assert_invalid(out: &std::process::Output, text: &str) {
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(out).contains(text), "{}", stdout(out));
}

/// Asserts a command was refused: exit 1, a message on standard error that
/// contains every one of `words` (any case), and no panic.
pub fn assert_refused(out: &std::process::Output, words: &[&str]) -> String {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stdout: {} stderr: {err}",
        stdout(out)
    );
    assert!(!err.contains("panicked"), "a panic: {err}");
    let lower = err.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "the message does not name {w:?}: {err}"
        );
    }
    err
}

/// Fails a test that could not start `program`. A missing one is not a reason
/// to skip: the message names the Debian package that provides it and
/// `./test.sh`, which installs the packages the end-to-end tests use.
pub fn cannot_run(program: &str, package: &str, e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::NotFound {
        panic!(
            "{program} is not installed: this test needs the Debian package `{package}`; \
             run the tests with ./test.sh, which installs it"
        )
    }
    panic!("cannot run {program}: {e}")
}

/// Runs under libfaketime (Debian package `faketime`): the binary reads only the
/// real clock, so a test that needs another date moves that clock for one process,
/// exactly as a real clock change would reach it.
impl Dir {
    /// `tessera ARGS…` run inside the directory with the clock starting at
    /// `when` ("YYYY-MM-DD HH:MM:SS", UTC) and running on from there.
    pub fn at(&self, when: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new("faketime");
        cmd.env_remove("TESSERA_STORE")
            .env("TESSERA_LEDGER", self.tmp.path().join(LEDGER))
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .current_dir(self.tmp.path())
            .arg(when)
            .arg(env!("CARGO_BIN_EXE_tessera"))
            .args(args);
        cmd
    }

    /// Runs `tessera ARGS…` at `when` and returns what happened.
    pub fn run_at(&self, when: &str, args: &[&str]) -> std::process::Output {
        match self.at(when, args).output() {
            Ok(out) => out,
            Err(e) => cannot_run("faketime", "faketime", &e),
        }
    }

    /// Runs `tessera ARGS…` at `when`, requires exit 0 and returns standard output.
    pub fn ok_at(&self, when: &str, args: &[&str]) -> String {
        let out = self.run_at(when, args);
        assert!(
            out.status.success(),
            "tessera {args:?} at {when} failed ({:?}): {}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// Runs `tessera ARGS…` at `when` (the caller includes `--json`), requires
    /// exit 0 and parses standard output.
    pub fn json_at(&self, when: &str, args: &[&str]) -> serde_json::Value {
        let out = self.ok_at(when, args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("tessera {args:?}: not JSON ({e}): {out}"))
    }
}

/// The pool of `status --json` with this licence and term.
pub fn pool<'a>(status: &'a serde_json::Value, licence: &str, term: &str) -> &'a serde_json::Value {
    status["pools"]
        .as_array()
        .expect("pools is a list")
        .iter()
        .find(|p| p["licence"] == licence && p["term"] == term)
        .unwrap_or_else(|| panic!("no pool {licence} ({term}) in {status:#}"))
}

/// The user with this name in a page of `users list --json`, if any.
pub fn find_user(page: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    page["users"]
        .as_array()
        .expect("users is a list")
        .iter()
        .find(|u| u["name"] == name)
        .cloned()
}

/// The event names of `audit --json` (newest first), oldest first.
pub fn event_names_oldest_first(events: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = events
        .as_array()
        .expect("events are a list")
        .iter()
        .map(|e| e["event"].as_str().expect("event name").to_string())
        .collect();
    names.reverse();
    names
}
