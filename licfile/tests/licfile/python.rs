//! The lease verified in another language: `tests/python/verify_lease.py`,
//! written from docs/PROTOCOL.md with Python's `cryptography` package, run on
//! the golden lease and held to the verdicts of `tests/vectors/LEASES`.
//!
//! Python and its `cryptography` package are not part of the Rust toolchain.
//! Where they are missing these tests say SKIPPED on standard error and pass,
//! except under CI (`CI` set, and not `0` or `false`), where they fail saying
//! what to install: the cross-language check is what CI is for.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::common::{SERIAL, test_path};
use crate::lease::{lease_table, vector_path};
use licfile::Timestamp;

/// What to install when Python or its package is missing (Debian's names).
const INSTALL: &str = "apt-get install -y python3 python3-cryptography";

/// The interpreter `python3` names, if it runs and has the `cryptography`
/// package; else why not.
///
/// Found once, and then run by its own path: a `python3` on PATH may be a
/// version manager's shim that costs more to start than Python itself.
fn interpreter() -> &'static Result<PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND.get_or_init(|| {
        let probe = Command::new("python3")
            .args([
                "-c",
                "import sys, cryptography.hazmat.primitives.asymmetric.ed25519; print(sys.executable)",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("python3 cannot be run ({e})"))?;
        if !probe.status.success() {
            return Err(format!(
                "python3 has no usable cryptography package ({})",
                String::from_utf8_lossy(&probe.stderr)
                    .lines()
                    .last()
                    .unwrap_or("no message")
            ));
        }
        let path = String::from_utf8_lossy(&probe.stdout).trim().to_string();
        // An interpreter that cannot name itself is run through PATH.
        Ok(PathBuf::from(if path.is_empty() { "python3" } else { &path }))
    })
}

/// Why Python cannot verify leases here, if it cannot.
fn python_problem() -> Option<&'static str> {
    interpreter().as_ref().err().map(String::as_str)
}

/// A command running the interpreter found by [`interpreter`].
fn python3() -> Command {
    let path = interpreter()
        .as_ref()
        .expect("python_available was asked first");
    let mut cmd = Command::new(path);
    // -B: no __pycache__ left in the source tree.
    cmd.arg("-B");
    cmd
}

/// Whether `test` can run; under CI a missing Python fails it, elsewhere it
/// is skipped and says so on standard error.
fn python_available(test: &str) -> bool {
    let Some(problem) = python_problem() else {
        return true;
    };
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{test} verifies leases with Python, and CI (CI={:?}) must run it, but {problem}: \
         install Python 3 and its cryptography package ({INSTALL})",
        std::env::var("CI").unwrap_or_default()
    );
    // Straight to standard error: the test harness captures print macros only.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {problem}, so leases were NOT verified in Python ({INSTALL}; CI fails without it)"
    );
    false
}

fn script() -> PathBuf {
    test_path("python/verify_lease.py")
}

/// Runs the verifier on `lease` with the pinned installation key and `args`.
fn run(lease: &std::path::Path, args: &[&str]) -> Output {
    python(lease, &vector_path("installation.pub"), args)
        .output()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script().display()))
}

fn python(lease: &std::path::Path, key: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = python3();
    cmd.arg(script()).arg(lease).arg(key).args(args);
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The arguments LEASES is judged with.
const AT_NOON: [&str; 4] = ["--serial", SERIAL, "--now", "2026-06-01T12:00:00Z"];

#[test]
fn python_verifies_the_golden_lease() {
    if !python_available("python::python_verifies_the_golden_lease") {
        return;
    }
    let out = run(&test_path("golden/lease.txt"), &AT_NOON);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out),
        "serial:     NW-000123\n\
         user:       tcarter\n\
         seat:       Jobs User (monthly)\n\
         issued at:  2026-06-01T08:00:00Z\n\
         not after:  2026-06-01T16:00:00Z\n\
         key:        c5b940ed3f65c391\n\
         VALID: tcarter may work until 2026-06-01T16:00:00Z\n",
        "{}",
        describe(&out)
    );
}

#[test]
fn python_agrees_with_every_verdict_of_the_lease_table() {
    if !python_available("python::python_agrees_with_every_verdict_of_the_lease_table") {
        return;
    }
    let rows = lease_table();
    // A process each, a few at a time: Python's start is most of the cost.
    let mut problems = Vec::new();
    for batch in rows.chunks(8) {
        let children: Vec<_> = batch
            .iter()
            .map(|row| {
                python(
                    &vector_path(&row.file),
                    &vector_path("installation.pub"),
                    &AT_NOON,
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("python3 {}: {e}", script().display()))
            })
            .collect();
        for (row, child) in batch.iter().zip(children) {
            let out = child.wait_with_output().expect("python3 ran");
            let text = stdout(&out);
            let last = text.lines().last().unwrap_or("");
            let agrees = if row.verdict == "valid" {
                out.status.code() == Some(0)
                    && last.starts_with("VALID: ")
                    && text.contains(&format!("user:       {}\n", row.detail))
            } else {
                out.status.code() == Some(1)
                    && last.starts_with(&format!("INVALID ({}): ", row.verdict))
            };
            if !agrees {
                problems.push(format!(
                    "{} (LEASES line {}): expected {} from Python, got {}",
                    row.file,
                    row.line,
                    row.verdict,
                    describe(&out)
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the Python verifier disagrees with LEASES on {} vector(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn python_judges_time_to_the_second() {
    if !python_available("python::python_judges_time_to_the_second") {
        return;
    }
    // Issued 08:00:00, not after 16:00:00; five minutes' skew before issue.
    let golden = test_path("golden/lease.txt");
    for (now, code, verdict) in [
        ("2026-06-01T15:59:59Z", 0, "VALID: "),
        ("2026-06-01T16:00:00Z", 1, "INVALID (expired): "),
        ("2026-06-01T17:59:59+02:00", 0, "VALID: "),
        ("1780329600", 1, "INVALID (expired): "),
        ("2026-06-01T07:55:00Z", 0, "VALID: "),
        ("2026-06-01T07:54:59Z", 1, "INVALID (not_yet_valid): "),
    ] {
        let out = run(&golden, &["--now", now]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "--now {now}: {}",
            describe(&out)
        );
        assert!(
            stdout(&out)
                .lines()
                .last()
                .unwrap_or("")
                .starts_with(verdict),
            "--now {now}: {}",
            describe(&out)
        );
    }
    // Without --serial, the lease's own serial is not compared.
    let out = run(
        &vector_path("lease-other-serial.txt"),
        &["--now", "2026-06-01T12:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

#[test]
fn python_judges_by_this_machines_clock_without_now() {
    if !python_available("python::python_judges_by_this_machines_clock_without_now") {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64;
    let out = run(&test_path("golden/lease.txt"), &[]);
    let l = crate::common::lease(&crate::common::installation_key());
    // A second's grace either side: the clock moves on while Python starts.
    let (code, verdict) = if now + 1 < l.issued_at.0 - licfile::constants::LEASE_CLOCK_SKEW_SECONDS
    {
        (1, "INVALID (not_yet_valid): ")
    } else if now >= l.not_after.0 {
        (1, "INVALID (expired): ")
    } else if now + 1 < l.not_after.0 {
        (0, "VALID: ")
    } else {
        return;
    };
    assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
    assert!(
        stdout(&out)
            .lines()
            .last()
            .unwrap_or("")
            .starts_with(verdict),
        "{}",
        describe(&out)
    );
}

#[test]
fn python_refuses_a_key_that_is_not_an_ed25519_public_key() {
    if !python_available("python::python_refuses_a_key_that_is_not_an_ed25519_public_key") {
        return;
    }
    // A usage error (2), not a verdict on the lease.
    let golden = test_path("golden/lease.txt");
    let out = python(&golden, &golden, &[]).output().expect("python3 ran");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the public key"),
        "{}",
        describe(&out)
    );
}

#[test]
fn python_writes_times_as_tessera_does() {
    if !python_available("python::python_writes_times_as_tessera_does") {
        return;
    }
    // Header lines are compared as text, so the two must write every time
    // alike: the calendar's ends, signed years, and times beyond any calendar.
    let day = 86_400i64;
    let first = chrono::NaiveDate::MIN
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp();
    let last = chrono::NaiveDate::MAX
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp()
        + day
        - 1;
    let times = [
        0,
        -1,
        1_780_329_600,
        -62_135_596_800,
        -62_135_596_801,
        -62_167_219_201,
        253_402_300_799,
        253_402_300_800,
        first,
        first - 1,
        last,
        last + 1,
        i64::MIN,
        i64::MAX,
    ];
    let list = times
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let out = python3()
        .arg("-c")
        .arg(format!(
            "import sys; sys.path.insert(0, sys.argv[1]); import verify_lease as v\n\
             for t in [{list}]: print(v.show_time(t))"
        ))
        .arg(test_path("python"))
        .output()
        .expect("python3 ran");
    assert!(out.status.success(), "{}", describe(&out));
    let expected: String = times
        .iter()
        .map(|t| format!("{}\n", Timestamp(*t)))
        .collect();
    assert_eq!(stdout(&out), expected);
}
