//! `tessera audit verify`: the event chain is intact, and the counters the
//! store keeps equal both a recount of the records and a replay of the log.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Store;
use crate::error::Result;
use crate::events::{self, Counters};
use crate::keys::{self, names};
use crate::model::{User, UserState};

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

/// The counters as the user records give them: users, active and
/// over-allocated users, seats in use per pool, holders of each add-on.
pub(crate) fn recount<'a>(users: impl Iterator<Item = &'a User>) -> Counters {
    let mut c = Counters::default();
    for u in users.filter(|u| u.state != UserState::Deleted) {
        c.users.total += 1;
        for a in &u.add_ons {
            *c.add_ons.entry(a.to_lowercase()).or_default() += 1;
        }
        if u.state != UserState::Active {
            continue;
        }
        c.users.active += 1;
        if u.over_allocated_since.is_some() {
            c.users.over_allocated += 1;
        }
        if let Some(seat) = &u.seat {
            *c.seats.entry(events::pool_id_text(seat)).or_default() += 1;
        }
    }
    c.trimmed()
}

/// How two sets of counters differ, in words: `kept` is what the store
/// keeps, `found` what `how` found.
fn differences(kept: &Counters, found: &Counters, how: &str) -> Vec<String> {
    let mut out = Vec::new();
    if kept.users != found.users {
        let (k, f) = (kept.users, found.users);
        out.push(format!(
            "user counts say {} users, {} active, {} over-allocated; {how} finds {}, {}, {}",
            k.total, k.active, k.over_allocated, f.total, f.active, f.over_allocated
        ));
    }
    let mut compare = |what: &str, a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>| {
        let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            let (k, f) = (a.get(name).copied(), b.get(name).copied());
            if k != f {
                let label = keys::decode::pool_label(name.as_bytes());
                out.push(format!(
                    "{what} {label} says {} in use; {how} finds {}",
                    k.unwrap_or(0),
                    f.unwrap_or(0)
                ));
            }
        }
    };
    compare("seat counter", &kept.seats, &found.seats);
    compare("add-on counter", &kept.add_ons, &found.add_ons);
    out
}

impl Store {
    /// Checks the hash chain link by link; then recounts the users and
    /// replays the log, and compares both with the counters kept.
    pub fn audit_verify(&self) -> Result<AuditReport> {
        let mut problems = Vec::new();
        let mut prev = [0u8; 32];
        let mut expected_seq = 1u64;
        let mut count = 0u64;
        let mut replayed: Option<Counters> = None;
        for kv in self.db.tree()?.scan_prefix(keys::EVENTS) {
            let (_, v) = kv?;
            let decoded = match events::decode(&v) {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("event {expected_seq}: {e}"));
                    break;
                }
            };
            let event = decoded.event;
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
            if decoded.content_hash != event.hash {
                problems.push(format!(
                    "event {}: its content does not match its hash (it was altered)",
                    event.seq
                ));
            }
            if let Some(action) = &event.action {
                Counters::replay_step(&mut replayed, action);
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

        // A recount from the records, with the seat index checked on the way.
        let mut users = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::USERS) {
            let (_, v) = kv?;
            let u: User = crate::model::decode(&v, "user")?;
            if u.state == UserState::Active
                && let Some(seat) = &u.seat
                && self
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
            users.push(u);
        }
        let recounted = recount(users.iter());
        drop(users);

        let kept = self.kept_counters()?;
        problems.extend(differences(&kept, &recounted, "a recount"));
        match replayed {
            Some(replayed) => {
                problems.extend(differences(&kept, &replayed.trimmed(), "a replay of the log"))
            }
            None if count > 0 => problems.push(
                "the log has neither the store's creation nor a checkpoint to replay the counters from"
                    .into(),
            ),
            None => {}
        }
        Ok(AuditReport {
            events: count,
            problems,
        })
    }

    /// The counters the store keeps.
    fn kept_counters(&self) -> Result<Counters> {
        let mut kept = Counters {
            users: self.user_counts()?,
            ..Counters::default()
        };
        for kv in self.db.tree()?.scan_prefix(keys::COUNTERS) {
            let (k, v) = kv?;
            let n: u64 = crate::model::decode(&v, "counter")?;
            let pool = keys::decode::counter(&k).unwrap_or_default();
            kept.seats
                .insert(String::from_utf8_lossy(pool).into_owned(), n);
        }
        for kv in self.db.tree()?.scan_prefix(keys::ADD_ON_COUNTERS) {
            let (k, v) = kv?;
            let n: u64 = crate::model::decode(&v, "counter")?;
            let module = keys::decode::add_on_counter(&k).unwrap_or_default();
            kept.add_ons.insert(module, n);
        }
        Ok(kept.trimmed())
    }
}
