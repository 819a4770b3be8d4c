//! Usage the licensed product reports: daily-seat charges, storage and metered
//! services (seeds 000, 002, 004).
//!
//! Usage records are data, not administrative actions: they are not events.
//! Crossing a threshold (storage allowance, a metered service's free units) is,
//! once per month.

use chrono::NaiveDate;
use licfile::{Term, YearMonth};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::model::{PoolKey, User, UserState};

/// What the product reports a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsageKind {
    /// Logged in on a PC or Mac.
    Login,
    /// A diary event was booked for the day.
    DiaryBooked,
    /// A diary event was actioned on the day.
    DiaryActioned,
}

impl UsageKind {
    /// Parses `login`, `diary-booked`, `diary-actioned`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "login" => Some(UsageKind::Login),
            "diary-booked" => Some(UsageKind::DiaryBooked),
            "diary-actioned" => Some(UsageKind::DiaryActioned),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        match self {
            UsageKind::Login => 1,
            UsageKind::DiaryBooked => 2,
            UsageKind::DiaryActioned => 4,
        }
    }

    /// The word used on the command line.
    pub fn word(self) -> &'static str {
        match self {
            UsageKind::Login => "login",
            UsageKind::DiaryBooked => "diary-booked",
            UsageKind::DiaryActioned => "diary-actioned",
        }
    }
}

/// A charged user-day, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCharge {
    /// Which kinds of use happened that day (bits: login 1, booked 2, actioned 4).
    pub kinds: u8,
    /// The daily pool charged.
    pub pool: PoolKey,
}

/// The outcome of recording usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UsageOutcome {
    /// The user.
    pub user: String,
    /// The day.
    pub day: NaiveDate,
    /// Whether this record made a new charge.
    pub charged: bool,
    /// Why or why not, for people.
    pub reason: String,
}

/// Where a usage record stands after its reads.
enum Plan {
    /// Answered without writing.
    Answer(UsageOutcome),
    /// A new charge, or a new kind on a charged day, to write.
    Write {
        /// The user, as written.
        user: String,
        /// The day charged.
        day: NaiveDate,
        /// The daily pool.
        seat: PoolKey,
        /// The kinds already charged that day (0: none, a new charge).
        kinds: u8,
    },
    /// The day's charge is applied but not yet on disk (only when not waiting).
    Pending,
}

/// The latest month a usage report was made for, as the store keeps it.
fn last_reported(value: Option<String>) -> Option<YearMonth> {
    value.and_then(|m| m.parse().ok())
}

/// Decides a usage record from the facts: the user as stored and the day's
/// charge, if any. `Ok(None)` when a charge is to be written.
fn decide(
    name: &str,
    user: Option<User>,
    kind: UsageKind,
    day: Option<NaiveDate>,
    today: NaiveDate,
    reported: Option<YearMonth>,
    charge: impl FnOnce(&User, NaiveDate) -> Result<Option<Option<DayCharge>>>,
) -> Result<Plan> {
    let user = user
        .filter(|u| u.state != UserState::Deleted && u.name == name)
        .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
    if user.state != UserState::Active {
        return Err(StoreError::Rule(format!(
            "{} is inactive: nothing recorded",
            user.name
        )));
    }
    let activated = chrono::DateTime::<chrono::Utc>::from_timestamp(user.activated_at, 0)
        .map(|t| t.date_naive())
        .unwrap_or(today);
    let day = crate::rules::usage::usage_day(
        day.unwrap_or(today),
        &crate::rules::usage::DayFacts {
            today,
            activated,
            last_reported: reported,
            booked: kind == UsageKind::DiaryBooked,
        },
    )?;
    let Some(seat) = user.seat.clone().filter(|s| s.term == Term::Daily) else {
        return Ok(Plan::Answer(UsageOutcome {
            user: user.name,
            day,
            charged: false,
            reason: "not on a daily seat: contracted and monthly seats are not charged per day"
                .into(),
        }));
    };
    let existing = match charge(&user, day)? {
        Some(c) => c,
        None => return Ok(Plan::Pending),
    };
    let kinds = existing.map_or(0, |c| c.kinds);
    if kinds & kind.bit() != 0 {
        return Ok(Plan::Answer(UsageOutcome {
            user: user.name,
            day,
            charged: false,
            reason: format!("already charged for {day}: one charge per user-day"),
        }));
    }
    Ok(Plan::Write {
        user: user.name,
        day,
        seat,
        kinds,
    })
}

impl Store {
    /// Records that a user worked on a day, as `operator` (the licensed
    /// product or Owner/manager); a daily-seat user is charged once per day.
    pub(crate) fn record_usage_as(
        &self,
        g: &Gate,
        name: &str,
        kind: UsageKind,
        day: Option<NaiveDate>,
    ) -> Result<UsageOutcome> {
        // Answered at once when it writes nothing; the read is authorised as a read.
        if let Some(outcome) = self.record_usage_at_once(g, name, kind, day)? {
            return Ok(outcome);
        }
        self.write_as(g, |tx| {
            let user: Option<User> = tx.get_rec(&keys::user(name), "user")?;
            let reported =
                last_reported(tx.get_rec(&keys::meta(names::LAST_REPORT), "last report")?);
            let today = tx.now.date_naive();
            let plan = decide(name, user, kind, day, today, reported, |u, d| {
                Ok(Some(
                    tx.get_rec(&keys::day_charge(d, &u.name), "day charge")?,
                ))
            })?;
            match plan {
                Plan::Answer(outcome) => Ok(outcome),
                Plan::Write {
                    user,
                    day,
                    seat,
                    kinds,
                } => {
                    tx.put_rec(
                        &keys::day_charge(day, &user),
                        &DayCharge {
                            kinds: kinds | kind.bit(),
                            pool: seat.clone(),
                        },
                    )?;
                    let charged = kinds == 0;
                    if charged {
                        // The charts' count of the day, kept with the charge.
                        tx.add_counter(&keys::day_count(day, &seat), 1)?;
                    }
                    Ok(UsageOutcome {
                        user,
                        day,
                        charged,
                        reason: if charged {
                            format!("charged one user-day of {} for {day}", seat.label())
                        } else {
                            format!("already charged for {day}: one charge per user-day")
                        },
                    })
                }
                // Inside the change every read is of what is applied.
                Plan::Pending => Err(StoreError::Rule(
                    "a usage record found its day's charge pending inside a change".into(),
                )),
            }
        })
    }

    /// [`Store::record_usage_as`] when it can be answered at once, from what
    /// is on disk, without writing or waiting for a sync: the product's
    /// everyday repeat of a day already charged, a user not on a daily seat,
    /// and every refusal. `Ok(None)` when it cannot (a new charge, or a charge
    /// not yet synced). "Already charged" promises the charge is kept, so a
    /// charge read before its sync is not answered here.
    pub(crate) fn record_usage_at_once(
        &self,
        g: &Gate,
        name: &str,
        kind: UsageKind,
        day: Option<NaiveDate>,
    ) -> Result<Option<UsageOutcome>> {
        g.authorise(self)?;
        let today = self.today()?;
        let reported = last_reported(
            self.db
                .get_rec(&keys::meta(names::LAST_REPORT), "last report")?,
        );
        let plan = decide(
            name,
            self.user(name)?,
            kind,
            day,
            today,
            reported,
            |u, d| {
                self.db
                    .get_unless_pending(&keys::day_charge(d, &u.name))?
                    .map(|v| {
                        v.map(|v| crate::model::decode(&v, "day charge"))
                            .transpose()
                    })
                    .transpose()
            },
        )?;
        Ok(match plan {
            Plan::Answer(outcome) => Some(outcome),
            Plan::Write { .. } | Plan::Pending => None,
        })
    }

    /// Sets the storage in use, in bytes.
    pub(crate) fn record_storage_as(&self, g: &Gate, bytes: u64) -> Result<()> {
        let bytes = crate::rules::usage::storage(bytes)?;
        self.write_as(g, |tx| {
            let allowance = self.storage_allowance_gb();
            let month = YearMonth::of(tx.now.date_naive());
            let before: u64 = tx
                .get_rec(&keys::meta(names::STORAGE), "storage")?
                .unwrap_or(0);
            tx.put_rec(&keys::meta(names::STORAGE), &bytes)?;
            // The allowance beside the use, so that a chart of past months
            // draws each against the allowance of its time.
            tx.put_rec(&keys::storage_allowance(month), &allowance)?;
            let month_key = keys::storage_month(month);
            if tx.counter(&month_key)? < bytes {
                tx.put_rec(&month_key, &bytes)?;
            }
            let limit = allowance.saturating_mul(1_000_000_000);
            if bytes > limit && before <= limit {
                once_a_month(tx, month, "storage", |tx| {
                    tx.system_event(
                        Action::StorageOverAllowance {
                            bytes,
                            allowance_gb: allowance,
                        },
                        None,
                    );
                })?;
            }
            Ok(())
        })
    }

    /// Adds `count` uses of a metered service to this month.
    pub(crate) fn record_metered_as(&self, g: &Gate, service: &str, count: u64) -> Result<u64> {
        crate::rules::usage::metered_total(0, count)?;
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let all: Vec<&licfile::MeteredService> = licences
                .iter()
                .flat_map(|l| l.licence.metered_services.iter())
                .collect();
            let svc = all
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(service.trim()))
                .copied()
                .cloned()
                .ok_or_else(|| StoreError::UnknownService {
                    name: service.into(),
                    known: all
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            let month = YearMonth::of(tx.now.date_naive());
            let users = tx
                .get_rec::<crate::users::UserCounts>(
                    &keys::meta(names::USER_COUNTS),
                    "user counts",
                )?
                .unwrap_or_default()
                .active;
            let threshold = svc
                .base_allowance
                .saturating_add(svc.allowance_per_user.saturating_mul(users));
            let key = keys::metered(month, &svc.name);
            let before = tx.counter(&key)?;
            let after = crate::rules::usage::metered_total(before, count)?;
            tx.put_rec(&key, &after)?;
            if after > threshold && before <= threshold {
                once_a_month(tx, month, &format!("metered:{}", svc.name), |tx| {
                    tx.system_event(
                        Action::MeteredOverThreshold {
                            service: svc.name.clone(),
                            unit: svc.unit.clone(),
                            used: after,
                            threshold,
                            base: svc.base_allowance,
                            per_user: svc.allowance_per_user,
                            users,
                            month: month.to_string(),
                            price: svc.overage_price.value().to_string(),
                        },
                        None,
                    );
                })?;
            }
            Ok(after)
        })
    }

    /// The pooled storage allowance in GB: contracted and monthly seats x GB per seat.
    pub fn storage_allowance_gb(&self) -> u64 {
        self.in_force()
            .iter()
            .flat_map(|l| l.licence.seat_pools.iter())
            .filter(|p| p.term != Term::Daily)
            .map(|p| u64::from(p.count) * u64::from(p.storage_gb_per_seat))
            .sum()
    }

    /// Storage in use, bytes.
    pub fn storage_used(&self) -> Result<u64> {
        Ok(self
            .db
            .get_rec(&keys::meta(names::STORAGE), "storage")?
            .unwrap_or(0))
    }

    /// Uses of a metered service in a month.
    pub fn metered_used(&self, month: YearMonth, service: &str) -> Result<u64> {
        Ok(self
            .db
            .get_rec(&keys::metered(month, service), "metered")?
            .unwrap_or(0))
    }

    /// The charged days of every daily-seat user in a month: (user, pool, days).
    pub fn daily_charges(
        &self,
        month: YearMonth,
    ) -> Result<Vec<(String, PoolKey, Vec<NaiveDate>)>> {
        // By user and pool: a user moved between daily pools mid-month is
        // charged in each for its own days.
        let mut by_user: std::collections::BTreeMap<(String, PoolKey), Vec<NaiveDate>> =
            Default::default();
        // A user is charged on many days of the month: their name as written
        // is read once, not once a day.
        let mut display: std::collections::HashMap<String, String> = Default::default();
        let mut day = month.first_day();
        while day <= month.last_day() {
            for kv in self.db.tree()?.scan_prefix(keys::day_charges(day)) {
                let (k, v) = kv?;
                let name = keys::decode::day_charge(&k).unwrap_or_default();
                let charge: DayCharge = crate::model::decode(&v, "day charge")?;
                let shown = match display.get(&name) {
                    Some(shown) => shown.clone(),
                    None => {
                        let shown = self.user(&name)?.map(|u| u.name).unwrap_or(name.clone());
                        display.insert(name, shown.clone());
                        shown
                    }
                };
                by_user.entry((shown, charge.pool)).or_default().push(day);
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(by_user.into_iter().map(|((u, p), d)| (u, p, d)).collect())
    }
}

/// Charges many daily-seat users for one day in one change (the demo's history).
pub(crate) fn charge_days_in(
    tx: &mut crate::db::Tx<'_>,
    day: NaiveDate,
    users: &[(String, PoolKey, UsageKind)],
) -> Result<()> {
    for (name, pool, kind) in users {
        let key = keys::day_charge(day, name);
        let existing: Option<DayCharge> = tx.get_rec(&key, "day charge")?;
        if existing.is_none() {
            tx.add_counter(&keys::day_count(day, pool), 1)?;
        }
        let kinds = existing.map(|c| c.kinds).unwrap_or(0) | kind.bit();
        tx.put_rec(
            &key,
            &DayCharge {
                kinds,
                pool: pool.clone(),
            },
        )?;
    }
    Ok(())
}

/// Runs `f` unless it already ran for this month and topic.
fn once_a_month(
    tx: &mut crate::db::Tx<'_>,
    month: YearMonth,
    topic: &str,
    f: impl FnOnce(&mut crate::db::Tx<'_>),
) -> Result<()> {
    let key = keys::meta(&format!("{}/{month}/{topic}", names::NOTICES));
    if tx.get(&key)?.is_none() {
        tx.put(key, Vec::new());
        f(tx);
    }
    Ok(())
}
