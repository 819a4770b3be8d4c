//! One user's detail, as the console's user detail view shows it: who they
//! are, what they hold, where they stand, and what they were charged this
//! month. Read from the user's record and the month's charged days of that
//! user alone (a point read a day), never from a scan of the users.

use chrono::NaiveDate;
use licfile::{Term, YearMonth};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Result, StoreError};
use crate::keys;
use crate::model::{PoolKey, UserState};
use crate::roles::Role;

/// One user's detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    /// Username, as first written.
    pub name: String,
    /// E-mail address (empty for none).
    pub email: String,
    /// Role level.
    pub role: Role,
    /// The role's name, e.g. "Senior engineer".
    pub role_name: String,
    /// The seat's pool, if a seat is assigned.
    pub seat: Option<PoolKey>,
    /// The seat's licence with its area, e.g. "Jobs User".
    pub licence: Option<String>,
    /// The seat's term.
    pub term: Option<Term>,
    /// Add-on modules held.
    pub add_ons: Vec<String>,
    /// Active, inactive or deleted.
    pub state: UserState,
    /// When the user was made (seconds).
    pub created_at: i64,
    /// When the user was last activated (seconds).
    pub activated_at: i64,
    /// When the user became over-allocated (seconds), if they are.
    pub over_allocated_since: Option<i64>,
    /// When an over-allocated user's grace ends and, unless seats are bought,
    /// they are deactivated (seconds; seed 003's seven days by default).
    pub over_allocation_deadline: Option<i64>,
    /// Why the user was last deactivated, if they were.
    pub deactivated_reason: String,
    /// The days of this month the user was charged for on a daily seat
    /// (oldest first; contracted and monthly seats are not charged by the day).
    pub charged_days: Vec<NaiveDate>,
}

impl Store {
    /// The detail of the user named exactly `name` (deleted users too).
    pub fn user_detail(&self, name: &str) -> Result<UserDetail> {
        let user = self
            .user_named(name)?
            .ok_or_else(|| StoreError::UnknownUser(name.into()))?;
        let licences = self.in_force();
        let deadline = match (&user.seat, user.over_allocated_since) {
            (Some(seat), Some(since)) if user.state == UserState::Active => {
                let grace = crate::licences::grace_days(&licences, seat);
                Some(crate::rules::check::deadline(since, i64::from(grace)))
            }
            _ => None,
        };
        let month = YearMonth::of(self.today()?);
        let mut charged_days = Vec::new();
        // A user on any seat may have been charged earlier in the month on a
        // daily seat they have since left: every day of the month is read.
        let mut day = month.first_day();
        while day <= month.last_day() {
            if self.db.get(&keys::day_charge(day, &user.name))?.is_some() {
                charged_days.push(day);
            }
            day = match day.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        Ok(UserDetail {
            email: user.email,
            role: user.role,
            role_name: user.role.name().to_string(),
            licence: user.seat.as_ref().map(PoolKey::licence_label),
            term: user.seat.as_ref().map(|s| s.term),
            seat: user.seat,
            add_ons: user.add_ons,
            state: user.state,
            created_at: user.created_at,
            activated_at: user.activated_at,
            over_allocated_since: user.over_allocated_since,
            over_allocation_deadline: deadline,
            deactivated_reason: user.deactivated_reason,
            charged_days,
            name: user.name,
        })
    }
}
