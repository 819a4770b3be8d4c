//! The store's schema version and its migrations.
//!
//! The version is read when a store opens. A store of a newer version than
//! this build knows is refused by name and version, never guessed at; an
//! older one is brought up to date, one numbered step at a time, each step
//! one change (so a step either happened whole or not at all) that records
//! its own event.

use crate::db::{Db, Tx};
use crate::error::{Result, StoreError};
use crate::keys::{self, names};
use crate::model::EventStatus;

/// The schema this build writes.
///
/// 1. The first layout.
/// 2. The latest month reported is kept (`m/last-report`), so that a usage
///    record is checked against it with one read; committed e-mails wait in
///    `ob/` until written to the outbox.
pub const CURRENT: u32 = 2;

/// One step: from version `from` to `from + 1`.
struct Step {
    from: u32,
    what: &'static str,
    run: fn(&mut Tx<'_>) -> Result<()>,
}

/// Every step, in order.
const STEPS: &[Step] = &[Step {
    from: 1,
    what: "keeps the latest month reported to the vendor",
    run: last_report,
}];

/// 1 → 2: the latest month a usage report was made for, from the reports kept.
fn last_report(tx: &mut Tx<'_>) -> Result<()> {
    let mut last: Option<licfile::YearMonth> = None;
    for (k, _) in tx.scan(keys::REPORTS)? {
        let month = keys::decode::report(&k);
        last = last.max(month);
    }
    if let Some(m) = last {
        tx.put_rec(&keys::meta(names::LAST_REPORT), &m.to_string())?;
    }
    Ok(())
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
            (step.run)(tx)?;
            tx.put_rec(&keys::meta(names::SCHEMA), &(step.from + 1))?;
            tx.system_event(
                "Store migrated",
                EventStatus::Completed,
                format!("schema {} -> {}", step.from, step.from + 1),
                format!(
                    "The store was made by an earlier Tessera (schema {}); this one {} and now writes schema {}.",
                    step.from,
                    step.what,
                    step.from + 1
                ),
                Some(tx.now.timestamp()),
            );
            Ok(())
        })?;
    }
    Ok(())
}
