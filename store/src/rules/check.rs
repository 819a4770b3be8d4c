//! May this user work now? (seed 004: active, a seat of a licence in force,
//! or within an over-allocation grace.) The answer and its typed reason,
//! decided over facts the store read.

use chrono::{DateTime, Utc};
use licfile::LicenceState;
use serde::Serialize;

use crate::model::{PoolKey, User, UserState};
use crate::roles::Role;

/// Why `check` answered as it did: a stable code for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckCode {
    /// Allowed: active, with a seat of a licence in force.
    SeatInForce,
    /// Allowed: Owner/manager, who may always work, to administer.
    OwnerManager,
    /// Allowed: over-allocated, within the grace.
    OverAllocationGrace,
    /// Refused: no user of that name.
    UnknownUser,
    /// Refused: the user is inactive.
    Inactive,
    /// Refused: the licence was terminated.
    LicenceTerminated,
    /// Refused: the user holds no seat.
    NoSeat,
    /// Refused: no licence of the seat's issuer is in force.
    NoLicenceInForce,
    /// Refused: over-allocated, and the grace ended.
    GraceEnded,
    /// A code this build does not know (from a newer service).
    #[serde(other)]
    Unknown,
}

impl CheckCode {
    /// The code as it travels.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::SeatInForce => "seat_in_force",
            CheckCode::OwnerManager => "owner_manager",
            CheckCode::OverAllocationGrace => "over_allocation_grace",
            CheckCode::UnknownUser => "unknown_user",
            CheckCode::Inactive => "inactive",
            CheckCode::LicenceTerminated => "licence_terminated",
            CheckCode::NoSeat => "no_seat",
            CheckCode::NoLicenceInForce => "no_licence_in_force",
            CheckCode::GraceEnded => "grace_ended",
            CheckCode::Unknown => "unknown",
        }
    }
}

/// What `check` says about a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckResult {
    /// The user.
    pub user: String,
    /// Whether they may work.
    pub allowed: bool,
    /// Why, as a stable code.
    pub reason_code: CheckCode,
    /// Why, for people.
    pub reason: String,
    /// Their seat, if any.
    pub seat: Option<String>,
    /// Things to know even when allowed (grace, expiring licence).
    pub warnings: Vec<String>,
}

/// What `check` decides from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The name asked about.
    pub name: &'a str,
    /// The user named exactly so, unless deleted.
    pub user: Option<&'a User>,
    /// Now, by the store's clock (seconds).
    pub now: i64,
    /// Where the vendor's licence stands, if one is in force.
    pub vendor: Option<LicenceState>,
    /// Where the licence of the user's seat's issuer stands: `None` when the
    /// user holds no seat, `Some(None)` when no licence of that issuer is in force.
    pub seat_licence: Option<Option<LicenceState>>,
    /// The overage grace of the seat's pool, in days.
    pub grace_days: u32,
    /// How far the machine's clock is behind the latest time seen, when over a day.
    pub clock_behind_secs: Option<i64>,
}

/// The moment an over-allocation's grace ends.
pub fn deadline(since: i64, grace_days: i64) -> i64 {
    since + grace_days * 86_400
}

/// The day of an instant (seconds), for messages.
pub(crate) fn fmt_day(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

/// "2026-12-02 15:44 UTC": a time (seconds) as messages and the log show it;
/// the bare number for one chrono cannot represent.
pub fn fmt_minute(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Decides `check`.
pub fn decide(f: &Facts<'_>) -> CheckResult {
    let name = f.name;
    let deny = |code: CheckCode, reason: String, seat: Option<String>| CheckResult {
        user: name.into(),
        allowed: false,
        reason_code: code,
        reason,
        seat,
        warnings: Vec::new(),
    };
    let Some(user) = f.user else {
        return deny(
            CheckCode::UnknownUser,
            format!("no user named {name:?}"),
            None,
        );
    };
    let mut warnings = Vec::new();
    let vendor_state = f.vendor;
    if let Some(behind) = f.clock_behind_secs {
        warnings.push(format!(
            "the clock is {} hours behind the latest time the store has seen",
            behind / 3600
        ));
    }
    if user.state != UserState::Active {
        return deny(
            CheckCode::Inactive,
            format!(
                "{} is inactive{}",
                user.name,
                if user.deactivated_reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", user.deactivated_reason)
                }
            ),
            user.seat.as_ref().map(PoolKey::label),
        );
    }
    match vendor_state {
        Some(LicenceState::Terminated { since }) if user.role != Role::OwnerManager => {
            return deny(
                CheckCode::LicenceTerminated,
                format!(
                    "the licence was terminated on {since}; only the Owner/manager can work, to import a new licence"
                ),
                user.seat.as_ref().map(PoolKey::label),
            );
        }
        Some(LicenceState::Grace { terminates, .. }) => {
            warnings.push(format!(
                "the licence has expired; it is terminated on {terminates}"
            ));
        }
        Some(LicenceState::Expiring { expires, days_left }) => {
            warnings.push(format!(
                "the licence expires on {expires}, in {days_left} days"
            ));
        }
        _ => {}
    }
    if user.role == Role::OwnerManager && user.seat.is_none() {
        return CheckResult {
            user: user.name.clone(),
            allowed: true,
            reason_code: CheckCode::OwnerManager,
            reason: "Owner/manager: may always work, to administer".into(),
            seat: None,
            warnings,
        };
    }
    let Some(seat) = user.seat.clone() else {
        return deny(
            CheckCode::NoSeat,
            format!("{} holds no seat", user.name),
            None,
        );
    };
    let Some(Some(seat_state)) = f.seat_licence else {
        return deny(
            CheckCode::NoLicenceInForce,
            format!(
                "no licence of {} is in force",
                if seat.issuer.is_empty() {
                    "the vendor"
                } else {
                    &seat.issuer
                }
            ),
            Some(seat.label()),
        );
    };
    if let LicenceState::Terminated { since } = seat_state
        && user.role != Role::OwnerManager
    {
        return deny(
            CheckCode::LicenceTerminated,
            format!("the licence for {} was terminated on {since}", seat.label()),
            Some(seat.label()),
        );
    }
    if let Some(since) = user.over_allocated_since {
        let end = deadline(since, i64::from(f.grace_days));
        if f.now >= end {
            return deny(
                CheckCode::GraceEnded,
                format!(
                    "{} is over-allocated and the grace ended {}",
                    user.name,
                    fmt_day(end)
                ),
                Some(seat.label()),
            );
        }
        warnings.push(format!(
            "over-allocated: no free seat in {}; deactivated on {} unless seats are bought",
            seat.label(),
            fmt_day(end)
        ));
        return CheckResult {
            user: user.name.clone(),
            allowed: true,
            reason_code: CheckCode::OverAllocationGrace,
            reason: format!("in over-allocation grace until {}", fmt_day(end)),
            seat: Some(seat.label()),
            warnings,
        };
    }
    CheckResult {
        user: user.name.clone(),
        allowed: true,
        reason_code: CheckCode::SeatInForce,
        reason: format!("active, seat in {}", seat.label()),
        seat: Some(seat.label()),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, seat: bool) -> User {
        User {
            name: "bob".into(),
            email: String::new(),
            role,
            seat: seat.then(|| PoolKey {
                issuer: String::new(),
                area: "Jobs".into(),
                licence: "User".into(),
                term: licfile::Term::Monthly,
            }),
            add_ons: Vec::new(),
            state: UserState::Active,
            created_at: 0,
            activated_at: 0,
            activation: 1,
            over_allocated_since: None,
            deactivated_reason: String::new(),
        }
    }

    fn facts<'a>(u: Option<&'a User>) -> Facts<'a> {
        Facts {
            name: "bob",
            user: u,
            now: 1_000_000,
            vendor: Some(LicenceState::Valid),
            seat_licence: u
                .and_then(|u| u.seat.as_ref())
                .map(|_| Some(LicenceState::Valid)),
            grace_days: 7,
            clock_behind_secs: None,
        }
    }

    #[test]
    fn each_answer_has_its_code() {
        let code = |f: &Facts<'_>| {
            let r = decide(f);
            (r.allowed, r.reason_code)
        };
        assert_eq!(code(&facts(None)), (false, CheckCode::UnknownUser));
        let eng = user(Role::Engineer, true);
        assert_eq!(code(&facts(Some(&eng))), (true, CheckCode::SeatInForce));
        let mut off = eng.clone();
        off.state = UserState::Inactive;
        assert_eq!(code(&facts(Some(&off))), (false, CheckCode::Inactive));
        let seatless = user(Role::Engineer, false);
        assert_eq!(code(&facts(Some(&seatless))), (false, CheckCode::NoSeat));
        let owner = user(Role::OwnerManager, false);
        assert_eq!(code(&facts(Some(&owner))), (true, CheckCode::OwnerManager));
        let product = user(Role::LicensedProduct, false);
        assert_eq!(code(&facts(Some(&product))), (false, CheckCode::NoSeat));

        let d = "2026-01-01".parse().expect("a date");
        let ended = Facts {
            vendor: Some(LicenceState::Terminated { since: d }),
            ..facts(Some(&eng))
        };
        assert_eq!(code(&ended), (false, CheckCode::LicenceTerminated));
        let ended_owner = Facts {
            vendor: Some(LicenceState::Terminated { since: d }),
            ..facts(Some(&owner))
        };
        assert_eq!(code(&ended_owner), (true, CheckCode::OwnerManager));
        let gone = Facts {
            seat_licence: Some(None),
            ..facts(Some(&eng))
        };
        assert_eq!(code(&gone), (false, CheckCode::NoLicenceInForce));

        let mut over = eng.clone();
        over.over_allocated_since = Some(1_000_000 - 86_400);
        assert_eq!(
            code(&facts(Some(&over))),
            (true, CheckCode::OverAllocationGrace)
        );
        over.over_allocated_since = Some(1_000_000 - 7 * 86_400);
        assert_eq!(code(&facts(Some(&over))), (false, CheckCode::GraceEnded));
    }
}
