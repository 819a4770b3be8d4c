//! Whether a licence may come into force: the sequence decision, and what a
//! licence may grant on its plan.

use crate::error::{Code, StoreError};
use crate::events::PoolChange;
use crate::model::PoolKey;

/// What an import does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The licence comes into force.
    Import,
    /// The very same licence is in force: nothing to do.
    AlreadyImported {
        /// Its sequence.
        sequence: u64,
    },
}

/// Decides an import of a licence of sequence `new` for an issuer whose
/// licence in force, if any, has sequence `current.0` (and `current.1` says
/// whether it is the same licence).
pub fn decide(new: u64, current: Option<(u64, bool)>) -> Result<Decision, StoreError> {
    let Some((cur, same)) = current else {
        return Ok(Decision::Import);
    };
    if new == cur {
        if same {
            return Ok(Decision::AlreadyImported { sequence: new });
        }
        return Err(StoreError::refused(
            Code::SequenceConflict,
            format!(
                "licence refused: a different licence with sequence {new} is already in force; the vendor must issue sequence {} or later",
                cur.saturating_add(1)
            ),
        ));
    }
    if new < cur {
        return Err(StoreError::refused(
            Code::SequenceOlder,
            format!(
                "licence refused: this licence has sequence {new}, older than the licence in force (sequence {cur}); an older licence never replaces a newer one"
            ),
        ));
    }
    Ok(Decision::Import)
}

/// The lowest plan tier that may offer daily seats. Seed 000: daily licences
/// are "only available on Go Paperless and above plans", and the vendor ranks
/// its plans Startup (tier 1), Go Paperless (2), Customer Journey (3),
/// Automation (4) (seed 002's storage table lists them in that order).
pub const DAILY_SEATS_MIN_TIER: u32 = 2;

/// Refuses a licence that offers daily seats on a plan below
/// [`DAILY_SEATS_MIN_TIER`]. A daily pool of 0 seats offers the term for
/// purchase, so it is refused too: the plan does not have the term at all.
/// Checked for every issuer's licence, since each licence names its own plan.
pub fn daily_seats_allowed(licence: &licfile::Licence) -> Result<(), StoreError> {
    if licence.plan.tier >= DAILY_SEATS_MIN_TIER {
        return Ok(());
    }
    let daily: Vec<String> = licence
        .seat_pools
        .iter()
        .filter(|p| p.term == licfile::Term::Daily)
        .map(|p| format!("{} {} ({} seats)", p.area, p.licence, p.count))
        .collect();
    if daily.is_empty() {
        return Ok(());
    }
    Err(StoreError::LicenceRefused(format!(
        "licence {} grants daily seats ({}) on the {} plan (tier {}), but daily seats exist only on plans of tier {DAILY_SEATS_MIN_TIER} (Go Paperless) and above; ask the vendor for a licence without daily pools, or on a higher plan",
        licence.licence_id,
        daily.join(", "),
        licence.plan.name,
        licence.plan.tier,
    )))
}

/// What an import changes in the seat counts, for the action log: each pool
/// whose count changes, and each pool no longer licensed. Pools are matched
/// by their identity, so a name whose capitalisation changed is the same pool.
pub fn pool_changes(old: &[(PoolKey, u32)], new: &[(PoolKey, u32)]) -> Vec<PoolChange> {
    let count_in = |pools: &[(PoolKey, u32)], key: &PoolKey| {
        pools
            .iter()
            .find(|(k, _)| k.id() == key.id())
            .map(|(_, c)| *c)
    };
    let mut changes = Vec::new();
    for (key, count) in new {
        let before = count_in(old, key).unwrap_or(0);
        if before != *count {
            changes.push(PoolChange {
                pool: key.clone(),
                from: before,
                to: *count,
                dropped: false,
            });
        }
    }
    for (key, count) in old {
        if count_in(new, key).is_none() {
            changes.push(PoolChange {
                pool: key.clone(),
                from: *count,
                to: 0,
                dropped: true,
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_changes_match_pools_by_identity() {
        let pool = |licence: &str, term| PoolKey {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: licence.into(),
            term,
        };
        let old = [
            (pool("User", licfile::Term::Monthly), 5),
            (pool("Viewer", licfile::Term::Daily), 2),
        ];
        let new = [
            (pool("USER", licfile::Term::Monthly), 5),
            (pool("Office", licfile::Term::Monthly), 1),
        ];
        let changes = pool_changes(&old, &new);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            changes[0].to_string().contains("0 -> 1 seats"),
            "{changes:?}"
        );
        assert!(
            changes[1].to_string().contains("no longer licensed"),
            "{changes:?}"
        );
    }

    #[test]
    fn daily_seats_need_the_second_tier() {
        let mut l = licfile::sample::licence("NW-1");
        assert!(daily_seats_allowed(&l).is_ok(), "the sample is tier 3");
        l.plan.tier = 2;
        assert!(daily_seats_allowed(&l).is_ok(), "Go Paperless has them");
        for tier in [0, 1] {
            l.plan.tier = tier;
            l.plan.name = "Startup".into();
            let e = daily_seats_allowed(&l).expect_err("tier 1 has no daily seats");
            assert_eq!(e.code(), Code::LicenceRefused);
            let msg = e.to_string();
            assert!(msg.contains("Jobs User (4 seats)"), "{msg}");
            assert!(msg.contains("Startup plan (tier"), "{msg}");
            assert!(msg.contains("ask the vendor"), "{msg}");
        }
        // A pool of 0 daily seats still offers the term: refused as well.
        for p in l
            .seat_pools
            .iter_mut()
            .filter(|p| p.term == licfile::Term::Daily)
        {
            p.count = 0;
        }
        assert!(daily_seats_allowed(&l).is_err());
        // Without daily pools a first-tier licence is fine.
        l.seat_pools.retain(|p| p.term != licfile::Term::Daily);
        assert!(daily_seats_allowed(&l).is_ok());
    }

    #[test]
    fn sequences_only_move_forward() {
        assert_eq!(decide(1, None).ok(), Some(Decision::Import));
        assert_eq!(decide(3, Some((2, false))).ok(), Some(Decision::Import));
        assert_eq!(
            decide(2, Some((2, true))).ok(),
            Some(Decision::AlreadyImported { sequence: 2 })
        );
        assert_eq!(
            decide(2, Some((2, false))).map_err(|e| e.code()).err(),
            Some(Code::SequenceConflict)
        );
        assert_eq!(
            decide(1, Some((2, false))).map_err(|e| e.code()).err(),
            Some(Code::SequenceOlder)
        );
    }
}
