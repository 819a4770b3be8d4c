//! What the running service counts for its metrics: requests by operation
//! and outcome, their latency, connections. Plain atomics, written on the
//! hot path of every request (a few relaxed additions, no lock), read only
//! when the metrics are asked for.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::reactor::Mailbox;
use crate::Store;
use crate::gate::Op;
use crate::metrics::{LATENCY_BUCKETS, Latency, Outcome, RequestCount, ServiceFacts};

/// One operation's latency: a count per bound (not cumulative: each request
/// lands in one), the sum, the count.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

/// The service's counters, shared by its threads.
pub(super) struct Counters {
    started_at: i64,
    /// Per operation ([`Op::ALL`]'s order), per outcome ([`Outcome::ALL`]'s).
    requests: Vec<[AtomicU64; Outcome::ALL.len()]>,
    latency: Vec<Histogram>,
    connections_total: AtomicU64,
    /// The workers' mailboxes, whose connection counts are the connections open.
    mailboxes: OnceLock<Vec<Arc<Mailbox>>>,
}

impl Counters {
    /// Counters from zero, for a service started at `started_at` (seconds).
    pub(super) fn new(started_at: i64) -> Counters {
        Counters {
            started_at,
            requests: Op::ALL.iter().map(|_| Default::default()).collect(),
            latency: Op::ALL.iter().map(|_| Histogram::default()).collect(),
            connections_total: AtomicU64::new(0),
            mailboxes: OnceLock::new(),
        }
    }

    /// The workers' mailboxes, once they are started.
    pub(super) fn set_mailboxes(&self, mailboxes: Vec<Arc<Mailbox>>) {
        let _ = self.mailboxes.set(mailboxes);
    }

    /// A connection was accepted and handed to a worker.
    pub(super) fn connection(&self) {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    /// A request of `op` ended with `outcome` after `elapsed`.
    pub(super) fn record(&self, op: Op, outcome: Outcome, elapsed: Duration) {
        // `Op` is a field-less enum in the order of `Op::ALL`.
        let i = op as usize;
        if let Some(r) = self.requests.get(i) {
            r[outcome.index()].fetch_add(1, Ordering::Relaxed);
        }
        if let Some(h) = self.latency.get(i) {
            let secs = elapsed.as_secs_f64();
            if let Some(b) = LATENCY_BUCKETS.iter().position(|bound| secs <= *bound) {
                h.buckets[b].fetch_add(1, Ordering::Relaxed);
            }
            let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
            h.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
            h.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What was counted, as the metrics report it; the synced writes are the
    /// store's, which the service opened when it started.
    pub(super) fn snapshot(&self, store: &Store) -> ServiceFacts {
        let mut requests = Vec::with_capacity(Op::ALL.len() * Outcome::ALL.len());
        let mut latency = Vec::new();
        for (op, (counts, h)) in Op::ALL.iter().zip(self.requests.iter().zip(&self.latency)) {
            // Every operation and outcome from zero, so that a rate over the
            // first error is a rate and not a series appearing.
            for outcome in Outcome::ALL {
                requests.push(RequestCount {
                    op: op.name().to_string(),
                    outcome: outcome.word().to_string(),
                    count: counts[outcome.index()].load(Ordering::Relaxed),
                });
            }
            // The count first: a request recorded meanwhile is then in the
            // buckets too, never the other way round.
            let count = h.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            let buckets = h
                .buckets
                .iter()
                .map(|b| {
                    cumulative += b.load(Ordering::Relaxed);
                    cumulative.min(count)
                })
                .collect();
            latency.push(Latency {
                op: op.name().to_string(),
                buckets,
                sum_seconds: h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                count,
            });
        }
        let connections_open = self
            .mailboxes
            .get()
            .map(|m| {
                m.iter()
                    .map(|m| m.connections.load(Ordering::Relaxed) as u64)
                    .sum()
            })
            .unwrap_or(0);
        let (synced_writes, syncs) = store.durability_counts();
        ServiceFacts {
            started_at: self.started_at,
            requests,
            latency,
            connections_open,
            connections_total: self.connections_total.load(Ordering::Relaxed),
            synced_writes,
            syncs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_the_first_bucket_that_holds_it_and_the_buckets_add_up() {
        let c = Counters::new(0);
        c.record(Op::Check, Outcome::Ok, Duration::from_micros(30));
        c.record(Op::Check, Outcome::Ok, Duration::from_micros(700));
        c.record(Op::Check, Outcome::NotPermitted, Duration::from_secs(60));
        let h = &c.latency[Op::Check as usize];
        assert_eq!(h.buckets[0].load(Ordering::Relaxed), 1);
        assert_eq!(h.buckets[4].load(Ordering::Relaxed), 1, "0.7 ms <= 1 ms");
        // A minute is past every bound: only in +Inf (the count).
        let in_buckets: u64 = h.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        assert_eq!(in_buckets, 2);
        assert_eq!(h.count.load(Ordering::Relaxed), 3);
        let r = &c.requests[Op::Check as usize];
        assert_eq!(r[Outcome::Ok.index()].load(Ordering::Relaxed), 2);
        assert_eq!(r[Outcome::NotPermitted.index()].load(Ordering::Relaxed), 1);
        // The index the counters use is the place in `Op::ALL`, for every operation.
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i, "{op:?}");
        }
    }
}
