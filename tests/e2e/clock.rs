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
