//! How many connections each login user may hold open at once: one user who
//! opens connections without end must not use up the descriptors every other
//! client (root included) needs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Who a connection's place is counted against: a local login user by uid,
/// or a remote client by its certificate's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Uid(u32),
    Certificate(String),
}

/// Connections open per user, against a limit.
#[derive(Debug)]
pub(super) struct PerUid {
    counts: Mutex<HashMap<Who, usize>>,
    max: usize,
}

/// One connection's place in its user's count, given back when dropped.
#[derive(Debug)]
pub(super) struct Slot {
    who: Who,
    owner: Arc<PerUid>,
}

impl PerUid {
    /// At most `max` connections a uid (at least 1).
    pub(super) fn new(max: usize) -> Arc<PerUid> {
        Arc::new(PerUid {
            counts: Mutex::new(HashMap::new()),
            max: max.max(1),
        })
    }

    /// The limit.
    pub(super) fn max(&self) -> usize {
        self.max
    }

    /// A place for one more connection of `uid`, or `None` when it holds the
    /// limit already.
    pub(super) fn take(self: &Arc<Self>, uid: u32) -> Option<Slot> {
        self.take_for(Who::Uid(uid))
    }

    /// [`PerUid::take`] for a remote client known by its certificate's name.
    pub(super) fn take_named(self: &Arc<Self>, name: &str) -> Option<Slot> {
        self.take_for(Who::Certificate(name.to_string()))
    }

    fn take_for(self: &Arc<Self>, who: Who) -> Option<Slot> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(who.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            who,
            owner: self.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.owner.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.who) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.who);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_holds_at_most_the_limit_and_places_come_back() {
        let limits = PerUid::new(2);
        let a = limits.take(1000).expect("first");
        let b = limits.take(1000).expect("second");
        assert!(limits.take(1000).is_none(), "the third is refused");
        let other = limits.take(0).expect("another uid is not held up");
        // A certificate's name is counted apart from any uid.
        let named = limits.take_named("1000").expect("a remote client");
        drop(a);
        let c = limits.take(1000).expect("a place came back");
        drop((b, c, other, named));
        assert!(limits.counts.lock().expect("lock").is_empty());
    }
}
