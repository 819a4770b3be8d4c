//! Searching, filtering and sorting users goes through an index kept in
//! memory and updated by every change: whatever the changes, a page of users
//! is what a reading of every user from the store gives, in every order, read
//! forwards or backwards, and its count is the number of users that match.

use std::sync::Arc;

use chrono::Duration;
use licfile::Term;
use proptest::prelude::*;
use store::ApiExt as _;
use store::views::{UserQuery, UserRow, UserSort};
use store::{FixedClock, InstallationKind, NewUser, Role, Store, UserChange};

use crate::common::sign;

#[derive(Debug, Clone)]
enum Op {
    Add(u8, u8, u8),
    Deactivate(u8),
    Activate(u8),
    Delete(u8),
    Role(u8, u8),
    Licence(u8, u8),
    Email(u8),
    AddOn(u8),
    Read(Query),
}

#[derive(Debug, Clone)]
struct Query {
    search: Option<&'static str>,
    state: Option<&'static str>,
    no_licence: bool,
    sales_monthly: bool,
    include_deleted: bool,
    sort: UserSort,
    limit: usize,
}

/// Seats: (licence, term), or none.
const SEATS: [Option<(&str, &str)>; 4] = [
    None,
    Some(("Sales Support", "monthly")),
    Some(("Jobs User", "monthly")),
    Some(("Sales Person", "contracted")),
];

const SEARCHES: [&str; 7] = ["u1", "U", "sales", "@b.example", "monthly", "crm", "nobody"];

fn name(i: u8) -> String {
    // Mixed case: the store's order is by the name in lower case.
    if i.is_multiple_of(3) {
        format!("U{i}")
    } else {
        format!("u{i}")
    }
}

fn query() -> impl Strategy<Value = Query> {
    (
        proptest::option::of(proptest::sample::select(SEARCHES.to_vec())),
        proptest::option::of(proptest::sample::select(vec![
            "active", "inactive", "deleted",
        ])),
        proptest::bool::weighted(0.2),
        proptest::bool::weighted(0.2),
        proptest::bool::weighted(0.2),
        proptest::sample::select(UserSort::ALL.to_vec()),
        1usize..6,
    )
        .prop_map(
            |(search, state, no_licence, sales_monthly, include_deleted, sort, limit)| Query {
                search,
                state,
                no_licence,
                sales_monthly,
                include_deleted,
                sort,
                limit,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..14, 0u8..4, 0u8..4).prop_map(|(i, r, s)| Op::Add(i, r, s)),
        1 => (0u8..14).prop_map(Op::Deactivate),
        1 => (0u8..14).prop_map(Op::Activate),
        1 => (0u8..14).prop_map(Op::Delete),
        1 => (0u8..14, 0u8..4).prop_map(|(i, r)| Op::Role(i, r)),
        1 => (0u8..14, 0u8..4).prop_map(|(i, s)| Op::Licence(i, s)),
        1 => (0u8..14).prop_map(Op::Email),
        1 => (0u8..14).prop_map(Op::AddOn),
        3 => query().prop_map(Op::Read),
    ]
}

fn role(r: u8) -> String {
    let roles = [
        Role::ALL[0],
        Role::ALL[5],
        Role::ALL[9],
        Role::ALL[Role::ALL.len() - 1],
    ];
    roles[usize::from(r) % roles.len()].name().to_lowercase()
}

fn seat_change(s: u8) -> (Option<String>, Option<String>) {
    match SEATS[usize::from(s) % SEATS.len()] {
        None => (Some("none".into()), None),
        Some((l, t)) => (Some(l.into()), Some(t.into())),
    }
}

/// Every user, each read by name (not through a list).
fn everyone(s: &Store) -> Vec<UserRow> {
    let mut all: Vec<UserRow> = (0..14)
        .map(name)
        .chain(["owner".to_string()])
        .filter_map(|n| s.user(&n).unwrap())
        .map(|u| UserRow {
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role.name().into(),
            licence: u.seat.as_ref().map(|p| p.label()),
            term: u.seat.as_ref().map(|p| p.term),
            add_ons: u.add_ons.clone(),
            state: u.state.word().into(),
            over_allocated_until: None,
        })
        .collect();
    all.sort_by_key(|u| u.name.to_lowercase());
    all
}

fn store_query(q: &Query) -> UserQuery {
    UserQuery {
        search: q.search.map(str::to_string),
        state: q.state.map(str::to_string),
        no_licence: q.no_licence,
        licence: q.sales_monthly.then(|| "Sales Support".to_string()),
        term: q.sales_monthly.then_some(Term::Monthly),
        include_deleted: q.include_deleted,
        sort: q.sort,
        limit: q.limit,
        ..Default::default()
    }
}

/// What the query should give, worked out from every user.
fn expected(all: &[UserRow], q: &Query) -> Vec<String> {
    let mut kept: Vec<&UserRow> = all
        .iter()
        .filter(|u| {
            if u.state == "deleted" && !q.include_deleted && q.state != Some("deleted") {
                return false;
            }
            if q.state.is_some_and(|s| s != u.state) {
                return false;
            }
            if q.no_licence && u.licence.is_some() {
                return false;
            }
            if q.sales_monthly
                && !(u.term == Some(Term::Monthly)
                    && u.licence
                        .as_deref()
                        .is_some_and(|l| l.starts_with("Sales Support")))
            {
                return false;
            }
            match q.search {
                None => true,
                Some(s) => {
                    let s = s.to_lowercase();
                    [&u.name, &u.email, &u.role]
                        .into_iter()
                        .chain(u.licence.as_ref())
                        .chain(u.add_ons.iter())
                        .any(|f| f.to_lowercase().contains(&s))
                }
            }
        })
        .collect();
    let rank = |r: &str| Role::ALL.iter().position(|x| x.name() == r);
    let state = |s: &str| {
        ["active", "inactive", "deleted"]
            .iter()
            .position(|x| *x == s)
    };
    // `all` is in name order already; a stable sort keeps it within a key.
    match q.sort {
        UserSort::Name => {}
        UserSort::Role => kept.sort_by_key(|u| rank(&u.role)),
        UserSort::State => kept.sort_by_key(|u| state(&u.state)),
        UserSort::Licence => kept.sort_by_key(|u| {
            (
                u.licence.is_none(),
                u.licence.as_ref().map(|l| l.to_lowercase()),
            )
        }),
    }
    kept.into_iter().map(|u| u.name.clone()).collect()
}

/// Reads every page forwards, then every page backwards from the end, and
/// checks both against `want`, and each page's count.
fn read_both_ways(s: &Store, q: &Query, want: &[String]) -> Result<(), TestCaseError> {
    let base = store_query(q);
    let mut forward = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .users_page(&UserQuery {
                after: after.clone(),
                ..base.clone()
            })
            .unwrap();
        prop_assert_eq!(page.total, Some(want.len() as u64), "count of {:?}", q);
        prop_assert!(page.users.len() <= q.limit);
        // The same page again, from its first row (as after a change).
        if let Some(first) = page.users.first() {
            for backward in [false, true] {
                let again = s
                    .users_page(&UserQuery {
                        after: Some(first.name.clone()),
                        inclusive: true,
                        backward,
                        limit: 1,
                        ..base.clone()
                    })
                    .unwrap();
                prop_assert_eq!(&again.users[0].name, &first.name, "again, {:?}", q);
            }
        }
        forward.extend(page.users.iter().map(|u| u.name.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
        prop_assert!(forward.len() <= want.len(), "runs on: {:?}", forward);
    }
    prop_assert_eq!(&forward, want, "forwards, {:?}", q);
    let mut backward: Vec<String> = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .users_page(&UserQuery {
                after: before.clone(),
                backward: true,
                ..base.clone()
            })
            .unwrap();
        prop_assert_eq!(page.total, Some(want.len() as u64));
        let names: Vec<String> = page.users.iter().map(|u| u.name.clone()).collect();
        backward.splice(0..0, names);
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
        prop_assert!(backward.len() <= want.len(), "runs on: {:?}", backward);
    }
    prop_assert_eq!(&backward, want, "backwards, {:?}", q);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn a_page_of_users_is_what_reading_every_user_gives(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
        let licence = licfile::sample::licence("NW-1");
        let s = Store::create(
            &dir.path().join("st"),
            sign(&licence).as_bytes(),
            InstallationKind::Central,
            "owner",
            clock.clone(),
        )
        .unwrap();
        let o = s.as_user("owner");
        for op in ops {
            clock.advance(Duration::minutes(1));
            // Refusals (unknown user, no free seat, a role the licence does
            // not allow) are fine: the point is that pages follow the store.
            let _ = match op {
                Op::Add(i, r, seat) => {
                    let (licence, term) = seat_change(seat);
                    o.add_user(NewUser {
                        name: name(i),
                        role: role(r),
                        licence: licence.filter(|l| l != "none"),
                        term,
                        email: Some(format!("{}@{}.example", name(i), if i.is_multiple_of(2) { "a" } else { "b" })),
                    })
                    .map(|_| ())
                }
                Op::Deactivate(i) => o.deactivate(name(i)).map(|_| ()),
                Op::Activate(i) => o.activate(name(i)).map(|_| ()),
                Op::Delete(i) => o.delete_user(name(i)),
                Op::Role(i, r) => o
                    .set_user(name(i), UserChange { role: Some(role(r)), ..Default::default() })
                    .map(|_| ()),
                Op::Licence(i, seat) => {
                    let (licence, term) = seat_change(seat);
                    o.set_user(name(i), UserChange { licence, term, ..Default::default() })
                        .map(|_| ())
                }
                Op::Email(i) => o
                    .set_user(name(i), UserChange { email: Some(format!("x{i}@b.example")), ..Default::default() })
                    .map(|_| ()),
                Op::AddOn(i) => o
                    .set_user(name(i), UserChange { add_ons: vec!["CRM module".into()], ..Default::default() })
                    .map(|_| ()),
                Op::Read(q) => {
                    let want = expected(&everyone(&s), &q);
                    read_both_ways(&s, &q, &want)?;
                    Ok(())
                }
            };
        }
        for sort in UserSort::ALL {
            let q = Query {
                search: Some("u"),
                state: None,
                no_licence: false,
                sales_monthly: false,
                include_deleted: true,
                sort,
                limit: 4,
            };
            let want = expected(&everyone(&s), &q);
            read_both_ways(&s, &q, &want)?;
        }
    }
}

/// A user deleted between two pages: the next page goes on from where the
/// list was, in name order and in another order.
#[test]
fn a_user_removed_between_pages_does_not_lose_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let licence = licfile::sample::licence("NW-1");
    let s = Store::create(
        &dir.path().join("st"),
        sign(&licence).as_bytes(),
        InstallationKind::Central,
        "owner",
        clock,
    )
    .unwrap();
    let o = s.as_user("owner");
    for i in 0..10 {
        o.add_user(NewUser {
            name: format!("p{i}"),
            role: role(0),
            licence: None,
            term: None,
            email: None,
        })
        .unwrap();
    }
    let q = UserQuery {
        search: Some("p".into()),
        limit: 4,
        ..Default::default()
    };
    let first = s.users_page(&q).unwrap();
    assert_eq!(first.total, Some(10));
    let last = first.next.clone().unwrap();
    assert_eq!(last, "p3");
    o.delete_user("p3").unwrap();
    let second = s
        .users_page(&UserQuery {
            after: Some(last),
            ..q.clone()
        })
        .unwrap();
    let names: Vec<_> = second.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["p4", "p5", "p6", "p7"]);
    assert_eq!(second.total, Some(9));
}
