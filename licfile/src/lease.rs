//! Leases as a licensed product checks them: offline, with the installation's
//! public key, at a time the caller gives.
//!
//! A lease is signed by the installation key and carries it, like a licence
//! request; [`crate::verify::verify_signature`] can therefore say only that a
//! lease is intact. What makes one worth anything is that the key is the one
//! the product trusts, which [`verify`] checks first (by key id, so that "the
//! wrong installation" is never reported as "damaged"), then the signature
//! under that key, then the content, the serial and the time.
//!
//! ```
//! use licfile::{Document, LeaseError, SecretKey, Timestamp, lease, signed};
//!
//! let installation = SecretKey::generate()?;
//! let issued_at = Timestamp(1_780_300_800); // 2026-06-01T08:00:00Z
//! let l = licfile::Lease {
//!     serial: "NW-000123".into(),
//!     user: "tcarter".into(),
//!     seat: None,
//!     issued_at,
//!     not_after: Timestamp(issued_at.0 + 8 * 3600),
//!     installation_key: installation.public().raw(),
//! };
//! let text = signed::sign(&Document::Lease(l.clone()), &installation, None)?;
//!
//! let trusted = installation.public();
//! let noon = Timestamp(issued_at.0 + 4 * 3600);
//! assert_eq!(lease::verify(text.as_bytes(), trusted, Some("NW-000123"), noon)?, l);
//! assert_eq!(l.renew_at(), noon);
//!
//! let evening = Timestamp(issued_at.0 + 8 * 3600);
//! let refused = lease::verify(text.as_bytes(), trusted, Some("NW-000123"), evening);
//! assert!(matches!(refused, Err(LeaseError::Expired { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::constants::LEASE_CLOCK_SKEW_SECONDS;
use crate::document::{Document, DocumentKind, Lease};
use crate::error::LeaseError;
use crate::keys::{KeyId, PublicKey};
use crate::signed;
use crate::values::Timestamp;

/// Verifies a lease file against the installation key the product trusts.
///
/// Returns the lease while it holds at `now`: signed by `trusted` under the
/// lease's own signing context, well formed, for `serial` when one is given,
/// issued no later than [`LEASE_CLOCK_SKEW_SECONDS`] after `now`, and `now`
/// before its `not_after`. Otherwise the first thing wrong, in that order.
pub fn verify(
    input: &[u8],
    trusted: &PublicKey,
    serial: Option<&str>,
    now: Timestamp,
) -> Result<Lease, LeaseError> {
    // The signature is checked before the content, so that an altered lease is
    // reported as altered rather than as a strange name or a header that disagrees.
    let doc = signed::read_structure(input).map_err(LeaseError::Malformed)?;
    let kind = doc.envelope.kind;
    if kind != DocumentKind::Lease {
        return Err(LeaseError::NotALease(kind.describe()));
    }
    if doc.envelope.key_id != trusted.id() {
        return Err(LeaseError::UntrustedKey {
            trusted: trusted.id(),
            found: doc.envelope.key_id,
        });
    }
    crate::verify::check(&doc.envelope, trusted)
        .map_err(|_| LeaseError::BadSignature(trusted.id()))?;
    signed::check_content(&doc).map_err(LeaseError::Malformed)?;
    let Document::Lease(lease) = doc.document else {
        // The payload is decoded as the kind its envelope names, checked above.
        return Err(LeaseError::NotALease(doc.document.kind().describe()));
    };
    if lease.installation_key != trusted.raw() {
        return Err(LeaseError::KeyMismatch {
            trusted: trusted.id(),
            carried: KeyId::of(&lease.installation_key.0),
        });
    }
    if let Some(expected) = serial
        && lease.serial != expected
    {
        return Err(LeaseError::OtherSerial {
            lease: lease.serial,
            expected: expected.to_string(),
        });
    }
    lease.holds_at(now)?;
    Ok(lease)
}

impl Lease {
    /// Whether the lease's time holds at `now`: issued no later than
    /// [`LEASE_CLOCK_SKEW_SECONDS`] after `now`, and `now` before `not_after`.
    ///
    /// Only the time: for a lease already verified, which a product holds and
    /// asks again as the clock moves on.
    pub fn holds_at(&self, now: Timestamp) -> Result<(), LeaseError> {
        // i128: times from a hostile file, plus the skew, must not overflow.
        if i128::from(self.issued_at.0) > i128::from(now.0) + i128::from(LEASE_CLOCK_SKEW_SECONDS) {
            return Err(LeaseError::NotYetValid {
                issued_at: self.issued_at,
                now,
            });
        }
        if now >= self.not_after {
            return Err(LeaseError::Expired {
                not_after: self.not_after,
                now,
            });
        }
        Ok(())
    }

    /// Half-way through the lease: when a product asks for a new one, so that
    /// a service briefly away costs nothing and one long away is noticed while
    /// the lease still has as long again to run.
    pub fn renew_at(&self) -> Timestamp {
        // i128: two i64 seconds from a hostile file must not overflow.
        let (from, to) = (i128::from(self.issued_at.0), i128::from(self.not_after.0));
        let half = from + (to - from).max(0) / 2;
        Timestamp(i64::try_from(half).unwrap_or(self.not_after.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{LeaseSeat, Term};
    use crate::keys::SecretKey;

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed(&[seed; 32]).unwrap()
    }

    fn lease(key: &SecretKey) -> Lease {
        Lease {
            serial: "NW-000123".into(),
            user: "tcarter".into(),
            seat: Some(LeaseSeat {
                issuer: String::new(),
                area: "Jobs".into(),
                licence: "User".into(),
                term: Term::Monthly,
            }),
            issued_at: Timestamp(1_000_000),
            not_after: Timestamp(1_000_000 + 8 * 3600),
            installation_key: key.public().raw(),
        }
    }

    #[test]
    fn time_holds_from_the_skew_before_issue_until_just_before_not_after() {
        let l = lease(&key(4));
        let issued = l.issued_at.0;
        let skew = LEASE_CLOCK_SKEW_SECONDS;
        assert_eq!(l.holds_at(Timestamp(issued - skew)), Ok(()));
        assert!(matches!(
            l.holds_at(Timestamp(issued - skew - 1)),
            Err(LeaseError::NotYetValid { .. })
        ));
        assert_eq!(l.holds_at(Timestamp(l.not_after.0 - 1)), Ok(()));
        assert!(matches!(
            l.holds_at(l.not_after),
            Err(LeaseError::Expired { .. })
        ));
        // No overflow at the ends of time.
        let mut odd = l.clone();
        odd.issued_at = Timestamp(i64::MAX);
        odd.not_after = Timestamp(i64::MAX);
        assert!(matches!(
            odd.holds_at(Timestamp(i64::MAX)),
            Err(LeaseError::Expired { .. })
        ));
        assert!(matches!(
            odd.holds_at(Timestamp(i64::MIN)),
            Err(LeaseError::NotYetValid { .. })
        ));
    }

    #[test]
    fn renewal_is_at_half_life() {
        let l = lease(&key(4));
        assert_eq!(l.renew_at(), Timestamp(1_000_000 + 4 * 3600));
        let mut extreme = l;
        extreme.issued_at = Timestamp(i64::MIN);
        extreme.not_after = Timestamp(i64::MAX);
        assert_eq!(extreme.renew_at(), Timestamp(-1));
    }

    #[test]
    fn a_lease_signed_by_the_trusted_key_carrying_another_is_refused() {
        // Only a hand-made lease can be like this: signing does not compare the two.
        let install = key(4);
        let mut l = lease(&install);
        l.installation_key = key(3).public().raw();
        let text = signed::sign(&Document::Lease(l), &install, None).unwrap();
        assert_eq!(
            verify(
                text.as_bytes(),
                install.public(),
                None,
                Timestamp(1_000_000)
            ),
            Err(LeaseError::KeyMismatch {
                trusted: install.public().id(),
                carried: key(3).public().id(),
            })
        );
    }
}
