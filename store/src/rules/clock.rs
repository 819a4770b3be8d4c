//! The vendor's clock correction: whether one may be taken, and what it sets.
//!
//! A store never goes back on a time it has seen (its high-water mark), which
//! is what defeats winding the clock back. A clock that was once wrong the
//! other way moves the mark for good; the vendor's signed time, asked for by
//! this store with a nonce and answered within 48 hours, is the one thing that
//! may set it back, once.

use serde::{Deserialize, Serialize};

use crate::error::{Code, StoreError};
use crate::rules::check::fmt_minute;

/// How many clock requests a store keeps open: a newer one beyond this
/// replaces the oldest (whose answer is then refused).
pub const OPEN_REQUESTS: usize = 4;

/// How many used nonces a store remembers, to say "already used" rather
/// than "not asked for" when a correction comes twice.
pub const USED_REMEMBERED: usize = 16;

/// A clock request this store made and has not had answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// Its nonce.
    pub nonce: [u8; 16],
    /// When it was made, by the machine's clock (seconds).
    pub created_at: i64,
    /// The mark it reported (seconds).
    pub high_water: i64,
}

/// The nonce in hex: how people and the log name a clock request.
pub fn nonce_hex(nonce: &[u8; 16]) -> String {
    nonce.iter().map(|b| format!("{b:02x}")).collect()
}

/// The facts of a correction, as the store reads them from the signed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The serial it is for.
    pub serial: String,
    /// The request's nonce it answers.
    pub nonce: [u8; 16],
    /// The vendor's time (seconds).
    pub time: i64,
    /// The last moment it may be imported (seconds).
    pub valid_until: i64,
}

fn refused(message: String) -> StoreError {
    StoreError::refused(Code::ClockRefused, message)
}

/// Decides a correction for the store of `serial` at `now` (the machine's
/// clock, not the mark: the mark is what is in question). On success, the
/// new mark (the vendor's time) and the open requests left.
pub fn decide(
    c: &Correction,
    serial: &str,
    open: &[OpenRequest],
    used: &[[u8; 16]],
    now: i64,
) -> Result<(i64, Vec<OpenRequest>), StoreError> {
    let id = nonce_hex(&c.nonce);
    if c.serial != serial {
        return Err(refused(format!(
            "this clock correction is for serial {}, but this installation is {serial}",
            c.serial
        )));
    }
    if used.contains(&c.nonce) {
        return Err(refused(format!(
            "this clock correction (request {id}) was already used: each is taken once; make a new clock request"
        )));
    }
    if !open.iter().any(|r| r.nonce == c.nonce) {
        return Err(refused(format!(
            "this clock correction answers request {id}, which this store did not make or has since replaced with newer ones; make a new clock request"
        )));
    }
    if now > c.valid_until {
        return Err(refused(format!(
            "this clock correction expired at {} by this machine's clock, which says {}; if the machine's clock is right, make a new clock request, and if it is wrong, set it right first",
            fmt_minute(c.valid_until),
            fmt_minute(now)
        )));
    }
    let left = open
        .iter()
        .filter(|r| r.nonce != c.nonce)
        .cloned()
        .collect();
    Ok((c.time, left))
}

/// The open requests after a new one: the newest [`OPEN_REQUESTS`].
pub fn open_after(mut open: Vec<OpenRequest>, new: OpenRequest) -> Vec<OpenRequest> {
    open.push(new);
    let excess = open.len().saturating_sub(OPEN_REQUESTS);
    open.drain(..excess);
    open
}

/// The used nonces after one more: the latest [`USED_REMEMBERED`].
pub fn used_after(mut used: Vec<[u8; 16]>, nonce: [u8; 16]) -> Vec<[u8; 16]> {
    used.push(nonce);
    let excess = used.len().saturating_sub(USED_REMEMBERED);
    used.drain(..excess);
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn open(n: u8) -> OpenRequest {
        OpenRequest {
            nonce: [n; 16],
            created_at: NOW - 3600,
            high_water: NOW + 3 * 365 * 86_400,
        }
    }

    fn correction(n: u8) -> Correction {
        Correction {
            serial: "NW-1".into(),
            nonce: [n; 16],
            time: NOW - 600,
            valid_until: NOW - 600 + 48 * 3600,
        }
    }

    fn code(r: Result<(i64, Vec<OpenRequest>), StoreError>) -> String {
        let e = r.expect_err("refused");
        assert_eq!(e.code(), Code::ClockRefused);
        e.to_string()
    }

    #[test]
    fn a_correction_for_an_open_request_sets_the_vendors_time_and_closes_it() {
        let (mark, left) =
            decide(&correction(1), "NW-1", &[open(1), open(2)], &[], NOW).expect("taken");
        assert_eq!(mark, NOW - 600);
        assert_eq!(left, vec![open(2)]);
    }

    #[test]
    fn another_serial_another_nonce_a_second_use_and_a_late_one_are_refused() {
        let mut other = correction(1);
        other.serial = "NW-2".into();
        assert!(code(decide(&other, "NW-1", &[open(1)], &[], NOW)).contains("serial NW-2"));
        assert!(
            code(decide(&correction(3), "NW-1", &[open(1)], &[], NOW)).contains("did not make")
        );
        assert!(
            code(decide(&correction(1), "NW-1", &[], &[[1; 16]], NOW)).contains("already used")
        );
        let late = NOW - 600 + 48 * 3600 + 1;
        assert!(code(decide(&correction(1), "NW-1", &[open(1)], &[], late)).contains("expired"));
    }

    #[test]
    fn only_the_newest_requests_stay_open_and_the_latest_uses_are_remembered() {
        let mut o = Vec::new();
        for n in 0..10u8 {
            o = open_after(o, open(n));
        }
        assert_eq!(o.len(), OPEN_REQUESTS);
        assert_eq!(o[0].nonce, [6; 16]);
        let mut u = Vec::new();
        for n in 0..40u8 {
            u = used_after(u, [n; 16]);
        }
        assert_eq!(u.len(), USED_REMEMBERED);
        assert_eq!(u[USED_REMEMBERED - 1], [39; 16]);
    }
}
