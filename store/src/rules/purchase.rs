//! Giving seats back (seeds 000, 001, 003): when a removal takes effect, and
//! whether it may, decided over facts.

use chrono::{Duration, NaiveDate};
use licfile::Term;

use crate::error::StoreError;

/// The first day of the month after `day`.
pub fn next_month_start(day: NaiveDate) -> NaiveDate {
    licfile::YearMonth::of(day).next().first_day()
}

/// When seats of `term` given back on `today` come off: contracted seats at
/// renewal (asked only in the renewal window), monthly from the first of next
/// month, daily at once.
pub fn removal_effective(
    term: Term,
    today: NaiveDate,
    contract_end: NaiveDate,
    renewal_window_days: u32,
) -> Result<NaiveDate, StoreError> {
    Ok(match term {
        Term::Contracted => {
            let window_start = contract_end - Duration::days(i64::from(renewal_window_days));
            if today < window_start || today > contract_end {
                return Err(StoreError::Rule(format!(
                    "contracted seats can be reduced only in the renewal window, {window_start} to {contract_end}, taking effect at renewal; they cannot be deleted during the contract"
                )));
            }
            contract_end.succ_opt().unwrap_or(contract_end)
        }
        Term::Monthly => next_month_start(today),
        Term::Daily => today,
    })
}

/// What a removal is judged on, at the day it takes effect.
#[derive(Debug, Clone)]
pub struct Removal<'a> {
    /// The pool, for messages.
    pub pool: &'a str,
    /// Its term.
    pub term: Term,
    /// Seats to give back.
    pub count: u32,
    /// The pool's seats on the effective day (reductions due by then applied).
    pub at_effective: u32,
    /// Seats held by active users now.
    pub in_use: u64,
    /// Every pool of the licence, summed on the effective day.
    pub all_at_effective: u64,
}

/// Whether seats may be given back; the notes to show when they may.
/// Monthly and daily seats come off only down to the seats in use, a pool
/// never below zero, and at least one seat stays in total (seed 003).
pub fn check_removal(r: &Removal<'_>) -> Result<Vec<String>, StoreError> {
    let mut notes = Vec::new();
    if r.term != Term::Contracted {
        let unassigned = u64::from(r.at_effective).saturating_sub(r.in_use);
        if u64::from(r.count) > unassigned {
            return Err(StoreError::Rule(format!(
                "only {unassigned} of the {} {} seats are unassigned; {} seats assigned to active users cannot be removed: deactivate users or move them to another licence first",
                r.at_effective, r.pool, r.term
            )));
        }
    } else if u64::from(r.at_effective.saturating_sub(r.count)) < r.in_use {
        notes.push(format!(
            "{} users hold these seats: at renewal the most recently activated beyond {} are over-allocated, then deactivated after the grace",
            r.in_use,
            r.at_effective.saturating_sub(r.count)
        ));
    }
    if r.all_at_effective.saturating_sub(u64::from(r.count)) < 1 {
        return Err(StoreError::Rule(
            "at least one seat must remain in total; to end the subscription, contact the vendor"
                .into(),
        ));
    }
    if r.count > r.at_effective {
        return Err(StoreError::Rule(format!(
            "{} has only {} seats",
            r.pool, r.at_effective
        )));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn removals_follow_the_billing_period() {
        let end = d("2026-12-31");
        assert!(removal_effective(Term::Contracted, d("2026-10-31"), end, 60).is_err());
        assert_eq!(
            removal_effective(Term::Contracted, d("2026-11-01"), end, 60).ok(),
            Some(d("2027-01-01"))
        );
        assert_eq!(
            removal_effective(Term::Monthly, d("2026-12-15"), end, 60).ok(),
            Some(d("2027-01-01"))
        );
        assert_eq!(
            removal_effective(Term::Daily, d("2026-03-09"), end, 60).ok(),
            Some(d("2026-03-09"))
        );
    }

    #[test]
    fn assigned_and_last_seats_stay() {
        let r = |term, count, at_effective, in_use, all| Removal {
            pool: "Jobs User (monthly)",
            term,
            count,
            at_effective,
            in_use,
            all_at_effective: all,
        };
        assert!(check_removal(&r(Term::Monthly, 2, 5, 3, 20)).is_ok());
        assert!(
            check_removal(&r(Term::Monthly, 3, 5, 3, 20)).is_err(),
            "assigned"
        );
        assert!(
            check_removal(&r(Term::Daily, 1, 1, 0, 1)).is_err(),
            "the last seat"
        );
        assert!(
            check_removal(&r(Term::Contracted, 6, 5, 0, 20)).is_err(),
            "more than there are"
        );
        let notes = check_removal(&r(Term::Contracted, 4, 5, 3, 20)).expect("allowed");
        assert_eq!(notes.len(), 1, "holders beyond the new count are warned of");
    }
}
