//! `tessera report usage`: what the site used in a month, signed by the
//! installation key for the vendor's invoice (seeds 000, 002, 004).

use chrono::Datelike;
use licfile::{
    DailyPoolDays, DaySet, Document, MeteredUsage, PoolUsage, Term, UsageReport, UserDays,
    YearMonth,
};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::purchases::effective_total;

impl Store {
    /// Makes, signs and keeps the usage report of `month`; returns its parts
    /// (one, unless the month's user-days do not fit one document), each with
    /// its armored text.
    ///
    /// The report is made inside the change that records it: its number is
    /// read and taken in one transaction, so two reports made at once never
    /// share an id.
    pub(crate) fn usage_report_as(
        &self,
        g: &Gate,
        month: YearMonth,
    ) -> Result<Vec<(UsageReport, String)>> {
        self.write_as(g, |tx| {
            let today = tx.now.date_naive();
            let current = YearMonth::of(today);
            if month > current {
                return Err(StoreError::Rule(format!(
                    "{month} has not started yet; the current month is {current}"
                )));
            }
            let inst = self.installation()?;
            let created = chrono::DateTime::<chrono::Utc>::from_timestamp(inst.created_at, 0)
                .map(|t| YearMonth::of(t.date_naive()))
                .unwrap_or(current);
            if month < created {
                return Err(StoreError::Rule(format!(
                    "this store was created in {created}; it has no usage for {month}"
                )));
            }
            let licences = self.in_force();
            let vendor = self
                .vendor_licence()
                .ok_or_else(|| StoreError::Rule("no licence of the vendor is in force".into()))?;
            // Seats are billed ahead: the count that matters is the one in force
            // on the first day of the next month (reductions due then included).
            let until = month.next().first_day();
            let mut pools = Vec::new();
            for l in licences.iter() {
                for (key, p) in l.pools() {
                    let total = effective_total(p.count, &self.reductions(&key)?, until);
                    let mut peak: u64 = self
                        .db
                        .get_rec(&keys::peak(month, &key), "peak")?
                        .unwrap_or(0);
                    if month == current {
                        peak = peak.max(self.in_use(&key)?);
                    }
                    pools.push(PoolUsage {
                        area: key.area.clone(),
                        licence: key.licence.clone(),
                        term: key.term,
                        total,
                        peak_in_use: u32::try_from(peak).unwrap_or(u32::MAX),
                        price: p.price,
                    });
                }
            }
            // daily_charges is ordered by user then pool; group by pool.
            let mut groups: std::collections::BTreeMap<(String, String), Vec<UserDays>> =
                Default::default();
            for (user, pool, days) in self.daily_charges(month)? {
                if pool.term != Term::Daily {
                    continue;
                }
                let mut set = DaySet::EMPTY;
                for d in days {
                    set.insert(d.day());
                }
                groups
                    .entry((pool.area, pool.licence))
                    .or_default()
                    .push(UserDays { user, days: set });
            }
            let daily_user_days: Vec<DailyPoolDays> = groups
                .into_iter()
                .map(|((area, licence), users)| DailyPoolDays {
                    area,
                    licence,
                    users,
                })
                .collect();
            // "Users" of a threshold: the most active at once in the month (a
            // store from before that was kept counts the users active now).
            let active = self.user_counts()?.active;
            let users = match self
                .db
                .get_rec::<u64>(&keys::users_peak(month), "users peak")?
            {
                Some(peak) if month == current => peak.max(active),
                Some(peak) => peak,
                None => active,
            };
            let mut metered = Vec::new();
            for l in licences.iter() {
                for m in &l.licence.metered_services {
                    let used = self.metered_used(month, &m.name)?;
                    let threshold = m
                        .base_allowance
                        .saturating_add(m.allowance_per_user.saturating_mul(users));
                    metered.push(MeteredUsage {
                        name: m.name.clone(),
                        used,
                        threshold,
                        excess: used.saturating_sub(threshold),
                        overage_price: m.overage_price,
                    });
                }
            }
            let storage: Option<u64> = self.db.get_rec(&keys::storage_month(month), "storage")?;
            let key = self.installation_key()?;
            let number = tx.counter(&keys::meta(names::REPORT_SEQ))? + 1;
            let chain_head: (u64, [u8; 32]) = tx
                .get_rec(&keys::meta(names::CHAIN), "chain")?
                .unwrap_or((0, [0; 32]));
            let report = UsageReport {
                serial: inst.serial.clone(),
                report_id: format!(
                    "{}-U{}{:02}-{number}",
                    inst.serial,
                    month.year(),
                    month.month()
                ),
                created_at: licfile::Timestamp::from(tx.now),
                part: 1,
                parts: 1,
                installation_key: key.public().raw(),
                month,
                licence_sequence: vendor.licence.sequence,
                pools,
                daily_user_days,
                metered,
                storage_used_bytes: match storage {
                    Some(s) => s,
                    None => self.storage_used()?,
                },
                storage_allowance_gb: self.storage_allowance_gb(),
                currency: vendor.licence.currency.clone(),
                // Format 2: the vendor can tell a gap, a rollback or a replay.
                chain: Some(licfile::ReportChain {
                    audit_seq: chain_head.0,
                    audit_head: chain_head.1,
                    previous_report: previous_report(tx)?,
                }),
            };
            let (days, daily_users) = (report.user_days(), report.daily_users());
            let (pools, metered) = (report.pools.len(), report.metered.len());
            let (used, allowance) = (report.storage_used_bytes, report.storage_allowance_gb);
            let id = report.report_id.clone();
            let parts = licfile::report::split(report)
                .map_err(|e| StoreError::Rule(format!("cannot make the report: {e}")))?;
            let mut signed = Vec::with_capacity(parts.len());
            for part in parts {
                let armored =
                    licfile::signed::sign(&Document::UsageReport(part.clone()), &key, None)
                        .map_err(|e| StoreError::Rule(format!("cannot sign the report: {e}")))?;
                signed.push((part, armored));
            }
            let n = signed.len();
            // The site's copy: every part, one after another.
            let copy = signed
                .iter()
                .map(|(_, a)| a.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            {
                tx.put_rec(&keys::meta(names::REPORT_SEQ), &number)?;
                tx.put_rec(&keys::meta(names::LAST_REPORT_ID), &id)?;
                tx.put(keys::report(month), copy.clone().into_bytes());
                let last: Option<String> =
                    tx.get_rec(&keys::meta(names::LAST_REPORT), "last report")?;
                let later = last
                    .as_deref()
                    .and_then(|m| m.parse::<YearMonth>().ok())
                    .is_none_or(|m| m < month);
                if later {
                    tx.put_rec(&keys::meta(names::LAST_REPORT), &month.to_string())?;
                }
                tx.user_event(Action::UsageReported {
                    report_id: id,
                    month: month.to_string(),
                    parts: u32::try_from(n).unwrap_or(u32::MAX),
                    pools: pools as u64,
                    days,
                    daily_users: daily_users as u64,
                    metered: metered as u64,
                    storage_bytes: used,
                    allowance_gb: allowance,
                });
            }
            Ok(signed)
        })
    }
}

/// The id of the latest report made before this one: kept since format 2;
/// for a store whose reports were all made before, the one with the highest
/// number among those kept.
fn previous_report(tx: &crate::db::Tx<'_>) -> Result<Option<String>> {
    if let Some(id) = tx.get_rec::<String>(&keys::meta(names::LAST_REPORT_ID), "last report id")? {
        return Ok(Some(id));
    }
    let mut latest: Option<(u64, String)> = None;
    for (_, text) in tx.scan(keys::REPORTS)? {
        // The site's copy holds every part, one after another: the first will do.
        let first = match text.windows(8).position(|w| w == b"-----END") {
            Some(at) => {
                let end = text[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(text.len(), |n| at + n + 1);
                &text[..end]
            }
            None => &text[..],
        };
        let Ok(doc) = licfile::signed::read_structure(first) else {
            continue;
        };
        if let Document::UsageReport(r) = doc.document {
            // "SERIAL-UYYYYMM-N": N is the store's count of reports.
            let n = r
                .report_id
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            if latest.as_ref().is_none_or(|(m, _)| n > *m) {
                latest = Some((n, r.report_id));
            }
        }
    }
    Ok(latest.map(|(_, id)| id))
}
