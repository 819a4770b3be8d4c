//! What the console and `status`/`users list` show, computed here so that no
//! caller touches sled and no view loads every user.

use licfile::{LicenceState, Term, YearMonth};
use serde::Serialize;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::keys;
use crate::licences::{InForce, pool_total};
use crate::model::{Event, PoolKey, User, UserState};
use crate::purchases::effective_total;
use crate::users::UserCounts;

/// One pool as the Licences screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PoolView {
    /// Issuer ("" for the vendor).
    pub issuer: String,
    /// Product area.
    pub area: String,
    /// Licence with its area, e.g. "Jobs User", "Sales Support".
    pub licence: String,
    /// Licence name as the licence writes it, e.g. "User".
    pub licence_name: String,
    /// Term.
    pub term: Term,
    /// Seats granted.
    pub total: u32,
    /// Seats assigned to active users.
    pub in_use: u64,
    /// Seats free.
    pub available: u64,
    /// Seats bought and not yet granted by a licence.
    pub pending: u64,
    /// Active users beyond the total.
    pub over_allocated: u64,
    /// Seats the licence grants (the total less reductions already due).
    pub licensed: u32,
    /// The next scheduled reduction: the seats from a date.
    pub scheduled: Option<Scheduled>,
    /// GB each seat brings.
    pub storage_gb_per_seat: u32,
    /// Price a seat a month, or a user-day.
    pub price: String,
}

/// A reduction scheduled for a later billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Scheduled {
    /// Seats from that day.
    pub seats: u32,
    /// The day.
    pub from: chrono::NaiveDate,
}

/// A metered service this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MeteredView {
    /// Service identifier.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Used this month.
    pub used: u64,
    /// Free this month: base + per-user x active users.
    pub threshold: u64,
    /// Past the threshold.
    pub excess: u64,
    /// Price of each excess unit.
    pub overage_price: String,
}

/// The Status screen and `status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatusView {
    /// Installation serial.
    pub serial: String,
    /// Licensee company.
    pub licensee: String,
    /// Where licence e-mails go.
    pub licensee_email: String,
    /// Plan name.
    pub plan: String,
    /// Contract start.
    pub contract_start: Option<chrono::NaiveDate>,
    /// Contract end.
    pub contract_end: Option<chrono::NaiveDate>,
    /// Whether the contract renews by itself.
    pub auto_renew: bool,
    /// Expiry day of a time-limited licence.
    pub expires: Option<chrono::NaiveDate>,
    /// valid, expiring, grace or terminated.
    pub state: String,
    /// The state for people.
    pub state_detail: String,
    /// Whether this is a demo store.
    pub demo: bool,
    /// central or satellite.
    pub installation: String,
    /// The Owner/manager who created the store.
    pub owner: String,
    /// The next expiry of any licence in force.
    pub next_expiry: Option<chrono::NaiveDate>,
    /// Hours the clock is behind the latest time seen, when more than a day.
    pub clock_behind_hours: Option<i64>,
    /// The lifetime of the leases the store signs, in hours.
    pub lease_hours: u32,
    /// Today, by the rules.
    pub today: chrono::NaiveDate,
    /// User counts.
    pub users: UserCounts,
    /// Every pool of every licence in force.
    pub pools: Vec<PoolView>,
    /// The month metered services are counted for.
    pub month: String,
    /// Metered services this month.
    pub metered: Vec<MeteredView>,
    /// Storage used, bytes.
    pub storage_used_bytes: u64,
    /// Pooled storage allowance, GB.
    pub storage_allowance_gb: u64,
    /// Licence sequence in force (the vendor's).
    pub sequence: u64,
}

/// An add-on module with its assignments.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddOnView {
    /// Module name.
    pub name: String,
    /// Licences of it.
    pub count: u32,
    /// Users holding it.
    pub assigned: u64,
    /// Price a month.
    pub price: String,
    /// Licences bought and not yet granted by a licence.
    #[serde(default)]
    pub pending: u64,
    /// The next scheduled reduction: the licences from a date.
    #[serde(default)]
    pub scheduled: Option<Scheduled>,
}

/// An integration licence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntegrationView {
    /// Integration name.
    pub name: String,
    /// Whether it follows the standard seat count.
    pub follows_standard: bool,
    /// Its seats: its own count, or the standard seats it follows.
    pub seats: u64,
    /// Price a month.
    pub price: String,
    /// Licences of its own bought and not yet granted by a licence.
    #[serde(default)]
    pub pending: u64,
    /// The next scheduled reduction of its own count: the licences from a date.
    #[serde(default)]
    pub scheduled: Option<Scheduled>,
}

/// One issuer's licence in force, as the Licences screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LicenceView {
    /// Issuer ("" for the vendor).
    pub issuer: String,
    /// The issuer's name for people.
    pub issuer_label: String,
    /// Licence id.
    pub licence_id: String,
    /// Sequence.
    pub sequence: u64,
    /// Product.
    pub product: String,
    /// Plan name.
    pub plan: String,
    /// Contract start.
    pub contract_start: chrono::NaiveDate,
    /// Contract end.
    pub contract_end: chrono::NaiveDate,
    /// Auto-renewal.
    pub auto_renew: bool,
    /// Expiry, if time-limited.
    pub expires: Option<chrono::NaiveDate>,
    /// valid, expiring, grace, terminated.
    pub state: String,
    /// The state for people.
    pub state_detail: String,
    /// System licences: name and description.
    pub system_licences: Vec<(String, String)>,
    /// Add-on modules.
    pub add_ons: Vec<AddOnView>,
    /// Integrations.
    pub integrations: Vec<IntegrationView>,
    /// Currency.
    pub currency: String,
}

/// A row of the Users screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserRow {
    /// Username.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role name.
    pub role: String,
    /// The seat, e.g. "Jobs User (monthly)".
    pub licence: Option<String>,
    /// The seat's term.
    pub term: Option<Term>,
    /// Add-ons held.
    pub add_ons: Vec<String>,
    /// active, inactive.
    pub state: String,
    /// When over-allocated, the day the grace ends.
    pub over_allocated_until: Option<chrono::NaiveDate>,
}

/// Which users to list.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct UserQuery {
    /// Only holders of this licence (as administrators write it).
    pub licence: Option<String>,
    /// Only this term (with or without a licence).
    pub term: Option<Term>,
    /// Only users whose name, e-mail, role or licence contains this (any case).
    pub search: Option<String>,
    /// Start after this username (the previous page's `next`).
    pub after: Option<String>,
    /// Page size.
    pub limit: usize,
    /// Include deleted users.
    pub include_deleted: bool,
    /// Only users without a seat.
    #[serde(default)]
    pub no_licence: bool,
    /// Only users in this state: active, inactive or deleted.
    #[serde(default)]
    pub state: Option<String>,
    /// Read backwards: the `limit` users before `after` (the last ones when
    /// `after` is none), still in name order; `next` is then the page's first
    /// name, to pass as `after` for the page before it (none at the start).
    /// The console's End reads the last page at once this way.
    #[serde(default)]
    pub backward: bool,
    /// The order: by name unless asked (names order users within a role,
    /// a licence or a state).
    #[serde(default)]
    pub sort: UserSort,
    /// With `after`: the page includes that user itself (first when reading
    /// forwards, last when backwards): to read a page again from its first row.
    #[serde(default)]
    pub inclusive: bool,
}

/// How a list of users is ordered.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum UserSort {
    /// By name, A to Z.
    #[default]
    Name,
    /// By role, in the ladder's order.
    Role,
    /// By licence (the seat's label), users without a seat last.
    Licence,
    /// Active, then inactive, then deleted.
    State,
}

impl UserSort {
    /// Every order, in the order the console cycles through them.
    pub const ALL: [UserSort; 4] = [
        UserSort::Name,
        UserSort::Role,
        UserSort::Licence,
        UserSort::State,
    ];

    /// "name", "role", "licence" or "state".
    pub fn word(self) -> &'static str {
        match self {
            UserSort::Name => "name",
            UserSort::Role => "role",
            UserSort::Licence => "licence",
            UserSort::State => "state",
        }
    }
}

/// A page of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UsersPage {
    /// The rows.
    pub users: Vec<UserRow>,
    /// Users matching the query (always given by this version; optional
    /// for services of versions that gave it only for some queries).
    pub total: Option<u64>,
    /// Pass as `after` for the next page.
    pub next: Option<String>,
}

fn state_detail(state: Option<LicenceState>) -> (String, String) {
    match state {
        None => ("none".into(), "no licence in force".into()),
        Some(s @ LicenceState::Valid) => (s.word().into(), "in force".into()),
        Some(s @ LicenceState::Expiring { expires, days_left }) => (
            s.word().into(),
            format!("expires {expires}, in {days_left} days"),
        ),
        Some(
            s @ LicenceState::Grace {
                expired,
                terminates,
            },
        ) => (
            s.word().into(),
            format!("expired {expired}; terminated from {terminates}"),
        ),
        Some(s @ LicenceState::Terminated { since }) => {
            (s.word().into(), format!("terminated since {since}"))
        }
    }
}

impl Store {
    /// Seats of a pool in use now.
    pub fn in_use(&self, pool: &PoolKey) -> Result<u64> {
        Ok(self
            .db
            .get_rec(&keys::counter(pool), "counter")?
            .unwrap_or(0))
    }

    /// Every pool of every licence in force.
    pub fn pools(&self) -> Result<Vec<PoolView>> {
        let licences = self.in_force();
        let pending = self.pending_by_pool()?;
        let mut out = Vec::new();
        for l in licences.iter() {
            for (key, pool) in l.pools() {
                let in_use = self.in_use(&key)?;
                let licensed = pool_total(&licences, &key);
                let reductions = self.reductions(&key)?;
                let today = self.today()?;
                let total = effective_total(licensed, &reductions, today);
                let scheduled = reductions
                    .iter()
                    .filter(|r| r.effective > today)
                    .min_by_key(|r| r.effective);
                out.push(PoolView {
                    issuer: l.issuer.clone(),
                    area: key.area.clone(),
                    licence: key.licence_label(),
                    licence_name: key.licence.clone(),
                    term: key.term,
                    total,
                    in_use,
                    available: u64::from(total).saturating_sub(in_use),
                    pending: pending
                        .iter()
                        .find(|(k, _)| keys::pool(k) == keys::pool(&key))
                        .map(|(_, n)| *n)
                        .unwrap_or(0),
                    over_allocated: in_use.saturating_sub(u64::from(total)),
                    licensed,
                    scheduled: scheduled.map(|r| Scheduled {
                        // Every reduction due by that day counts.
                        seats: effective_total(licensed, &reductions, r.effective),
                        from: r.effective,
                    }),
                    storage_gb_per_seat: pool.storage_gb_per_seat,
                    price: pool.price.to_string(),
                });
            }
        }
        Ok(out)
    }

    /// Seats pending per pool (purchases not yet granted by a licence).
    pub fn pending_by_pool(&self) -> Result<Vec<(PoolKey, u64)>> {
        let mut out: Vec<(PoolKey, u64)> = Vec::new();
        for p in self.pending()? {
            match out
                .iter_mut()
                .find(|(k, _)| keys::pool(k) == keys::pool(&p.pool))
            {
                Some((_, n)) => *n += u64::from(p.count),
                None => out.push((p.pool, u64::from(p.count))),
            }
        }
        Ok(out)
    }

    /// Metered services this month.
    pub fn metered(&self) -> Result<Vec<MeteredView>> {
        let month = YearMonth::of(self.today()?);
        let users = self.user_counts()?.active;
        let mut out = Vec::new();
        for l in self.in_force().iter() {
            for m in &l.licence.metered_services {
                let used = self.metered_used(month, &m.name)?;
                let threshold = m
                    .base_allowance
                    .saturating_add(m.allowance_per_user.saturating_mul(users));
                out.push(MeteredView {
                    name: m.name.clone(),
                    unit: m.unit.clone(),
                    used,
                    threshold,
                    excess: used.saturating_sub(threshold),
                    overage_price: m.overage_price.value().to_string(),
                });
            }
        }
        Ok(out)
    }

    /// The Status screen.
    pub fn status(&self) -> Result<StatusView> {
        let inst = self.installation()?;
        let today = self.today()?;
        let licences = self.in_force();
        let vendor = licences.iter().find(|l| l.issuer.is_empty());
        let (state, detail) =
            state_detail(vendor.map(|l| licfile::policy::licence_state(&l.licence, today)));
        Ok(StatusView {
            serial: inst.serial.clone(),
            licensee: vendor
                .map(|l| l.licence.licensee.company.clone())
                .unwrap_or_default(),
            licensee_email: vendor
                .map(|l| l.licence.licensee.email.clone())
                .unwrap_or_default(),
            plan: vendor
                .map(|l| l.licence.plan.name.clone())
                .unwrap_or_default(),
            contract_start: vendor.map(|l| l.licence.contract.start),
            contract_end: vendor.map(|l| l.licence.contract.end),
            auto_renew: vendor.is_some_and(|l| l.licence.contract.auto_renew),
            expires: vendor.and_then(|l| l.licence.expiry.map(|e| e.date)),
            state,
            state_detail: detail,
            demo: inst.demo,
            installation: inst.kind.word().into(),
            owner: inst.owner.clone(),
            next_expiry: licences
                .iter()
                .filter_map(|l| l.licence.expiry.map(|e| e.date))
                .filter(|d| *d >= today)
                .min(),
            clock_behind_hours: self.clock_behind_hours()?,
            lease_hours: self.lease_hours()?,
            today,
            users: self.user_counts()?,
            pools: self.pools()?,
            month: YearMonth::of(today).to_string(),
            metered: self.metered()?,
            storage_used_bytes: self.storage_used()?,
            storage_allowance_gb: self.storage_allowance_gb(),
            sequence: vendor.map(|l| l.licence.sequence).unwrap_or(0),
        })
    }

    fn row(&self, user: &User, licences: &[InForce]) -> UserRow {
        let over = user.over_allocated_since.and_then(|since| {
            let grace = user
                .seat
                .as_ref()
                .map(|s| crate::licences::grace_days(licences, s))
                .unwrap_or(7);
            chrono::DateTime::<chrono::Utc>::from_timestamp(
                crate::users::deadline(since, i64::from(grace)),
                0,
            )
            .map(|t| t.date_naive())
        });
        UserRow {
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role.name().into(),
            licence: user.seat.as_ref().map(PoolKey::label),
            term: user.seat.as_ref().map(|s| s.term),
            add_ons: user.add_ons.clone(),
            state: user.state.word().into(),
            over_allocated_until: over,
        }
    }

    /// A page of users, in name order.
    pub fn users_page(&self, q: &UserQuery) -> Result<UsersPage> {
        let limit = q.limit.clamp(1, 10_000);
        let licences = self.in_force();
        let after = q.after.as_deref().map(str::to_lowercase);
        let search = q
            .search
            .as_deref()
            .map(str::to_lowercase)
            .filter(|s| !s.is_empty());
        let pools: Option<Vec<PoolKey>> = match (&q.licence, q.term) {
            (Some(l), t) => {
                let one = crate::licences::resolve_pool(
                    &licences,
                    l,
                    Some(t.unwrap_or(Term::Contracted)),
                );
                let all: Vec<PoolKey> = licences
                    .iter()
                    .flat_map(|x| x.pools().map(|(k, _)| k))
                    .filter(|k| match &one {
                        Ok(p) => {
                            k.area == p.area
                                && k.licence == p.licence
                                && k.issuer == p.issuer
                                && t.is_none_or(|t| k.term == t)
                        }
                        Err(_) => false,
                    })
                    .collect();
                if all.is_empty() {
                    // Name the problem: unknown licence, or a term it does not offer.
                    crate::licences::resolve_pool(&licences, l, t)?;
                }
                Some(all)
            }
            (None, Some(t)) => Some(
                licences
                    .iter()
                    .flat_map(|x| x.pools().map(|(k, _)| k))
                    .filter(|k| k.term == t)
                    .collect(),
            ),
            (None, None) => None,
        };
        let state = q.state.as_deref().map(str::to_lowercase);
        if search.is_some()
            || state.is_some()
            || q.no_licence
            || q.include_deleted
            || pools.is_some()
            || q.sort != UserSort::Name
        {
            let filter = crate::search::Filter {
                search,
                state,
                no_licence: q.no_licence,
                include_deleted: q.include_deleted,
                pools: pools.map(|p| p.iter().map(keys::pool).collect()),
            };
            let cursor = crate::search::Cursor {
                after: after.as_deref(),
                backward: q.backward,
                inclusive: q.inclusive,
                limit,
            };
            return self.users_found(&filter, q.sort, &cursor, &licences);
        }
        // Every user but the deleted in name order: read straight from the
        // tree, a page's worth, and counted by the count every change keeps.
        let keep = |u: &User| u.state != UserState::Deleted;
        let mut rows = Vec::new();
        let mut next = None;
        let tree = self.db.tree()?;
        if q.backward {
            let end = match &after {
                Some(a) if q.inclusive => [keys::user(a).as_slice(), &[0]].concat(),
                Some(a) => keys::user(a),
                // Past every user key: the prefix with its last byte raised.
                None => {
                    let mut k = keys::USERS.to_vec();
                    if let Some(last) = k.last_mut() {
                        *last += 1;
                    }
                    k
                }
            };
            for kv in tree.range(keys::USERS.to_vec()..end).rev() {
                let (_, v) = kv?;
                let u: User = crate::model::decode(&v, "user")?;
                if !keep(&u) {
                    continue;
                }
                if rows.len() == limit {
                    next = rows.last().map(|r: &UserRow| r.name.clone());
                    break;
                }
                rows.push(self.row(&u, &licences));
            }
            rows.reverse();
        } else {
            let start = match &after {
                Some(a) if q.inclusive => keys::user(a),
                Some(a) => [keys::user(a).as_slice(), &[0]].concat(),
                None => keys::USERS.to_vec(),
            };
            for kv in tree.range(start..) {
                let (k, v) = kv?;
                if !k.starts_with(keys::USERS) {
                    break;
                }
                let u: User = crate::model::decode(&v, "user")?;
                if !keep(&u) {
                    continue;
                }
                if rows.len() == limit {
                    next = rows.last().map(|r: &UserRow| r.name.clone());
                    break;
                }
                rows.push(self.row(&u, &licences));
            }
        }
        Ok(UsersPage {
            users: rows,
            total: Some(self.user_counts()?.total),
            next,
        })
    }

    /// Runs `f` on the search index, built first if it is not current.
    fn user_index<R>(&self, f: impl FnOnce(&mut crate::search::UserIndex) -> R) -> Result<R> {
        let tree = self.db.tree()?;
        self.db.users.with(
            self.db.generation(),
            |visit| {
                for kv in tree.scan_prefix(keys::USERS) {
                    let (k, v) = kv?;
                    visit(&k, &v)?;
                }
                Ok(())
            },
            f,
        )
    }

    /// Makes the search index current (authorised by the gate as
    /// [`crate::Op::PrepareUserSearch`]): the console asks for it when a
    /// search starts, so that building it (about 0.2 s for 100,000 users)
    /// happens while the first letter is typed, not after it.
    pub(crate) fn prepare_user_search(&self) -> Result<()> {
        self.user_index(|_| ())
    }

    /// A page of users through the search index ([`crate::search`]): the
    /// filter and the order applied in memory, the page's users read again
    /// from the store (and dropped if a change since means they no longer
    /// match).
    fn users_found(
        &self,
        filter: &crate::search::Filter,
        sort: UserSort,
        cursor: &crate::search::Cursor<'_>,
        licences: &[InForce],
    ) -> Result<UsersPage> {
        let found = self.user_index(|ix| ix.page(filter, sort, cursor))?;
        let mut rows = Vec::with_capacity(found.keys.len());
        for k in &found.keys {
            if let Some(u) = self.db.get_rec::<User>(k, "user")?
                && filter.keeps_user(&u)
            {
                rows.push(self.row(&u, licences));
            }
        }
        // `next` continues the way the page was read: after its last row,
        // or (backward) before its first.
        let next = if !found.more {
            None
        } else if cursor.backward {
            rows.first().map(|r| r.name.clone())
        } else {
            rows.last().map(|r| r.name.clone())
        };
        Ok(UsersPage {
            users: rows,
            total: Some(found.total),
            next,
        })
    }

    /// Every licence in force, the vendor's first.
    pub fn licence_views(&self) -> Result<Vec<LicenceView>> {
        let today = self.today()?;
        let mut out = Vec::new();
        for l in self.in_force().iter() {
            let (state, state_detail) =
                state_detail(Some(licfile::policy::licence_state(&l.licence, today)));
            let standard: u64 = l
                .licence
                .seat_pools
                .iter()
                .filter(|p| p.term != Term::Daily)
                .map(|p| u64::from(p.count))
                .sum();
            // Pending purchases and reductions of add-ons and integrations,
            // read once for every module of the licence.
            let pending = self.module_pending()?;
            let reductions = self.module_reductions()?;
            let of = |kind: licfile::ModuleKind, name: &str| {
                let same = |m: &crate::model::ModuleKey| {
                    m.kind == kind && m.name.eq_ignore_ascii_case(name)
                };
                let pending: u64 = pending
                    .iter()
                    .filter(|p| same(&p.module))
                    .map(|p| u64::from(p.count))
                    .sum();
                let mine: Vec<_> = reductions
                    .iter()
                    .filter(|r| same(&r.module))
                    .cloned()
                    .collect();
                let scheduled = mine
                    .iter()
                    .filter(|r| !r.applied && r.effective > today)
                    .min_by_key(|r| r.effective)
                    .map(|r| Scheduled {
                        seats: r.target,
                        from: r.effective,
                    });
                (pending, mine, scheduled)
            };
            let mut add_ons = Vec::new();
            for a in &l.licence.add_ons {
                let (pending, mine, scheduled) = of(licfile::ModuleKind::AddOn, &a.name);
                add_ons.push(AddOnView {
                    name: a.name.clone(),
                    count: crate::modules::module_total(a.count, &mine, today),
                    assigned: self
                        .db
                        .get_rec(&keys::add_on_counter(&a.name), "counter")?
                        .unwrap_or(0),
                    price: a.price.to_string(),
                    pending,
                    scheduled,
                });
            }
            out.push(LicenceView {
                issuer: l.issuer.clone(),
                issuer_label: l.issuer_label.clone(),
                licence_id: l.licence.licence_id.clone(),
                sequence: l.licence.sequence,
                product: l.licence.product.clone(),
                plan: l.licence.plan.name.clone(),
                contract_start: l.licence.contract.start,
                contract_end: l.licence.contract.end,
                auto_renew: l.licence.contract.auto_renew,
                expires: l.licence.expiry.map(|e| e.date),
                state,
                state_detail,
                system_licences: l
                    .licence
                    .system_licences
                    .iter()
                    .map(|s| (s.name.clone(), s.description.clone()))
                    .collect(),
                add_ons,
                integrations: l
                    .licence
                    .integrations
                    .iter()
                    .map(|i| {
                        let (pending, mine, scheduled) =
                            of(licfile::ModuleKind::Integration, &i.name);
                        IntegrationView {
                            name: i.name.clone(),
                            follows_standard: i.follows_standard,
                            seats: if i.follows_standard {
                                standard
                            } else {
                                u64::from(crate::modules::module_total(i.count, &mine, today))
                            },
                            price: i.price.to_string(),
                            pending,
                            scheduled,
                        }
                    })
                    .collect(),
                currency: l.licence.currency.clone(),
            });
        }
        Ok(out)
    }

    /// Holders of an add-on module, by name.
    pub fn add_on_holders(&self, module: &str) -> Result<Vec<String>> {
        let prefix = keys::add_on_holders(module);
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(&prefix) {
            let (k, _) = kv?;
            let Some(name) = keys::decode::name_after(&prefix, &k) else {
                continue;
            };
            out.push(self.user(&name)?.map(|u| u.name).unwrap_or(name));
        }
        Ok(out)
    }

    /// The latest events, newest first, starting before `before` (a sequence number).
    pub fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>> {
        let end = keys::event(before.unwrap_or(u64::MAX));
        let mut out = Vec::new();
        for kv in self.db.tree()?.range(keys::EVENTS.to_vec()..end).rev() {
            let (_, v) = kv?;
            out.push(crate::events::decode_event(&v)?);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Watches the action log: every event appended from now on.
    pub fn watch_events(&self) -> EventWatch {
        EventWatch {
            generation: self.db.generation(),
            sub: self.db.tree().ok().map(|t| t.watch_prefix(keys::EVENTS)),
        }
    }

    /// One event by sequence number.
    pub fn event(&self, seq: u64) -> Result<Event> {
        let bytes = self
            .db
            .get(&keys::event(seq))?
            .ok_or_else(|| StoreError::Rule(format!("no event {seq}")))?;
        crate::events::decode_event(&bytes)
    }
}

/// New events as they are appended (see [`Store::watch_events`]).
pub struct EventWatch {
    /// The store's tree as it was when watching began ([`crate::db`] reopens
    /// it after a failed write; the watch then follows the new one).
    generation: u64,
    sub: Option<sled::Subscriber>,
}

impl EventWatch {
    /// The next new event of `store` (the store watched), waiting at most
    /// `timeout`; `None` when none came.
    pub fn next(&mut self, store: &Store, timeout: std::time::Duration) -> Option<Event> {
        let generation = store.db.generation();
        if generation != self.generation {
            self.generation = generation;
            self.sub = store.db.tree().ok().map(|t| t.watch_prefix(keys::EVENTS));
        }
        let Some(sub) = self.sub.as_mut() else {
            std::thread::sleep(timeout);
            return None;
        };
        loop {
            match sub.next_timeout(timeout) {
                Ok(sled::Event::Insert { value, .. }) => {
                    if let Ok(e) = crate::events::decode_event(&value) {
                        return Some(e);
                    }
                }
                Ok(sled::Event::Remove { .. }) => continue,
                Err(_) => return None,
            }
        }
    }
}
