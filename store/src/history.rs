//! History for the console's charts: seats in use per pool month by month,
//! charged user-days per day of the daily pools, storage against its
//! allowance, and metered services month by month with this month's overage.
//!
//! Every series is read from facts the store keeps per month or per day, a
//! handful of point reads or one short range each, never by going through
//! the users or the events, so a chart costs the same on a 100,000-user store
//! with years of usage as on a new one:
//!
//! - seats: the peak in use of each pool and month (`pk/`), kept by every
//!   change since the first version;
//! - charged user-days: a counter per day and daily pool (`dn/`), kept since
//!   schema 4 beside each charged user-day (the migration to 4 counted the
//!   days charged before it);
//! - storage: the month's peak use (`sm/`), and since schema 4 the allowance
//!   in force when storage was recorded or a licence imported (`sa/`); a
//!   month from before that shows today's allowance, and says so;
//! - metered services: the month's count (`x/`) and the month's peak of
//!   active users (`ua/`), which sets the threshold.

use chrono::NaiveDate;
use licfile::{Term, YearMonth};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::Result;
use crate::keys;
use crate::model::PoolKey;

/// Months in the seat, storage and metered series: this one and the 11 before.
pub const MONTHS: usize = 12;

/// The most days a daily series covers.
pub const MAX_DAYS: u32 = 366;

/// One month's value of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthPoint {
    /// The month.
    pub month: YearMonth,
    /// The value; `None` for a month before the store existed.
    pub value: Option<u64>,
}

/// Seats in use of one pool, month by month (the month's peak).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSeries {
    /// The pool.
    pub pool: PoolKey,
    /// Its label, e.g. "Jobs User (monthly)".
    pub label: String,
    /// Seats the licence in force grants today, for the chart's scale.
    pub total: u32,
    /// Oldest first, this month last (its peak so far).
    pub months: Vec<MonthPoint>,
}

/// One day of a daily pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayPoint {
    /// The day.
    pub day: NaiveDate,
    /// User-days charged for it.
    pub charged: u64,
}

/// Charged user-days of one daily pool, day by day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySeries {
    /// The pool.
    pub pool: PoolKey,
    /// Its label.
    pub label: String,
    /// Oldest first, today last.
    pub days: Vec<DayPoint>,
}

/// Storage in one month against the pooled allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoragePoint {
    /// The month.
    pub month: YearMonth,
    /// The most storage in use that month, bytes; `None` when none was recorded.
    pub used_bytes: Option<u64>,
    /// The pooled allowance, GB.
    pub allowance_gb: u64,
    /// Whether the allowance is the one recorded that month (false: the
    /// store did not record it then, and this is today's).
    pub allowance_recorded: bool,
}

/// A metered service's use, month by month, and this month's overage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeteredSeries {
    /// Service identifier.
    pub name: String,
    /// Unit counted.
    pub unit: String,
    /// Uses each month, oldest first, this month last.
    pub months: Vec<MonthPoint>,
    /// Free this month: base + per user x the month's most active users.
    pub threshold: u64,
    /// Used past the threshold this month.
    pub excess: u64,
    /// Price of each unit past the threshold.
    pub overage_price: Decimal,
    /// The overage so far this month (excess x price, rounded half away
    /// from zero to 2 decimals), in the licence's currency.
    pub overage_cost: Decimal,
}

/// Everything the console's charts draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Today, by the rules' clock: the end of every series.
    pub today: NaiveDate,
    /// Currency of the costs.
    pub currency: String,
    /// Seats in use per pool (every pool of every licence in force).
    pub seats: Vec<PoolSeries>,
    /// Charged user-days per daily pool.
    pub daily: Vec<DailySeries>,
    /// Storage against the allowance, month by month.
    pub storage: Vec<StoragePoint>,
    /// Metered services.
    pub metered: Vec<MeteredSeries>,
}

/// The month before `m`.
pub fn previous(m: YearMonth) -> YearMonth {
    let (y, mo) = if m.month() == 1 {
        (m.year() - 1, 12)
    } else {
        (m.year(), m.month() - 1)
    };
    YearMonth::new(y, mo).unwrap_or(m)
}

/// The `n` months ending with `last`, oldest first.
pub fn months_to(last: YearMonth, n: usize) -> Vec<YearMonth> {
    let mut out = Vec::with_capacity(n);
    let mut m = last;
    for _ in 0..n {
        out.push(m);
        m = previous(m);
    }
    out.reverse();
    out
}

/// A month's seats in use from what the store kept: the month's peak; a
/// month the store wrote nothing in kept no peak and changed nothing, so it
/// carries the month before; a pool with no peak in a month the store
/// wrote in had no seat in use; before the store existed, nothing.
pub fn seat_month(
    existed: bool,
    peak: Option<u64>,
    store_written: bool,
    before: Option<u64>,
) -> Option<u64> {
    if !existed {
        return None;
    }
    match (peak, store_written) {
        (Some(p), _) => Some(p),
        (None, true) => Some(0),
        (None, false) => Some(before.unwrap_or(0)),
    }
}

/// This month's threshold, excess and overage cost of a metered service.
pub fn overage(
    used: u64,
    base: u64,
    per_user: u64,
    users: u64,
    price: Decimal,
) -> (u64, u64, Decimal) {
    let threshold = base.saturating_add(per_user.saturating_mul(users));
    let excess = used.saturating_sub(threshold);
    let cost = crate::rules::costs::round(Decimal::from(excess) * price);
    (threshold, excess, cost)
}

impl Store {
    /// The history the console's charts draw: seats per pool over the last
    /// [`MONTHS`] months, charged user-days of each daily pool over the last
    /// `days` days (1 to [`MAX_DAYS`]), storage against the allowance, and
    /// metered services with this month's overage. See the module's notes
    /// for what each series is derived from; no series reads the users.
    pub fn history(&self, days: u32) -> Result<History> {
        let today = self.today()?;
        let current = YearMonth::of(today);
        let months = months_to(current, MONTHS);
        let inst = self.installation()?;
        let created = chrono::DateTime::<chrono::Utc>::from_timestamp(inst.created_at, 0)
            .map(|t| YearMonth::of(t.date_naive()))
            .unwrap_or(current);
        let licences = self.in_force();
        let currency = self
            .vendor_licence()
            .map(|l| l.licence.currency.clone())
            .unwrap_or_default();
        // Months the store wrote in: each change's first of a month notes the
        // month's active users.
        let mut written = Vec::with_capacity(months.len());
        let mut users_peaks = Vec::with_capacity(months.len());
        for m in &months {
            let peak: Option<u64> = self.db.get_rec(&keys::users_peak(*m), "users peak")?;
            written.push(peak.is_some());
            users_peaks.push(peak);
        }

        let mut seats = Vec::new();
        for l in licences.iter() {
            for (key, p) in l.pools() {
                let in_use = self.in_use(&key)?;
                let mut points = Vec::with_capacity(months.len());
                let mut before = None;
                for (i, m) in months.iter().enumerate() {
                    let mut peak: Option<u64> = self.db.get_rec(&keys::peak(*m, &key), "peak")?;
                    if *m == current {
                        peak = Some(peak.unwrap_or(0).max(in_use));
                    }
                    let value = seat_month(*m >= created, peak, written[i], before);
                    before = value.or(before);
                    points.push(MonthPoint { month: *m, value });
                }
                seats.push(PoolSeries {
                    label: key.label(),
                    total: effective_total_today(self, &key, p.count, today)?,
                    pool: key,
                    months: points,
                });
            }
        }

        let days = days.clamp(1, MAX_DAYS);
        let first = today - chrono::Duration::days(i64::from(days) - 1);
        let daily_pools: Vec<PoolKey> = licences
            .iter()
            .flat_map(|l| l.pools().map(|(k, _)| k))
            .filter(|k| k.term == Term::Daily)
            .collect();
        let mut daily: Vec<DailySeries> = daily_pools
            .iter()
            .map(|k| DailySeries {
                pool: k.clone(),
                label: k.label(),
                days: first
                    .iter_days()
                    .take(days as usize)
                    .map(|day| DayPoint { day, charged: 0 })
                    .collect(),
            })
            .collect();
        if !daily_pools.is_empty() {
            let pool_bytes: Vec<Vec<u8>> = daily_pools.iter().map(keys::pool).collect();
            let end = today.succ_opt().unwrap_or(today);
            let tree = self.db.tree()?;
            for kv in tree.range(keys::day_counts(first)..keys::day_counts(end)) {
                let (k, v) = kv?;
                let Some((day, pool)) = keys::decode::day_count(&k) else {
                    continue;
                };
                let Some(i) = pool_bytes.iter().position(|p| p.as_slice() == pool) else {
                    continue;
                };
                let index = (day - first).num_days();
                if let Some(point) = usize::try_from(index)
                    .ok()
                    .and_then(|x| daily[i].days.get_mut(x))
                {
                    point.charged = crate::model::decode(&v, "day count")?;
                }
            }
        }

        let allowance_now = self.storage_allowance_gb();
        let mut storage = Vec::with_capacity(months.len());
        for m in &months {
            let used: Option<u64> = self.db.get_rec(&keys::storage_month(*m), "storage")?;
            let recorded: Option<u64> = if *m == current {
                Some(allowance_now)
            } else {
                self.db
                    .get_rec(&keys::storage_allowance(*m), "storage allowance")?
            };
            storage.push(StoragePoint {
                month: *m,
                used_bytes: used,
                allowance_gb: recorded.unwrap_or(allowance_now),
                allowance_recorded: recorded.is_some(),
            });
        }

        let active = self.user_counts()?.active;
        // As the usage report counts them: the month's most active users.
        let users = users_peaks
            .last()
            .copied()
            .flatten()
            .map_or(active, |p| p.max(active));
        let mut metered = Vec::new();
        for l in licences.iter() {
            for svc in &l.licence.metered_services {
                let mut points = Vec::with_capacity(months.len());
                for m in &months {
                    let used = self.metered_used(*m, &svc.name)?;
                    points.push(MonthPoint {
                        month: *m,
                        value: (*m >= created).then_some(used),
                    });
                }
                let used = self.metered_used(current, &svc.name)?;
                let price = svc.overage_price.value();
                let (threshold, excess, overage_cost) = overage(
                    used,
                    svc.base_allowance,
                    svc.allowance_per_user,
                    users,
                    price,
                );
                metered.push(MeteredSeries {
                    name: svc.name.clone(),
                    unit: svc.unit.clone(),
                    months: points,
                    threshold,
                    excess,
                    overage_price: price,
                    overage_cost,
                });
            }
        }
        Ok(History {
            today,
            currency,
            seats,
            daily,
            storage,
            metered,
        })
    }
}

/// The pool's seats today: what the licence grants less reductions due.
fn effective_total_today(s: &Store, key: &PoolKey, licensed: u32, today: NaiveDate) -> Result<u32> {
    Ok(crate::purchases::effective_total(
        licensed,
        &s.reductions(key)?,
        today,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_this_one_across_a_year_end() {
        let m = months_to(YearMonth::new(2026, 3).unwrap(), MONTHS);
        assert_eq!(m.len(), 12);
        assert_eq!(m[0].to_string(), "2025-04");
        assert_eq!(m[9].to_string(), "2026-01");
        assert_eq!(m[11].to_string(), "2026-03");
    }

    #[test]
    fn a_month_without_writes_carries_the_month_before() {
        assert_eq!(seat_month(false, None, false, Some(3)), None);
        assert_eq!(seat_month(true, Some(5), true, Some(3)), Some(5));
        assert_eq!(seat_month(true, None, true, Some(3)), Some(0));
        assert_eq!(seat_month(true, None, false, Some(3)), Some(3));
        assert_eq!(seat_month(true, None, false, None), Some(0));
    }

    #[test]
    fn overage_is_the_excess_at_the_price_rounded_once() {
        let price: Decimal = "0.002".parse().unwrap();
        // 5000 + 200 x 10 = 7000 free; 7,003 used: 3 x 0.002 = 0.006 -> 0.01.
        let (t, e, c) = overage(7003, 5000, 200, 10, price);
        assert_eq!((t, e), (7000, 3));
        assert_eq!(c.to_string(), "0.01");
        let (_, e, c) = overage(10, 5000, 200, 10, price);
        assert_eq!((e, c.to_string().as_str()), (0, "0.00"));
        // Never overflows.
        let (t, _, _) = overage(u64::MAX, u64::MAX, u64::MAX, u64::MAX, price);
        assert_eq!(t, u64::MAX);
    }
}
