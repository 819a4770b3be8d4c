//! Licences of other issuers (third-party add-ons) stand beside the vendor's.

use std::sync::Arc;
use store::ApiExt as _;

use licfile::{Document, Endorsement, Licence, RawPublicKey, SecretKey, Term, Timestamp};
use store::{FixedClock, InstallationKind, NewUser, Store};

use crate::common::sign_by as sign;

fn endorsement(issuer: &SecretKey, products: &[&str], until: &str) -> licfile::SignedDocument {
    let root = store::trust::demo_secret().unwrap();
    let e = Endorsement {
        issuer: "Acme Planner".into(),
        issuer_key: RawPublicKey(issuer.public().raw().0),
        products: products.iter().map(|p| p.to_string()).collect(),
        issued_at: Timestamp(1_767_607_200),
        until: until.parse().unwrap(),
    };
    let text = licfile::signed::sign(&Document::Endorsement(e), &root, None).unwrap();
    licfile::signed::read(text.as_bytes()).unwrap()
}

fn planner_licence() -> Licence {
    let mut l = licfile::sample::licence("NW-000123");
    l.product = "planner".into();
    l.licence_id = "ACME-1".into();
    l.seat_pools = vec![licfile::SeatPool {
        area: "Planner".into(),
        licence: "Planner seat".into(),
        term: Term::Monthly,
        count: 2,
        storage_gb_per_seat: 0,
        price: "9.50".parse().unwrap(),
        limited_to: vec![],
    }];
    l.add_ons.clear();
    l.integrations.clear();
    l.metered_services.clear();
    l
}

#[test]
fn an_endorsed_issuer_licence_gets_its_own_pools_and_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let root = store::trust::demo_secret().unwrap();
    let vendor = sign(&licfile::sample::licence("NW-000123"), &root, None);
    let s = Store::create(
        &dir.path().join("st"),
        vendor.as_bytes(),
        InstallationKind::Satellite,
        "owner",
        clock,
    )
    .unwrap();

    let acme = SecretKey::from_seed(&[42; 32]).unwrap();
    let e = endorsement(&acme, &["planner"], "2027-12-31");
    let text = sign(&planner_licence(), &acme, Some(&e));
    let out = s.as_user("owner").import(text).unwrap();
    assert_eq!(
        out,
        store::ImportOutcome::Imported {
            issuer: "Acme Planner".into(),
            sequence: 1,
            replaced: None
        }
    );
    assert_eq!(
        s.in_force().len(),
        2,
        "the vendor's licence stays in force beside it"
    );
    let pools = s.pools().unwrap();
    let planner = pools.iter().find(|p| p.issuer == "Acme Planner").unwrap();
    assert_eq!((planner.total, planner.term), (2, Term::Monthly));
    assert_eq!(s.status().unwrap().installation, "satellite");

    // Seats of the issuer's pool are assigned like any other.
    s.as_user("owner")
        .add_user(NewUser {
            name: "pat".into(),
            role: "office staff".into(),
            licence: Some("Planner seat".into()),
            term: Some("monthly".into()),
            email: None,
        })
        .unwrap();
    assert!(s.check("pat").unwrap().allowed);

    // The issuer's sequence is its own: the vendor's sequence 1 does not block it.
    let mut older = planner_licence();
    older.sequence = 1;
    older.licence_id = "ACME-1b".into();
    let err = s
        .as_user("owner")
        .import(sign(&older, &acme, Some(&e)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("different licence with sequence 1"),
        "{err}"
    );

    // An issuer endorsed for another product is refused.
    let wrong = endorsement(&acme, &["other"], "2027-12-31");
    let mut next = planner_licence();
    next.sequence = 2;
    let err = s
        .as_user("owner")
        .import(sign(&next, &acme, Some(&wrong)))
        .unwrap_err();
    assert!(err.to_string().contains("endorsement"), "{err}");
    assert!(s.audit_verify().unwrap().ok());
}
