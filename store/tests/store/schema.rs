//! The schema version: a store made by an earlier Tessera opens and is
//! migrated; one made by a newer Tessera is refused by name and version.

use std::path::Path;
use std::sync::Arc;

use store::{ApiExt as _, FixedClock, Store, StoreError};

use crate::common::at;

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the store made by Tessera before schema 2 (see fixtures/README.md).
fn fixture(dir: &Path) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1");
    let to = dir.join("store");
    copy_tree(&from, &to);
    to
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(at("2026-12-03T09:00:00Z")))
}

#[test]
fn a_store_made_by_the_earlier_tessera_opens_and_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    let s = Store::open(&path, clock()).unwrap();
    assert_eq!(s.schema_version().unwrap(), 4);
    let events = s.events(5, None).unwrap();
    assert_eq!(events[2].name, "Store migrated", "{events:?}");
    assert_eq!(events[2].message, "schema 1 -> 2");
    assert_eq!(events[1].message, "schema 2 -> 3");
    assert_eq!(events[0].message, "schema 3 -> 4");
    // The step to typed events carries the counters a replay starts from.
    match &events[1].action {
        Some(store::events::Action::StoreMigrated {
            checkpoint: Some(c),
            ..
        }) => assert!(c.users.total >= 20, "{c:?}"),
        other => panic!("no checkpoint: {other:?}"),
    }
    assert_eq!(events[1].version, 2);
    // The step to day counters counted every charged user-day kept before it.
    let history = s.history(store::history::MAX_DAYS).unwrap();
    let counted: u64 = history
        .daily
        .iter()
        .flat_map(|d| d.days.iter())
        .map(|p| p.charged)
        .sum();
    let mut kept = 0u64;
    let today = s.today().unwrap();
    let first = today - chrono::Duration::days(i64::from(store::history::MAX_DAYS) - 1);
    let mut month = licfile::YearMonth::of(first);
    while month.first_day() <= today {
        for (_, _, days) in s.daily_charges(month).unwrap() {
            kept += days.iter().filter(|d| **d >= first && **d <= today).count() as u64;
        }
        month = month.next();
    }
    assert_eq!(counted, kept, "{:?}", history.daily);
    // The events the earlier Tessera wrote are read as they were written.
    let first = s.event(1).unwrap();
    assert_eq!(first.version, 1);
    assert!(first.action.is_none());
    assert_eq!(first.name, "Store created");
    let audit = s.audit_verify().unwrap();
    assert!(audit.ok(), "{audit:?}");
    // What it held is all there, and it works as any store.
    let owner = s.as_user("root");
    assert!(owner.status().unwrap().users.total >= 20);
    assert_eq!(owner.outbox().unwrap().len(), 2);
    owner
        .add_user(store::NewUser {
            name: "fresh".into(),
            role: "engineer".into(),
            licence: Some("Jobs User".into()),
            term: Some("daily".into()),
            email: None,
        })
        .unwrap();
    drop(s);
    // Opened again: no second migration.
    let s = Store::open(&path, clock()).unwrap();
    let migrated = s
        .events(1000, None)
        .unwrap()
        .iter()
        .filter(|e| e.name == "Store migrated")
        .count();
    assert_eq!(migrated, 3, "one event for each step, once");
    let audit = s.audit_verify().unwrap();
    assert!(
        audit.ok(),
        "the replay from the checkpoint follows: {audit:?}"
    );
}

#[test]
fn a_store_made_by_a_newer_tessera_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    // Made newer: open it with this build, then write a later schema as a
    // newer Tessera would have.
    {
        let db = crate::common::open_sled(&path.join("db"));
        let bytes = bincode::serde::encode_to_vec(99u32, bincode::config::standard()).unwrap();
        db.insert(b"m/schema", bytes).unwrap();
        db.flush().unwrap();
    }
    let before = std::fs::read(path.join("db/db")).unwrap();
    let err = Store::open(&path, clock()).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NewerStore {
                found: 99,
                known: 4,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), store::Code::NewerStore);
    assert!(err.to_string().contains("schema version 99"), "{err}");
    assert_eq!(
        std::fs::read(path.join("db/db")).unwrap(),
        before,
        "nothing written"
    );
}
