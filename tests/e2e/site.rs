//! The site's commands end to end: init, import, status, users, roles, check,
//! usage, tick, audit, export and demo; every refusal leaves the store as it was.

use std::io::Read;
use std::sync::Arc;
use store::ApiExt as _;

use serde_json::Value;

use crate::util::{
    Dir, STORE, Snapshot, assert_refused, event_names_oldest_first, find_user, pool, stderr, stdout,
};

/// Runs `tessera --store st ARGS…`, requires exit 0 and returns standard output.
fn ok(d: &Dir, args: &[&str]) -> String {
    let out = d.st(args).output().unwrap();
    assert!(
        out.status.success(),
        "tessera {args:?} failed ({:?}): {}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs `tessera --store st ARGS…` and returns what happened.
fn run(d: &Dir, args: &[&str]) -> std::process::Output {
    d.st(args).output().unwrap()
}

/// The user of `users list --json --deleted` with this name.
fn user(d: &Dir, name: &str) -> Option<Value> {
    let page = d.st_json(&["users", "list", "--json", "--deleted", "--limit", "100000"]);
    find_user(&page, name)
}

/// The login user, who is the store's Owner/manager and the operator.
fn login(d: &Dir) -> String {
    let status = d.st_json(&["status", "--json"]);
    let owner = status["owner"].as_str().expect("owner").to_string();
    assert!(!owner.is_empty());
    owner
}

/// Event names in the action log, oldest first.
fn event_names(d: &Dir) -> Vec<String> {
    event_names_oldest_first(&d.st_json(&["audit", "--json", "--limit", "100000"]))
}

/// The arguments `users add NAME --role ROLE --licence LICENCE --term TERM`.
fn add_user_args<'a>(
    name: &'a str,
    role: &'a str,
    licence: &'a str,
    term: &'a str,
) -> [&'a str; 9] {
    [
        "users",
        "add",
        name,
        "--role",
        role,
        "--licence",
        licence,
        "--term",
        term,
    ]
}

/// Adds user `name` with this role on a seat of `licence` (`term`); requires
/// exit 0 and returns standard output.
fn add_user(d: &Dir, name: &str, role: &str, licence: &str, term: &str) -> String {
    ok(d, &add_user_args(name, role, licence, term))
}

/// Checks the action log's hash chain: `audit verify` exits 0.
fn assert_verifies(d: &Dir) {
    let out = run(d, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "audit verify failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[test]
fn init_makes_a_store_whose_status_json_has_every_field() {
    let d = Dir::new();
    d.site();
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(s["serial"], "NW-000123");
    assert_eq!(s["licensee"], "Northwind Heating & Plumbing Ltd");
    assert_eq!(s["plan"], "Customer Journey");
    assert_eq!(s["contract_start"], "2026-01-01");
    assert_eq!(s["contract_end"], "2026-12-31");
    assert_eq!(s["expires"], "2099-01-31");
    assert_eq!(s["state"], "valid");
    assert_eq!(s["demo"], true);
    assert_eq!(s["sequence"], 2);
    assert_eq!(s["users"]["total"], 1);
    assert_eq!(s["users"]["active"], 1);
    let pools = s["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 6, "{s:#}");
    for p in pools {
        for field in ["licence", "term", "total", "in_use", "available", "pending"] {
            assert!(!p[field].is_null(), "pool without {field}: {p}");
        }
        assert_eq!(p["in_use"], 0);
        assert_eq!(p["pending"], 0);
        assert_eq!(p["available"], p["total"]);
    }
    assert_eq!(pool(&s, "Jobs User", "contracted")["total"], 25);
    assert_eq!(pool(&s, "Jobs User", "monthly")["total"], 5);
    assert_eq!(pool(&s, "Jobs User", "daily")["total"], 4);
    assert_eq!(pool(&s, "Sales Support", "contracted")["total"], 3);

    // The login user is the Owner/manager.
    let owner = login(&d);
    let me = user(&d, &owner).expect("the owner is a user");
    assert_eq!(me["role"], "Owner/manager");
    assert_eq!(me["state"], "active");

    let text = ok(&d, &["status"]);
    assert!(text.contains("[DEMO]"), "{text}");
    assert!(text.contains("NW-000123"), "{text}");
    assert!(text.contains("Jobs User"), "{text}");
    assert_eq!(
        event_names(&d).first().map(String::as_str),
        Some("Store created")
    );
    assert_verifies(&d);
}

#[test]
fn status_state_follows_the_licence_expiry() {
    let expiring = (today() + chrono::Days::new(10)).to_string();
    let grace = (today() - chrono::Days::new(3)).to_string();
    let ended = (today() - chrono::Days::new(40)).to_string();
    for (date, state) in [(&expiring, "expiring"), (&grace, "grace")] {
        let d = Dir::new();
        d.spec("s.toml", |s| {
            let e = s
                .get_mut("expiry")
                .and_then(toml::Value::as_table_mut)
                .unwrap();
            e.insert("date".into(), toml::Value::String(date.clone()));
        });
        d.issue_demo("s.toml", "s.lic");
        d.cmd(&["--store", STORE, "init", "--licence", "s.lic"])
            .assert()
            .success();
        let s = d.st_json(&["status", "--json"]);
        assert_eq!(s["state"], state, "{s:#}");
        assert_eq!(s["expires"], date.as_str());
    }
    // No expiry at all: valid, and nothing expires.
    let d = Dir::new();
    d.spec("s.toml", |s| {
        s.remove("expiry");
    });
    d.issue_demo("s.toml", "s.lic");
    d.cmd(&["--store", STORE, "init", "--licence", "s.lic"])
        .assert()
        .success();
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(s["state"], "valid");
    assert!(s["expires"].is_null(), "{s:#}");

    // A terminated licence does not start a store.
    let d = Dir::new();
    d.spec("s.toml", |s| {
        let e = s
            .get_mut("expiry")
            .and_then(toml::Value::as_table_mut)
            .unwrap();
        e.insert("date".into(), toml::Value::String(ended.clone()));
    });
    d.issue_demo("s.toml", "s.lic");
    let out = d
        .cmd(&["--store", STORE, "init", "--licence", "s.lic"])
        .output()
        .unwrap();
    assert_refused(&out, &["terminated"]);
    assert!(!d.path(STORE).join("db").exists());
}

#[test]
fn users_are_added_changed_listed_deactivated_activated_and_deleted() {
    let d = Dir::new();
    d.site();
    let owner = login(&d);
    let out = ok(
        &d,
        &[
            "users",
            "add",
            "bob",
            "--role",
            "engineer",
            "--licence",
            "Jobs User",
            "--term",
            "monthly",
            "--email",
            "bob@example.com",
        ],
    );
    assert!(out.contains("added bob as Engineer"), "{out}");
    let bob = user(&d, "bob").unwrap();
    assert_eq!(bob["role"], "Engineer");
    assert_eq!(bob["licence"], "Jobs User (monthly)");
    assert_eq!(bob["term"], "monthly");
    assert_eq!(bob["email"], "bob@example.com");
    assert_eq!(bob["state"], "active");
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(pool(&s, "Jobs User", "monthly")["in_use"], 1);
    assert_eq!(pool(&s, "Jobs User", "monthly")["available"], 4);
    assert_eq!(s["users"]["total"], 2);

    // A new term moves the seat; a role and an add-on change with it.
    ok(&d, &["users", "set", "bob", "--term", "contracted"]);
    ok(
        &d,
        &[
            "users",
            "set",
            "bob",
            "--role",
            "senior engineer",
            "--add-on",
            "outlook connector",
        ],
    );
    let bob = user(&d, "bob").unwrap();
    assert_eq!(bob["role"], "Senior engineer");
    assert_eq!(bob["licence"], "Jobs User (contracted)");
    assert_eq!(bob["add_ons"], serde_json::json!(["Outlook connector"]));
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(pool(&s, "Jobs User", "monthly")["in_use"], 0);
    assert_eq!(pool(&s, "Jobs User", "contracted")["in_use"], 1);

    ok(
        &d,
        &[
            "users",
            "add",
            "sue",
            "--role",
            "sales support",
            "--licence",
            "Sales Support",
        ],
    );
    // Filters.
    let list = d.st_json(&["users", "list", "--json", "--licence", "Sales Support"]);
    let names: Vec<_> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, ["sue"]);
    let list = d.st_json(&["users", "list", "--json", "--term", "contracted"]);
    assert_eq!(list["users"].as_array().unwrap().len(), 2, "{list:#}");
    let list = d.st_json(&["users", "list", "--json", "--search", "example.com"]);
    let names: Vec<_> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, ["bob"]);
    // Pages.
    let page = d.st_json(&["users", "list", "--json", "--limit", "1"]);
    let first = page["users"][0]["name"].as_str().unwrap().to_string();
    let next = page["next"].as_str().expect("a next page").to_string();
    let page2 = d.st_json(&["users", "list", "--json", "--limit", "10", "--after", &next]);
    assert!(
        page2["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["name"] != first.as_str()),
        "{page2:#}"
    );
    let text = ok(&d, &["users", "list"]);
    assert!(
        text.contains("bob") && text.contains("Senior engineer"),
        "{text}"
    );

    // Deactivate frees the seat; check refuses; activate takes it again.
    ok(&d, &["check", "bob"]);
    ok(&d, &["users", "deactivate", "bob"]);
    assert_eq!(user(&d, "bob").unwrap()["state"], "inactive");
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(pool(&s, "Jobs User", "contracted")["in_use"], 0);
    assert_eq!(s["users"]["active"], 2);
    let out = run(&d, &["check", "bob"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("inactive"), "{}", stdout(&out));
    ok(&d, &["users", "activate", "bob"]);
    assert_eq!(user(&d, "bob").unwrap()["state"], "active");
    ok(&d, &["check", "bob"]);

    // Delete: gone from the list, the seat and add-on are free, the name stays reserved.
    let out = ok(&d, &["users", "delete", "bob"]);
    assert!(out.contains("stays reserved"), "{out}");
    let list = d.st_json(&["users", "list", "--json"]);
    assert!(
        list["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["name"] != "bob")
    );
    assert_eq!(user(&d, "bob").unwrap()["state"], "deleted");
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(pool(&s, "Jobs User", "contracted")["in_use"], 0);
    assert_eq!(s["users"]["total"], 2);
    assert_eq!(run(&d, &["check", "bob"]).status.code(), Some(1));

    let names = event_names(&d);
    for e in [
        "User added",
        "User changed",
        "User deactivated",
        "User activated",
        "User deleted",
    ] {
        assert!(names.iter().any(|n| n == e), "no {e:?} in {names:?}");
    }
    let events = d.st_json(&["audit", "--json", "--limit", "1"]);
    assert_eq!(events[0]["event"], "User deleted");
    assert_eq!(events[0]["activated_by"], owner.as_str());
    assert_eq!(events[0]["type"], "user");
    assert_verifies(&d);
}

#[test]
fn role_licence_and_term_names_are_accepted_as_an_administrator_writes_them() {
    let d = Dir::new();
    d.site();
    let cases: &[(&str, &[&str], &str, Option<&str>)] = &[
        ("a1", &["--role", "engineer"], "Engineer", None),
        ("a2", &["--role", "Owner/manager"], "Owner/manager", None),
        ("a3", &["--role", "OWNER/MANAGER"], "Owner/manager", None),
        ("a4", &["--role", "Office Staff"], "Office staff", None),
        (
            "a5",
            &[
                "--role",
                "engineer with diary",
                "--licence",
                "JOBS USER",
                "--term",
                "Monthly",
            ],
            "Engineer with diary",
            Some("Jobs User (monthly)"),
        ),
        (
            "a6",
            &[
                "--role",
                "Financial office staff",
                "--licence",
                "user",
                "--term",
                "CONTRACTED",
            ],
            "Financial office staff",
            Some("Jobs User (contracted)"),
        ),
        (
            "a7",
            &[
                "--role",
                "SALES PERSON",
                "--licence",
                "sales person",
                "--term",
                "monthly",
            ],
            "Sales person",
            Some("Sales Person (monthly)"),
        ),
        (
            "a8",
            &["--role", "sales support", "--licence", "Sales support"],
            "Sales support",
            Some("Sales Support (contracted)"),
        ),
        (
            "a9",
            &[
                "--role",
                "Senior Engineer",
                "--licence",
                "Jobs user",
                "--term",
                "DAILY",
            ],
            "Senior engineer",
            Some("Jobs User (daily)"),
        ),
    ];
    for (name, args, role, licence) in cases {
        let mut all = vec!["users", "add", name];
        all.extend_from_slice(args);
        ok(&d, &all);
        let u = user(&d, name).unwrap();
        assert_eq!(u["role"], *role, "{args:?}");
        assert_eq!(u["licence"].as_str(), *licence, "{args:?}");
    }
    ok(
        &d,
        &[
            "users",
            "set",
            "a1",
            "--role",
            "SENIOR ENGINEER",
            "--licence",
            "jobs USER",
            "--term",
            "Contracted",
        ],
    );
    let a1 = user(&d, "a1").unwrap();
    assert_eq!(a1["role"], "Senior engineer");
    assert_eq!(a1["licence"], "Jobs User (contracted)");
    let list = d.st_json(&[
        "users",
        "list",
        "--json",
        "--licence",
        "jobs user",
        "--term",
        "MONTHLY",
    ]);
    let names: Vec<_> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].clone())
        .collect();
    assert_eq!(names, ["a5"]);
    assert_verifies(&d);
}

#[test]
fn over_allocation_is_shown_and_check_allows_it_within_the_grace() {
    let d = Dir::new();
    d.site();
    for i in 1..=5 {
        let name = format!("m{i}");
        let out = add_user(&d, &name, "engineer", "Jobs User", "monthly");
        assert!(!out.contains("over-allocated"), "{out}");
    }
    let out = add_user(&d, "m6", "engineer", "Jobs User", "monthly");
    assert!(out.contains("over-allocated"), "{out}");
    let s = d.st_json(&["status", "--json"]);
    let p = pool(&s, "Jobs User", "monthly");
    assert_eq!(p["in_use"], 6);
    assert_eq!(p["available"], 0);
    assert_eq!(p["over_allocated"], 1);
    assert_eq!(s["users"]["over_allocated"], 1);
    let m6 = user(&d, "m6").unwrap();
    assert!(!m6["over_allocated_until"].is_null(), "{m6}");
    let c = d.st_json(&["check", "m6", "--json"]);
    assert_eq!(c["allowed"], true);
    assert!(c["warnings"].to_string().contains("over-allocated"), "{c}");
    // The grace has not ended: tick has nothing to do.
    let t = d.st_json(&["tick", "--json"]);
    assert_eq!(t["deactivated"], serde_json::json!([]));
    assert!(ok(&d, &["tick"]).contains("nothing due"));
    // A freed seat resolves it.
    ok(&d, &["users", "deactivate", "m1"]);
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(s["users"]["over_allocated"], 0);
    assert_eq!(pool(&s, "Jobs User", "monthly")["in_use"], 5);
    assert!(user(&d, "m6").unwrap()["over_allocated_until"].is_null());
    let names = event_names(&d);
    assert!(
        names.iter().any(|n| n == "User over-allocated"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "Over-allocation resolved"),
        "{names:?}"
    );
    assert_verifies(&d);
}

#[test]
fn check_answers_with_its_exit_code() {
    let d = Dir::new();
    d.site();
    let owner = login(&d);
    add_user(&d, "worker", "engineer", "Jobs User", "contracted");
    ok(&d, &["users", "add", "seatless", "--role", "engineer"]);
    let yes = run(&d, &["check", "worker"]);
    assert_eq!(yes.status.code(), Some(0));
    assert!(stdout(&yes).starts_with("allowed"), "{}", stdout(&yes));
    let c = d.st_json(&["check", "worker", "--json"]);
    assert_eq!(c["allowed"], true);
    assert_eq!(c["seat"], "Jobs User (contracted)");
    // The Owner/manager may always work, to administer.
    assert_eq!(run(&d, &["check", &owner]).status.code(), Some(0));
    for who in ["seatless", "nobody"] {
        let no = run(&d, &["check", who]);
        assert_eq!(no.status.code(), Some(1), "{who}");
        assert!(stdout(&no).starts_with("refused"), "{}", stdout(&no));
    }
    let c = run(&d, &["check", "nobody", "--json"]);
    assert_eq!(c.status.code(), Some(1));
    let c: Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(c["allowed"], false);
}

#[test]
fn usage_is_recorded_once_per_user_day_and_against_the_thresholds() {
    let d = Dir::new();
    d.site();
    add_user(&d, "day", "engineer", "Jobs User", "daily");
    add_user(&d, "month", "engineer", "Jobs User", "monthly");
    let r = d.st_json(&["usage", "record", "day", "--kind", "login", "--json"]);
    assert_eq!(r["charged"], true, "{r}");
    assert_eq!(r["day"], today().to_string());
    let r = d.st_json(&[
        "usage",
        "record",
        "day",
        "--kind",
        "diary-actioned",
        "--json",
    ]);
    assert_eq!(r["charged"], false, "one charge per user-day: {r}");
    // A diary event booked for tomorrow is charged for tomorrow (seed 000);
    // a day before the user was activated is refused.
    let tomorrow = (today() + chrono::Days::new(1)).to_string();
    let yesterday = (today() - chrono::Days::new(1)).to_string();
    let out = run(
        &d,
        &[
            "usage", "record", "day", "--kind", "login", "--day", &yesterday,
        ],
    );
    assert_refused(&out, &["before the user was activated"]);
    let r = d.st_json(&[
        "usage",
        "record",
        "day",
        "--kind",
        "diary-booked",
        "--day",
        &tomorrow,
        "--json",
    ]);
    assert_eq!(r["charged"], true, "{r}");
    let r = d.st_json(&["usage", "record", "month", "--kind", "login", "--json"]);
    assert_eq!(r["charged"], false, "{r}");
    let text = ok(
        &d,
        &[
            "usage",
            "record",
            "day",
            "--kind",
            "diary-booked",
            "--day",
            &tomorrow,
        ],
    );
    assert!(text.contains("already charged"), "{text}");

    let out = ok(&d, &["usage", "storage", "--bytes", "12500000000"]);
    assert!(out.contains("12.50 GB"), "{out}");
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(s["storage_used_bytes"], 12_500_000_000u64);
    assert_eq!(
        s["storage_allowance_gb"],
        25 * 20 + 5 * 20 + 6 * 50 + 2 * 50 + 3 * 50
    );

    ok(&d, &["usage", "metered", "emails-sent", "--count", "10"]);
    let out = ok(&d, &["usage", "metered", "EMAILS-SENT", "--count", "15"]);
    assert!(out.contains("25 this month"), "{out}");
    let s = d.st_json(&["status", "--json"]);
    let emails = s["metered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "emails-sent")
        .unwrap();
    assert_eq!(emails["used"], 25);
    assert_eq!(emails["excess"], 0);
    // Past the threshold: an event, once, and the excess shown.
    let threshold = emails["threshold"].as_u64().unwrap();
    ok(
        &d,
        &[
            "usage",
            "metered",
            "emails-sent",
            "--count",
            &threshold.to_string(),
        ],
    );
    ok(&d, &["usage", "metered", "emails-sent", "--count", "1"]);
    let s = d.st_json(&["status", "--json"]);
    let emails = s["metered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "emails-sent")
        .unwrap();
    assert_eq!(emails["excess"], 26);
    let names = event_names(&d);
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "Metered service over threshold")
            .count(),
        1,
        "{names:?}"
    );

    // Refusals: exit 1, named, nothing recorded.
    let before = d.snapshot();
    assert_refused(
        &run(&d, &["usage", "metered", "faxes", "--count", "1"]),
        &["faxes", "emails-sent"],
    );
    assert_refused(
        &run(&d, &["usage", "record", "ghost", "--kind", "login"]),
        &["ghost"],
    );
    let far = (today() + chrono::Days::new(400)).to_string();
    assert_refused(
        &run(
            &d,
            &["usage", "record", "day", "--kind", "login", "--day", &far],
        ),
        &["in the future"],
    );
    assert_refused(
        &run(
            &d,
            &[
                "usage",
                "record",
                "day",
                "--kind",
                "diary-booked",
                "--day",
                &far,
            ],
        ),
        &["92 days ahead"],
    );
    for count in ["0", "1000001", "18446744073709551615"] {
        assert_refused(
            &run(&d, &["usage", "metered", "emails-sent", "--count", count]),
            &["1 to 1000000"],
        );
    }
    assert_eq!(d.snapshot(), before);
    ok(&d, &["users", "deactivate", "day"]);
    let before = d.snapshot();
    assert_refused(
        &run(&d, &["usage", "record", "day", "--kind", "login"]),
        &["inactive"],
    );
    assert_eq!(d.snapshot(), before);
    // A usage error is exit 2.
    assert_eq!(
        run(&d, &["usage", "record", "day", "--kind", "lunch"])
            .status
            .code(),
        Some(2)
    );
    assert_verifies(&d);
}

#[test]
fn audit_prints_the_action_log_and_verify_checks_it() {
    let d = Dir::new();
    d.site();
    let owner = login(&d);
    ok(&d, &["users", "add", "bob", "--role", "engineer"]);
    let events = d.st_json(&["audit", "--json"]);
    let events = events.as_array().unwrap();
    // Newest first: the store, its owner, its licence, then bob.
    let names: Vec<_> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "User added",
            "Licence imported",
            "User added",
            "Store created"
        ],
        "{events:#?}"
    );
    assert_eq!(events[0]["seq"], 4);
    assert!(events[0]["message"].as_str().unwrap().contains("bob"));
    for e in events {
        for field in [
            "seq",
            "event",
            "status",
            "message",
            "description",
            "activated",
            "activated_by",
            "finished",
            "type",
        ] {
            assert!(e.get(field).is_some(), "event without {field}: {e}");
        }
    }
    assert_eq!(events[0]["activated_by"], owner.as_str());
    assert_eq!(events[0]["status"], "completed");
    let one = d.st_json(&["audit", "--json", "--limit", "1"]);
    assert_eq!(one.as_array().unwrap().len(), 1);
    let text = ok(&d, &["audit"]);
    assert!(
        text.contains("EVENT") && text.contains("Store created"),
        "{text}"
    );
    let text = ok(&d, &["audit", "verify"]);
    assert!(text.starts_with("ok: 4 events"), "{text}");
    let v = d.st_json(&["audit", "--json", "verify"]);
    assert_eq!(v["events"], 4);
    assert_eq!(v["problems"], serde_json::json!([]));
}

#[test]
fn a_newer_licence_replaces_the_one_in_force_and_the_same_file_again_changes_nothing() {
    let d = Dir::new();
    d.site();
    add_user(&d, "bob", "engineer", "Jobs User", "monthly");
    d.issue_sequence(3, "seq3.lic", |s| {
        for p in s
            .get_mut("seat_pools")
            .and_then(toml::Value::as_array_mut)
            .unwrap()
        {
            let p = p.as_table_mut().unwrap();
            if p["licence"].as_str() == Some("User") && p["term"].as_str() == Some("monthly") {
                p.insert("count".into(), toml::Value::Integer(8));
            }
        }
    });
    let out = ok(&d, &["import", "seq3.lic"]);
    assert!(out.contains("imported licence sequence 3"), "{out}");
    assert!(out.contains("replacing sequence 2"), "{out}");
    let s = d.st_json(&["status", "--json"]);
    assert_eq!(s["sequence"], 3);
    let p = pool(&s, "Jobs User", "monthly");
    assert_eq!(p["total"], 8);
    assert_eq!(p["in_use"], 1);
    assert_eq!(p["available"], 7);
    let names = event_names(&d);
    assert_eq!(names.last().map(String::as_str), Some("Licence imported"));

    let before = d.snapshot();
    let out = ok(&d, &["import", "seq3.lic"]);
    assert!(out.contains("already imported"), "{out}");
    assert_eq!(d.snapshot(), before);
    assert_verifies(&d);
}

#[test]
fn export_contracts_writes_a_zip_of_every_licence_as_signed() {
    let d = Dir::new();
    d.site();
    d.issue_sequence(3, "seq3.lic", |_| {});
    ok(&d, &["import", "seq3.lic"]);
    let out = ok(&d, &["export", "contracts", "--out", "contracts.zip"]);
    assert!(out.contains("wrote 2 signed licences"), "{out}");
    let bytes = std::fs::read(d.path("contracts.zip")).unwrap();
    assert!(bytes.starts_with(b"PK"), "not a zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let lics: Vec<&String> = names.iter().filter(|n| n.ends_with(".lic")).collect();
    let txts: Vec<&String> = names.iter().filter(|n| n.ends_with(".txt")).collect();
    assert_eq!(lics.len(), 2, "{names:?}");
    assert!(txts.len() >= 2, "{names:?}");
    let mut found = Vec::new();
    for n in &lics {
        let mut text = String::new();
        zip.by_name(n).unwrap().read_to_string(&mut text).unwrap();
        found.push(text);
    }
    // As signed: byte for byte the files that were imported.
    assert!(found.contains(&d.read("site.lic")), "{names:?}");
    assert!(found.contains(&d.read("seq3.lic")), "{names:?}");
    // The exported file verifies on its own.
    let demo_pub = crate::util::repo("keys/demo/demo.pub");
    d.write("exported.lic", &found[0]);
    d.cmd(&[
        "verify",
        "exported.lic",
        "--trust",
        demo_pub.to_str().unwrap(),
    ])
    .assert()
    .success();

    // Beside each signed file, its summary as a PDF: well formed (qpdf
    // --check), naming the serial and the issuer, dated.
    for lic in &lics {
        let pdf_name = lic.replace(".lic", ".pdf");
        let mut pdf = Vec::new();
        zip.by_name(&pdf_name)
            .unwrap_or_else(|e| panic!("no {pdf_name} in {names:?}: {e}"))
            .read_to_end(&mut pdf)
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-1."), "{pdf_name}");
        let file = pdf_name.replace('/', "-");
        d.write(&file, &pdf);
        let check = std::process::Command::new("qpdf")
            .arg("--check")
            .arg(d.path(&file))
            .output()
            .unwrap_or_else(|e| crate::util::cannot_run("qpdf", "qpdf", &e));
        assert!(
            check.status.success(),
            "qpdf --check {pdf_name}: {}{}",
            stdout(&check),
            stderr(&check)
        );
        assert!(
            stdout(&check).contains("No syntax or stream encoding errors"),
            "{}",
            stdout(&check)
        );
        // The content streams are uncompressed: the text is in the file as set.
        let text = String::from_utf8_lossy(&pdf);
        for want in [
            "(Serial: NW-000123)",
            "(Issuer: Tessera DEMO root  key ",
            "(Issued: 2026-01-05 10:00 UTC)",
            "(Imported: ",
            "(Contract: 2026-01-01 to 2026-12-31, renews automatically)",
            "(Expires: 2099-01-31",
        ] {
            assert!(text.contains(want), "{pdf_name} lacks {want}");
        }
    }
    let seq3 = names
        .iter()
        .find(|n| n.ends_with("NW-000123-0003.pdf"))
        .unwrap_or_else(|| panic!("{names:?}"));
    let mut pdf = Vec::new();
    zip.by_name(seq3).unwrap().read_to_end(&mut pdf).unwrap();
    assert!(String::from_utf8_lossy(&pdf).contains("(Licence NW-000123-0003 sequence 3 for"));

    // Never overwritten.
    let again = run(&d, &["export", "contracts", "--out", "contracts.zip"]);
    assert_refused(&again, &["contracts.zip", "exists"]);
    assert_eq!(std::fs::read(d.path("contracts.zip")).unwrap(), bytes);
}

/// BUG: `export contracts` onto an existing file says "a store already exists
/// at contracts.zip": the refusal reuses `StoreError::AlreadyExists`, whose
/// message is about stores. It should say the file exists and is never overwritten.
#[test]
fn export_contracts_onto_an_existing_file_names_the_file_not_a_store() {
    let d = Dir::new();
    d.site();
    d.write("contracts.zip", "keep me");
    let out = run(&d, &["export", "contracts", "--out", "contracts.zip"]);
    let err = assert_refused(&out, &["contracts.zip", "never overwritten"]);
    assert!(
        !err.contains("store already exists"),
        "misleading message: {err}"
    );
    assert_eq!(d.read("contracts.zip"), "keep me");
}

#[test]
fn roles_csv_is_the_permission_matrix_inherited_up_each_ladder() {
    let d = Dir::new();
    let out = d.cmd(&["roles", "--csv"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    // RFC 4180: every record ends in CRLF, and no bare LF stands alone.
    assert!(text.ends_with("\r\n"), "{text:?}");
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    let records = parse_csv(&text);
    assert_eq!(
        records[0],
        [
            "ladder", "level", "role", "area", "feature", "read", "write", "update", "delete"
        ]
    );
    // role -> feature -> [r, w, u, d]
    let mut m: std::collections::BTreeMap<String, std::collections::BTreeMap<String, [bool; 4]>> =
        Default::default();
    for f in &records[1..] {
        assert_eq!(f.len(), 9, "{f:?}");
        let yes = |s: &str| match s {
            "yes" => true,
            "no" => false,
            other => panic!("{other:?} in {f:?}"),
        };
        m.entry(f[2].to_string()).or_default().insert(
            f[4].to_string(),
            [yes(&f[5]), yes(&f[6]), yes(&f[7]), yes(&f[8])],
        );
    }
    // Twelve roles on the ladders, and the product's service account with none.
    assert_eq!(m.len(), 13, "{:?}", m.keys());
    let jobs = [
        "Engineer",
        "Engineer with diary",
        "Engineer with invoice",
        "Senior engineer",
        "Office staff",
        "Financial office staff",
        "Owner/manager",
    ];
    let sales = [
        "Sales support",
        "Sales person",
        "Senior sales person",
        "Sales manager",
        "Sales director",
        "Owner/manager",
    ];
    for ladder in [&jobs[..], &sales[..]] {
        for pair in ladder.windows(2) {
            let (low, high) = (&m[pair[0]], &m[pair[1]]);
            for (feature, l) in low {
                let h = high[feature];
                for i in 0..4 {
                    assert!(
                        !l[i] || h[i],
                        "{} may do what {} may not on {feature}",
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
    }
    // Only Owner/manager and Financial office staff see licences.
    for (role, features) in &m {
        let sees = features["Licences"][0];
        assert_eq!(
            sees,
            role == "Owner/manager" || role == "Financial office staff",
            "{role}"
        );
    }
    let table = d.cmd(&["roles"]).output().unwrap();
    assert!(table.status.success());
    assert!(stdout(&table).contains("Owner/manager"));
    // The same matrices as data: each ladder's roles bottom-up, each row's
    // rights a column per role.
    let json = d.cmd(&["roles", "--json"]).output().unwrap();
    assert!(json.status.success());
    let ladders: Value = serde_json::from_slice(&json.stdout).unwrap();
    let ladders = ladders.as_array().unwrap();
    assert_eq!(ladders[0]["ladder"], "Jobs");
    assert_eq!(ladders[0]["roles"].as_array().unwrap().len(), 7);
    assert_eq!(ladders[1]["roles"][0], "SalesSupport");
    for l in ladders {
        let width = l["roles"].as_array().unwrap().len();
        for row in l["rows"].as_array().unwrap() {
            assert_eq!(row["access"].as_array().unwrap().len(), width, "{row}");
        }
    }
}

/// Parses RFC 4180 CSV: CRLF record ends, fields in double quotes may hold
/// commas, line breaks and doubled double quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => {
                assert!(c != '"' && c != '\r' && c != '\n', "bare {c:?} in {text:?}");
                field.push(c);
            }
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "unterminated: {text:?}"
    );
    records
}

#[test]
fn demo_makes_a_store_that_looks_like_a_real_site() {
    let d = Dir::new();
    let out = d
        .cmd(&["--store", "dm", "demo", "--users", "30"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("DEMO"), "{}", stdout(&out));
    let status = |args: &[&str]| {
        let out = d
            .cmd(&[&["--store", "dm"], args].concat())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let s: Value = serde_json::from_slice(&status(&["status", "--json"]).stdout).unwrap();
    assert_eq!(s["demo"], true);
    assert!(s["users"]["total"].as_u64().unwrap() >= 31, "{s:#}");
    assert!(s["users"]["over_allocated"].as_u64().unwrap() >= 1, "{s:#}");
    assert!(
        s["pools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["term"] == "daily")
    );
    let list: Value =
        serde_json::from_slice(&status(&["users", "list", "--json", "--limit", "1000"]).stdout)
            .unwrap();
    let roles: std::collections::BTreeSet<_> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap().to_string())
        .collect();
    assert!(roles.len() >= 5, "{roles:?}");
    let v = status(&["audit", "--json", "verify"]);
    let v: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert!(v["events"].as_u64().unwrap() > 10, "{v}");
    // A store is never overwritten by another demo.
    let again = d
        .cmd(&["--store", "dm", "demo", "--users", "3"])
        .output()
        .unwrap();
    assert_refused(&again, &["already exists"]);
}

/// Licence files a store must refuse, each named by what is wrong with it.
fn bad_licences(d: &Dir) {
    d.spec("other.toml", |s| {
        s.insert("serial".into(), toml::Value::String("NW-999999".into()));
        s.insert(
            "licence_id".into(),
            toml::Value::String("NW-999999-0002".into()),
        );
    });
    d.issue_demo("other.toml", "other-serial.lic");
    d.issue_sequence(1, "older.lic", |_| {});
    // A second licence with the site's sequence: the vendor's ledger refuses
    // to issue it, so it comes from another vendor ledger (a forger's, say),
    // and the site must refuse it on its own.
    d.spec("same-sequence.lic.toml", |s| {
        s.insert("sequence".into(), toml::Value::Integer(2));
        s.insert(
            "licence_id".into(),
            toml::Value::String("NW-000123-0002".into()),
        );
        s.insert("overage_grace_days".into(), toml::Value::Integer(9));
    });
    let key = crate::util::repo("keys/demo/demo.key");
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        key.to_str().expect("utf-8 path"),
        "same-sequence.lic.toml",
        "--out",
        "same-sequence.lic",
        "--ledger",
        "elsewhere.sqlite",
    ])
    .assert()
    .success();
    d.issue_sequence(3, "terminated.lic", |s| {
        let e = s
            .get_mut("expiry")
            .and_then(toml::Value::as_table_mut)
            .unwrap();
        e.insert("date".into(), toml::Value::String("2020-01-31".into()));
    });
    d.keygen("own");
    d.spec("own.toml", |_| {});
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        "own.key",
        "own.toml",
        "--out",
        "untrusted.lic",
        // Someone else's key, someone else's ledger.
        "--ledger",
        "own.sqlite",
    ])
    .assert()
    .success();
    // One base64 character changed in the middle of the signed body.
    let text = d.read("site.lic");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let body: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].len() >= 60 && !lines[i].starts_with('-') && !lines[i].contains(": "))
        .collect();
    let i = body[body.len() / 2];
    let c = if lines[i].as_bytes()[30] == b'A' {
        "B"
    } else {
        "A"
    };
    lines[i].replace_range(30..31, c);
    d.write("tampered.lic", lines.join("\n") + "\n");
    d.write(
        "header.lic",
        text.replace("Licensee: Northwind", "Licensee: Southwind"),
    );
    assert_ne!(d.read("header.lic"), text);
    d.write("not-a-licence.lic", "hello\n");
    // Daily seats on the first tier (Startup): seed 000 offers them only
    // from Go Paperless up. A newer sequence, so only the plan is wrong.
    d.issue_sequence(4, "startup-daily.lic", |s| {
        let plan = s
            .get_mut("plan")
            .and_then(toml::Value::as_table_mut)
            .unwrap();
        plan.insert("name".into(), toml::Value::String("Startup".into()));
        plan.insert("tier".into(), toml::Value::Integer(1));
    });
}

#[test]
fn every_refusal_exits_1_names_the_problem_and_leaves_the_store_unchanged() {
    let d = Dir::new();
    d.site();
    let owner = login(&d);
    bad_licences(&d);
    add_user(&d, "bob", "engineer", "Jobs User", "monthly");
    add_user(&d, "sam", "sales person", "Sales Person", "monthly");
    ok(&d, &["users", "add", "gone", "--role", "engineer"]);
    ok(&d, &["users", "delete", "gone"]);

    let cases: &[(&[&str], &[&str])] = &[
        // Licences.
        (
            &["import", "other-serial.lic"],
            &["serial", "NW-999999", "unchanged"],
        ),
        (
            &["import", "older.lic"],
            &["sequence 1", "older", "unchanged"],
        ),
        (
            &["import", "same-sequence.lic"],
            &["sequence 2", "already in force"],
        ),
        (&["import", "terminated.lic"], &["terminated"]),
        (&["import", "tampered.lic"], &["signature"]),
        (&["import", "header.lic"], &["header", "Southwind"]),
        (&["import", "untrusted.lic"], &["key", "trusted"]),
        (&["import", "not-a-licence.lic"], &["licence"]),
        (
            &["import", "startup-daily.lic"],
            &[
                "daily seats",
                "Startup plan (tier 1)",
                "Jobs User",
                "ask the vendor",
            ],
        ),
        (&["import", "missing.lic"], &["missing.lic", "no such file"]),
        // Usernames: unique, never reused, whatever the case.
        (
            &["users", "add", "bob", "--role", "engineer"],
            &["bob", "taken"],
        ),
        (
            &["users", "add", "BOB", "--role", "engineer"],
            &["BOB", "differs only in case"],
        ),
        (
            &["users", "add", "gone", "--role", "engineer"],
            &["gone", "deleted", "never reused"],
        ),
        (
            &["users", "add", "Gone", "--role", "engineer"],
            &["gone", "never reused"],
        ),
        (
            &["users", "add", "bad name", "--role", "engineer"],
            &["bad name", "not valid"],
        ),
        // Unknown role, licence, term, add-on, user.
        (
            &["users", "add", "carl", "--role", "wizard"],
            &["unknown role", "wizard"],
        ),
        (
            &["users", "set", "bob", "--role", "wizard"],
            &["unknown role", "wizard"],
        ),
        (
            &add_user_args("carl", "engineer", "Gold User", "monthly"),
            &["Gold User", "no licence"],
        ),
        (
            &["users", "set", "bob", "--licence", "Gold User"],
            &["Gold User", "no licence"],
        ),
        (
            &add_user_args("carl", "engineer", "Jobs User", "weekly"),
            &["weekly", "unknown term"],
        ),
        (
            &["users", "set", "bob", "--add-on", "Teleporter"],
            &["Teleporter", "add-on"],
        ),
        (&["users", "delete", "nobody"], &["nobody"]),
        (&["users", "deactivate", "gone"], &["gone"]),
        // A term the licence does not offer: Sales Person has no daily seats.
        (
            &add_user_args("carl", "sales person", "Sales Person", "daily"),
            &["Sales Person", "daily", "not offered"],
        ),
        (
            &["users", "set", "sam", "--term", "daily"],
            &["Sales Person", "daily", "not offered"],
        ),
        (
            &add_user_args("carl", "sales support", "Sales Support", "monthly"),
            &["Sales Support", "monthly", "not offered"],
        ),
        // Other rules.
        (
            &[
                "users",
                "add",
                "carl",
                "--role",
                "engineer",
                "--licence",
                "Sales Support",
            ],
            &["Engineer", "Sales Support"],
        ),
        (
            &["users", "set", "bob", "--role", "sales person"],
            &["Sales person", "Jobs User"],
        ),
        (&["users", "activate", "bob"], &["bob", "already active"]),
        (
            &["users", "set", &owner, "--role", "engineer"],
            &["at least one active Owner/manager"],
        ),
        (
            &["users", "deactivate", &owner],
            &["at least one active Owner/manager"],
        ),
        (
            &["users", "delete", &owner],
            &["at least one active Owner/manager"],
        ),
        (
            &[
                "users",
                "add",
                "carl",
                "--role",
                "engineer",
                "--email",
                "not-an-address",
            ],
            &["not-an-address"],
        ),
        (
            &["export", "contracts", "--out", "no/such/dir/c.zip"],
            &["c.zip"],
        ),
    ];
    // Nothing below changes the store, so one picture serves every case.
    let before: Snapshot = d.snapshot();
    for (args, words) in cases {
        let out = run(&d, args);
        let err = assert_refused(&out, words);
        assert!(err.starts_with("tessera: "), "{err}");
        assert_eq!(d.snapshot(), before, "tessera {args:?} changed the store");
    }
    assert_verifies(&d);
}

/// The store as the library reads it, for when the login user may no longer read it.
fn lib_snapshot(d: &Dir) -> (Value, u64, Value) {
    let s = store::Store::open(&d.path(STORE), Arc::new(store::SystemClock)).unwrap();
    let mut status = serde_json::to_value(s.status().unwrap()).unwrap();
    status.as_object_mut().unwrap().remove("today");
    let report = s.audit_verify().unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let users = s
        .users_page(&store::views::UserQuery {
            limit: 100_000,
            include_deleted: true,
            ..Default::default()
        })
        .unwrap();
    (status, report.events, serde_json::to_value(users).unwrap())
}

#[test]
fn an_operator_without_the_right_role_is_refused() {
    let d = Dir::new();
    d.site();
    let me = login(&d);
    d.issue_sequence(3, "seq3.lic", |_| {});
    d.issue_sequence(4, "seq4.lic", |_| {});
    ok(&d, &["users", "add", "boss", "--role", "Owner/manager"]);
    // Another Owner/manager remains, so the login user may step down.
    ok(
        &d,
        &["users", "set", &me, "--role", "financial office staff"],
    );

    // Financial office staff change licences but not users or roles.
    ok(&d, &["import", "seq3.lic"]);
    let before = d.snapshot();
    for args in [
        &["users", "add", "x", "--role", "engineer"][..],
        &["users", "set", "boss", "--role", "engineer"],
        &["users", "deactivate", "boss"],
    ] {
        let out = run(&d, args);
        assert_refused(&out, &[&me, "may not", "only Owner/manager"]);
        assert_eq!(d.snapshot(), before, "{args:?}");
    }

    // The other owner makes the login user an engineer.
    {
        let s = store::Store::open(&d.path(STORE), Arc::new(store::SystemClock)).unwrap();
        s.as_user("boss")
            .set_user(
                &me,
                store::UserChange {
                    role: Some("engineer".into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let before = lib_snapshot(&d);
    for (args, words) in [
        (
            &["users", "add", "x", "--role", "engineer"][..],
            &["may not add users", "Engineer"][..],
        ),
        (&["import", "seq4.lic"], &["may not import", "Engineer"]),
        (
            &["users", "set", &me, "--role", "Owner/manager"],
            &["may not change users"],
        ),
        (&["users", "delete", "boss"], &["may not delete users"]),
        (&["status"], &["may not see licences"]),
        (&["audit"], &["may not see licences"]),
        (&["users", "list"], &["may not see licences"]),
        (
            &["export", "contracts", "--out", "c.zip"],
            &["may not see licences"],
        ),
    ] {
        let out = run(&d, args);
        assert_refused(&out, words);
        assert_eq!(lib_snapshot(&d), before, "{args:?}");
    }
    assert!(!d.path("c.zip").exists());
}

#[test]
fn a_store_in_use_is_refused_naming_who_holds_it() {
    let d = Dir::new();
    d.site();
    ok(&d, &["users", "add", "bob", "--role", "engineer"]);
    let before = d.snapshot();
    let me = login(&d);
    {
        let _held = store::Store::open(&d.path(STORE), Arc::new(store::SystemClock)).unwrap();
        let year = today().format("%Y").to_string();
        for args in [
            &["status"][..],
            &["status", "--json"],
            &["users", "add", "carl", "--role", "engineer"],
            &["audit", "verify"],
        ] {
            let out = run(&d, args);
            let err = assert_refused(
                &out,
                &[
                    "in use",
                    &format!("process {}", std::process::id()),
                    &format!("user {me}"),
                    "e2e",
                    &format!("since {year}-"),
                ],
            );
            if args.contains(&"--json") {
                // A program reads the stable code on standard output.
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["error"]["code"], "store_busy", "{v}");
            } else {
                assert!(out.stdout.is_empty(), "{args:?} printed {}", stdout(&out));
            }
            assert!(err.lines().count() == 1, "{err}");
        }
        // The product's check cannot answer: exit 3, not "may not work".
        let out = run(&d, &["check", "bob", "--json"]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["code"], "store_busy", "{v}");
        assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
        // The lock file removed while the store is held: a refused opener
        // neither takes the store nor writes its own name, and every refusal
        // still names the real holder.
        std::fs::remove_file(d.path(STORE).join("tessera.lock")).unwrap();
        for _ in 0..2 {
            let out = run(&d, &["audit", "verify"]);
            assert_refused(
                &out,
                &["in use", &format!("process {}", std::process::id()), "e2e"],
            );
        }
        assert!(
            !d.path(STORE).join("tessera.lock").exists(),
            "rewritten by a refused opener"
        );
        // Creating a store where one is in use is refused too, and breaks nothing.
        let out = d
            .cmd(&["--store", STORE, "init", "--licence", "site.lic"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    // Once it is free, everything is as it was.
    assert_eq!(d.snapshot(), before);
    assert!(user(&d, "carl").is_none());
    assert_verifies(&d);
}

#[test]
fn a_store_held_by_another_tessera_names_its_command() {
    let d = Dir::new();
    // A large demo holds its store for a while.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(d.path(""))
        .env_remove("TESSERA_STORE")
        .args(["--store", "big", "demo", "--users", "200000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(d.path("demo.err")).unwrap())
        .spawn()
        .unwrap();
    let lock = d.path("big/tessera.lock");
    let pid = format!("pid={}", child.id());
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&pid) && t.contains("since=")) {
        assert!(
            start.elapsed().as_secs() < 20,
            "the demo never took the lock"
        );
        assert!(child.try_wait().unwrap().is_none(), "the demo ended early");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let out = d.cmd(&["--store", "big", "status"]).output().unwrap();
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        still_running,
        "the demo finished before the second process asked: {}",
        std::fs::read_to_string(d.path("demo.err")).unwrap_or_default()
    );
    {
        assert_refused(
            &out,
            &[
                "in use",
                &format!("process {}", child.id()),
                "--store big demo --users 200000",
                "since ",
            ],
        );
    }
}

/// An installation key that others can read draws a warning from every
/// command that opens the store, as docs/SECURITY.md promises; the command
/// still does its work.
#[test]
fn an_installation_key_others_can_read_draws_a_warning() {
    let d = Dir::new();
    d.site();
    let key = d.path(STORE).join("installation.key");
    let quiet = run(&d, &["status"]);
    assert!(
        !stderr(&quiet).contains("installation key"),
        "{}",
        stderr(&quiet)
    );
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    for args in [
        &["status"][..],
        &[
            "request",
            "seats",
            "--licence",
            "Jobs User",
            "--term",
            "monthly",
            "--add",
            "1",
            "--out",
            "r.lic",
        ],
    ] {
        let out = run(&d, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("installation key") && stderr(&out).contains("600"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// `export contracts` writes through an unpredictable temporary file: a link
/// planted where the zip goes is refused (never followed), nothing is left
/// beside it, and the zip is written whole.
#[test]
fn export_contracts_follows_no_planted_link_and_leaves_nothing_behind() {
    let d = Dir::new();
    d.site();
    d.write("victim.txt", "untouched");
    std::os::unix::fs::symlink("victim.txt", d.path("planted.zip")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.path("dangling.zip")).unwrap();
    for out in ["planted.zip", "dangling.zip"] {
        let refused = run(&d, &["export", "contracts", "--out", out]);
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    }
    assert_eq!(d.read("victim.txt"), "untouched");
    let out = run(&d, &["export", "contracts", "--out", "contracts.zip"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let zip = std::fs::read(d.path("contracts.zip")).unwrap();
    assert!(zip.starts_with(b"PK"), "a zip");
    let leftovers: Vec<String> = std::fs::read_dir(d.path(""))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn users_show_gives_one_users_detail() {
    let d = Dir::new();
    d.site();
    add_user(&d, "dee", "engineer", "Jobs User", "daily");
    ok(
        &d,
        &[
            "users",
            "set",
            "dee",
            "--email",
            "dee@northwind.example",
            "--add-on",
            "Outlook connector",
        ],
    );
    ok(&d, &["usage", "record", "dee", "--kind", "login"]);
    let v = d.st_json(&["users", "show", "dee", "--json"]);
    assert_eq!(v["name"], "dee");
    assert_eq!(v["email"], "dee@northwind.example");
    assert_eq!(v["role_name"], "Engineer");
    assert_eq!(v["licence"], "Jobs User");
    assert_eq!(v["term"], "daily");
    assert_eq!(v["add_ons"][0], "Outlook connector");
    assert_eq!(v["state"], "Active");
    assert!(v["over_allocation_deadline"].is_null());
    assert_eq!(v["charged_days"].as_array().unwrap().len(), 1, "{v}");
    let text = ok(&d, &["users", "show", "dee"]);
    assert!(text.contains("Jobs User (daily)"), "{text}");
    assert!(text.contains("Charged this month: 1 day ("), "{text}");
    let out = run(&d, &["users", "show", "nobody"]);
    assert_refused(&out, &["nobody"]);
}

/// `users list --sort` pages through every user in the column's order, and
/// `--state` / `--no-licence` keep what they say, each page counting them all.
#[test]
fn users_list_sorts_by_a_column_and_pages_in_that_order() {
    let d = Dir::new();
    d.st(&["demo", "--users", "120", "--no-console"])
        .assert()
        .success();
    let all = d.st_json(&[
        "users", "list", "--json", "--limit", "1000", "--sort", "role",
    ]);
    let all: Vec<Value> = all["users"].as_array().expect("users").clone();
    assert!(all.len() > 100, "{} users", all.len());
    let rank = |r: &str| store::Role::ALL.iter().position(|x| x.name() == r);
    for w in all.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (ra, rb) = (
            rank(a["role"].as_str().expect("role")),
            rank(b["role"].as_str().expect("role")),
        );
        assert!(
            ra < rb || (ra == rb && a["name"].as_str() < b["name"].as_str()),
            "{a} before {b}"
        );
    }
    // Page by page, with the same --sort, gives the same list.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut args = vec!["users", "list", "--json", "--limit", "17", "--sort", "role"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let page = d.st_json(&args);
        assert_eq!(page["total"].as_u64(), Some(all.len() as u64));
        paged.extend(page["users"].as_array().expect("users").iter().cloned());
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let inactive = d.st_json(&[
        "users", "list", "--json", "--state", "inactive", "--limit", "1000",
    ]);
    let users = inactive["users"].as_array().expect("users");
    assert!(!users.is_empty());
    assert!(users.iter().all(|u| u["state"] == "inactive"));
    assert_eq!(inactive["total"].as_u64(), Some(users.len() as u64));
    let seatless = d.st_json(&["users", "list", "--json", "--no-licence", "--limit", "1000"]);
    let users = seatless["users"].as_array().expect("users");
    assert!(users.iter().all(|u| u["licence"].is_null()));
    // A column that is not one is refused, saying which are.
    let out = d
        .st(&["users", "list", "--sort", "colour"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::util::stderr(&out).contains("name, role, licence, state"),
        "{}",
        crate::util::stderr(&out)
    );
}
