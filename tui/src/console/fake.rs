//! A fake store for the console's tests: everything in memory, every call
//! recorded, failures on demand. No sled, no files, no clock.

use std::sync::Mutex;

use chrono::{Datelike as _, NaiveDate};
use licfile::{SeatAction, Term};
use rust_decimal::Decimal;
use store::costs::{Breakdown, Line as CostLine, MonthCharge};
use store::detail::UserDetail;
use store::gate::ContractsZip;
use store::history::{
    DailySeries, DayPoint, History, MeteredSeries, MonthPoint, PoolSeries, StoragePoint,
};
use store::purchases::{Quote, RequestOutcome};
use store::views::{
    AddOnView, IntegrationView, LicenceView, MeteredView, PoolView, Scheduled, StatusView,
    UserQuery, UserRow, UserSort, UsersPage,
};
use store::{
    Code, Event, EventKind, EventStatus, ImportOutcome, Installation, InstallationKind, NewUser,
    PoolKey, Role, StoreError, User, UserChange, UserCounts, UserState,
};

use super::port::ConsoleStore;

/// The fake's state.
pub struct Fake {
    /// Users, in name order.
    pub users: Mutex<Vec<User>>,
    /// Events, oldest first (seq = index + 1).
    pub events: Mutex<Vec<Event>>,
    /// Every call, as a line ("deactivate ann").
    pub calls: Mutex<Vec<String>>,
    /// When set, every call fails as if the service went away.
    pub gone: Mutex<bool>,
    /// When set, the operator may not see licences.
    pub denied: bool,
    /// The pools.
    pub pools: Vec<PoolView>,
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn pool(licence: &str, term: Term, total: u32, in_use: u64, scheduled: Option<u32>) -> PoolView {
    PoolView {
        issuer: String::new(),
        area: "Jobs".into(),
        licence: licence.into(),
        licence_name: licence.into(),
        term,
        total,
        in_use,
        available: u64::from(total).saturating_sub(in_use),
        pending: 0,
        over_allocated: in_use.saturating_sub(u64::from(total)),
        licensed: total,
        scheduled: scheduled.map(|seats| Scheduled {
            seats,
            from: day("2027-01-01"),
        }),
        storage_gb_per_seat: 20,
        price: "25.00".into(),
    }
}

fn user(name: &str, i: usize) -> User {
    User {
        name: name.into(),
        email: format!("{name}@example.test"),
        role: if i.is_multiple_of(3) {
            Role::SeniorEngineer
        } else {
            Role::Engineer
        },
        seat: (i % 5 != 4).then(|| PoolKey {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: "Jobs User".into(),
            term: Term::Monthly,
        }),
        add_ons: if i.is_multiple_of(7) {
            vec!["CRM module".into()]
        } else {
            vec![]
        },
        state: if i % 11 == 10 {
            UserState::Inactive
        } else {
            UserState::Active
        },
        created_at: 1_780_000_000,
        activated_at: 1_780_000_000 + i as i64,
        activation: i as u64,
        over_allocated_since: None,
        deactivated_reason: String::new(),
    }
}

fn event(seq: u64) -> Event {
    Event {
        seq,
        name: format!("Event {seq}"),
        status: if seq.is_multiple_of(10) {
            EventStatus::Warning
        } else {
            EventStatus::Completed
        },
        message: format!("message {seq}"),
        description: format!("The description of event {seq}.\nIts second line."),
        activated_at: 1_780_000_000 + seq as i64 * 60,
        activated_by: "owner".into(),
        finished_at: Some(1_780_000_000 + seq as i64 * 60 + 5),
        kind: if seq.is_multiple_of(2) {
            EventKind::User
        } else {
            EventKind::System
        },
        prev_hash: [0; 32],
        hash: [0; 32],
        version: 2,
        action: None,
    }
}

impl Fake {
    /// A fake with `users` users (user00000, user00001, …) and `events` events.
    pub fn new(users: usize, events: u64) -> Fake {
        Fake {
            users: Mutex::new(
                (0..users)
                    .map(|i| user(&format!("user{i:05}"), i))
                    .collect(),
            ),
            events: Mutex::new((1..=events).map(event).collect()),
            calls: Mutex::new(Vec::new()),
            gone: Mutex::new(false),
            denied: false,
            pools: vec![
                pool("Jobs User", Term::Contracted, 100_000, 99_990, None),
                pool("Jobs User", Term::Monthly, 12, 14, Some(10)),
                pool("Jobs User", Term::Daily, 1, 1, None),
                pool("Sales Support", Term::Contracted, 3, 1, None),
            ],
        }
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }

    fn call(&self, what: String) -> Result<(), StoreError> {
        self.calls.lock().expect("calls").push(what);
        if *self.gone.lock().expect("gone") {
            return Err(StoreError::Service(
                "the service closed the connection".into(),
            ));
        }
        Ok(())
    }

    fn refused(message: &str) -> StoreError {
        StoreError::Refused {
            code: Code::NotPermitted,
            message: message.into(),
        }
    }

    fn row(u: &User) -> UserRow {
        UserRow {
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role.name().into(),
            licence: u.seat.as_ref().map(|s| s.label()),
            term: u.seat.as_ref().map(|s| s.term),
            add_ons: u.add_ons.clone(),
            state: u.state.word().into(),
            over_allocated_until: None,
        }
    }
}

impl ConsoleStore for Fake {
    fn operator(&self) -> String {
        "owner".into()
    }
    fn is_remote(&self) -> bool {
        false
    }
    fn installation(&self) -> Result<Installation, StoreError> {
        self.call("installation".into())?;
        Ok(Installation {
            serial: "FAKE-0001".into(),
            created_at: 1_780_000_000,
            kind: InstallationKind::Central,
            demo: false,
            installation_key_id: "00".into(),
            owner: "owner".into(),
        })
    }
    fn status(&self) -> Result<StatusView, StoreError> {
        self.call("status".into())?;
        if self.denied {
            return Err(Fake::refused("eng may not see licences: Engineer"));
        }
        Ok(StatusView {
            serial: "FAKE-0001".into(),
            licensee: "Fakes & Co, a company with a long name indeed".into(),
            licensee_email: "licences@fakes.test".into(),
            plan: "Customer Journey".into(),
            contract_start: Some(day("2025-07-01")),
            contract_end: Some(day("2026-06-30")),
            auto_renew: true,
            expires: Some(day("2026-11-30")),
            state: "grace".into(),
            state_detail: "expired 2026-11-30; terminated from 2026-12-14".into(),
            demo: false,
            installation: "central".into(),
            owner: "owner".into(),
            next_expiry: None,
            clock_behind_hours: None,
            lease_hours: 4,
            today: day("2026-12-03"),
            users: UserCounts {
                total: self.users.lock().expect("users").len() as u64,
                active: 0,
                over_allocated: 0,
            },
            pools: self.pools.clone(),
            month: "2026-12".into(),
            metered: vec![MeteredView {
                name: "emails-sent".into(),
                unit: "e-mails".into(),
                used: 100_000,
                threshold: 99_999,
                excess: 1,
                overage_price: "0.01".into(),
            }],
            storage_used_bytes: 5_000_000_000,
            storage_allowance_gb: 2_000_000,
            sequence: 3,
        })
    }
    fn licences(&self) -> Result<Vec<LicenceView>, StoreError> {
        self.call("licences".into())?;
        if self.denied {
            return Err(Fake::refused("eng may not see licences: Engineer"));
        }
        Ok(vec![LicenceView {
            issuer: String::new(),
            issuer_label: "the vendor".into(),
            licence_id: "LIC-1".into(),
            sequence: 3,
            product: "Jobs".into(),
            plan: "Customer Journey".into(),
            contract_start: day("2025-07-01"),
            contract_end: day("2026-06-30"),
            auto_renew: true,
            expires: Some(day("2026-11-30")),
            state: "grace".into(),
            state_detail: "expired 2026-11-30; terminated from 2026-12-14".into(),
            system_licences: vec![
                ("Server".into(), "The database server.".into()),
                (
                    "Web services".into(),
                    "The web services API for integrations.".into(),
                ),
            ],
            add_ons: vec![AddOnView {
                name: "CRM module".into(),
                count: 12,
                assigned: 1,
                price: "5.00".into(),
                pending: 0,
                scheduled: None,
            }],
            integrations: vec![IntegrationView {
                name: "Business Central".into(),
                follows_standard: true,
                seats: 12,
                price: "0".into(),
                pending: 0,
                scheduled: None,
            }],
            currency: "EUR".into(),
        }])
    }
    fn users_page(&self, q: UserQuery) -> Result<UsersPage, StoreError> {
        self.call(format!(
            "users_page after={:?} backward={} search={:?} state={:?} no_licence={} sort={} inclusive={}",
            q.after,
            q.backward,
            q.search,
            q.state,
            q.no_licence,
            q.sort.word(),
            q.inclusive
        ))?;
        let users = self.users.lock().expect("users");
        let mut keep: Vec<&User> = users
            .iter()
            .filter(|u| u.state != UserState::Deleted)
            .filter(|u| {
                q.search
                    .as_ref()
                    .is_none_or(|s| u.name.contains(&s.to_lowercase()))
            })
            .filter(|u| q.state.as_ref().is_none_or(|s| u.state.word() == s))
            .filter(|u| !q.no_licence || u.seat.is_none())
            .collect();
        keep.sort_by_key(|u| u.name.to_lowercase());
        let rank = |r: &store::Role| store::Role::ALL.iter().position(|x| x == r);
        match q.sort {
            UserSort::Name => {}
            UserSort::Role => keep.sort_by_key(|u| rank(&u.role)),
            UserSort::Licence => {
                keep.sort_by_key(|u| (u.seat.is_none(), u.seat.as_ref().map(|p| p.label())))
            }
            UserSort::State => keep.sort_by_key(|u| u.state != UserState::Active),
        }
        let n = keep.len();
        // Where the cursor is: forwards the page starts after it, backwards
        // it ends before it, `inclusive` moves past the cursor's own row.
        let past = usize::from(q.inclusive == q.backward);
        let at = match &q.after {
            None if q.backward => n,
            None => 0,
            Some(a) => match keep.iter().position(|u| u.name.eq_ignore_ascii_case(a)) {
                Some(i) => i + past,
                None if q.sort == UserSort::Name => {
                    keep.partition_point(|u| u.name.to_lowercase() < a.to_lowercase())
                }
                None if q.backward => n,
                None => 0,
            },
        };
        let limit = q.limit.max(1);
        let (rows, next): (Vec<&User>, Option<String>) = if q.backward {
            let from = at.saturating_sub(limit);
            let next = (from > 0).then(|| keep[from].name.clone());
            (keep[from..at].to_vec(), next)
        } else {
            let page: Vec<&User> = keep[at.min(n)..].iter().copied().take(limit).collect();
            let next = (n.saturating_sub(at) > limit)
                .then(|| page.last().map(|u| u.name.clone()))
                .flatten();
            (page, next)
        };
        Ok(UsersPage {
            users: rows.into_iter().map(Fake::row).collect(),
            total: Some(n as u64),
            next,
        })
    }
    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.call(format!("user {name}"))?;
        Ok(self
            .users
            .lock()
            .expect("users")
            .iter()
            .find(|u| u.name == name)
            .cloned())
    }
    fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>, StoreError> {
        self.call(format!("events {limit} {before:?}"))?;
        let events = self.events.lock().expect("events");
        Ok(events
            .iter()
            .rev()
            .filter(|e| before.is_none_or(|b| e.seq < b))
            .take(limit)
            .cloned()
            .collect())
    }
    fn prepare_user_search(&self) -> Result<(), StoreError> {
        self.call("prepare_user_search".into())
    }
    fn add_on_holders(&self, module: &str) -> Result<Vec<String>, StoreError> {
        self.call(format!("add_on_holders {module}"))?;
        Ok(self
            .users
            .lock()
            .expect("users")
            .iter()
            .filter(|u| u.add_ons.iter().any(|a| a == module))
            .map(|u| u.name.clone())
            .collect())
    }
    fn history(&self, days: u32) -> Result<History, StoreError> {
        self.call(format!("history {days}"))?;
        let months = store::history::months_to(licfile::YearMonth::of(day("2026-12-03")), 12);
        // The store existed from the third month shown: the two before have
        // no value (drawn as `-`, not as zero).
        let series = |f: &dyn Fn(u64) -> u64| -> Vec<MonthPoint> {
            months
                .iter()
                .enumerate()
                .map(|(i, m)| MonthPoint {
                    month: *m,
                    value: (i >= 2).then(|| f(i as u64)),
                })
                .collect()
        };
        let key = |term: Term| PoolKey {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: "Jobs User".into(),
            term,
        };
        let today = day("2026-12-03");
        Ok(History {
            today,
            currency: "EUR".into(),
            seats: vec![
                PoolSeries {
                    pool: key(Term::Monthly),
                    label: "Jobs User (monthly)".into(),
                    total: 12,
                    months: series(&|i| 4 + i),
                },
                PoolSeries {
                    pool: key(Term::Contracted),
                    label: "Jobs User (contracted)".into(),
                    total: 100_000,
                    months: series(&|i| 90_000 + i * 900),
                },
                // The daily chart's line: 5 seats, passed on the days that
                // charged 6.
                PoolSeries {
                    pool: key(Term::Daily),
                    label: "Jobs User (daily)".into(),
                    total: 5,
                    months: series(&|i| i % 6),
                },
            ],
            daily: vec![DailySeries {
                pool: key(Term::Daily),
                label: "Jobs User (daily)".into(),
                days: (0..days.min(31))
                    .rev()
                    .map(|back| {
                        let d = today - chrono::Days::new(u64::from(back));
                        DayPoint {
                            day: d,
                            charged: u64::from(d.day() % 7),
                        }
                    })
                    .collect(),
            }],
            storage: months
                .iter()
                .enumerate()
                .map(|(i, m)| StoragePoint {
                    month: *m,
                    used_bytes: (i >= 2).then(|| (100 + i as u64 * 10) * 1_000_000_000),
                    allowance_gb: 200,
                    allowance_recorded: i >= 6,
                })
                .collect(),
            metered: vec![
                MeteredSeries {
                    name: "sms".into(),
                    unit: "message".into(),
                    months: series(&|i| 300 + i * 40),
                    threshold: 500,
                    excess: 240,
                    overage_price: Decimal::new(5, 2),
                    overage_cost: Decimal::new(1200, 2),
                },
                MeteredSeries {
                    name: "api-calls".into(),
                    unit: "call".into(),
                    months: series(&|i| 1_000 * i),
                    threshold: 50_000,
                    excess: 0,
                    overage_price: Decimal::new(1, 3),
                    overage_cost: Decimal::ZERO,
                },
            ],
        })
    }
    fn user_detail(&self, name: &str) -> Result<UserDetail, StoreError> {
        self.call(format!("user_detail {name}"))?;
        let users = self.users.lock().expect("users");
        let (i, u) = users
            .iter()
            .enumerate()
            .find(|(_, u)| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        // Every other user was charged the first three days of the month
        // (on a daily seat they may since have left); the rest never.
        let charged_days = if i % 2 == 0 {
            (1..=3).map(|d| day(&format!("2026-12-0{d}"))).collect()
        } else {
            vec![]
        };
        Ok(UserDetail {
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role,
            role_name: u.role.name().to_string(),
            seat: u.seat.clone(),
            licence: u.seat.as_ref().map(|s| s.label()),
            term: u.seat.as_ref().map(|s| s.term),
            add_ons: u.add_ons.clone(),
            state: u.state,
            created_at: u.created_at,
            activated_at: u.activated_at,
            over_allocated_since: u.over_allocated_since,
            over_allocation_deadline: None,
            deactivated_reason: u.deactivated_reason.clone(),
            charged_days,
        })
    }
    fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError> {
        self.call(format!("quote {licence} {term} {action:?} {count}"))?;
        // Thirteen months from 2026-12-03 for contracted seats (all
        // committed), the same for monthly ones (the first committed only):
        // enough to scroll at 80x24. Daily seats and removals have none.
        let mut months = vec![];
        if action == SeatAction::Add && term != "daily" {
            let mut m = licfile::YearMonth::new(2026, 12).expect("a month");
            for i in 0..13 {
                let dim = if m.month() == 2 {
                    28
                } else {
                    30 + (m.month() + m.month() / 8) % 2
                };
                let days = if i == 0 { dim - 2 } else { dim };
                months.push(MonthCharge {
                    month: m,
                    days,
                    days_in_month: dim,
                    amount: Decimal::from(25 * count * days) / Decimal::from(dim),
                    commitment: term == "contracted" || i == 0,
                });
                m = m.next();
            }
        }
        let committed: Decimal = months
            .iter()
            .filter(|m| m.commitment)
            .map(|m| m.amount)
            .sum();
        let total = if months.is_empty() {
            Decimal::new(2419, 2)
        } else {
            store::costs::round(committed)
        };
        Ok(Quote {
            pool: format!("{licence} ({term})"),
            action,
            count,
            effective: day("2026-12-03"),
            breakdown: Breakdown {
                lines: vec![CostLine {
                    description: format!("{count} seats until the commitment's end"),
                    amount: total,
                    in_total: true,
                }],
                total,
                currency: "EUR".into(),
                months,
            },
            notes: vec![],
        })
    }
    fn request_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.call(format!("request {licence} {term} {action:?} {count}"))?;
        let q = self.quote_seats(licence, term, action, count)?;
        Ok(RequestOutcome {
            request_id: "REQ-1".into(),
            pool: q.pool,
            action,
            count,
            effective: q.effective,
            breakdown: q.breakdown,
            armored: String::new(),
            email: Some(
                "/var/lib/tessera/outbox/2026-12-03-request-REQ-1-a-long-file-name.eml".into(),
            ),
            notes: vec![],
        })
    }
    fn quote_modules(
        &self,
        kind: licfile::ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError> {
        self.call(format!("quote {kind} {name} {action:?} {count}"))?;
        // Priced as contracted seats are: every month to the contract end a commitment.
        let mut q = self.quote_seats(name, "contracted", action, count)?;
        q.pool = format!("{name} {kind}");
        Ok(q)
    }
    fn request_modules(
        &self,
        kind: licfile::ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.call(format!("request {kind} {name} {action:?} {count}"))?;
        let mut o = self.request_seats(name, "contracted", action, count)?;
        o.pool = format!("{name} {kind}");
        Ok(o)
    }
    fn import(&self, text: String) -> Result<ImportOutcome, StoreError> {
        self.call(format!("import {} bytes", text.len()))?;
        Err(Fake::refused("not a licence for this installation"))
    }
    fn export_contracts(&self) -> Result<ContractsZip, StoreError> {
        self.call("export".into())?;
        Ok(ContractsZip {
            count: 1,
            zip: b"PK".to_vec(),
        })
    }
    fn add_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.call(format!("add_user {} {:?}", new.name, new.email))?;
        let mut users = self.users.lock().expect("users");
        if users.iter().any(|u| u.name.eq_ignore_ascii_case(&new.name)) {
            return Err(Fake::refused(&format!("{} is taken", new.name)));
        }
        let u = user(&new.name, 1);
        users.push(u.clone());
        users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(u)
    }
    fn set_user(&self, name: &str, change: UserChange) -> Result<User, StoreError> {
        self.call(format!(
            "set_user {name} email={:?} add={:?} remove={:?} role={:?} licence={:?}",
            change.email, change.add_ons, change.remove_add_ons, change.role, change.licence
        ))?;
        let mut users = self.users.lock().expect("users");
        let u = users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        if let Some(e) = change.email {
            u.email = e;
        }
        u.add_ons.retain(|a| !change.remove_add_ons.contains(a));
        u.add_ons.extend(change.add_ons);
        Ok(u.clone())
    }
    fn deactivate(&self, name: &str) -> Result<User, StoreError> {
        self.call(format!("deactivate {name}"))?;
        let mut users = self.users.lock().expect("users");
        let u = users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        u.state = UserState::Inactive;
        Ok(u.clone())
    }
    fn activate(&self, name: &str) -> Result<User, StoreError> {
        self.call(format!("activate {name}"))?;
        let mut users = self.users.lock().expect("users");
        let u = users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        u.state = UserState::Active;
        Ok(u.clone())
    }
    fn delete_user(&self, name: &str) -> Result<(), StoreError> {
        self.call(format!("delete {name}"))?;
        let mut users = self.users.lock().expect("users");
        let u = users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        u.state = UserState::Deleted;
        Ok(())
    }
}
