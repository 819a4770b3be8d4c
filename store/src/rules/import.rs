//! Whether a licence may come into force: the sequence decision.

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
