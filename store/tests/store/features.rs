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

#[test]
fn notifications_come_a_page_at_a_time_from_any_position_with_the_total() {
    let s = site("2026-03-02T09:00:00Z");
    for i in 0..30 {
        add(&s.store, &format!("u{i:02}"), "engineer", None);
    }
    let owner = s.store.as_user("owner");
    let all = s.store.events(100_000, None).unwrap();
    let total = all.len() as u64;
    assert!(total > 30);
    // By cursor, 7 at a time: every event once, newest first, each with its
    // Finished and Type as the log holds them.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = owner
            .notifications(store::notifications::NotificationQuery {
                before,
                offset: 0,
                limit: 7,
            })
            .unwrap();
        assert_eq!(page.total, total);
        assert_eq!(page.offset, seen.len() as u64);
        assert!(page.items.len() <= 7);
        seen.extend(page.items);
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen.len(), all.len());
    for (n, e) in seen.iter().zip(&all) {
        assert_eq!(
            (n.seq, &n.name, n.finished_at, n.kind, n.status),
            (e.seq, &e.name, e.finished_at, e.kind, e.status)
        );
    }
    // By offset: any row, the last one too, and past the end nothing.
    let page = owner
        .notifications(store::notifications::NotificationQuery {
            before: None,
            offset: total - 1,
            limit: 50,
        })
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].seq, 1);
    assert_eq!(page.items[0].name, "Store created");
    assert_eq!(page.next_before, None);
    let page = owner
        .notifications(store::notifications::NotificationQuery {
            before: None,
            offset: 10,
            limit: 3,
        })
        .unwrap();
    let seqs: Vec<u64> = page.items.iter().map(|n| n.seq).collect();
    assert_eq!(seqs, vec![total - 10, total - 11, total - 12]);
    let page = owner
        .notifications(store::notifications::NotificationQuery {
            before: None,
            offset: total,
            limit: 3,
        })
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, total);
    // Through the gate: an engineer does not see the action log.
    add(&s.store, "eng", "engineer", Some(("Jobs User", "monthly")));
    let err = s
        .store
        .as_user("eng")
        .notifications(store::notifications::NotificationQuery::default())
        .unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
}

#[test]
fn history_reads_seats_daily_charges_storage_and_metered_use_over_time() {
    use store::usage::UsageKind;
    let s = site("2026-01-10T09:00:00Z");
    let owner = s.store.as_user("owner");
    // January: two monthly seats; February: a third; March: one goes.
    add(&s.store, "m1", "engineer", Some(("Jobs User", "monthly")));
    add(&s.store, "m2", "engineer", Some(("Jobs User", "monthly")));
    add(&s.store, "d1", "engineer", Some(("Jobs User", "daily")));
    add(&s.store, "d2", "engineer", Some(("Jobs User", "daily")));
    owner.record_storage(30_000_000_000u64).unwrap();
    owner.record_metered("emails-sent", 100u64).unwrap();
    s.clock.set(at("2026-02-03T09:00:00Z"));
    add(&s.store, "m3", "engineer", Some(("Jobs User", "monthly")));
    owner.record_storage(50_000_000_000u64).unwrap();
    owner.record_metered("emails-sent", 200u64).unwrap();
    s.clock.set(at("2026-03-01T09:00:00Z"));
    owner.deactivate("m1").unwrap();
    // Charged user-days: two on 1 March, one on 2 March, none on 3 March;
    // a second record of a day charges nothing more.
    owner.record_usage("d1", UsageKind::Login, None).unwrap();
    owner
        .record_usage("d1", UsageKind::DiaryActioned, None)
        .unwrap();
    owner.record_usage("d2", UsageKind::Login, None).unwrap();
    s.clock.set(at("2026-03-02T09:00:00Z"));
    owner.record_usage("d2", UsageKind::Login, None).unwrap();
    s.clock.set(at("2026-03-03T09:00:00Z"));
    // Past the free e-mails: 5,000 + 200 x users.
    owner.record_metered("emails-sent", 9_000u64).unwrap();

    let h = owner.history(5u32).unwrap();
    assert_eq!(h.today.to_string(), "2026-03-03");
    let monthly = h
        .seats
        .iter()
        .find(|p| p.label == "Jobs User (monthly)")
        .unwrap();
    assert_eq!(monthly.months.len(), 12);
    let values: Vec<Option<u64>> = monthly.months.iter().map(|m| m.value).collect();
    // Before the store: nothing; January 2, February 3, March 2 (a month's
    // peak starts from the seats in use as its first change leaves them,
    // and March's first change took one away).
    assert_eq!(&values[..9], &[None; 9]);
    assert_eq!(&values[9..], &[Some(2), Some(3), Some(2)]);
    assert_eq!(monthly.total, 5);

    let daily = &h.daily[0];
    assert_eq!(daily.label, "Jobs User (daily)");
    let days: Vec<(String, u64)> = daily
        .days
        .iter()
        .map(|d| (d.day.to_string(), d.charged))
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-02-27".to_string(), 0),
            ("2026-02-28".to_string(), 0),
            ("2026-03-01".to_string(), 2),
            ("2026-03-02".to_string(), 1),
            ("2026-03-03".to_string(), 0),
        ]
    );
    // The counts agree with the charges themselves.
    let march = licfile::YearMonth::new(2026, 3).unwrap();
    let charged: usize = s
        .store
        .daily_charges(march)
        .unwrap()
        .iter()
        .map(|c| c.2.len())
        .sum();
    assert_eq!(charged, 3);

    let storage: Vec<(String, Option<u64>)> = h
        .storage
        .iter()
        .map(|p| (p.month.to_string(), p.used_bytes))
        .collect();
    assert_eq!(storage[9], ("2026-01".into(), Some(30_000_000_000)));
    assert_eq!(storage[10], ("2026-02".into(), Some(50_000_000_000)));
    assert_eq!(storage[11].1, None);
    // The allowance was recorded with the import and with each record.
    let allowance = s.store.storage_allowance_gb();
    assert!(
        h.storage[9..]
            .iter()
            .all(|p| p.allowance_recorded && p.allowance_gb == allowance)
    );
    assert!(!h.storage[0].allowance_recorded);

    let emails = h.metered.iter().find(|m| m.name == "emails-sent").unwrap();
    let used: Vec<Option<u64>> = emails.months[9..].iter().map(|m| m.value).collect();
    assert_eq!(used, vec![Some(100), Some(200), Some(9_000)]);
    assert_eq!(emails.months[0].value, None);
    // The month's most active users, as the usage report counts them:
    // owner, m2, m3, d1, d2 (m1 went with March's first change).
    assert_eq!(emails.threshold, 5_000 + 200 * 5);
    assert_eq!(emails.excess, 9_000 - 6_000);
    assert_eq!(emails.overage_cost.to_string(), "6.00");
    assert_eq!(h.currency, "GBP");

    // Through the gate: an engineer does not see it.
    let err = s.store.as_user("m2").history(5u32).unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
}

#[test]
fn a_quote_carries_the_contract_month_by_month_summing_to_its_total() {
    let s = site("2026-03-10T09:00:00Z");
    let owner = s.store.as_user("owner");
    let q = owner
        .quote_seats("Jobs User", "contracted", licfile::SeatAction::Add, 3u32)
        .unwrap();
    let b = &q.breakdown;
    // 10 March to the contract end, 31 December: ten months, all committed.
    assert_eq!(b.months.len(), 10);
    assert_eq!(b.months[0].month.to_string(), "2026-03");
    assert_eq!((b.months[0].days, b.months[0].days_in_month), (22, 31));
    assert_eq!(b.months[9].month.to_string(), "2026-12");
    assert!(b.months.iter().all(|m| m.commitment));
    let sum: rust_decimal::Decimal = b.months.iter().map(|m| m.amount).sum();
    assert_eq!(sum, b.total);
    // 3 x 45.00 x 22/31 + 9 x 135.00.
    assert_eq!(b.total.to_string(), "1310.81");

    let q = owner
        .quote_seats("Jobs User", "monthly", licfile::SeatAction::Add, 1u32)
        .unwrap();
    let committed: Vec<_> = q.breakdown.months.iter().filter(|m| m.commitment).collect();
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0].amount, q.breakdown.total);
    assert_eq!(q.breakdown.months.len(), 10);
}

#[test]
fn a_users_detail_and_the_edits_the_console_makes() {
    use store::usage::UsageKind;
    let mut l = licence();
    // One monthly Jobs seat, so that a second user is over-allocated.
    for p in l.seat_pools.iter_mut() {
        if p.area == "Jobs" && p.term == Term::Monthly {
            p.count = 1;
        }
    }
    let s = site_with("2026-03-02T09:00:00Z", &l);
    let owner = s.store.as_user("owner");
    add(&s.store, "fin", "financial office staff", None);
    add(&s.store, "ann", "engineer", Some(("Jobs User", "monthly")));
    s.clock.set(at("2026-03-03T10:00:00Z"));
    add(
        &s.store,
        "bob",
        "senior engineer",
        Some(("Jobs User", "monthly")),
    );
    add(&s.store, "dee", "engineer", Some(("Jobs User", "daily")));
    owner.record_usage("dee", UsageKind::Login, None).unwrap();
    s.clock.set(at("2026-03-05T10:00:00Z"));
    owner
        .record_usage("dee", UsageKind::DiaryBooked, None)
        .unwrap();

    let bob = owner.user_detail("bob").unwrap();
    assert_eq!(bob.role_name, "Senior engineer");
    assert_eq!(bob.licence.as_deref(), Some("Jobs User"));
    assert_eq!(bob.term, Some(Term::Monthly));
    assert_eq!(bob.state, store::UserState::Active);
    assert_eq!(bob.activated_at, at("2026-03-03T10:00:00Z").timestamp());
    // Over-allocated on the 3rd: the licence's 7 days of grace.
    assert_eq!(
        bob.over_allocation_deadline,
        Some(at("2026-03-10T10:00:00Z").timestamp())
    );
    assert!(bob.charged_days.is_empty());
    let dee = owner.user_detail("dee").unwrap();
    let days: Vec<String> = dee.charged_days.iter().map(|d| d.to_string()).collect();
    assert_eq!(days, ["2026-03-03", "2026-03-05"]);
    assert_eq!(dee.over_allocation_deadline, None);

    // The edits the console makes: e-mail, add-ons, deletion; each an event.
    let before = s.store.event_total().unwrap();
    owner
        .set_user(
            "ann",
            store::UserChange {
                email: Some("ann@northwind.example".into()),
                add_ons: vec!["Outlook connector".into()],
                ..Default::default()
            },
        )
        .unwrap();
    let ann = owner.user_detail("ann").unwrap();
    assert_eq!(ann.email, "ann@northwind.example");
    assert_eq!(ann.add_ons, ["Outlook connector"]);
    owner
        .set_user(
            "ann",
            store::UserChange {
                remove_add_ons: vec!["Outlook connector".into()],
                ..Default::default()
            },
        )
        .unwrap();
    assert!(owner.user_detail("ann").unwrap().add_ons.is_empty());
    owner.delete_user("ann").unwrap();
    assert_eq!(
        owner.user_detail("ann").unwrap().state,
        store::UserState::Deleted
    );
    assert!(s.store.event_total().unwrap() >= before + 3);

    // Who may: a user about themselves, readers about anyone; only
    // Owner/manager edits, and a refusal changes nothing.
    assert_eq!(
        s.store.as_user("bob").user_detail("bob").unwrap().name,
        "bob"
    );
    assert_eq!(
        s.store.as_user("fin").user_detail("bob").unwrap().name,
        "bob"
    );
    let err = s.store.as_user("bob").user_detail("dee").unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
    let total = s.store.event_total().unwrap();
    let err = s
        .store
        .as_user("fin")
        .set_user(
            "bob",
            store::UserChange {
                email: Some("x@example.com".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
    let err = s.store.as_user("fin").delete_user("bob").unwrap_err();
    assert_eq!(err.code(), store::Code::NotPermitted);
    assert_eq!(s.store.event_total().unwrap(), total);
    assert_eq!(owner.user_detail("bob").unwrap().email, "");
    // Nobody by that name.
    let err = owner.user_detail("zed").unwrap_err();
    assert!(matches!(err, StoreError::UnknownUser(_)), "{err}");
}
