//! Whatever sequence of user changes and imports happens, the seat counters
//! equal a recount, and the over-allocated users of each pool are exactly its
//! most recently activated active holders beyond the seat total.

use std::sync::Arc;
use store::ApiExt as _;

use chrono::Duration;
use licfile::Term;
use proptest::prelude::*;
use store::views::UserQuery;
use store::{FixedClock, InstallationKind, NewUser, Store};

use crate::common::sign;

#[derive(Debug, Clone)]
enum Op {
    Add(u8),
    Deactivate(u8),
    Activate(u8),
    Resize(u8),
    Wait(u8),
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12).prop_map(Op::Add),
        2 => (0u8..12).prop_map(Op::Deactivate),
        2 => (0u8..12).prop_map(Op::Activate),
        1 => (0u8..6).prop_map(Op::Resize),
        1 => (0u8..10).prop_map(Op::Wait),
        1 => Just(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn counters_and_over_allocation_stay_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
        let mut licence = licfile::sample::licence("NW-1");
        let s = Store::create(&dir.path().join("st"), sign(&licence).as_bytes(), InstallationKind::Central, "owner", clock.clone()).unwrap();
        for op in ops {
            clock.advance(Duration::minutes(1));
            // Refusals (already active, unknown user) are fine: the point is what stays true.
            let _ = match op {
                Op::Add(i) => s.as_user("owner").add_user(NewUser { name: format!("u{i}"), role: "sales support".into(), licence: Some("Sales Support".into()), term: Some("monthly".into()), email: None }).map(|_| ()),
                Op::Deactivate(i) => s.as_user("owner").deactivate(format!("u{i}")).map(|_| ()),
                Op::Activate(i) => s.as_user("owner").activate(format!("u{i}")).map(|_| ()),
                Op::Resize(n) => {
                    licence.sequence += 1;
                    for p in &mut licence.seat_pools {
                        if p.licence == "Sales Support" && p.term == Term::Monthly {
                            p.count = u32::from(n);
                        }
                    }
                    s.as_user("owner").import(sign(&licence)).map(|_| ())
                }
                Op::Wait(d) => { clock.advance(Duration::days(i64::from(d))); Ok(()) }
                Op::Tick => s.tick().map(|_| ()),
            };
            let audit = s.audit_verify().unwrap();
            prop_assert!(audit.ok(), "{:?}", audit.problems);
            let pool = s.pools().unwrap().into_iter().find(|p| p.licence == "Sales Support" && p.term == Term::Monthly).unwrap();
            let rows = s.users_page(&UserQuery { licence: Some("Sales Support".into()), term: Some(Term::Monthly), limit: 1000, ..Default::default() }).unwrap().users;
            let active: Vec<_> = rows.iter().filter(|r| r.state == "active").collect();
            prop_assert_eq!(active.len() as u64, pool.in_use);
            let over = active.iter().filter(|r| r.over_allocated_until.is_some()).count() as u64;
            prop_assert_eq!(over, pool.in_use.saturating_sub(u64::from(pool.total)));
            // The marked ones are the newest activations.
            let mut by_activation: Vec<_> = active.iter().map(|r| (s.user(&r.name).unwrap().unwrap().activation, r.over_allocated_until.is_some())).collect();
            by_activation.sort();
            let first_marked = by_activation.iter().position(|(_, m)| *m).unwrap_or(by_activation.len());
            prop_assert!(by_activation[first_marked..].iter().all(|(_, m)| *m), "{:?}", by_activation);
        }
    }
}
