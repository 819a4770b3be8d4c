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

/// When add-on or integration licences given back on `today` come off: at
/// the next payment period, which is the contract's renewal (they are
/// bought to the contract end, as a commitment). Seed 003 lets them be
/// scaled down at any time before that period starts; once the contract
/// has ended without a renewal imported, the next calendar month.
pub fn module_removal_effective(today: NaiveDate, contract_end: NaiveDate) -> NaiveDate {
    if today <= contract_end {
        contract_end.succ_opt().unwrap_or(contract_end)
    } else {
        next_month_start(today)
    }
}

/// Why an add-on or integration cannot be bought separately: one that
/// follows the standard seat count (seed 003: Business Central, Visma
/// Admin, NAV) has no count of its own, and grows with the standard seats.
pub fn check_module_purchase(
    name: &str,
    follows_standard: bool,
    standard_seats: u64,
) -> Result<(), StoreError> {
    if follows_standard {
        return Err(StoreError::Rule(format!(
            "{name} follows the standard seat count ({standard_seats} seats) and has no count of its own, so it cannot be bought or given back separately: buy or give back standard seats instead, and {name} follows them"
        )));
    }
    Ok(())
}

/// What a removal of add-on or integration licences is judged on, at the
/// day it takes effect.
#[derive(Debug, Clone)]
pub struct ModuleRemoval<'a> {
    /// The module, for messages ("Outlook connector add-on").
    pub module: &'a str,
    /// Licences to give back.
    pub count: u32,
    /// Its licences on the effective day (reductions due by then applied).
    pub at_effective: u32,
    /// Users holding it now, by name (add-ons; integrations have none).
    pub holders: &'a [String],
}

/// At most this many holders are named in a message; the rest are counted.
const NAMED_HOLDERS: usize = 10;

/// "alice, bob and carol", or the first ten and "and 12 others".
pub fn name_holders(holders: &[String]) -> String {
    match holders {
        [] => String::new(),
        [one] => one.clone(),
        _ if holders.len() > NAMED_HOLDERS => format!(
            "{} and {} others",
            holders[..NAMED_HOLDERS].join(", "),
            holders.len() - NAMED_HOLDERS
        ),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether add-on or integration licences may be given back; the notes to
/// show when they may. An add-on never goes below the users holding it
/// (seed 003: you see which employee each licence belongs to), since a
/// licence given back from under a user would leave that user with a module
/// nobody pays for. Unlike seats, a module may go to none: that is how it is
/// removed ("you add and remove add-on modules by adjusting the number").
pub fn check_module_removal(r: &ModuleRemoval<'_>) -> Result<Vec<String>, StoreError> {
    if r.count > r.at_effective {
        return Err(StoreError::Rule(format!(
            "{} has only {} licences then; give back at most {}",
            r.module, r.at_effective, r.at_effective
        )));
    }
    let held = r.holders.len() as u64;
    let left = r.at_effective - r.count;
    if u64::from(left) < held {
        let unassigned = u64::from(r.at_effective).saturating_sub(held);
        return Err(StoreError::Rule(format!(
            "only {unassigned} of the {} {} licences are unassigned: {} {} the other {held}, and a licence given back from under a user would leave them with a module nobody pays for; take the module from {} first (Users tab, or `tessera users set NAME --remove-add-on`), then give the licences back",
            r.at_effective,
            r.module,
            name_holders(r.holders),
            if held == 1 { "holds" } else { "hold" },
            if held - u64::from(left) == 1 {
                "one of them"
            } else {
                "some of them"
            },
        )));
    }
    let mut notes = Vec::new();
    if held > 0 {
        notes.push(format!(
            "{} {} it and {} it: {left} licences stay",
            name_holders(r.holders),
            if held == 1 { "holds" } else { "hold" },
            if held == 1 { "keeps" } else { "keep" },
        ));
    }
    if left == 0 {
        notes.push(format!(
            "{} is removed from the next period: nobody can be given it then",
            r.module
        ));
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

    #[test]
    fn modules_come_off_at_renewal_and_never_from_under_a_holder() {
        let end = d("2026-12-31");
        assert_eq!(
            module_removal_effective(d("2026-03-09"), end),
            d("2027-01-01")
        );
        assert_eq!(
            module_removal_effective(d("2027-02-10"), end),
            d("2027-03-01")
        );
        let holders = ["alice".to_string(), "bob".to_string()];
        let r = |count, at_effective| ModuleRemoval {
            module: "Outlook connector add-on",
            count,
            at_effective,
            holders: &holders,
        };
        assert!(check_module_removal(&r(3, 5)).is_ok());
        let e = check_module_removal(&r(4, 5)).expect_err("below the holders");
        assert!(
            e.to_string().contains("alice and bob hold the other 2"),
            "{e}"
        );
        assert!(
            check_module_removal(&r(6, 5)).is_err(),
            "more than there are"
        );
        let none = ModuleRemoval {
            holders: &[],
            ..r(5, 5)
        };
        let notes = check_module_removal(&none).expect("a module may go to none");
        assert!(notes[0].contains("removed"), "{notes:?}");
        assert!(check_module_purchase("NAV", true, 20).is_err());
        assert!(check_module_purchase("Visma Admin", false, 20).is_ok());
        assert_eq!(
            name_holders(&(0..12).map(|i| format!("u{i}")).collect::<Vec<_>>()),
            "u0, u1, u2, u3, u4, u5, u6, u7, u8, u9 and 2 others"
        );
    }
}
