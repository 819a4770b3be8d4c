//! What the console builds on: the plan's daily seats, notifications a page
//! at a time, history for charts, the contract breakdown, a user's detail.

use store::ApiExt as _;

use licfile::{Licence, Term};
use store::{InstallationKind, NewUser, Store, StoreError};

use crate::common::{Site, at, sign, site_with};

const SERIAL: &str = "NW-000123";

fn licence() -> Licence {
    licfile::sample::licence(SERIAL)
}

fn site(date: &str) -> Site {
    site_with(date, &licence())
}

#[allow(dead_code)] // used by the tests of the next features
fn add(s: &Store, name: &str, role: &str, seat: Option<(&str, &str)>) -> store::User {
    s.as_user("owner")
        .add_user(NewUser {
            name: name.into(),
            role: role.into(),
            licence: seat.map(|l| l.0.into()),
            term: seat.map(|l| l.1.into()),
            email: None,
        })
        .unwrap()
}

/// A first-tier plan (Startup) with the sample's daily pool.
fn startup_with_daily(sequence: u64) -> Licence {
    let mut l = licence();
    l.sequence = sequence;
    l.plan.name = "Startup".into();
    l.plan.tier = 1;
    l
}

#[test]
fn daily_seats_on_a_first_tier_plan_are_refused_at_import_and_at_creation() {
    let s = site("2026-03-02T09:00:00Z");
    let before = s.store.event_total().unwrap();
    let status = s.store.status().unwrap();
    let err = s
        .store
        .as_user("owner")
        .import(sign(&startup_with_daily(2)))
        .unwrap_err();
    assert_eq!(err.code(), store::Code::LicenceRefused, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("daily seats"), "{msg}");
    assert!(msg.contains("Startup plan (tier 1)"), "{msg}");
    // The store is unchanged: no event, the same licence and pools.
    assert_eq!(s.store.event_total().unwrap(), before);
    assert_eq!(s.store.status().unwrap(), status);
    assert_eq!(s.store.vendor_licence().unwrap().licence.sequence, 1);

    // The same plan without daily pools comes into force.
    let mut fine = startup_with_daily(2);
    fine.seat_pools.retain(|p| p.term != Term::Daily);
    s.store.as_user("owner").import(sign(&fine)).unwrap();
    assert_eq!(s.store.vendor_licence().unwrap().licence.plan.tier, 1);

    // A store is never made from such a licence either.
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(store::FixedClock::new(at("2026-03-02T09:00:00Z")));
    let err = Store::create(
        &dir.path().join("store"),
        sign(&startup_with_daily(1)).as_bytes(),
        InstallationKind::Central,
        "owner",
        clock,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::LicenceRefused(_)), "{err}");
    assert!(!dir.path().join("store").exists());
}

#[test]
fn the_demo_and_sample_licences_satisfy_the_plan_rule() {
    store::rules::import::daily_seats_allowed(&licence()).unwrap();
    let demo = store::demo::demo_licence_text(SERIAL).unwrap();
    let doc = licfile::signed::read(demo.as_bytes()).unwrap();
    let licfile::Document::Licence(l) = doc.document else {
        panic!("the demo licence is a licence")
    };
    assert!(l.seat_pools.iter().any(|p| p.term == Term::Daily));
    store::rules::import::daily_seats_allowed(&l).unwrap();
}
