//! The clock: one the store cannot use, a jump forward, and the vendor's
//! clock correction that undoes the jump's mark, run under libfaketime.

use crate::util::{Dir, stderr, stdout};

/// A demo store, made at the real time.
fn demo() -> Dir {
    let dir = Dir::new();
    dir.st(&["demo", "--users", "20"]).assert().success();
    dir
}

/// The events of `audit --json` at `when`, newest first.
fn events_at(dir: &Dir, when: &str) -> Vec<serde_json::Value> {
    dir.json_at(when, &["--store", "st", "audit", "--json", "--limit", "20"])
        .as_array()
        .cloned()
        .expect("a list of events")
}

#[test]
fn a_clock_before_1970_is_refused_with_a_message_not_a_panic() {
    let dir = demo();
    for args in [
        &["--store", "st", "status"][..],
        &["--store", "st", "check", "alice.morgan"],
        &["--store", "st", "users", "add", "zed", "--role", "engineer"],
    ] {
        let out = dir.run_at("1969-12-01 00:00:00", args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("1969-12-01") && err.contains("before 1970") && err.contains("clock"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = dir.run_at(
        "1969-12-01 00:00:00",
        &["--store", "st", "check", "alice.morgan", "--json"],
    );
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(answer["error"]["code"], "clock");
    // Nothing was changed: zed was never added.
    let list = stdout(&dir.st(&["users", "list", "--json"]).output().expect("list"));
    assert!(!list.contains("\"zed\""));
    dir.st(&["audit", "verify"]).assert().success();
}

#[test]
fn a_change_made_years_ahead_is_an_event_with_both_times() {
    let dir = demo();
    dir.ok_at(
        "2029-06-01 12:00:00",
        &["--store", "st", "users", "add", "zed", "--role", "engineer"],
    );
    let events = events_at(&dir, "2029-06-01 12:00:01");
    let jump = events
        .iter()
        .find(|e| e["event"] == "Clock moved forward")
        .unwrap_or_else(|| panic!("no jump event in {events:#?}"));
    assert_eq!(jump["status"], "warning");
    let to = jump["action"]["ClockMovedForward"]["to"]
        .as_i64()
        .expect("the time of the change");
    let from = jump["action"]["ClockMovedForward"]["from"]
        .as_i64()
        .expect("the mark before");
    assert!(from < to - 365 * 86_400, "{jump}");
    assert!(
        jump["message"]
            .as_str()
            .is_some_and(|m| m.contains("2029-06-01")),
        "{jump}"
    );
    assert!(
        jump["description"]
            .as_str()
            .is_some_and(|d| d.contains("tessera request clock")),
        "{jump}"
    );
}

/// Today at the real time plus `days`, as faketime takes it.
fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `tessera request clock` at the site in `dir`, answered by `tessera vendor
/// clock` with `root`: clock.req and clock.fix in `dir`.
fn ask_and_answer(dir: &Dir, root: &str) {
    let out = dir
        .st(&["request", "clock", "--out", "clock.req"])
        .output()
        .expect("request clock");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dir
        .cmd(&[
            "vendor",
            "clock",
            "clock.req",
            "--key",
            root,
            "--out",
            "clock.fix",
        ])
        .output()
        .expect("vendor clock");
    assert!(out.status.success(), "{}", stderr(&out));
}

fn licence_state(dir: &Dir) -> String {
    let status: serde_json::Value = serde_json::from_str(&stdout(
        &dir.st(&["status", "--json"]).output().expect("status"),
    ))
    .expect("status json");
    status["state"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_vendors_clock_correction_undoes_a_wrong_clocks_mark_once() {
    let dir = demo();
    let root = crate::util::repo("keys/demo/demo.key");
    let root = root.to_str().expect("utf-8 path");
    assert_eq!(licence_state(&dir), "valid");
    // One change under a clock three years ahead moves the mark for good.
    dir.ok_at(
        "2029-12-01 12:00:00",
        &["--store", "st", "users", "add", "zed", "--role", "engineer"],
    );
    assert_eq!(licence_state(&dir), "terminated", "judged by the mark");

    // The site asks; the vendor answers; the answer is imported once.
    ask_and_answer(&dir, root);
    assert!(
        dir.read("clock.req")
            .contains("BEGIN TESSERA CLOCK REQUEST")
    );
    let verified = dir.run(&["verify", "clock.req"]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    assert!(
        dir.read("clock.fix")
            .contains("BEGIN TESSERA CLOCK CORRECTION")
    );
    let out = dir.st(&["import", "clock.fix"]).output().expect("import");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("clock corrected"), "{}", stdout(&out));
    assert_eq!(licence_state(&dir), "valid", "judged by the vendor's time");
    let events = events_at(&dir, &days_from_now(0));
    let corrected = events
        .iter()
        .find(|e| e["event"] == "Clock corrected")
        .unwrap_or_else(|| panic!("no correction event in {events:#?}"));
    assert!(
        corrected["action"]["ClockCorrected"]["from"].as_i64()
            > corrected["action"]["ClockCorrected"]["to"].as_i64()
    );
    // Used once.
    let again = dir
        .st(&["import", "clock.fix"])
        .output()
        .expect("import again");
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already used"),
        "{}",
        stderr(&again)
    );
    dir.st(&["audit", "verify"]).assert().success();
}

#[test]
fn a_correction_not_asked_for_here_or_too_late_is_refused() {
    let dir = demo();
    let other = demo();
    let root = crate::util::repo("keys/demo/demo.key");
    let root = root.to_str().expect("utf-8 path");
    // Another store's request: this store never made it.
    ask_and_answer(&other, root);
    std::fs::copy(other.path("clock.fix"), dir.path("foreign.fix")).expect("copy");
    let out = dir.st(&["import", "foreign.fix"]).output().expect("import");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did not make"), "{}", stderr(&out));
    // This store's own request, answered, but imported after 48 hours.
    ask_and_answer(&dir, root);
    let late = dir.run_at(&days_from_now(3), &["--store", "st", "import", "clock.fix"]);
    assert_eq!(late.status.code(), Some(1));
    assert!(stderr(&late).contains("expired"), "{}", stderr(&late));
    // A correction signed by a key the store does not trust.
    dir.keygen("stranger");
    dir.cmd(&[
        "vendor",
        "clock",
        "clock.req",
        "--key",
        "stranger.key",
        "--out",
        "stranger.fix",
        // The vendor's own ledger took the request already: a stranger keeps its own.
        "--ledger",
        "stranger.sqlite",
    ])
    .assert()
    .success();
    let out = dir
        .st(&["import", "stranger.fix"])
        .output()
        .expect("import");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    // None of these changed the store's clock: the right one still goes in.
    let out = dir.st(&["import", "clock.fix"]).output().expect("import");
    assert!(out.status.success(), "{}", stderr(&out));
}
