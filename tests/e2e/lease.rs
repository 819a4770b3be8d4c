//! Signed leases: `check --lease` for a user who may work, checked offline
//! with the installation's public key, holding while the service is away
//! and not one second past its `not_after`.

use std::io::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::serve::Service;
use crate::util::{Dir, repo, stderr, stdout};

/// A site with an engineer holding a monthly seat, and the installation's
/// public key written to `inst.pub`.
fn site() -> Dir {
    let d = Dir::new();
    d.site();
    d.st(&[
        "users",
        "add",
        "tcarter",
        "--role",
        "engineer",
        "--licence",
        "Jobs User",
        "--term",
        "monthly",
    ])
    .assert()
    .success();
    d.st(&["users", "add", "idle", "--role", "engineer"])
        .assert()
        .success();
    d.st(&["users", "deactivate", "idle"]).assert().success();
    let said = d
        .st(&["installation", "key", "--out", "inst.pub"])
        .output()
        .expect("run");
    assert!(said.status.success(), "{}", stderr(&said));
    assert!(d.read("inst.pub").starts_with("-----BEGIN PUBLIC KEY-----"));
    d
}

/// `check USER --lease FILE --json`, parsed, and the exit code.
fn check_lease(d: &Dir, user: &str, file: &str) -> (Value, Option<i32>) {
    let out = d
        .st(&["check", user, "--lease", file, "--json"])
        .output()
        .expect("run check");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    (v, out.status.code())
}

fn verify_json(d: &Dir, args: &[&str]) -> (Value, Option<i32>) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = d.run(&all);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    (v, out.status.code())
}

#[test]
fn a_user_who_may_work_gets_a_lease_the_product_checks_offline() {
    let d = site();
    let (v, code) = check_lease(&d, "tcarter", "tcarter.lease");
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["allowed"], true);
    assert_eq!(
        v["answered_by"], "store",
        "no service runs: the store answered"
    );
    assert_eq!(v["lease"]["file"], "tcarter.lease");
    let text = d.read("tcarter.lease");
    assert!(text.starts_with("-----BEGIN TESSERA LEASE-----"), "{text}");

    // The lease's own word, as the product reads it.
    let (l, code) = verify_json(&d, &["tcarter.lease", "--trust", "inst.pub"]);
    assert_eq!(code, Some(0), "{l:#}");
    assert_eq!(l["valid"], true);
    assert_eq!(
        (&l["user"], &l["serial"]),
        (&"tcarter".into(), &"NW-000123".into())
    );
    assert_eq!(l["seat"]["licence"], "User");
    assert_eq!(l["seat"]["term"], "monthly");
    assert_eq!(l["not_after"], v["lease"]["not_after"]);
    // Four hours by default, renewed at half-life.
    let t = |s: &Value| {
        chrono::DateTime::parse_from_rfc3339(s.as_str().expect("a time"))
            .expect("RFC 3339")
            .timestamp()
    };
    assert_eq!(t(&l["not_after"]) - t(&l["issued_at"]), 4 * 3600);
    assert_eq!(t(&l["renew_at"]) - t(&l["issued_at"]), 2 * 3600);

    // For this serial only; by this installation's key only.
    let (_, code) = verify_json(
        &d,
        &[
            "tcarter.lease",
            "--trust",
            "inst.pub",
            "--serial",
            "NW-000999",
        ],
    );
    assert_eq!(code, Some(1));
    d.keygen("stranger");
    let (s, code) = verify_json(&d, &["tcarter.lease", "--trust", "stranger.pub"]);
    assert_eq!(code, Some(1));
    assert_eq!(s["refused_by"], "untrusted_key", "{s:#}");
    let out = d.run(&["verify", "tcarter.lease"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a lease needs --trust: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("--trust INSTALLATION.pub"),
        "{}",
        stderr(&out)
    );
    // One character of the signed body changed: refused.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let body = lines
        .iter()
        .position(String::is_empty)
        .expect("a blank line before the body")
        + 1;
    let first = lines[body].remove(0);
    lines[body].insert(0, if first == 'A' { 'B' } else { 'A' });
    d.write("altered.lease", lines.join("\n") + "\n");
    let (_, code) = verify_json(&d, &["altered.lease", "--trust", "inst.pub"]);
    assert_eq!(code, Some(1));

    // No lease for a user who may not work, and the old file is left alone.
    let (v, code) = check_lease(&d, "idle", "idle.lease");
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["allowed"], false);
    assert!(v.get("lease").is_none(), "{v:#}");
    assert!(!d.path("idle.lease").exists());

    // The same lease, checked by a verifier written from docs/PROTOCOL.md alone.
    python_verifies(&d, "tcarter.lease", "inst.pub");
}

/// `python3 licfile/tests/python/verify_lease.py LEASE KEY` says VALID. Under
/// CI it must run; elsewhere a missing python3 or package is said and skipped.
fn python_verifies(d: &Dir, lease: &str, key: &str) {
    let script = repo("licfile/tests/python/verify_lease.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(d.path(lease))
        .arg(d.path(key))
        .output();
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let missing = match &out {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(o) if stderr(o).contains("No module named 'cryptography'") => {
            Some("the python3-cryptography package is missing".to_string())
        }
        Ok(_) => None,
    };
    if let Some(why) = missing {
        assert!(
            !ci,
            "CI must verify a lease in Python, but {why} (./test.sh installs it)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the Python check of a lease: {why}"
        );
        return;
    }
    let out = out.expect("ran");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("VALID"), "{}", stdout(&out));
}

#[test]
fn a_lease_holds_while_the_service_is_away_until_its_not_after_and_no_longer() {
    let d = site();
    let service = Service::start(&d);
    let (v, code) = check_lease(&d, "tcarter", "held.lease");
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["answered_by"], "service", "the service answered: {v:#}");
    let mut service = service;
    service.signal_and_wait("TERM", Duration::from_secs(20));

    // The service is gone; the product checks its lease.
    let (l, code) = verify_json(&d, &["held.lease", "--trust", "inst.pub"]);
    assert_eq!(code, Some(0), "{l:#}");
    let not_after = chrono::DateTime::parse_from_rfc3339(l["not_after"].as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc);
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let minute = chrono::Duration::minutes(1);
    // A minute before it runs out: still valid. A minute after: expired.
    let before = d.run_at(
        &at(not_after - minute),
        &["verify", "held.lease", "--trust", "inst.pub"],
    );
    assert_eq!(before.status.code(), Some(0), "{}", stdout(&before));
    let after = d.run_at(
        &at(not_after + minute),
        &["verify", "held.lease", "--trust", "inst.pub"],
    );
    assert_eq!(after.status.code(), Some(1), "{}", stdout(&after));
    assert!(stdout(&after).contains("ran out"), "{}", stdout(&after));
}

#[test]
fn the_lifetime_is_the_owners_setting_within_bounds() {
    let d = site();
    let out = d
        .st(&["installation", "lease-hours"])
        .output()
        .expect("run");
    assert!(
        stdout(&out).contains("leases last 4 hours"),
        "{}",
        stdout(&out)
    );
    let out = d
        .st(&["installation", "lease-hours", "1"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("they lasted 4"), "{}", stdout(&out));
    for bad in ["0", "169"] {
        let out = d
            .st(&["installation", "lease-hours", bad])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(
            stderr(&out).contains("from 1 to 168 hours"),
            "{}",
            stderr(&out)
        );
    }
    let (v, _) = check_lease(&d, "tcarter", "short.lease");
    let (l, _) = verify_json(&d, &["short.lease", "--trust", "inst.pub"]);
    let t = |s: &Value| {
        chrono::DateTime::parse_from_rfc3339(s.as_str().expect("a time"))
            .expect("RFC 3339")
            .timestamp()
    };
    assert_eq!(t(&l["not_after"]) - t(&l["issued_at"]), 3600, "{v:#}");
    // The change is in the log, by whom.
    let log = d.st(&["audit", "--json"]).output().expect("run");
    assert!(
        stdout(&log).contains("Lease lifetime set"),
        "{}",
        stdout(&log)
    );
    let status: Value =
        serde_json::from_slice(&d.st(&["status", "--json"]).output().expect("run").stdout)
            .expect("JSON");
    assert_eq!(status["lease_hours"], 1);
}
