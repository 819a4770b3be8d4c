//! `tessera audit verify`: the event chain is intact and the counters equal a recount.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Store;
use crate::db::event_hash;
use crate::error::Result;
use crate::keys::{self, names};
use crate::model::{Event, User, UserState};
use crate::users::UserCounts;

/// What `audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditReport {
    /// Events checked.
    pub events: u64,
    /// Every problem found; empty when the store is sound.
    pub problems: Vec<String>,
}

impl AuditReport {
    /// Whether nothing was wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Checks the hash chain link by link, and recounts seats and users.
    pub fn audit_verify(&self) -> Result<AuditReport> {
        let mut problems = Vec::new();
        let mut prev = [0u8; 32];
        let mut expected_seq = 1u64;
        let mut count = 0u64;
        for kv in self.db.tree.scan_prefix(keys::EVENTS) {
            let (_, v) = kv?;
            let event: Event = match crate::model::decode(&v, "event") {
                Ok(e) => e,
                Err(e) => {
                    problems.push(format!("event {expected_seq}: {e}"));
                    break;
                }
            };
            count += 1;
            if event.seq != expected_seq {
                problems.push(format!(
                    "event {} found where {expected_seq} was expected: events are missing",
                    event.seq
                ));
            }
            if event.prev_hash != prev {
                problems.push(format!(
                    "event {}: does not follow the event before it (the chain was altered)",
                    event.seq
                ));
            }
            if event_hash(&event)? != event.hash {
                problems.push(format!(
                    "event {}: its content does not match its hash (it was altered)",
                    event.seq
                ));
            }
            prev = event.hash;
            expected_seq = event.seq + 1;
            if problems.len() > 20 {
                break;
            }
        }
        let head: Option<(u64, [u8; 32])> = self.db.get_rec(&keys::meta(names::CHAIN), "chain")?;
        if let Some((seq, hash)) = head
            && (seq != count || hash != prev)
        {
            problems.push(format!(
                "the chain head says {seq} events but {count} were found: events were removed"
            ));
        }

        // Recount seats in use and users.
        let mut seats: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let mut counts = UserCounts::default();
        for kv in self.db.tree.scan_prefix(keys::USERS) {
            let (_, v) = kv?;
            let u: User = crate::model::decode(&v, "user")?;
            if u.state == UserState::Deleted {
                continue;
            }
            counts.total += 1;
            if u.state == UserState::Active {
                counts.active += 1;
                if u.over_allocated_since.is_some() {
                    counts.over_allocated += 1;
                }
                if let Some(seat) = &u.seat {
                    *seats.entry(keys::pool(seat)).or_default() += 1;
                    if self
                        .db
                        .get(&keys::seat(seat, u.activation, &u.name))?
                        .is_none()
                    {
                        problems.push(format!(
                            "{} holds a seat in {} that is not in the seat index",
                            u.name,
                            seat.label()
                        ));
                    }
                }
            }
        }
        let kept = self.user_counts()?;
        if kept != counts {
            problems.push(format!(
                "user counts say {} users, {} active, {} over-allocated; a recount finds {}, {}, {}",
                kept.total, kept.active, kept.over_allocated, counts.total, counts.active, counts.over_allocated
            ));
        }
        for kv in self.db.tree.scan_prefix(keys::COUNTERS) {
            let (k, v) = kv?;
            let kept: u64 = crate::model::decode(&v, "counter")?;
            let pool = keys::decode::counter(&k).unwrap_or_default();
            let real = seats.remove(pool).unwrap_or(0);
            if kept != real {
                problems.push(format!(
                    "seat counter {} says {kept} in use; a recount finds {real}",
                    keys::decode::pool_label(pool)
                ));
            }
        }
        for (pool, real) in seats {
            problems.push(format!(
                "no seat counter for {} although {real} seats are in use",
                String::from_utf8_lossy(&pool).replace('\u{1f}', "/")
            ));
        }
        Ok(AuditReport {
            events: count,
            problems,
        })
    }
}
