//! The business rules, at chosen dates (the clock is injected).

use std::sync::Arc;
use store::ApiExt as _;

use chrono::Duration;
use licfile::{Document, Licence, Term};
use store::usage::UsageKind;
use store::views::UserQuery;
use store::{FixedClock, NewUser, Store, StoreError, UserChange};

use crate::common::{Site, at, sign, site_with};

const SERIAL: &str = "NW-000123";

fn licence() -> Licence {
    licfile::sample::licence(SERIAL)
}

fn site(date: &str) -> Site {
    site_with(date, &licence())
}

fn add(
    s: &Store,
    name: &str,
    role: &str,
    licence: Option<(&str, &str)>,
) -> Result<store::User, StoreError> {
    s.as_user("owner").add_user(NewUser {
        name: name.into(),
        role: role.into(),
        licence: licence.map(|l| l.0.into()),
        term: licence.map(|l| l.1.into()),
        email: None,
    })
}

fn event_count(s: &Store) -> usize {
    s.events(100_000, None).unwrap().len()
}

#[test]
fn a_store_starts_from_the_vendor_licence_with_its_creator_as_owner() {
    let s = site("2026-03-02T09:00:00Z");
    let status = s.store.status().unwrap();
    assert_eq!(status.serial, SERIAL);
    assert!(status.demo);
    assert_eq!(status.state, "valid");
    assert_eq!(status.contract_end.unwrap().to_string(), "2026-12-31");
    let owner = s.store.user("owner").unwrap().unwrap();
    assert_eq!(owner.role, store::Role::OwnerManager);
    let pool = status
        .pools
        .iter()
        .find(|p| p.licence == "Jobs User" && p.term == Term::Contracted)
        .unwrap();
    assert_eq!((pool.total, pool.in_use, pool.available), (25, 0, 25));
    assert!(s.store.audit_verify().unwrap().ok());
    // The installation key is kept 0600 in the store.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.store.layout().installation_key())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn imports_bind_to_the_serial_and_never_go_backwards() {
    let s = site("2026-03-02T09:00:00Z");
    let before = event_count(&s.store);

    let mut other = licence();
    other.serial = "XX-999".into();
    let err = s.store.as_user("owner").import(sign(&other)).unwrap_err();
    assert!(
        err.to_string()
            .contains("but this installation is NW-000123"),
        "{err}"
    );

    // The same file again is a no-op.
    let same = s.store.as_user("owner").import(sign(&licence())).unwrap();
    assert_eq!(same, store::ImportOutcome::AlreadyImported { sequence: 1 });

    let mut newer = licence();
    newer.sequence = 3;
    newer.seat_pools[1].count = 9;
    s.store.as_user("owner").import(sign(&newer)).unwrap();
    let after_import = event_count(&s.store);
    assert!(after_import > before);

    let mut older = licence();
    older.sequence = 2;
    let err = s.store.as_user("owner").import(sign(&older)).unwrap_err();
    assert!(
        err.to_string().contains("older than the licence in force"),
        "{err}"
    );

    let mut same_seq = licence();
    same_seq.sequence = 3;
    let err = s
        .store
        .as_user("owner")
        .import(sign(&same_seq))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("different licence with sequence 3"),
        "{err}"
    );

    // Tampered and untrusted files.
    let tampered = sign(&newer).replacen("Expires: 2027-01-31", "Expires: 2099-01-31", 1);
    assert!(s.store.as_user("owner").import(tampered).is_err());
    let stranger = licfile::SecretKey::from_seed(&[9; 32]).unwrap();
    let untrusted =
        licfile::signed::sign(&Document::Licence(newer.clone()), &stranger, None).unwrap();
    let err = s.store.as_user("owner").import(untrusted).unwrap_err();
    assert!(err.to_string().contains("not a trusted root"), "{err}");
    assert!(s.store.as_user("owner").import("garbage").is_err());

    // Refusals change nothing.
    assert_eq!(event_count(&s.store), after_import);
    let pools = s.store.pools().unwrap();
    assert_eq!(
        pools
            .iter()
            .find(|p| p.licence == "Jobs User" && p.term == Term::Monthly)
            .unwrap()
            .total,
        9
    );
    assert!(s.store.audit_verify().unwrap().ok());
}

#[test]
fn usernames_are_unique_and_never_reused() {
    let s = site("2026-03-02T09:00:00Z");
    add(
        &s.store,
        "bob",
        "engineer",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    let err = add(&s.store, "BOB", "engineer", None).unwrap_err();
    assert_eq!(err.code(), store::Code::UsernameTaken);
    assert!(err.to_string().contains("differs only in case"), "{err}");
    s.store.as_user("owner").delete_user("bob").unwrap();
    let err = add(&s.store, "bob", "engineer", None).unwrap_err();
    assert!(err.to_string().contains("deleted user"), "{err}");
    assert!(matches!(
        add(&s.store, "bad name", "engineer", None),
        Err(StoreError::BadUsername(_))
    ));
}

#[test]
fn names_are_accepted_as_administrators_write_them_and_mistakes_are_named() {
    let s = site("2026-03-02T09:00:00Z");
    add(
        &s.store,
        "a",
        "Engineer with diary",
        Some(("jobs user", "Monthly")),
    )
    .unwrap();
    add(
        &s.store,
        "b",
        "sales-person",
        Some(("Sales Person", "contracted")),
    )
    .unwrap();
    add(&s.store, "c", "'Owner/manager'".trim_matches('\''), None).unwrap();
    assert!(matches!(
        add(&s.store, "d", "wizard", None),
        Err(StoreError::UnknownRole(_))
    ));
    assert!(matches!(
        add(&s.store, "d", "engineer", Some(("Plumbing", "monthly"))),
        Err(StoreError::UnknownLicence { .. })
    ));
    let err = add(
        &s.store,
        "d",
        "sales person",
        Some(("Sales Person", "daily")),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::TermNotOffered { .. }), "{err}");
    assert!(
        err.to_string().contains("offered: contracted, monthly"),
        "{err}"
    );
    let err = add(
        &s.store,
        "d",
        "engineer",
        Some(("Sales Person", "contracted")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot hold"), "{err}");
}

#[test]
fn only_the_right_roles_manage_licences_and_users() {
    let s = site("2026-03-02T09:00:00Z");
    add(
        &s.store,
        "fin",
        "financial office staff",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    add(
        &s.store,
        "eng",
        "engineer",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    let mut newer = licence();
    newer.sequence = 2;
    let err = s.store.as_user("eng").import(sign(&newer)).unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err}");
    let err = s
        .store
        .as_user("fin")
        .add_user(NewUser {
            name: "x".into(),
            role: "engineer".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
    assert!(err.to_string().contains("only Owner/manager may"), "{err}");
    s.store.as_user("fin").import(sign(&newer)).unwrap();
    let err = s.store.as_user("nobody").import(sign(&newer)).unwrap_err();
    assert!(
        err.to_string().contains("has no account in this store"),
        "{err}"
    );
    // The last Owner/manager cannot be removed.
    let err = s.store.as_user("owner").deactivate("owner").unwrap_err();
    assert!(
        err.to_string()
            .contains("at least one active Owner/manager"),
        "{err}"
    );
}

#[test]
fn over_allocated_users_work_through_the_grace_then_the_latest_are_deactivated() {
    let s = site("2026-03-02T09:00:00Z");
    // Sales Support monthly has 1 seat.
    add(
        &s.store,
        "s1",
        "sales support",
        Some(("Sales Support", "monthly")),
    )
    .unwrap();
    s.clock.advance(Duration::hours(1));
    let u2 = add(
        &s.store,
        "s2",
        "sales support",
        Some(("Sales Support", "monthly")),
    )
    .unwrap();
    assert!(u2.over_allocated_since.is_some());
    s.clock.advance(Duration::hours(1));
    let u3 = add(
        &s.store,
        "s3",
        "sales support",
        Some(("Sales Support", "monthly")),
    )
    .unwrap();
    assert!(u3.over_allocated_since.is_some());
    let pool = s
        .store
        .pools()
        .unwrap()
        .into_iter()
        .find(|p| p.licence == "Sales Support" && p.term == Term::Monthly)
        .unwrap();
    assert_eq!((pool.total, pool.in_use, pool.over_allocated), (1, 3, 2));

    let check = s.store.check("s3").unwrap();
    assert!(check.allowed, "{check:?}");
    assert!(check.warnings.iter().any(|w| w.contains("over-allocated")));

    // Six days later nothing happens; after seven the over-allocated users go, latest first.
    s.clock.advance(Duration::days(6));
    assert!(s.store.tick().unwrap().deactivated.is_empty());
    s.clock.advance(Duration::days(1));
    let report = s.store.tick().unwrap();
    assert_eq!(report.deactivated, ["s3", "s2"]);
    assert!(!s.store.check("s3").unwrap().allowed);
    assert!(s.store.check("s1").unwrap().allowed);
    assert!(
        s.store
            .events(10, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "User deactivated")
    );
    assert!(s.store.audit_verify().unwrap().ok());
}

#[test]
fn freeing_a_seat_clears_an_over_allocation() {
    let s = site("2026-03-02T09:00:00Z");
    add(
        &s.store,
        "s1",
        "sales support",
        Some(("Sales Support", "monthly")),
    )
    .unwrap();
    add(
        &s.store,
        "s2",
        "sales support",
        Some(("Sales Support", "monthly")),
    )
    .unwrap();
    assert!(
        s.store
            .user("s2")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_some()
    );
    s.store.as_user("owner").deactivate("s1").unwrap();
    assert!(
        s.store
            .user("s2")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_none()
    );
    assert_eq!(s.store.user_counts().unwrap().over_allocated, 0);
    // A licence with fewer seats over-allocates the most recently activated.
    s.store.as_user("owner").activate("s1").unwrap();
    assert!(
        s.store
            .user("s1")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_some()
    );
    assert!(s.store.audit_verify().unwrap().ok());
}

#[test]
fn a_smaller_licence_over_allocates_the_most_recently_activated() {
    let s = site("2026-03-02T09:00:00Z");
    for i in 0..5 {
        add(
            &s.store,
            &format!("m{i}"),
            "engineer",
            Some(("Jobs User", "monthly")),
        )
        .unwrap();
        s.clock.advance(Duration::minutes(5));
    }
    let mut smaller = licence();
    smaller.sequence = 2;
    smaller.seat_pools[1].count = 3;
    s.store.as_user("owner").import(sign(&smaller)).unwrap();
    let over: Vec<_> = (0..5)
        .filter(|i| {
            s.store
                .user(&format!("m{i}"))
                .unwrap()
                .unwrap()
                .over_allocated_since
                .is_some()
        })
        .collect();
    assert_eq!(over, [3, 4]);
}

#[test]
fn check_follows_expiry_grace_and_termination() {
    let s = site("2027-01-10T09:00:00Z");
    add(
        &s.store,
        "bob",
        "engineer",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    let c = s.store.check("bob").unwrap();
    assert!(c.allowed);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("expires on 2027-01-31"))
    );
    s.clock.set(at("2027-02-05T09:00:00Z"));
    let c = s.store.check("bob").unwrap();
    assert!(
        c.allowed
            && c.warnings
                .iter()
                .any(|w| w.contains("terminated on 2027-02-15"))
    );
    s.clock.set(at("2027-02-15T09:00:00Z"));
    let c = s.store.check("bob").unwrap();
    assert!(!c.allowed);
    assert!(c.reason.contains("terminated"));
    assert!(s.store.check("owner").unwrap().allowed);
    assert_eq!(s.store.status().unwrap().state, "terminated");
    let report = s.store.tick().unwrap();
    assert!(report.notices.iter().any(|n| n.contains("terminated")));
    assert!(
        s.store.tick().unwrap().notices.is_empty(),
        "notices are given once"
    );
    // The Owner/manager can still import a renewal.
    let mut renewed = licence();
    renewed.sequence = 2;
    renewed.expiry.as_mut().unwrap().date = "2028-01-31".parse().unwrap();
    renewed.issued_at = licfile::Timestamp::from(at("2027-02-14T09:00:00Z"));
    s.store.as_user("owner").import(sign(&renewed)).unwrap();
    assert!(s.store.check("bob").unwrap().allowed);
}

#[test]
fn inactive_and_seatless_users_may_not_work() {
    let s = site("2026-03-02T09:00:00Z");
    add(&s.store, "nos", "engineer", None).unwrap();
    assert!(
        s.store
            .check("nos")
            .unwrap()
            .reason
            .contains("holds no seat")
    );
    add(
        &s.store,
        "bob",
        "engineer",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    s.store.as_user("owner").deactivate("bob").unwrap();
    assert!(s.store.check("bob").unwrap().reason.contains("inactive"));
    assert!(!s.store.check("ghost").unwrap().allowed);
}

#[test]
fn daily_users_are_charged_once_per_user_day() {
    let s = site("2026-03-02T09:00:00Z");
    add(&s.store, "d", "engineer", Some(("Jobs User", "daily"))).unwrap();
    add(&s.store, "c", "engineer", Some(("Jobs User", "contracted"))).unwrap();
    let first = s
        .store
        .as_user("owner")
        .record_usage("d", UsageKind::Login, None)
        .unwrap();
    assert!(first.charged);
    let again = s
        .store
        .as_user("owner")
        .record_usage("d", UsageKind::DiaryActioned, None)
        .unwrap();
    assert!(!again.charged);
    let booked = s
        .store
        .as_user("owner")
        .record_usage(
            "d",
            UsageKind::DiaryBooked,
            Some("2026-03-05".parse().unwrap()),
        )
        .unwrap();
    assert!(booked.charged);
    assert!(
        !s.store
            .as_user("owner")
            .record_usage("c", UsageKind::Login, None)
            .unwrap()
            .charged
    );
    let month = licfile::YearMonth::new(2026, 3).unwrap();
    let charges = s.store.daily_charges(month).unwrap();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].2.len(), 2);
    assert!(
        s.store
            .as_user("owner")
            .record_usage("d", UsageKind::Login, Some("2028-01-01".parse().unwrap()))
            .is_err()
    );
}

#[test]
fn metered_services_and_storage_count_against_their_thresholds() {
    let s = site("2026-03-02T09:00:00Z");
    for i in 0..3 {
        add(
            &s.store,
            &format!("u{i}"),
            "engineer",
            Some(("Jobs User", "contracted")),
        )
        .unwrap();
    }
    // emails-sent: 5000 + 200 per user; 4 active users (owner included).
    assert_eq!(
        s.store
            .as_user("owner")
            .record_metered("emails-sent", 5000)
            .unwrap(),
        5000
    );
    s.store
        .as_user("owner")
        .record_metered("EMAILS-SENT", 900)
        .unwrap();
    let m = s
        .store
        .metered()
        .unwrap()
        .into_iter()
        .find(|m| m.name == "emails-sent")
        .unwrap();
    assert_eq!((m.used, m.threshold, m.excess), (5900, 5800, 100));
    assert!(
        s.store
            .events(5, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Metered service over threshold")
    );
    assert!(matches!(
        s.store.as_user("owner").record_metered("faxes", 1),
        Err(StoreError::UnknownService { .. })
    ));
    // Storage allowance: contracted and monthly seats x GB per seat; daily seats bring none.
    assert_eq!(
        s.store.storage_allowance_gb(),
        25 * 20 + 5 * 20 + 6 * 50 + 2 * 50 + 3 * 50 + 50
    );
    s.store
        .as_user("owner")
        .record_storage(2_000_000_000_000)
        .unwrap();
    assert!(
        s.store
            .events(5, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Storage over allowance")
    );
}

#[test]
fn a_clock_moved_backwards_is_reported_and_time_checks_use_the_later_time() {
    let s = site("2027-02-10T09:00:00Z");
    add(
        &s.store,
        "bob",
        "engineer",
        Some(("Jobs User", "contracted")),
    )
    .unwrap();
    s.clock.set(at("2027-02-20T09:00:00Z"));
    add(&s.store, "ann", "engineer", None).unwrap();
    assert!(
        !s.store.check("bob").unwrap().allowed,
        "terminated after 2027-02-15"
    );
    s.clock.set(at("2026-06-01T09:00:00Z"));
    let c = s.store.check("bob").unwrap();
    assert!(
        !c.allowed,
        "winding the clock back does not revive the licence"
    );
    assert_eq!(
        s.store.clock_behind_hours().unwrap().map(|h| h > 24),
        Some(true)
    );
    add(&s.store, "eve", "engineer", None).unwrap();
    assert!(
        s.store
            .events(5, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Clock moved backwards")
    );
}

#[test]
fn a_second_process_is_told_who_holds_the_store() {
    let s = site("2026-03-02T09:00:00Z");
    let err = Store::open(s.store.dir(), s.clock.clone()).unwrap_err();
    match err {
        StoreError::Busy { holder, .. } => assert_eq!(holder.pid, std::process::id()),
        other => panic!("expected Busy, got {other}"),
    }
}

#[test]
fn audit_verify_finds_an_altered_event() {
    let s = site("2026-03-02T09:00:00Z");
    add(&s.store, "bob", "engineer", None).unwrap();
    let dir = s.store.dir().to_path_buf();
    let clock = s.clock.clone();
    drop(s.store);
    {
        let db = crate::common::open_sled(&dir.join("db"));
        let key = [b"e/".as_slice(), &2u64.to_be_bytes()].concat();
        let mut v = db.get(&key).unwrap().unwrap().to_vec();
        // Event 2 is the owner's "User added": its typed record names them.
        assert_eq!(&v[..2], &[0xFF, 2], "a typed record");
        let pos = v.windows(5).position(|w| w == b"owner").unwrap();
        v[pos] = b'O';
        db.insert(key, v).unwrap();
        db.flush().unwrap();
    }
    let reopened = Store::open(&dir, clock).unwrap();
    let report = reopened.audit_verify().unwrap();
    assert!(!report.ok());
    assert!(
        report.problems[0].contains("event 2"),
        "{:?}",
        report.problems
    );
}

#[test]
fn audit_verify_replays_the_log_and_finds_records_changed_behind_its_back() {
    let s = site("2026-03-02T09:00:00Z");
    add(&s.store, "bob", "engineer", None).unwrap();
    add(
        &s.store,
        "carol",
        "engineer",
        Some(("Jobs User", "monthly")),
    )
    .unwrap();
    let owner = s.store.as_user("owner");
    owner.deactivate("carol").unwrap();
    owner.activate("carol").unwrap();
    owner.delete_user("carol").unwrap();
    let audit = s.store.audit_verify().unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
    let dir = s.store.dir().to_path_buf();
    let clock = s.clock.clone();
    drop(owner);
    drop(s.store);
    // bob made inactive with the counters made to agree: a recount of the
    // records finds nothing wrong, the log still says he is active.
    {
        let cfg = bincode::config::standard();
        let db = crate::common::open_sled(&dir.join("db"));
        let key = b"u/bob".to_vec();
        let (mut bob, _): (store::User, usize) =
            bincode::serde::decode_from_slice(&db.get(&key).unwrap().unwrap(), cfg).unwrap();
        bob.state = store::UserState::Inactive;
        db.insert(key, bincode::serde::encode_to_vec(&bob, cfg).unwrap())
            .unwrap();
        let counts = b"m/user-counts".to_vec();
        let (mut c, _): (store::users::UserCounts, usize) =
            bincode::serde::decode_from_slice(&db.get(&counts).unwrap().unwrap(), cfg).unwrap();
        c.active -= 1;
        db.insert(counts, bincode::serde::encode_to_vec(c, cfg).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let reopened = Store::open(&dir, clock).unwrap();
    let report = reopened.audit_verify().unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("a replay of the log finds"),
        "{:?}",
        report.problems
    );
}

#[test]
fn users_page_filters_searches_and_pages() {
    let s = site("2026-03-02T09:00:00Z");
    for i in 0..12 {
        add(
            &s.store,
            &format!("eng{i:02}"),
            "engineer",
            Some((
                "Jobs User",
                if i % 2 == 0 { "contracted" } else { "monthly" },
            )),
        )
        .unwrap();
    }
    add(
        &s.store,
        "sally",
        "sales person",
        Some(("Sales Person", "contracted")),
    )
    .unwrap();
    let page = s
        .store
        .users_page(&UserQuery {
            limit: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.users.len(), 5);
    assert_eq!(page.total, Some(14));
    let next = s
        .store
        .users_page(&UserQuery {
            limit: 5,
            after: page.next.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(next.users[0].name, "eng05");
    let monthly = s
        .store
        .users_page(&UserQuery {
            licence: Some("Jobs User".into()),
            term: Some(Term::Monthly),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(monthly.users.len(), 6);
    let all_jobs = s
        .store
        .users_page(&UserQuery {
            licence: Some("jobs user".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all_jobs.users.len(), 12);
    let found = s
        .store
        .users_page(&UserQuery {
            search: Some("SALES".into()),
            limit: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        found
            .users
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["sally"]
    );
}

#[test]
fn add_ons_are_limited_to_their_count() {
    let s = site("2026-03-02T09:00:00Z");
    let mut l = licence();
    l.sequence = 2;
    l.add_ons[1].count = 1;
    s.store.as_user("owner").import(sign(&l)).unwrap();
    add(&s.store, "a", "engineer", None).unwrap();
    add(&s.store, "b", "engineer", None).unwrap();
    let give = |n: &str| {
        s.store.as_user("owner").set_user(
            n,
            UserChange {
                add_ons: vec!["crm module".into()],
                ..Default::default()
            },
        )
    };
    give("a").unwrap();
    let err = give("b").unwrap_err();
    assert!(
        err.to_string()
            .contains("all 1 CRM module licences are assigned"),
        "{err}"
    );
    assert_eq!(s.store.add_on_holders("CRM module").unwrap(), ["a"]);
}

#[test]
fn contracts_export_holds_every_imported_file_as_signed() {
    let s = site("2026-03-02T09:00:00Z");
    let mut l = licence();
    l.sequence = 2;
    let second = sign(&l);
    s.store.as_user("owner").import(&second).unwrap();
    let out = s.dir.path().join("contracts.zip");
    assert_eq!(s.store.export_contracts(&out).unwrap(), 2);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut text = String::new();
    use std::io::Read;
    zip.by_name("licences/002-NW-000123-0001.lic")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, second);
    assert!(zip.by_name("README.txt").is_ok());
    assert!(s.store.export_contracts(&out).is_err(), "never overwritten");
}

#[test]
fn the_demo_looks_like_a_real_site_and_is_sound() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at("2026-11-22T10:00:00Z")));
    let s = store::demo::create_demo(&dir.path().join("demo"), 80, 5, "owner", clock).unwrap();
    let status = s.status().unwrap();
    assert!(status.demo);
    assert_eq!(status.sequence, 2);
    assert!(status.users.total > 80);
    assert!(status.users.over_allocated >= 1, "{:?}", status.users);
    assert!(
        status
            .pools
            .iter()
            .any(|p| p.term == Term::Daily && p.in_use > 0)
    );
    assert!(status.metered.iter().all(|m| m.used > 0));
    let roles: std::collections::HashSet<_> = s
        .users_page(&UserQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.role)
        .collect();
    assert!(roles.len() >= 8, "{roles:?}");
    assert!(s.events(1000, None).unwrap().len() > 50);
    let audit = s.audit_verify().unwrap();
    assert!(audit.ok(), "{:?}", audit.problems);
}

/// A request of every operation, as a caller would make it.
fn sample(op: store::Op, licence_text: &str) -> store::Request {
    use licfile::{SeatAction, YearMonth};
    use store::{Op, Request};
    match op {
        Op::Installation => Request::Installation,
        Op::RequireLicenceReader => Request::RequireLicenceReader,
        Op::Status => Request::Status,
        Op::Licences => Request::Licences,
        Op::UsersPage => Request::UsersPage {
            query: UserQuery::default(),
        },
        Op::PrepareUserSearch => Request::PrepareUserSearch,
        Op::User => Request::User { name: "bob".into() },
        Op::UserDetail => Request::UserDetail { name: "bob".into() },
        Op::AddUser => Request::AddUser {
            new: NewUser {
                name: "newcomer".into(),
                role: "engineer".into(),
                ..Default::default()
            },
        },
        Op::SetUser => Request::SetUser {
            name: "bob".into(),
            change: UserChange {
                email: Some("bob@example.com".into()),
                ..Default::default()
            },
        },
        Op::Deactivate => Request::Deactivate { name: "bob".into() },
        Op::Activate => Request::Activate { name: "bob".into() },
        Op::DeleteUser => Request::DeleteUser { name: "bob".into() },
        Op::AddOnHolders => Request::AddOnHolders {
            module: "Outlook connector".into(),
        },
        Op::Check => Request::Check { user: "bob".into() },
        Op::Lease => Request::Lease { user: "bob".into() },
        Op::InstallationKey => Request::InstallationKey,
        Op::SetLeaseHours => Request::SetLeaseHours { hours: 8 },
        Op::RecordUsage => Request::RecordUsage {
            user: "bob".into(),
            kind: UsageKind::Login,
            day: None,
        },
        Op::RecordStorage => Request::RecordStorage { bytes: 1000 },
        Op::RecordMetered => Request::RecordMetered {
            service: "emails-sent".into(),
            count: 1,
        },
        Op::Import => Request::Import {
            licence: licence_text.into(),
        },
        Op::Tick => Request::Tick,
        Op::RequestClock => Request::RequestClock,
        // Refused by the rule for anyone allowed (no such request was made),
        // which is not `not_permitted`.
        Op::ImportClock => Request::ImportClock {
            correction: "not a clock correction".into(),
        },
        Op::Events => Request::Events {
            limit: 5,
            before: None,
        },
        Op::Notifications => Request::Notifications {
            query: store::notifications::NotificationQuery {
                limit: 5,
                ..Default::default()
            },
        },
        Op::History => Request::History { days: 30 },
        Op::AuditVerify => Request::AuditVerify,
        Op::QuoteSeats => Request::QuoteSeats {
            licence: "Jobs User".into(),
            term: "monthly".into(),
            action: SeatAction::Add,
            count: 1,
        },
        Op::RequestSeats => Request::RequestSeats {
            licence: "Jobs User".into(),
            term: "monthly".into(),
            action: SeatAction::Add,
            count: 1,
            note: String::new(),
        },
        Op::QuoteModules => Request::QuoteModules {
            kind: licfile::ModuleKind::AddOn,
            name: "CRM module".into(),
            action: SeatAction::Add,
            count: 1,
        },
        Op::RequestModules => Request::RequestModules {
            kind: licfile::ModuleKind::AddOn,
            name: "CRM module".into(),
            action: SeatAction::Add,
            count: 1,
            note: String::new(),
        },
        Op::UsageReport => Request::UsageReport {
            month: YearMonth::new(2026, 3).unwrap(),
        },
        Op::Outbox => Request::Outbox,
        Op::ExportContracts => Request::ExportContracts,
        Op::Subscribe => Request::Subscribe { after: None },
        Op::Metrics => Request::Metrics,
    }
}

/// Who may do what, written out by hand: the one table must say the same.
fn expected(op: store::Op, who: &str) -> bool {
    use store::Op::*;
    let readers = ["owner", "fin"];
    match op {
        // What anyone connected may see: the installation, and the key that checks its leases.
        Installation | InstallationKey => true,
        RequireLicenceReader | Status | Licences | UsersPage | PrepareUserSearch | AddOnHolders
        | Import | RequestClock | ImportClock | Events | Notifications | History | AuditVerify
        | QuoteSeats | RequestSeats | QuoteModules | RequestModules | UsageReport | Outbox
        | ExportContracts | Subscribe => readers.contains(&who),
        // About bob: bob himself, and those who see users.
        User | UserDetail => readers.contains(&who) || who == "bob",
        Check | Lease => readers.contains(&who) || who == "bob" || who == "product",
        // Aggregates, no names: readers, and the product's account (which
        // changes nothing) for a monitoring job.
        Metrics => readers.contains(&who) || who == "product",
        AddUser | SetUser | Deactivate | Activate | DeleteUser | SetLeaseHours => who == "owner",
        RecordUsage | RecordStorage | RecordMetered => who == "owner" || who == "product",
        // Not the product's account: it checks and records usage, nothing else.
        Tick => ["owner", "fin", "eng", "bob"].contains(&who),
    }
}

#[test]
fn every_operation_is_authorised_by_the_one_table_for_every_role() {
    let callers = [
        "owner", "fin", "eng", "bob", "product", "nobody", "OWNER", "gone",
    ];
    let mut newer = licence();
    newer.sequence = 2;
    let text = sign(&newer);
    for op in store::Op::ALL {
        for who in callers {
            // A fresh store for each call: a change one caller makes (a
            // deletion, an import) must not decide the next caller's answer.
            let s = site("2026-03-02T09:00:00Z");
            add(&s.store, "fin", "financial office staff", None).unwrap();
            add(&s.store, "eng", "engineer", Some(("Jobs User", "monthly"))).unwrap();
            add(&s.store, "bob", "engineer", Some(("Jobs User", "daily"))).unwrap();
            add(&s.store, "product", "Licensed product", None).unwrap();
            add(&s.store, "gone", "owner/manager", None).unwrap();
            s.store.as_user("owner").delete_user("gone").unwrap();
            let request = sample(*op, &text);
            let result = s.store.execute(who, request);
            let refused = matches!(&result, Err(e) if e.code() == store::Code::NotPermitted);
            let want = expected(*op, who);
            if *op == store::Op::Subscribe {
                // Answered by the service's connection; the gate authorises it.
                let authorised = s.store.authorise(who, &sample(*op, &text)).is_ok();
                assert_eq!(authorised, want, "{op:?} as {who}");
                continue;
            }
            assert_eq!(
                !refused,
                want,
                "{op:?} as {who}: {:?}",
                result.as_ref().err()
            );
        }
    }
}

#[test]
fn identity_is_exact_and_new_names_are_portable() {
    let s = site("2026-03-02T09:00:00Z");
    // A login spelled in another case, or with a look-alike letter, is nobody.
    for login in ["OWNER", "Owner", "\u{212a}elvin", "owner\u{0}"] {
        let err = s.store.as_user(login).status().unwrap_err();
        assert_eq!(err.code(), store::Code::NotPermitted, "{login:?}");
    }
    add(&s.store, "kelvin", "engineer", None).unwrap();
    assert!(s.store.as_user("owner").user("KELVIN").unwrap().is_none());
    for bad in ["-x", "a@b", "\u{212a}elvin", &"a".repeat(33)] {
        let err = add(&s.store, bad, "engineer", None).unwrap_err();
        assert_eq!(err.code(), store::Code::BadUsername, "{bad:?}");
    }
    // The product role holds no seat.
    let err = add(
        &s.store,
        "fieldsuite",
        "Licensed product",
        Some(("Jobs User", "monthly")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("holds no seat"), "{err}");
}

#[test]
fn usage_is_bounded() {
    let s = site("2026-03-02T09:00:00Z");
    add(&s.store, "d", "engineer", Some(("Jobs User", "daily"))).unwrap();
    add(&s.store, "product", "Licensed product", None).unwrap();
    let p = s.store.as_user("product");
    for count in [0, 1_000_001, u64::MAX] {
        let err = p.record_metered("emails-sent", count).unwrap_err();
        assert_eq!(err.code(), store::Code::OutOfRange, "{count}");
    }
    p.record_metered("emails-sent", 1_000_000).unwrap();
    assert_eq!(
        p.record_storage(u64::MAX).unwrap_err().code(),
        store::Code::OutOfRange
    );
    let day = |d: &str| Some(d.parse::<chrono::NaiveDate>().unwrap());
    for (kind, d) in [
        (UsageKind::Login, day("2026-03-03")),
        (UsageKind::Login, day("2026-03-01")),
        (UsageKind::DiaryBooked, day("2026-07-01")),
    ] {
        let err = p.record_usage("d", kind, d).unwrap_err();
        assert_eq!(err.code(), store::Code::OutOfRange, "{kind:?} {d:?}");
    }
    assert!(
        p.record_usage("d", UsageKind::DiaryBooked, day("2026-04-02"))
            .unwrap()
            .charged
    );
    // Nobody else records usage.
    let err = s
        .store
        .as_user("d")
        .record_usage("d", UsageKind::Login, None)
        .unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
}

#[test]
fn requests_made_at_once_get_distinct_ids_and_pend_their_sum() {
    let s = site("2026-03-02T09:00:00Z");
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    s.store
                        .as_user("owner")
                        .request_seats("Jobs User", "monthly", licfile::SeatAction::Add, 2u32, "")
                        .unwrap()
                        .request_id
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 50, "{ids:?}");
    let pending: u32 = s.store.pending().unwrap().iter().map(|p| p.count).sum();
    assert_eq!(pending, 100);
    assert_eq!(s.store.as_user("owner").outbox().unwrap().len(), 50);
    assert!(s.store.audit_verify().unwrap().ok());
}

#[test]
fn licences_imported_at_once_leave_the_newest_in_force() {
    let s = site("2026-03-02T09:00:00Z");
    let texts: Vec<String> = (2..=20)
        .rev()
        .map(|n| {
            let mut l = licence();
            l.sequence = n;
            sign(&l)
        })
        .collect();
    std::thread::scope(|scope| {
        for t in &texts {
            let store = &s.store;
            scope.spawn(move || {
                let _ = store.as_user("owner").import(t);
            });
        }
    });
    let in_force = s.store.vendor_licence().unwrap();
    assert_eq!(in_force.licence.sequence, 20);
    assert!(s.store.audit_verify().unwrap().ok());
}
