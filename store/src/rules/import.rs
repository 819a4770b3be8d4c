//! Whether a licence may come into force: the sequence decision.

use crate::error::{Code, StoreError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
