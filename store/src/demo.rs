//! The demo store: a heating-and-plumbing company as the seeds describe one,
//! with months of history, signed by the demo root. It should look like a real
//! site on the first screen, and everything in it went through the real rules.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use licfile::{Document, Licence, Term, Timestamp};

use crate::Store;
use crate::clock::{Clock, FixedClock};
use crate::error::{Result, StoreError};
use crate::gate::ApiExt;
use crate::model::{InstallationKind, PoolKey};
use crate::roles::Role;
use crate::usage::UsageKind;
use crate::users::{BulkUser, NewUser, UserChange};

/// The serial of demo stores.
pub const DEMO_SERIAL: &str = "DEMO-000001";

/// Signs the sample licence (fixed dates: contract 2026) with the demo root.
pub fn demo_licence_text(serial: &str) -> Result<String> {
    sign(&licfile::sample::licence(serial))
}

fn sign(licence: &Licence) -> Result<String> {
    let key = crate::trust::demo_secret()?;
    licfile::signed::sign(&Document::Licence(licence.clone()), &key, None)
        .map_err(|e| StoreError::Rule(format!("cannot sign the demo licence: {e}")))
}

/// A small deterministic generator: the demo is the same every time for the same size.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "alice", "ben", "chloe", "dan", "emma", "finn", "grace", "harry", "isla", "jack", "kate",
    "liam", "maya", "noah", "olivia", "paul", "quinn", "ruby", "sam", "tess", "umar", "vera",
    "will", "xena", "yusuf", "zoe",
];
const LAST: &[&str] = &[
    "morgan", "patel", "jones", "smith", "walsh", "khan", "evans", "price", "hughes", "byrne",
    "reid", "clarke", "lewis", "shaw", "fox", "hill", "ward", "cole", "grant", "stone",
];

fn username(i: usize) -> String {
    let f = FIRST[i % FIRST.len()];
    let l = LAST[(i / FIRST.len()) % LAST.len()];
    let round = i / (FIRST.len() * LAST.len());
    if round == 0 {
        format!("{f}.{l}")
    } else {
        format!("{f}.{l}{round}")
    }
}

/// The demo licence at a point in the simulated history: contract from `start`
/// for a year, pools sized for `users`, sequence `sequence`.
fn licence_for(
    serial: &str,
    start: NaiveDate,
    issued: DateTime<Utc>,
    users: usize,
    sequence: u64,
    grown: bool,
) -> Licence {
    let mut l = licfile::sample::licence(serial);
    l.sequence = sequence;
    l.licence_id = format!("{serial}-{sequence:04}");
    l.issued_at = Timestamp::from(issued);
    l.contract.start = start;
    l.contract.end = start
        .checked_add_months(chrono::Months::new(12))
        .and_then(|d| d.pred_opt())
        .unwrap_or(start);
    if let Some(e) = &mut l.expiry {
        e.date = l.contract.end + Duration::days(31);
    }
    let n = users.max(40) as f64;
    // Jobs users are about 80% of the site, Sales 20%; the pools leave a few
    // users over-allocated so that the demo shows what that looks like.
    let size = |share: f64| ((n * share).round() as u32).max(1);
    for p in &mut l.seat_pools {
        p.count = match (p.area.as_str(), p.licence.as_str(), p.term) {
            ("Jobs", _, Term::Contracted) => size(0.50),
            ("Jobs", _, Term::Monthly) => size(if grown { 0.20 } else { 0.16 }),
            ("Jobs", _, Term::Daily) => size(0.08),
            ("Sales", "Sales Person", Term::Contracted) => size(0.09),
            ("Sales", "Sales Person", Term::Monthly) => size(0.03),
            ("Sales", "Sales Support", Term::Contracted) => size(0.05),
            ("Sales", "Sales Support", Term::Monthly) => size(0.02),
            _ => p.count,
        };
    }
    for a in &mut l.add_ons {
        a.count = size(0.2);
    }
    l
}

/// Which role and seat the i-th demo user gets.
fn plan_user(
    i: usize,
    n: usize,
    rng: &mut Rng,
) -> (Role, Option<(&'static str, &'static str, Term)>) {
    let share = i as f64 / n.max(1) as f64;
    if share < 0.80 {
        let role = match rng.below(20) {
            0..=7 => Role::Engineer,
            8..=10 => Role::EngineerWithDiary,
            11..=12 => Role::EngineerWithInvoice,
            13..=14 => Role::SeniorEngineer,
            15..=18 => Role::OfficeStaff,
            _ => Role::FinancialOfficeStaff,
        };
        let term = if share < 0.50 {
            Term::Contracted
        } else if share < 0.70 {
            Term::Monthly
        } else {
            Term::Daily
        };
        (role, Some(("Jobs", "User", term)))
    } else {
        let support = share >= 0.92;
        let role = if support {
            Role::SalesSupport
        } else {
            match rng.below(10) {
                0..=5 => Role::SalesPerson,
                6..=7 => Role::SeniorSalesPerson,
                8 => Role::SalesManager,
                _ => Role::SalesDirector,
            }
        };
        let licence = if support {
            "Sales Support"
        } else {
            "Sales Person"
        };
        let monthly_from = if support { 0.97 } else { 0.89 };
        let term = if share >= monthly_from {
            Term::Monthly
        } else {
            Term::Contracted
        };
        (role, Some(("Sales", licence, term)))
    }
}

/// Users added one at a time through the normal rules (with their events);
/// beyond this the demo adds users in batches.
const ONE_BY_ONE: usize = 60;

/// Makes a demo store at `dir` with `users` users (besides the owner) and
/// `months` months of history (1 to 12) ending at `clock`'s now; `owner`
/// becomes its Owner/manager.
pub fn create_demo(
    dir: &Path,
    users: usize,
    months: u32,
    owner: &str,
    clock: Arc<dyn Clock>,
) -> Result<Store> {
    let end = clock.now();
    let months = months.clamp(1, 12);
    let start_day = {
        let d = (end - Duration::days(30 * i64::from(months))).date_naive();
        NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d)
    };
    let start = start_day
        .and_hms_opt(9, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(end);
    let sim = Arc::new(FixedClock::new(start));
    let text = sign(&licence_for(DEMO_SERIAL, start_day, start, users, 1, false))?;
    let store = Store::create(
        dir,
        text.as_bytes(),
        InstallationKind::Central,
        owner,
        sim.clone(),
    )?;
    // Nothing is acknowledged to anyone until the demo is complete: sync once at the end.
    store
        .db
        .bulk
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut rng = Rng(0x7e55_e7a0 ^ users as u64);

    // Week one: the office sets people up.
    sim.advance(Duration::hours(1));
    let n = users;
    let mut plans = Vec::with_capacity(n);
    for i in 0..n {
        plans.push(plan_user(i, n, &mut rng));
    }
    for (i, (role, seat)) in plans.iter().enumerate().take(ONE_BY_ONE.min(n)) {
        let name = username(i);
        store.as_user(owner).add_user(NewUser {
            name: name.clone(),
            role: role.name().into(),
            licence: seat.map(|(a, l, _)| format!("{a} {l}")),
            term: seat.map(|(_, _, t)| t.as_str().to_string()),
            email: Some(format!("{name}@northwind-heating.example")),
        })?;
        if i % 7 == 0 {
            sim.advance(Duration::minutes(37));
        }
    }
    if n > ONE_BY_ONE {
        let vendor = String::new();
        let mut i = ONE_BY_ONE;
        while i < n {
            let chunk_end = (i + 5000).min(n);
            let batch: Vec<BulkUser> = (i..chunk_end)
                .map(|j| {
                    let (role, seat) = plans[j];
                    let name = username(j);
                    BulkUser {
                        email: format!("{name}@northwind-heating.example"),
                        name,
                        role,
                        seat: seat.map(|(a, l, t)| PoolKey {
                            issuer: vendor.clone(),
                            area: a.into(),
                            licence: l.into(),
                            term: t,
                        }),
                    }
                })
                .collect();
            store.db.write(owner, |tx| {
                crate::users::bulk_add_in(tx, &batch)?;
                Ok(())
            })?;
            i = chunk_end;
        }
    }
    // Bulk users were not reconciled one by one: do it per pool now.
    let licences = store.in_force();
    let pools: Vec<PoolKey> = licences
        .iter()
        .flat_map(|l| l.pools().map(|(k, _)| k))
        .collect();
    store.db.write(owner, |tx| {
        for p in &pools {
            crate::users::reconcile(tx, p, &licences)?;
        }
        Ok(())
    })?;
    // Add-ons for a few.
    for (i, module) in [
        (1usize, "Outlook connector"),
        (2, "Outlook connector"),
        (3, "CRM module"),
        (5, "Outlook connector"),
    ] {
        if i < n {
            let _ = store.as_user(owner).set_user(
                username(i),
                UserChange {
                    add_ons: vec![module.into()],
                    ..Default::default()
                },
            );
        }
    }

    // The months: daily users work, services are metered, people come and go.
    let daily: Vec<(String, PoolKey)> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, (_, s))| match s {
            Some((a, l, Term::Daily)) => Some((
                username(i),
                PoolKey {
                    issuer: String::new(),
                    area: (*a).into(),
                    licence: (*l).into(),
                    term: Term::Daily,
                },
            )),
            _ => None,
        })
        .take(2000)
        .collect();
    let mut day = start_day + Duration::days(1);
    let mut renewed = false;
    let mut left = 0usize;
    while day < end.date_naive() {
        sim.set(
            day.and_hms_opt(17, 30, 0)
                .map(|t| t.and_utc())
                .unwrap_or(end),
        );
        let weekday = day.weekday().num_days_from_monday() < 5;
        if weekday {
            let mut worked = Vec::new();
            for (name, pool) in &daily {
                if rng.chance(45)
                    && store
                        .user(name)?
                        .is_some_and(|u| u.state == crate::model::UserState::Active)
                {
                    let kind = match rng.below(3) {
                        0 => UsageKind::Login,
                        1 => UsageKind::DiaryBooked,
                        _ => UsageKind::DiaryActioned,
                    };
                    worked.push((name.clone(), pool.clone(), kind));
                }
            }
            store.db.write("system", |tx| {
                crate::usage::charge_days_in(tx, day, &worked)
            })?;
            let scale = (n as u64).max(40);
            let metered = [
                ("emails-sent", scale * (3 + rng.below(8))),
                ("customer-centre-logins", scale / 4 + rng.below(20)),
                ("chat-sessions", scale / 10 + rng.below(6)),
                ("form-submissions", scale / 8 + rng.below(10)),
            ];
            for (service, mut count) in metered {
                // A large demo's day is more than one call may record (the
                // product reports in calls of at most this many): in parts.
                while count > 0 {
                    let part = count.min(crate::rules::usage::MAX_METERED_PER_CALL);
                    store.as_user(owner).record_metered(service, part)?;
                    count -= part;
                }
            }
        }
        if day.day() == 1 || day.day() == 15 {
            let allowance = store.storage_allowance_gb().max(1);
            let progress = (day - start_day).num_days() as u64;
            // A very large demo's allowance is more than a site may report
            // (rules::usage::MAX_STORAGE_BYTES): it reports the most it may.
            let used = (allowance.saturating_mul(1_000_000_000) / 100)
                .saturating_mul(40 + progress.min(150) / 5)
                .min(crate::rules::usage::MAX_STORAGE_BYTES);
            store.as_user(owner).record_storage(used)?;
        }
        // Someone leaves now and then.
        if day.day() == 20 && n > 10 && left < 4 {
            let who = username(10 + left * 3);
            let _ = store.as_user(owner).deactivate(who);
            left += 1;
        }
        // Half way: the vendor's renewal with more monthly seats arrives.
        if !renewed && (day - start_day).num_days() >= 15 * i64::from(months) {
            let issued = day
                .and_hms_opt(10, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(end);
            let text = sign(&licence_for(DEMO_SERIAL, start_day, issued, users, 2, true))?;
            store.as_user(owner).import(text)?;
            renewed = true;
        }
        store.tick()?;
        day += Duration::days(1);
    }
    // Today: two new starters without free seats, so the demo shows over-allocation.
    sim.set(end);
    let free = store
        .pools()?
        .iter()
        .find(|p| p.area == "Jobs" && p.term == Term::Monthly)
        .map(|p| p.available as usize)
        .unwrap_or(0);
    for k in 0..free + 2 {
        let licence = "Jobs User";
        let name = format!("new.starter{}", k + 1);
        let _ = store.as_user(owner).add_user(NewUser {
            name,
            role: "engineer".into(),
            licence: Some(licence.into()),
            term: Some("monthly".into()),
            email: None,
        });
    }
    store
        .db
        .bulk
        .store(false, std::sync::atomic::Ordering::Relaxed);
    store.db.sync()?;
    drop(store);
    Store::open(dir, clock)
}
