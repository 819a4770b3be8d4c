//! Add-on modules and integrations bought and given back by count (seed 003).

use chrono::Duration;
use licfile::{Document, ModuleKind, SeatAction};
use store::ApiExt as _;
use store::{NewUser, Store, StoreError, UserChange};

use crate::common::{Site, sign, site_with};

fn site(date: &str) -> Site {
    site_with(date, &licfile::sample::licence("NW-1"))
}

fn add_on(s: &Store, name: &str) -> store::views::AddOnView {
    s.licence_views().unwrap()[0]
        .add_ons
        .iter()
        .find(|a| a.name == name)
        .cloned()
        .unwrap()
}

fn integration(s: &Store, name: &str) -> store::views::IntegrationView {
    s.licence_views().unwrap()[0]
        .integrations
        .iter()
        .find(|a| a.name == name)
        .cloned()
        .unwrap()
}

/// A user holding `module`.
fn holder(s: &Store, name: &str, module: &str) {
    let api = s.as_user("owner");
    api.add_user(NewUser {
        name: name.into(),
        role: "engineer".into(),
        licence: Some("Jobs User".into()),
        term: Some("contracted".into()),
        email: None,
    })
    .unwrap();
    api.set_user(
        name,
        UserChange {
            add_ons: vec![module.into()],
            ..UserChange::default()
        },
    )
    .unwrap();
}

#[test]
fn an_add_on_is_bought_pro_rata_to_the_contract_end_as_a_commitment() {
    let s = site("2026-11-22T09:00:00Z");
    let api = s.store.as_user("owner");
    let quote = api
        .quote_modules(ModuleKind::AddOn, "outlook connector", SeatAction::Add, 2)
        .unwrap();
    // 9 of 30 days of November and all of December, at 4.00 a licence.
    assert_eq!(quote.breakdown.total.to_string(), "10.40");
    assert_eq!(quote.pool, "Outlook connector add-on");
    assert_eq!(quote.breakdown.months.len(), 2);
    assert!(quote.breakdown.months.iter().all(|m| m.commitment));
    // A quote writes nothing.
    assert_eq!(add_on(&s.store, "Outlook connector").pending, 0);

    let r = api
        .request_modules(
            ModuleKind::AddOn,
            "outlook connector",
            SeatAction::Add,
            2,
            "for the office",
        )
        .unwrap();
    assert_eq!(r.breakdown, quote.breakdown);
    let view = add_on(&s.store, "Outlook connector");
    assert_eq!((view.count, view.pending), (10, 2));

    // The request is format 2, signed by the installation key, and asks for the add-on only.
    let (doc, _) = licfile::verify::read_verified(
        r.armored.as_bytes(),
        licfile::DocumentKind::Request,
        &licfile::Roots::new(),
    )
    .unwrap();
    assert_eq!(doc.envelope.kind, licfile::DocumentKind::Request2);
    let Document::Request(req) = doc.document else {
        panic!("a request")
    };
    assert!(req.changes.is_empty());
    let m = &req.module_changes()[0];
    assert_eq!(
        (m.kind, m.name.as_str(), m.action, m.count),
        (ModuleKind::AddOn, "Outlook connector", SeatAction::Add, 2)
    );
    assert_eq!(req.total.to_string(), "10.40");

    // The confirmation e-mail and the action log, as for seats.
    let mail = store::outbox::list(s.store.layout()).unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, "accounts@northwind-heating.example");
    let events = s.store.events(5, None).unwrap();
    assert_eq!(events[0].name, "Add-on licences requested");
    assert!(
        events[0].description.contains(&mail[0].file),
        "{:?}",
        events[0]
    );

    // The vendor's licence granting them fulfils the purchase.
    let mut next = licfile::sample::licence("NW-1");
    next.sequence = 2;
    next.add_ons[0].count = 12;
    api.import(sign(&next)).unwrap();
    let view = add_on(&s.store, "Outlook connector");
    assert_eq!((view.count, view.pending), (12, 0));
    assert!(
        s.store
            .events(10, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Add-on purchase fulfilled")
    );
}

#[test]
fn an_add_on_is_never_reduced_below_its_holders_and_a_refusal_changes_nothing() {
    let s = site("2026-03-02T09:00:00Z");
    for name in ["alice", "bob", "carol", "dave"] {
        holder(&s.store, name, "CRM module");
    }
    let events = s.store.events(1000, None).unwrap().len();
    let api = s.store.as_user("owner");
    let refused = api
        .request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Remove, 2, "")
        .unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, StoreError::Rule(_)), "{refused:?}");
    assert!(
        text.contains("only 1 of the 5 CRM module add-on licences are unassigned"),
        "{text}"
    );
    assert!(
        text.contains("alice, bob, carol and dave hold the other 4"),
        "{text}"
    );
    assert!(text.contains("take the module from"), "{text}");
    assert_eq!(s.store.events(1000, None).unwrap().len(), events);
    assert!(s.store.module_reductions().unwrap().is_empty());
    assert!(store::outbox::list(s.store.layout()).unwrap().is_empty());

    // One can go: from the next period (the renewal), holders named.
    let r = api
        .request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Remove, 1, "")
        .unwrap();
    assert_eq!(r.effective.to_string(), "2027-01-01");
    assert!(
        r.notes.iter().any(|n| n.contains("keep it")),
        "{:?}",
        r.notes
    );
    let view = add_on(&s.store, "CRM module");
    assert_eq!(view.count, 5);
    assert_eq!(
        view.scheduled.map(|d| (d.seats, d.from.to_string())),
        Some((4, "2027-01-01".into()))
    );
    assert_eq!(
        s.store.events(1, None).unwrap()[0].name,
        "Add-on reduction scheduled"
    );

    // A purchase afterwards cancels it (seed 003).
    api.request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Add, 1, "")
        .unwrap();
    assert!(add_on(&s.store, "CRM module").scheduled.is_none());
}

#[test]
fn a_reduction_applies_at_renewal_and_limits_assignments() {
    let s = site("2026-12-20T09:00:00Z");
    holder(&s.store, "alice", "CRM module");
    let api = s.store.as_user("owner");
    api.request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Remove, 4, "")
        .unwrap();
    s.clock.advance(Duration::days(12));
    let tick = s.store.tick().unwrap();
    assert!(
        tick.notices.iter().any(|n| n.contains("CRM module")),
        "{:?}",
        tick.notices
    );
    assert_eq!(add_on(&s.store, "CRM module").count, 1);
    // Alice holds the one licence left: nobody else can be given it.
    api.add_user(NewUser {
        name: "bob".into(),
        role: "engineer".into(),
        licence: Some("Jobs User".into()),
        term: Some("contracted".into()),
        email: None,
    })
    .unwrap();
    let refused = api.set_user(
        "bob",
        UserChange {
            add_ons: vec!["CRM module".into()],
            ..UserChange::default()
        },
    );
    assert!(refused.is_err(), "{refused:?}");
}

#[test]
fn an_integration_of_its_own_count_is_bought_and_one_following_the_seats_is_refused() {
    let s = site("2026-11-22T09:00:00Z");
    let api = s.store.as_user("owner");
    let events = s.store.events(1000, None).unwrap().len();
    for action in [SeatAction::Add, SeatAction::Remove] {
        let refused = api
            .request_modules(ModuleKind::Integration, "Business Central", action, 1, "")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("follows the standard seat count")
                && refused.contains("buy or give back standard seats instead"),
            "{refused}"
        );
    }
    assert!(
        api.quote_modules(
            ModuleKind::Integration,
            "Business Central",
            SeatAction::Add,
            1
        )
        .is_err()
    );
    assert_eq!(s.store.events(1000, None).unwrap().len(), events);

    let r = api
        .request_modules(
            ModuleKind::Integration,
            "Resource planner",
            SeatAction::Add,
            1,
            "",
        )
        .unwrap();
    // 9 of 30 days of November and all of December, at 25.00.
    assert_eq!(r.breakdown.total.to_string(), "32.50");
    assert_eq!(integration(&s.store, "Resource planner").pending, 1);
    // An add-on's name is not an integration's.
    assert!(
        api.request_modules(
            ModuleKind::Integration,
            "CRM module",
            SeatAction::Add,
            1,
            ""
        )
        .is_err()
    );
}

#[test]
fn a_financial_office_user_may_buy_an_engineer_may_not() {
    let s = site("2026-11-22T09:00:00Z");
    let api = s.store.as_user("owner");
    for (name, role) in [("fiona", "financial office staff"), ("eric", "engineer")] {
        api.add_user(NewUser {
            name: name.into(),
            role: role.into(),
            licence: Some("Jobs User".into()),
            term: Some("contracted".into()),
            email: None,
        })
        .unwrap();
    }
    assert!(
        s.store
            .as_user("fiona")
            .request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Add, 1, "")
            .is_ok()
    );
    let refused = s
        .store
        .as_user("eric")
        .request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Add, 1, "")
        .unwrap_err();
    assert_eq!(refused.code(), store::Code::NotPermitted, "{refused:?}");
}

#[test]
fn while_a_reduction_is_scheduled_no_more_holders_than_it_leaves() {
    let s = site("2026-03-02T09:00:00Z");
    holder(&s.store, "alice", "CRM module");
    let api = s.store.as_user("owner");
    // Five licences, four from the renewal: three more holders fit, a fourth would not.
    api.request_modules(ModuleKind::AddOn, "CRM module", SeatAction::Remove, 1, "")
        .unwrap();
    for name in ["bob", "carol", "dave"] {
        holder(&s.store, name, "CRM module");
    }
    api.add_user(NewUser {
        name: "erin".into(),
        role: "engineer".into(),
        licence: Some("Jobs User".into()),
        term: Some("contracted".into()),
        email: None,
    })
    .unwrap();
    let refused = api
        .set_user(
            "erin",
            UserChange {
                add_ons: vec!["CRM module".into()],
                ..UserChange::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("is to have 4 licences from 2027-01-01"),
        "{refused}"
    );
}
