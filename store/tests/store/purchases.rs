//! Purchases, reductions, pending seats and usage reports at chosen dates.

use chrono::Duration;
use licfile::{Document, SeatAction, Term, YearMonth};
use store::ApiExt as _;
use store::usage::UsageKind;
use store::{NewUser, Store, StoreError};

use crate::common::{Site, at, sign, site_with};

fn site(date: &str) -> Site {
    site_with(date, &licfile::sample::licence("NW-1"))
}

fn pool(s: &Store, licence: &str, term: Term) -> store::views::PoolView {
    s.pools()
        .unwrap()
        .into_iter()
        .find(|p| p.licence == licence && p.term == term)
        .unwrap()
}

fn add(s: &Store, name: &str, licence: &str, term: &str) -> store::User {
    s.as_user("owner")
        .add_user(NewUser {
            name: name.into(),
            role: "engineer".into(),
            licence: Some(licence.into()),
            term: Some(term.into()),
            email: None,
        })
        .unwrap()
}

#[test]
fn a_monthly_purchase_is_priced_by_the_days_left_and_pending_until_granted() {
    let s = site("2026-11-22T09:00:00Z");
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Add, 3, "")
        .unwrap();
    assert_eq!(r.breakdown.total.to_string(), "46.80");
    assert_eq!(r.effective.to_string(), "2026-11-22");
    let p = pool(&s.store, "Jobs User", Term::Monthly);
    assert_eq!((p.total, p.pending), (5, 3));

    // Pending seats are not usable: the sixth monthly user is over-allocated.
    for i in 0..6 {
        add(&s.store, &format!("m{i}"), "Jobs User", "monthly");
    }
    assert!(
        s.store
            .user("m5")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_some()
    );

    // The request is signed by the installation key and says what was asked.
    let (doc, signer) = licfile::verify::read_verified(
        r.armored.as_bytes(),
        licfile::DocumentKind::Request,
        &licfile::Roots::new(),
    )
    .unwrap();
    assert!(matches!(signer, licfile::Signer::Installation { .. }));
    let Document::Request(req) = doc.document else {
        panic!()
    };
    assert_eq!(
        (
            req.changes[0].count,
            req.changes[0].term,
            req.licence_sequence
        ),
        (3, Term::Monthly, 1)
    );
    assert_eq!(req.total.to_string(), "46.80");

    // The vendor's licence granting them fulfils the purchase.
    let mut next = licfile::sample::licence("NW-1");
    next.sequence = 2;
    next.seat_pools[1].count = 8;
    s.store.as_user("owner").import(sign(&next)).unwrap();
    let p = pool(&s.store, "Jobs User", Term::Monthly);
    assert_eq!((p.total, p.pending, p.in_use), (8, 0, 6));
    assert!(
        s.store
            .user("m5")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_none()
    );
    assert!(
        s.store
            .events(10, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Purchase fulfilled")
    );
    // The outbox holds the request's and the import's confirmations.
    let mail = store::outbox::list(s.store.layout()).unwrap();
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[0].to, "accounts@northwind-heating.example");
}

#[test]
fn a_request_that_is_never_granted_lapses_after_30_days() {
    let s = site("2026-03-02T09:00:00Z");
    s.store
        .as_user("owner")
        .request_seats("Sales Person", "contracted", SeatAction::Add, 2, "")
        .unwrap();
    s.clock.advance(Duration::days(29));
    s.store.tick().unwrap();
    assert_eq!(pool(&s.store, "Sales Person", Term::Contracted).pending, 2);
    s.clock.advance(Duration::days(1));
    let report = s.store.tick().unwrap();
    assert!(
        report
            .notices
            .iter()
            .any(|n| n.contains("lapsed unfulfilled")),
        "{report:?}"
    );
    assert_eq!(pool(&s.store, "Sales Person", Term::Contracted).pending, 0);
    assert!(
        s.store
            .events(5, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Purchase expired")
    );
}

#[test]
fn contracted_seats_are_priced_to_the_contract_end_even_mid_month() {
    let mut l = licfile::sample::licence("NW-1");
    l.contract.end = "2026-12-15".parse().unwrap();
    let s = site_with("2026-11-22T09:00:00Z", &l);
    // 9/30 of November + 15/31 of December, at 45.00.
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "contracted", SeatAction::Add, 1, "")
        .unwrap();
    assert_eq!(r.breakdown.lines.len(), 2);
    assert_eq!(r.breakdown.total.to_string(), "35.27");
}

#[test]
fn a_leap_day_purchase_is_one_twenty_ninth_of_a_month() {
    let mut l = licfile::sample::licence("NW-1");
    l.issued_at = licfile::Timestamp::from(at("2028-01-05T10:00:00Z"));
    l.contract.start = "2028-01-01".parse().unwrap();
    l.contract.end = "2028-12-31".parse().unwrap();
    l.expiry = None;
    let s = site_with("2028-02-29T09:00:00Z", &l);
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Add, 1, "")
        .unwrap();
    // 52.00 x 1/29 = 1.7931… -> 1.79
    assert_eq!(r.breakdown.total.to_string(), "1.79");
}

#[test]
fn contracted_seats_are_reduced_only_in_the_renewal_window_and_at_renewal() {
    let s = site("2026-09-01T09:00:00Z");
    let err = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "contracted", SeatAction::Remove, 2, "")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("renewal window, 2026-11-01 to 2026-12-31"),
        "{err}"
    );
    for i in 0..24 {
        add(&s.store, &format!("c{i:02}"), "Jobs User", "contracted");
        s.clock.advance(Duration::minutes(1));
    }
    s.clock.set(at("2026-11-15T09:00:00Z"));
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "contracted", SeatAction::Remove, 3, "")
        .unwrap();
    assert_eq!(r.effective.to_string(), "2027-01-01");
    assert!(
        !r.notes.is_empty(),
        "users beyond the reduced seats are warned of"
    );
    let p = pool(&s.store, "Jobs User", Term::Contracted);
    assert_eq!(p.total, 25);
    assert_eq!(p.scheduled.as_ref().map(|x| x.seats), Some(22));

    // At renewal the pool shrinks; the two newest users are over-allocated, then deactivated.
    s.clock.set(at("2027-01-01T00:10:00Z"));
    s.store.tick().unwrap();
    let p = pool(&s.store, "Jobs User", Term::Contracted);
    assert_eq!((p.total, p.in_use, p.over_allocated), (22, 24, 2));
    assert!(
        s.store
            .user("c23")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_some()
    );
    assert!(
        s.store
            .user("c22")
            .unwrap()
            .unwrap()
            .over_allocated_since
            .is_some()
    );
    s.clock.advance(Duration::days(7));
    assert_eq!(s.store.tick().unwrap().deactivated, ["c23", "c22"]);
    assert!(s.store.audit_verify().unwrap().ok());
}

#[test]
fn monthly_seats_are_removed_only_down_to_the_seats_in_use_from_next_month() {
    let s = site("2026-03-10T09:00:00Z");
    for i in 0..3 {
        add(&s.store, &format!("m{i}"), "Jobs User", "monthly");
    }
    let err = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Remove, 3, "")
        .unwrap_err();
    assert!(err.to_string().contains("only 2 of the 5"), "{err}");
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Remove, 2, "")
        .unwrap();
    assert_eq!(r.effective.to_string(), "2026-04-01");
    assert_eq!(
        pool(&s.store, "Jobs User", Term::Monthly).total,
        5,
        "not before the next period"
    );

    // Seed 003: a purchase after a scheduled reduction resets the next period to the purchased count.
    s.store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Add, 1, "")
        .unwrap();
    assert!(
        pool(&s.store, "Jobs User", Term::Monthly)
            .scheduled
            .is_none()
    );
    assert!(
        s.store
            .events(5, None)
            .unwrap()
            .iter()
            .any(|e| e.name == "Seat reduction cancelled")
    );
    s.clock.set(at("2026-04-01T09:00:00Z"));
    s.store.tick().unwrap();
    assert_eq!(pool(&s.store, "Jobs User", Term::Monthly).total, 5);
}

#[test]
fn a_due_monthly_reduction_limits_the_pool_until_the_licence_reflects_it() {
    let s = site("2026-03-10T09:00:00Z");
    s.store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Remove, 2, "")
        .unwrap();
    s.clock.set(at("2026-04-01T08:00:00Z"));
    s.store.tick().unwrap();
    assert_eq!(pool(&s.store, "Jobs User", Term::Monthly).total, 3);
    // The vendor's licence with 3 seats settles it.
    let mut next = licfile::sample::licence("NW-1");
    next.sequence = 2;
    next.seat_pools[1].count = 3;
    s.store.as_user("owner").import(sign(&next)).unwrap();
    assert!(
        s.store
            .reductions(&store::PoolKey {
                issuer: String::new(),
                area: "Jobs".into(),
                licence: "User".into(),
                term: Term::Monthly
            })
            .unwrap()
            .is_empty()
    );
    assert_eq!(pool(&s.store, "Jobs User", Term::Monthly).total, 3);
}

#[test]
fn daily_seats_go_at_once_and_only_where_offered() {
    let s = site("2026-03-10T09:00:00Z");
    let err = s
        .store
        .as_user("owner")
        .request_seats("Sales Person", "daily", SeatAction::Add, 1, "")
        .unwrap_err();
    assert!(matches!(err, StoreError::TermNotOffered { .. }), "{err}");
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "daily", SeatAction::Remove, 1, "")
        .unwrap();
    assert_eq!(r.effective.to_string(), "2026-03-10");
    assert_eq!(pool(&s.store, "Jobs User", Term::Daily).total, 3);
    let r = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "daily", SeatAction::Add, 2, "")
        .unwrap();
    assert_eq!(r.breakdown.total.to_string(), "0.00");
}

#[test]
fn at_least_one_seat_stays_in_total() {
    let mut l = licfile::sample::licence("NW-1");
    l.seat_pools
        .retain(|p| p.term == Term::Monthly && p.area == "Jobs");
    l.seat_pools[0].count = 2;
    let s = site_with("2026-03-10T09:00:00Z", &l);
    let err = s
        .store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Remove, 2, "")
        .unwrap_err();
    assert!(err.to_string().contains("at least one seat"), "{err}");
    s.store
        .as_user("owner")
        .request_seats("Jobs User", "monthly", SeatAction::Remove, 1, "")
        .unwrap();
}

#[test]
fn only_licence_managers_buy_seats() {
    let s = site("2026-03-10T09:00:00Z");
    add(&s.store, "eng", "Jobs User", "contracted");
    let err = s
        .store
        .as_user("eng")
        .request_seats("Jobs User", "monthly", SeatAction::Add, 1, "")
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err}");
    assert!(
        store::outbox::list(s.store.layout()).unwrap().is_empty(),
        "a refused request writes no e-mail"
    );
}

#[test]
fn the_usage_report_counts_peaks_user_days_metered_excess_and_storage() {
    let s = site("2026-05-01T09:00:00Z");
    for i in 0..3 {
        add(&s.store, &format!("m{i}"), "Jobs User", "monthly");
    }
    add(&s.store, "d", "Jobs User", "daily");
    s.clock.set(at("2026-05-10T09:00:00Z"));
    s.store.as_user("owner").deactivate("m2").unwrap();
    // Days ahead are diary events booked for them (seed 000); a login names today.
    for day in ["2026-05-10", "2026-05-11", "2026-05-11", "2026-05-20"] {
        s.store
            .as_user("owner")
            .record_usage("d", UsageKind::DiaryBooked, Some(day.parse().unwrap()))
            .unwrap();
    }
    s.store
        .as_user("owner")
        .record_metered("chat-sessions", 1000)
        .unwrap();
    s.store
        .as_user("owner")
        .record_storage(5_000_000_000)
        .unwrap();
    s.clock.set(at("2026-06-02T09:00:00Z"));
    // June's changes do not move May's threshold.
    s.store.as_user("owner").deactivate("m1").unwrap();
    let mut parts = s
        .store
        .as_user("owner")
        .usage_report(YearMonth::new(2026, 5).unwrap())
        .unwrap();
    assert_eq!(parts.len(), 1, "a small site's report is one part");
    let (report, armored) = parts.remove(0);
    assert_eq!((report.part, report.parts), (1, 1));
    let monthly = report
        .pools
        .iter()
        .find(|p| p.term == Term::Monthly && p.area == "Jobs")
        .unwrap();
    assert_eq!((monthly.total, monthly.peak_in_use), (5, 3));
    assert_eq!(report.daily_user_days.len(), 1);
    assert_eq!(report.daily_user_days[0].users.len(), 1);
    assert_eq!(report.daily_user_days[0].users[0].days.len(), 3);
    let chat = report
        .metered
        .iter()
        .find(|m| m.name == "chat-sessions")
        .unwrap();
    // 500 + 20 per user, users being the most active at once in May (owner,
    // m0, m1, m2, d = 5, before m2 was deactivated on the 10th): 600. Not the
    // 3 active when the report is made.
    assert_eq!((chat.used, chat.threshold, chat.excess), (1000, 600, 400));
    assert_eq!(report.storage_used_bytes, 5_000_000_000);
    licfile::verify::read_verified(
        armored.as_bytes(),
        licfile::DocumentKind::UsageReport,
        &licfile::Roots::new(),
    )
    .unwrap();

    // The invoice: seats ahead for June, 3 user-days at 3.50, 400 chats at 0.10.
    let inv = licfile::invoice::invoice(std::slice::from_ref(&report)).unwrap();
    assert_eq!(inv.billed_ahead.to_string(), "2026-06");
    let dec = |x: &str| x.parse::<rust_decimal::Decimal>().unwrap();
    let daily = inv
        .lines
        .iter()
        .find(|l| l.description.contains("daily user-days of d"))
        .unwrap();
    assert_eq!((daily.quantity, daily.amount), (3, dec("10.50")));
    // Contracted and monthly pools of the sample licence, billed ahead: seats x price.
    let seats = dec("25") * dec("45")
        + dec("5") * dec("52")
        + dec("6") * dec("39")
        + dec("2") * dec("44")
        + dec("3") * dec("15")
        + dec("18");
    assert_eq!(inv.total, seats + dec("10.50") + dec("40"));
    // A month not started yet is refused.
    assert!(
        s.store
            .as_user("owner")
            .usage_report(YearMonth::new(2026, 7).unwrap())
            .is_err()
    );

    // Format 2: the report commits to the log's head when it was made and
    // to the report before it.
    let chain = report.chain.clone().expect("a format 2 report");
    assert_eq!(chain.previous_report, None, "the store's first report");
    let logged = s.store.events(1, None).unwrap();
    assert_eq!(logged[0].name, "Usage report");
    assert_eq!(
        chain.audit_seq,
        logged[0].seq - 1,
        "the head before its own event"
    );
    assert_eq!(
        chain.audit_head,
        s.store.event(chain.audit_seq).unwrap().hash,
        "the head's hash"
    );
    let (june, _) = s
        .store
        .as_user("owner")
        .usage_report(YearMonth::new(2026, 6).unwrap())
        .unwrap()
        .remove(0);
    let june_chain = june.chain.expect("format 2");
    assert_eq!(
        june_chain.previous_report.as_deref(),
        Some(report.report_id.as_str())
    );
    assert!(june_chain.audit_seq > chain.audit_seq);
}
