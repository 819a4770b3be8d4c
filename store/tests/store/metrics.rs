//! The metrics' facts (`Op::Metrics`) read from a store at chosen dates:
//! seats, over-allocation, pending seats, metered use, the licence's state
//! and time to expiry through its grace, the clock; who may read them.

use licfile::SeatAction;
use store::ApiExt as _;
use store::metrics::{Metrics, StoreFacts};
use store::{NewUser, Store};

use crate::common::{Site, at, site_with};

fn site(date: &str) -> Site {
    site_with(date, &licfile::sample::licence("NW-1"))
}

fn add(s: &Store, name: &str, role: &str, seat: Option<(&str, &str)>) {
    s.as_user("owner")
        .add_user(NewUser {
            name: name.into(),
            role: role.into(),
            licence: seat.map(|(l, _)| l.into()),
            term: seat.map(|(_, t)| t.into()),
            email: None,
        })
        .unwrap();
}

fn facts(s: &Store) -> StoreFacts {
    let m: Metrics = s.as_user("owner").metrics().unwrap();
    // Opened directly, nothing counted requests: no service part.
    assert!(m.service.is_none());
    m.store
}

fn jobs_monthly(f: &StoreFacts) -> &store::metrics::PoolFacts {
    f.pools
        .iter()
        .find(|p| p.licence == "Jobs User" && p.term == "monthly")
        .unwrap()
}

#[test]
fn metrics_facts_are_the_stores_seats_and_metered_use() {
    let s = site("2026-11-22T09:00:00Z");
    let before = facts(&s.store);
    assert_eq!(jobs_monthly(&before).in_use, 0);
    for i in 0..6 {
        add(
            &s.store,
            &format!("m{i}"),
            "engineer",
            Some(("Jobs User", "monthly")),
        );
    }
    s.store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Add, 3, "")
        .unwrap();
    s.store
        .as_user("owner")
        .record_metered("emails-sent", 10)
        .unwrap();
    // Read at the same instant as the read before: the changes are seen
    // all the same (the cached facts are stale once anything is written).
    let f = facts(&s.store);
    let p = jobs_monthly(&f);
    assert_eq!(
        (p.total, p.in_use, p.available, p.pending, p.over_allocated),
        (5, 6, 0, 3, 1)
    );
    assert_eq!(f.users_over_allocated, 1);
    assert_eq!(f.users_active, 7, "six engineers and the owner");
    let emails = f
        .metered
        .iter()
        .find(|m| m.service == "emails-sent")
        .unwrap();
    assert_eq!(emails.used, 10);
    let status = s.store.status().unwrap();
    let threshold = status
        .metered
        .iter()
        .find(|m| m.name == "emails-sent")
        .unwrap()
        .threshold;
    assert_eq!(emails.threshold, threshold);
    assert_eq!(f.pools.len(), status.pools.len());
    // And the text says the same.
    let text = store::metrics::render(&Metrics {
        store: f,
        service: None,
    });
    assert!(text.contains(
        "tessera_seats_pending{issuer=\"\",area=\"Jobs\",licence=\"Jobs User\",term=\"monthly\"} 3\n"
    ));
    assert!(text.contains("tessera_users_over_allocated 1\n"));
}

#[test]
fn the_licence_state_and_its_time_to_expiry_follow_the_store_through_grace() {
    // The sample licence expires 2027-01-31 with 14 days' grace.
    let s = site("2027-01-21T12:00:00Z");
    let f = facts(&s.store);
    let l = &f.licences[0];
    assert_eq!(l.state, "expiring");
    // To the end of 2027-01-31: ten and a half days.
    assert_eq!(l.expiry_remaining_seconds, Some(10 * 86_400 + 12 * 3600));
    assert_eq!(
        l.termination_remaining_seconds,
        Some(24 * 86_400 + 12 * 3600)
    );
    // The day after expiry: grace, expired by half a day, still working.
    s.clock.set(at("2027-02-01T12:00:00Z"));
    let l = facts(&s.store).licences[0].clone();
    assert_eq!(l.state, "grace");
    assert_eq!(l.expiry_remaining_seconds, Some(-12 * 3600));
    assert_eq!(
        l.termination_remaining_seconds,
        Some(13 * 86_400 + 12 * 3600)
    );
    // Past the grace: terminated.
    s.clock.set(at("2027-02-15T00:00:00Z"));
    let l = facts(&s.store).licences[0].clone();
    assert_eq!(l.state, "terminated");
    assert_eq!(l.termination_remaining_seconds, Some(0));
}

#[test]
fn a_clock_behind_the_latest_time_seen_is_a_warning() {
    let s = site("2026-11-22T09:00:00Z");
    let f = facts(&s.store);
    assert_eq!((f.clock_behind_seconds, f.clock_warning), (0, false));
    s.clock.set(at("2026-11-21T09:00:00Z"));
    // A day behind: within the tolerance.
    let f = facts(&s.store);
    assert_eq!((f.clock_behind_seconds, f.clock_warning), (86_400, false));
    s.clock.set(at("2026-11-20T08:00:00Z"));
    let f = facts(&s.store);
    assert_eq!(
        (f.clock_behind_seconds, f.clock_warning),
        (2 * 86_400 + 3600, true)
    );
    // Licence time is judged by the later time: still the 22nd.
    assert_eq!(f.today, chrono::NaiveDate::from_ymd_opt(2026, 11, 22));
}

#[test]
fn readers_and_the_licensed_product_may_read_the_metrics_and_no_one_else() {
    let s = site("2026-11-22T09:00:00Z");
    add(&s.store, "fin", "financial office staff", None);
    add(&s.store, "product", "Licensed product", None);
    add(&s.store, "eng", "engineer", Some(("Jobs User", "monthly")));
    for who in ["owner", "fin", "product"] {
        assert!(s.store.as_user(who).metrics().is_ok(), "{who}");
    }
    for who in ["eng", "nobody"] {
        let e = s.store.as_user(who).metrics().unwrap_err();
        assert_eq!(e.code(), store::Code::NotPermitted, "{who}");
    }
}
