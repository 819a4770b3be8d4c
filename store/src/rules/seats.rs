//! Seats and over-allocation (seed 003), as decisions over facts.

/// What keeping a pool's over-allocated users equal to its excess takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marks {
    /// Nothing to do.
    Keep,
    /// Seats came free: clear the marks of these marked users (the earliest
    /// activated first), given as indexes into the marked list.
    Clear(Vec<usize>),
    /// Too few seats: mark this many more, the most recently activated
    /// active holders not marked yet.
    Mark(usize),
}

/// Decides a pool's over-allocation: with `total` seats and `in_use` held by
/// active users, the over-allocated users must be exactly the `in_use -
/// total` most recently activated holders. `marked` are the activation
/// numbers of those marked now (any order).
///
/// Marks only ever go to the newest activations and are cleared oldest first,
/// so marked users stay the newest holders; this needs the marked users and,
/// when more are needed, only the newest holders, never the whole pool.
pub fn over_allocation(total: u64, in_use: u64, marked: &[u64]) -> Marks {
    let excess = usize::try_from(in_use.saturating_sub(total)).unwrap_or(usize::MAX);
    match marked.len().cmp(&excess) {
        std::cmp::Ordering::Equal => Marks::Keep,
        std::cmp::Ordering::Greater => {
            let mut order: Vec<usize> = (0..marked.len()).collect();
            order.sort_by_key(|&i| marked[i]);
            order.truncate(marked.len() - excess);
            Marks::Clear(order)
        }
        std::cmp::Ordering::Less => Marks::Mark(excess - marked.len()),
    }
}

/// The seats of a pool on `day`: the licensed count, less the reductions
/// scheduled by then (each brings the pool to its own target), never below 0.
pub fn seats_on(
    licensed: u32,
    reductions: impl IntoIterator<Item = (chrono::NaiveDate, u32)>,
    day: chrono::NaiveDate,
) -> u32 {
    reductions
        .into_iter()
        .filter(|(from, _)| *from <= day)
        .map(|(_, target)| target)
        .fold(licensed, u32::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A pool as the rules see it: holders by activation, marked or not.
    #[derive(Debug, Clone, Default)]
    struct Pool {
        total: u64,
        /// (activation, marked), active holders only.
        holders: Vec<(u64, bool)>,
        next: u64,
    }

    impl Pool {
        fn reconcile(&mut self) {
            let marked: Vec<u64> = self.holders.iter().filter(|h| h.1).map(|h| h.0).collect();
            match over_allocation(self.total, self.holders.len() as u64, &marked) {
                Marks::Keep => {}
                Marks::Clear(idx) => {
                    for i in idx {
                        let a = marked[i];
                        if let Some(h) = self.holders.iter_mut().find(|h| h.0 == a) {
                            h.1 = false;
                        }
                    }
                }
                Marks::Mark(n) => {
                    let mut unmarked: Vec<&mut (u64, bool)> =
                        self.holders.iter_mut().filter(|h| !h.1).collect();
                    unmarked.sort_by_key(|h| std::cmp::Reverse(h.0));
                    for h in unmarked.into_iter().take(n) {
                        h.1 = true;
                    }
                }
            }
        }

        /// The invariant: the marked are exactly the newest `excess` holders.
        fn sound(&self) -> bool {
            let excess = (self.holders.len() as u64).saturating_sub(self.total) as usize;
            let mut by_age = self.holders.clone();
            by_age.sort_by_key(|h| std::cmp::Reverse(h.0));
            by_age.iter().enumerate().all(|(i, h)| h.1 == (i < excess))
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Activate,
        /// Deactivate the holder at this position (modulo the count).
        Leave(usize),
        Resize(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => Just(Step::Activate),
            3 => (0usize..64).prop_map(Step::Leave),
            1 => (0u64..20).prop_map(Step::Resize),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        /// Whatever happens to a pool, after each change is reconciled its
        /// over-allocated users are exactly its most recently activated
        /// holders beyond the seat total.
        #[test]
        fn over_allocation_marks_exactly_the_newest_beyond_the_total(
            total in 0u64..10,
            steps in proptest::collection::vec(step(), 1..80),
        ) {
            let mut pool = Pool { total, ..Pool::default() };
            for s in steps {
                match s {
                    Step::Activate => {
                        pool.next += 1;
                        pool.holders.push((pool.next, false));
                    }
                    Step::Leave(i) if !pool.holders.is_empty() => {
                        let i = i % pool.holders.len();
                        // A marked user leaving takes their mark with them.
                        pool.holders.remove(i);
                    }
                    Step::Leave(_) => {}
                    Step::Resize(t) => pool.total = t,
                }
                pool.reconcile();
                prop_assert!(pool.sound(), "{pool:?}");
            }
        }
    }

    #[test]
    fn reductions_apply_from_their_day() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().expect("a date");
        let r = [(d("2026-04-01"), 8), (d("2026-05-01"), 6)];
        assert_eq!(seats_on(10, r, d("2026-03-31")), 10);
        assert_eq!(seats_on(10, r, d("2026-04-01")), 8);
        assert_eq!(seats_on(10, r, d("2026-05-02")), 6);
        assert_eq!(seats_on(5, r, d("2026-05-02")), 5);
    }
}
