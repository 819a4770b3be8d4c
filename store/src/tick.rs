//! What time makes due: over-allocation grace ends, expiry warnings, grace and
//! termination. `tessera tick` runs it in direct mode; the service on a timer.

use licfile::LicenceState;
use serde::Serialize;

use crate::Store;
use crate::error::Result;
use crate::events::{Action, Deactivation};
use crate::keys::{self, names};
use crate::licences::grace_days;
use crate::model::{PoolKey, User, UserState};
use crate::users::{deactivate_in, deadline};

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TickReport {
    /// Users deactivated because their over-allocation grace ended.
    pub deactivated: Vec<String>,
    /// Notices given (expiry warnings, grace, termination).
    pub notices: Vec<String>,
}

impl Store {
    /// Applies every rule time has made due. Idempotent: a second tick at the same time does nothing.
    pub fn tick(&self) -> Result<TickReport> {
        self.tick_as(&crate::gate::Gate::system())
    }

    /// [`Store::tick`] asked for through the gate.
    pub(crate) fn tick_as(&self, g: &crate::gate::Gate) -> Result<TickReport> {
        // The rules' events are the system's, whoever asked for the tick.
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let today = tx.now.date_naive();
            let mut report = TickReport::default();
            let now = tx.now.timestamp();
            // Purchases that lapsed and reductions now due; fewer seats may over-allocate.
            let (notes, shrunk) = crate::purchases::tick_in(tx)?;
            report.notices.extend(notes);
            report.notices.extend(crate::modules::tick_in(tx)?);
            for pool in shrunk {
                crate::users::reconcile(tx, &pool, &licences)?;
            }
            // Over-allocations whose grace has ended, grouped by pool.
            let mut due: Vec<(PoolKey, User)> = Vec::new();
            for (k, _) in tx.scan(keys::OVER)? {
                let Some((_, _, name)) = keys::decode::over(&k) else {
                    continue;
                };
                let Some(user) = tx.get_rec::<User>(&keys::user(&name), "user")? else {
                    continue;
                };
                let (Some(seat), Some(since)) = (user.seat.clone(), user.over_allocated_since)
                else {
                    continue;
                };
                if user.state == UserState::Active
                    && now >= deadline(since, i64::from(grace_days(&licences, &seat)))
                {
                    due.push((seat, user));
                }
            }
            // Most recently activated first, until the pool fits (seed 003).
            due.sort_by_key(|d| std::cmp::Reverse(d.1.activation));
            for (pool, mut user) in due {
                let total = u64::from(crate::purchases::total_in(tx, &licences, &pool)?);
                let in_use = tx.counter(&keys::counter(&pool))?;
                if in_use <= total {
                    continue;
                }
                let was_over_allocated =
                    deactivate_in(tx, &mut user, "over-allocation grace ended", &licences)?;
                tx.system_event(
                    Action::UserDeactivated {
                        user: user.name.clone(),
                        seat: Some(pool.clone()),
                        was_over_allocated,
                        cause: Deactivation::GraceEnded {
                            total,
                            in_use,
                            grace_days: grace_days(&licences, &pool),
                        },
                    },
                    Some(now),
                );
                report.deactivated.push(user.name.clone());
            }
            // Expiry notices, once per licence and state.
            for l in licences.iter() {
                let state = licfile::policy::licence_state(&l.licence, today);
                let id = l.licence.licence_id.clone();
                let action = match state {
                    LicenceState::Valid => continue,
                    LicenceState::Expiring { expires, days_left } => Action::LicenceExpiring {
                        licence_id: Some(id),
                        expires,
                        days_left,
                    },
                    LicenceState::Grace {
                        expired,
                        terminates,
                    } => Action::LicenceInGrace {
                        licence_id: id,
                        expired,
                        terminates,
                    },
                    LicenceState::Terminated { since } => Action::LicenceTerminated {
                        licence_id: id,
                        since,
                    },
                };
                let key = keys::meta(&format!(
                    "{}/{}/{}/{}",
                    names::NOTICES,
                    l.stored.id,
                    state.word(),
                    ""
                ));
                if tx.get(&key)?.is_some() {
                    continue;
                }
                tx.put(key, Vec::new());
                report.notices.push(action.to_string());
                tx.system_event(action, None);
            }
            Ok(report)
        })
    }
}
