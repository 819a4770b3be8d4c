//! A usage report in parts.
//!
//! A document holds at most [`MAX_PAYLOAD_BYTES`]; the daily user-days of a
//! large site's month do not fit (a user costs 12 bytes plus the name). The
//! site splits the report into numbered parts: part 1 carries the seats,
//! metered services and storage and as many user-days as fit; each further
//! part carries the header and more user-days. Every part is signed on its own,
//! so a part can be checked alone, and the vendor's invoice needs all of them.

use std::collections::{HashMap, HashSet};

use crate::constants::{MAX_PAYLOAD_BYTES, MAX_REPORT_PARTS};
use crate::document::{DailyPoolDays, DocumentKind, Term, UsageReport, licence_label};
use crate::encoding;
use crate::error::SignError;

/// Why a report could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    /// Even the part without user-days is too large, or a part came out larger
    /// than its estimate.
    #[error(transparent)]
    Encode(#[from] SignError),
    /// A single user's entry does not fit an empty part (a name of tens of
    /// kilobytes: refused by validation long before).
    #[error("the entry of user {0:?} alone does not fit a report part")]
    EntryTooLarge(String),
    /// More parts than a report may have.
    #[error("the report would need {0} parts; a report has at most {MAX_REPORT_PARTS}")]
    TooManyParts(usize),
}

/// Bytes a length-prefixed string takes in the fixed-int encoding.
fn string_size(s: &str) -> usize {
    8 + s.len()
}

/// Bytes one user's entry takes: the name and four bytes of days.
fn user_size(user: &str) -> usize {
    string_size(user) + 4
}

/// Bytes a pool's group takes before its users: area, licence, user count.
fn group_size(g: &DailyPoolDays) -> usize {
    string_size(&g.area) + string_size(&g.licence) + 8
}

/// Splits a whole report (its `part` and `parts` are ignored) into parts that
/// each fit a document, in order; a report that fits is one part.
pub fn split(report: UsageReport) -> Result<Vec<UsageReport>, SplitError> {
    let kind = DocumentKind::UsageReport;
    let mut first = report;
    let groups = std::mem::take(&mut first.daily_user_days);
    first.part = 1;
    first.parts = 1;
    let mut later = first.clone();
    later.pools.clear();
    later.metered.clear();
    // The sizes of the parts without their user-days: what is left of the
    // limit is the room for them.
    // Format 2's chain follows the fields in every part.
    let chain = match &first.chain {
        Some(c) => encoding::encode(c, kind)?.len(),
        None => 0,
    };
    let room_first =
        MAX_PAYLOAD_BYTES.saturating_sub(encoding::encode(&first, kind)?.len() + chain);
    let room_later =
        MAX_PAYLOAD_BYTES.saturating_sub(encoding::encode(&later, kind)?.len() + chain);

    let mut parts: Vec<UsageReport> = Vec::new();
    let mut current = first;
    let mut room = room_first;
    for g in groups {
        let header = DailyPoolDays {
            area: g.area.clone(),
            licence: g.licence.clone(),
            users: Vec::new(),
        };
        let mut open = false;
        for u in g.users {
            let need = user_size(&u.user) + if open { 0 } else { group_size(&header) };
            if need > room {
                if group_size(&header) + user_size(&u.user) > room_later {
                    return Err(SplitError::EntryTooLarge(u.user));
                }
                let next = later.clone();
                parts.push(std::mem::replace(&mut current, next));
                room = room_later;
                open = false;
            }
            if !open {
                room -= group_size(&header);
                current.daily_user_days.push(header.clone());
                open = true;
            }
            room -= user_size(&u.user);
            if let Some(last) = current.daily_user_days.last_mut() {
                last.users.push(u);
            }
        }
    }
    parts.push(current);
    let n = parts.len();
    let total = u32::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_REPORT_PARTS)
        .ok_or(SplitError::TooManyParts(n))?;
    for (i, p) in parts.iter_mut().enumerate() {
        // i < n <= MAX_REPORT_PARTS, so this fits.
        p.part = u32::try_from(i + 1).unwrap_or(u32::MAX);
        p.parts = total;
        // The estimate above is exact for this encoding; this is the proof.
        encoding::encode_document(&crate::document::Document::UsageReport(p.clone()))?;
    }
    Ok(parts)
}

/// Why a set of parts is not one whole report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartsError {
    /// No part given.
    #[error("no usage report given")]
    Empty,
    /// Parts of different reports, or parts that disagree on their header.
    #[error(
        "part {part} is not of the same report as part {first_part}: its {field} differs; give the parts of one report"
    )]
    Mismatch {
        /// The part that differs.
        part: u32,
        /// The part it was compared with.
        first_part: u32,
        /// The header field that differs.
        field: &'static str,
    },
    /// A part count no report has.
    #[error("the report says it has {0} parts; a report has 1 to {MAX_REPORT_PARTS}")]
    Count(u32),
    /// The same part twice.
    #[error("part {0} is given twice")]
    Duplicate(u32),
    /// Parts missing.
    #[error("report {report} has {parts} parts and {} {} missing; give every part", list(.missing), if .missing.len() == 1 { "is" } else { "are" })]
    Missing {
        /// The report.
        report: String,
        /// How many parts it has.
        parts: u32,
        /// The part numbers not given.
        missing: Vec<u32>,
    },
    /// A user listed in two parts of the same pool.
    #[error("user {user:?} of {pool} is listed in two parts of the report")]
    UserTwice {
        /// The user.
        user: String,
        /// The pool.
        pool: String,
    },
    /// User-days of a pool the report does not list as daily.
    #[error("the report charges user-days of {0}, which it does not list as a daily pool")]
    NotDaily(String),
}

fn list(parts: &[u32]) -> String {
    let mut s = String::from(if parts.len() == 1 { "part " } else { "parts " });
    for (i, p) in parts.iter().take(10).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&p.to_string());
    }
    if parts.len() > 10 {
        s.push_str(&format!(" and {} more", parts.len() - 10));
    }
    s
}

/// Checks that `parts` (in any order) are every part of one report, each
/// once, agreeing on the header, with no user counted twice; returns them
/// ordered by part number.
pub fn assemble(parts: &[UsageReport]) -> Result<Vec<&UsageReport>, PartsError> {
    let first = parts.first().ok_or(PartsError::Empty)?;
    if first.parts == 0 || first.parts > MAX_REPORT_PARTS {
        return Err(PartsError::Count(first.parts));
    }
    let mut by_number: Vec<Option<&UsageReport>> = vec![None; first.parts as usize];
    for p in parts {
        let differs = if p.serial != first.serial {
            Some("serial")
        } else if p.report_id != first.report_id {
            Some("report id")
        } else if p.parts != first.parts {
            Some("number of parts")
        } else if p.month != first.month {
            Some("month")
        } else if p.installation_key != first.installation_key {
            Some("installation key")
        } else if p.licence_sequence != first.licence_sequence {
            Some("licence sequence")
        } else if p.currency != first.currency {
            Some("currency")
        } else if p.created_at != first.created_at {
            Some("creation time")
        } else {
            None
        };
        if let Some(field) = differs {
            return Err(PartsError::Mismatch {
                part: p.part,
                first_part: first.part,
                field,
            });
        }
        // Validation keeps part within 1..=parts; a caller may skip it.
        let Some(slot) = (p.part as usize)
            .checked_sub(1)
            .and_then(|i| by_number.get_mut(i))
        else {
            return Err(PartsError::Missing {
                report: first.report_id.clone(),
                parts: first.parts,
                missing: Vec::new(),
            });
        };
        if slot.is_some() {
            return Err(PartsError::Duplicate(p.part));
        }
        *slot = Some(p);
    }
    let missing: Vec<u32> = by_number
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_none())
        .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        .collect();
    if !missing.is_empty() {
        return Err(PartsError::Missing {
            report: first.report_id.clone(),
            parts: first.parts,
            missing,
        });
    }
    let ordered: Vec<&UsageReport> = by_number.into_iter().flatten().collect();
    let daily: HashSet<(&str, &str)> = ordered[0]
        .pools
        .iter()
        .filter(|p| p.term == Term::Daily)
        .map(|p| (p.area.as_str(), p.licence.as_str()))
        .collect();
    let mut seen: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for p in &ordered {
        for g in &p.daily_user_days {
            let pool = (g.area.as_str(), g.licence.as_str());
            if !daily.contains(&pool) {
                return Err(PartsError::NotDaily(licence_label(&g.area, &g.licence)));
            }
            let users = seen.entry(pool).or_default();
            for u in &g.users {
                if !users.insert(u.user.as_str()) {
                    return Err(PartsError::UserTwice {
                        user: u.user.clone(),
                        pool: licence_label(&g.area, &g.licence),
                    });
                }
            }
        }
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{PoolUsage, UserDays};
    use crate::values::{DaySet, Money, RawPublicKey, Timestamp, YearMonth};

    fn report(users: usize) -> UsageReport {
        let mut days = DaySet::EMPTY;
        days.insert(3);
        days.insert(4);
        UsageReport {
            serial: "TS-1".into(),
            report_id: "TS-1-U202611-1".into(),
            part: 1,
            parts: 1,
            created_at: Timestamp(1_800_000_000),
            installation_key: RawPublicKey([7; 32]),
            month: YearMonth::new(2026, 11).unwrap(),
            licence_sequence: 3,
            pools: vec![PoolUsage {
                area: "Jobs".into(),
                licence: "Field engineer".into(),
                term: Term::Daily,
                total: 10,
                peak_in_use: 9,
                price: Money::ZERO,
            }],
            daily_user_days: vec![DailyPoolDays {
                area: "Jobs".into(),
                licence: "Field engineer".into(),
                users: (0..users)
                    .map(|i| UserDays {
                        user: format!("engineer{i:06}"),
                        days,
                    })
                    .collect(),
            }],
            metered: vec![],
            storage_used_bytes: 0,
            storage_allowance_gb: 10,
            currency: "GBP".into(),
            chain: None,
        }
    }

    #[test]
    fn the_size_estimate_is_exact() {
        let r = report(0);
        let empty = encoding::encode(&r, DocumentKind::UsageReport)
            .unwrap()
            .len();
        let one = encoding::encode(&report(1), DocumentKind::UsageReport)
            .unwrap()
            .len();
        assert_eq!(one - empty, user_size("engineer000000"));
        let mut no_group = r.clone();
        no_group.daily_user_days.clear();
        let bare = encoding::encode(&no_group, DocumentKind::UsageReport)
            .unwrap()
            .len();
        assert_eq!(empty - bare, group_size(&r.daily_user_days[0]));
    }

    #[test]
    fn a_small_report_is_one_part_and_a_large_one_many_that_fit() {
        assert_eq!(split(report(10)).unwrap().len(), 1);
        let parts = split(report(10_000)).unwrap();
        assert!(parts.len() > 1);
        let n = parts.len() as u32;
        for (i, p) in parts.iter().enumerate() {
            assert_eq!((p.part, p.parts), (i as u32 + 1, n));
            assert!(p.validate().is_ok(), "{:?}", p.validate());
            // Every part but the last is filled to within one entry of the limit.
            let size = encoding::encode(p, DocumentKind::UsageReport)
                .unwrap()
                .len();
            assert!(size <= MAX_PAYLOAD_BYTES);
            if p.part < n {
                assert!(size + user_size("engineer000000") > MAX_PAYLOAD_BYTES);
            }
            assert_eq!(p.pools.is_empty(), p.part != 1);
        }
        let users: usize = parts
            .iter()
            .flat_map(|p| &p.daily_user_days)
            .map(|g| g.users.len())
            .sum();
        assert_eq!(users, 10_000);
        let ordered = assemble(&parts).unwrap();
        assert_eq!(ordered.len(), parts.len());
    }

    #[test]
    fn parts_must_be_all_of_one_report_once() {
        let parts = split(report(5_000)).unwrap();
        assert!(parts.len() >= 3);
        let mut reversed = parts.clone();
        reversed.reverse();
        assert_eq!(assemble(&reversed).unwrap()[0].part, 1);
        assert_eq!(
            assemble(&parts[1..]),
            Err(PartsError::Missing {
                report: "TS-1-U202611-1".into(),
                parts: parts.len() as u32,
                missing: vec![1]
            })
        );
        let mut twice = parts.clone();
        twice.push(parts[1].clone());
        assert_eq!(assemble(&twice), Err(PartsError::Duplicate(2)));
        let mut other = parts.clone();
        other[2].report_id = "TS-1-U202611-2".into();
        assert!(matches!(
            assemble(&other),
            Err(PartsError::Mismatch {
                field: "report id",
                ..
            })
        ));
        let mut moved = parts.clone();
        let u = moved[1].daily_user_days[0].users[0].clone();
        moved[2].daily_user_days[0].users.push(u);
        assert!(matches!(
            assemble(&moved),
            Err(PartsError::UserTwice { .. })
        ));
        assert_eq!(assemble(&[]), Err(PartsError::Empty));
    }
}

/// A report the vendor has already seen from a serial, as its ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenReport {
    /// Its id.
    pub report_id: String,
    /// What it committed to, for a report of format 2.
    pub chain: Option<crate::document::ReportChain>,
}

/// What a report's chain says against the reports seen before from the same
/// serial (`seen`, in the order they came): nothing when it follows on, else
/// each problem named. A replay (the same report again) is the caller's to
/// refuse; a gap, a rollback or a fork is named for the vendor to look into
/// (a site restored from a backup rolls its log back honestly).
pub fn chain_findings(
    seen: &[SeenReport],
    report_id: &str,
    chain: Option<&crate::document::ReportChain>,
) -> Vec<String> {
    let mut out = Vec::new();
    if seen.iter().any(|s| s.report_id == report_id) {
        out.push(format!("replay: report {report_id} was seen before"));
        return out;
    }
    let chained: Vec<(&SeenReport, &crate::document::ReportChain)> = seen
        .iter()
        .filter_map(|s| s.chain.as_ref().map(|c| (s, c)))
        .collect();
    let Some(chain) = chain else {
        if let Some((last, _)) = chained.last() {
            out.push(format!(
                "downgrade: a format 1 report, after report {} came in format 2; it commits to nothing",
                last.report_id
            ));
        }
        return out;
    };
    let latest = seen.last();
    match (&chain.previous_report, latest) {
        (Some(prev), Some(last)) if *prev != last.report_id => {
            if seen.iter().any(|s| s.report_id == *prev) {
                out.push(format!(
                    "out of order: it follows report {prev}, but report {} came after that one",
                    last.report_id
                ));
            } else {
                out.push(format!(
                    "gap: it follows report {prev}, which never reached the vendor (the last seen is {})",
                    last.report_id
                ));
            }
        }
        (Some(prev), None) => out.push(format!(
            "gap: it follows report {prev}, which never reached the vendor (none seen from this serial before)"
        )),
        (None, Some(last)) => out.push(format!(
            "gap: it follows no report, but report {} was seen from this serial (a new store?)",
            last.report_id
        )),
        _ => {}
    }
    if let Some((last, at)) = chained.iter().max_by_key(|(_, c)| c.audit_seq) {
        if chain.audit_seq < at.audit_seq {
            out.push(format!(
                "rollback: the site's log stood at event {} when it was made, older than event {} when report {} was made",
                chain.audit_seq, at.audit_seq, last.report_id
            ));
        } else if chain.audit_seq == at.audit_seq && chain.audit_head != at.audit_head {
            out.push(format!(
                "fork: event {} of the site's log is not the one report {} committed to",
                chain.audit_seq, last.report_id
            ));
        }
    }
    out
}
