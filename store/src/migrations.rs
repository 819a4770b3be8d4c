//! The store's schema version and its migrations.
//!
//! The version is read when a store opens. A store of a newer version than
//! this build knows is refused by name and version, never guessed at; an
//! older one is brought up to date, one numbered step at a time, each step
//! one change (so a step either happened whole or not at all) that records
//! its own event.

use crate::db::{Db, Tx};
use crate::error::{Result, StoreError};
use crate::events::{Action, Counters};
use crate::keys::{self, names};
use crate::model::User;

/// The schema this build writes.
///
/// 1. The first layout.
/// 2. The latest month reported is kept (`m/last-report`), so that a usage
///    record is checked against it with one read; committed e-mails wait in
///    `ob/` until written to the outbox.
/// 3. Events are typed (record format 2); the migration's event carries the
///    counters recounted from the records, where a replay of the log starts.
/// 4. Charged user-days are counted per day and daily pool (`dn/`) for the
///    console's charts, and the storage allowance is kept per month (`sa/`).
pub const CURRENT: u32 = 4;

/// One step: from version `from` to `from + 1`.
struct Step {
    from: u32,
    what: &'static str,
    /// Runs the step; returns the checkpoint its event carries, if any.
    run: fn(&mut Tx<'_>) -> Result<Option<Counters>>,
}

/// Every step, in order.
const STEPS: &[Step] = &[
    Step {
        from: 1,
        what: "keeps the latest month reported to the vendor",
        run: last_report,
    },
    Step {
        from: 2,
        what: "writes typed events, from which audit verify rebuilds the counters",
        run: typed_events,
    },
    Step {
        from: 3,
        what: "counts charged user-days per day and daily pool, for the charts",
        run: day_counts,
    },
];

/// 1 → 2: the latest month a usage report was made for, from the reports kept.
fn last_report(tx: &mut Tx<'_>) -> Result<Option<Counters>> {
    let mut last: Option<licfile::YearMonth> = None;
    for (k, _) in tx.scan(keys::REPORTS)? {
        let month = keys::decode::report(&k);
        last = last.max(month);
    }
    if let Some(m) = last {
        tx.put_rec(&keys::meta(names::LAST_REPORT), &m.to_string())?;
    }
    Ok(None)
}

/// 2 → 3: nothing is rewritten (version 1 events stay as they were, under
/// their hashes); the counters, recounted from the user records, become the
/// checkpoint a replay of the typed events starts from.
fn typed_events(tx: &mut Tx<'_>) -> Result<Option<Counters>> {
    let mut users = Vec::new();
    for (_, v) in tx.scan(keys::USERS)? {
        users.push(crate::model::decode::<User>(&v, "user")?);
    }
    Ok(Some(crate::audit::recount(users.iter())))
}

/// 3 → 4: the day counters, from the charged user-days kept. The storage
/// allowance of past months was never kept, and is not guessed: those months
/// show today's, and say so.
fn day_counts(tx: &mut Tx<'_>) -> Result<Option<Counters>> {
    let mut counts: std::collections::BTreeMap<Vec<u8>, u64> = Default::default();
    for (k, v) in tx.scan(b"d/")? {
        let Some(day) = keys::decode::day_charge_day(&k) else {
            continue;
        };
        let charge: crate::usage::DayCharge = crate::model::decode(&v, "day charge")?;
        *counts
            .entry(keys::day_count(day, &charge.pool))
            .or_default() += 1;
    }
    for (k, n) in counts {
        tx.put_rec(&k, &n)?;
    }
    Ok(None)
}

/// The schema version of the open store (1 for a store that never wrote one).
pub(crate) fn version(db: &Db) -> Result<u32> {
    Ok(db
        .get_rec::<u32>(&keys::meta(names::SCHEMA), "schema version")?
        .unwrap_or(1))
}

/// Refuses a newer store, and migrates an older one to [`CURRENT`].
pub(crate) fn bring_up_to_date(db: &Db) -> Result<()> {
    let found = version(db)?;
    if found > CURRENT {
        return Err(StoreError::NewerStore {
            path: db.layout.dir.clone(),
            found,
            known: CURRENT,
        });
    }
    for step in STEPS.iter().filter(|s| s.from >= found) {
        db.write("system", |tx| {
            // Read again inside the change: a step runs once.
            let now: u32 = tx
                .get_rec(&keys::meta(names::SCHEMA), "schema version")?
                .unwrap_or(1);
            if now != step.from {
                return Ok(());
            }
            let checkpoint = (step.run)(tx)?;
            tx.put_rec(&keys::meta(names::SCHEMA), &(step.from + 1))?;
            tx.system_event(
                Action::StoreMigrated {
                    from: step.from,
                    to: step.from + 1,
                    what: step.what.to_string(),
                    checkpoint,
                },
                Some(tx.now.timestamp()),
            );
            Ok(())
        })?;
    }
    Ok(())
}
