//! Signed leases: the answer to "may this user work?" that a product can
//! keep and check offline while the service is away.
//!
//! A user who may work gets, with the answer, a lease: the serial, the
//! user, their seat, when it was signed and until when it holds, signed by
//! the installation key under the lease's own signing context
//! (`licfile::lease`). The product renews it at half its life; while the
//! service cannot be reached, a lease that still holds lets the user work
//! (fail-safe, not fail-closed). The price is written in docs/SECURITY.md: a
//! user deactivated meanwhile keeps working until the lease runs out, so the
//! lifetime is a setting of the store, short by default.

use licfile::{Document, Lease, LeaseSeat, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::rules::check::CheckResult;

/// The lifetime of a lease unless the store says otherwise: 4 hours.
///
/// Long enough that a service restarted, upgraded or briefly down (minutes)
/// costs a working user nothing, with the product renewing every 2 hours;
/// short enough that a user deactivated while the service cannot be reached
/// stops within half a working day. A site that would rather ride out a
/// weekend without the service raises it, up to
/// [`MAX_LEASE_HOURS`].
pub const DEFAULT_LEASE_HOURS: u32 = 4;

/// The longest lease the format allows, in hours (168: a week).
// The format's constant is 168, well inside u32.
pub const MAX_LEASE_HOURS: u32 = licfile::constants::LEASE_MAX_HOURS as u32;

/// What `check --lease` answers: the check, and for a user who may work the
/// signed lease (armored text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseOutcome {
    /// The answer, as `check` gives it.
    pub check: CheckResult,
    /// The lease, for a user who may work.
    pub lease: Option<String>,
    /// When it stops holding (seconds), for a user who may work.
    pub not_after: Option<i64>,
}

/// The lifetime a store setting may take, in hours.
pub fn valid_lease_hours(hours: u32) -> Result<u32> {
    if (1..=MAX_LEASE_HOURS).contains(&hours) {
        Ok(hours)
    } else {
        Err(StoreError::Rule(format!(
            "a lease lasts from 1 to {MAX_LEASE_HOURS} hours, not {hours}: a user deactivated while the service is away works on until their lease runs out"
        )))
    }
}

impl Store {
    /// The lifetime of the leases this store signs, in hours.
    pub fn lease_hours(&self) -> Result<u32> {
        Ok(self
            .db
            .get_rec::<u32>(&keys::meta(names::LEASE_HOURS), "lease lifetime")?
            .unwrap_or(DEFAULT_LEASE_HOURS))
    }

    /// The check of `user` and, if they may work, a lease signed now by the
    /// installation key. The lease's times are the machine's clock, which the
    /// product compares them with; the check's verdict is the store's own
    /// (licence dates by the latest time seen).
    pub fn lease(&self, user: &str) -> Result<LeaseOutcome> {
        let check = self.check(user)?;
        if !check.allowed {
            return Ok(LeaseOutcome {
                check,
                lease: None,
                not_after: None,
            });
        }
        let inst = self.installation()?;
        let key = self.installation_key()?;
        let hours = self.lease_hours()?;
        let now = self.db.clock.now().timestamp();
        let not_after = now.saturating_add(i64::from(hours) * 3600);
        let record = self.user_named(user)?;
        let seat = record.and_then(|u| u.seat).map(|s| LeaseSeat {
            issuer: s.issuer,
            area: s.area,
            licence: s.licence,
            term: s.term,
        });
        let lease = Lease {
            serial: inst.serial,
            user: check.user.clone(),
            seat,
            issued_at: Timestamp(now),
            not_after: Timestamp(not_after),
            installation_key: key.public().raw(),
        };
        let text = licfile::signed::sign(&Document::Lease(lease), &key, None)
            .map_err(|e| StoreError::Rule(format!("cannot sign the lease: {e}")))?;
        Ok(LeaseOutcome {
            check,
            lease: Some(text),
            not_after: Some(not_after),
        })
    }

    /// Sets the lifetime of the leases this store signs; the hours it was.
    pub(crate) fn set_lease_hours_as(&self, g: &Gate, hours: u32) -> Result<u32> {
        let hours = valid_lease_hours(hours)?;
        self.write_as(g, |tx| {
            let key = keys::meta(names::LEASE_HOURS);
            let from = tx
                .get_rec::<u32>(&key, "lease lifetime")?
                .unwrap_or(DEFAULT_LEASE_HOURS);
            if from != hours {
                tx.put_rec(&key, &hours)?;
                tx.user_event(Action::LeaseHoursSet { from, to: hours });
            }
            Ok(from)
        })
    }

    /// The installation's public key as SPKI PEM: what a product trusts to
    /// check this store's leases offline.
    pub fn installation_public_key(&self) -> Result<String> {
        Ok(self.installation_key()?.public().to_pem()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifetime_is_between_an_hour_and_the_format_s_maximum() {
        assert!(valid_lease_hours(0).is_err());
        assert_eq!(valid_lease_hours(1).ok(), Some(1));
        assert_eq!(valid_lease_hours(DEFAULT_LEASE_HOURS).ok(), Some(4));
        assert_eq!(MAX_LEASE_HOURS, 168);
        assert_eq!(valid_lease_hours(168).ok(), Some(168));
        let e = valid_lease_hours(169).unwrap_err().to_string();
        assert!(e.contains("from 1 to"), "{e}");
    }
}
