//! What usage the product may record: bounds on counts, sizes and days.

use chrono::NaiveDate;
use licfile::YearMonth;

use crate::error::{Code, StoreError};

/// The most uses of a metered service one call may add.
pub const MAX_METERED_PER_CALL: u64 = 1_000_000;

/// The most storage a site can report, in bytes: 2^50 (a pebibyte), far
/// beyond any disk such a site has, far below what overflows a sum.
pub const MAX_STORAGE_BYTES: u64 = 1 << 50;

/// How far ahead a diary event may be booked and charged for (seed 000: a
/// booked event is charged for the day it is booked for). A quarter: diaries
/// are planned weeks ahead, and a day further out is more likely a mistake
/// than a booking.
pub const BOOKED_AHEAD_DAYS: i64 = 92;

/// Checks a metered count and the month's total it makes; returns the new total.
pub fn metered_total(before: u64, count: u64) -> Result<u64, StoreError> {
    if count == 0 || count > MAX_METERED_PER_CALL {
        return Err(StoreError::refused(
            Code::OutOfRange,
            format!("a metered count is 1 to {MAX_METERED_PER_CALL} a call, not {count}"),
        ));
    }
    before.checked_add(count).ok_or_else(|| {
        StoreError::refused(
            Code::OutOfRange,
            format!("the month's total ({before}) cannot take {count} more"),
        )
    })
}

/// Checks a storage figure.
pub fn storage(bytes: u64) -> Result<u64, StoreError> {
    if bytes > MAX_STORAGE_BYTES {
        return Err(StoreError::refused(
            Code::OutOfRange,
            format!(
                "{bytes} bytes is more storage than a site can hold (at most {MAX_STORAGE_BYTES})"
            ),
        ));
    }
    Ok(bytes)
}

/// What a usage record may name as its day.
#[derive(Debug, Clone, Copy)]
pub struct DayFacts {
    /// Today, by the store's clock.
    pub today: NaiveDate,
    /// The day the user was last activated.
    pub activated: NaiveDate,
    /// The latest month a usage report was made for, if any.
    pub last_reported: Option<YearMonth>,
    /// Whether the use is a diary event booked for that day (may lie ahead).
    pub booked: bool,
}

/// Checks the day of a usage record: from the user's activation to today (a
/// booked diary event up to [`BOOKED_AHEAD_DAYS`] ahead), never in a month
/// already reported (it would never be billed).
pub fn usage_day(day: NaiveDate, f: &DayFacts) -> Result<NaiveDate, StoreError> {
    let latest = if f.booked {
        f.today + chrono::Duration::days(BOOKED_AHEAD_DAYS)
    } else {
        f.today
    };
    if day > latest {
        return Err(StoreError::refused(
            Code::OutOfRange,
            if f.booked {
                format!(
                    "{day} is more than {BOOKED_AHEAD_DAYS} days ahead of today ({}); a diary event is charged when booked at most that far ahead",
                    f.today
                )
            } else {
                format!(
                    "{day} is in the future (today is {}); only a booked diary event may name a day ahead",
                    f.today
                )
            },
        ));
    }
    if day < f.activated {
        return Err(StoreError::refused(
            Code::OutOfRange,
            format!(
                "{day} is before the user was activated ({}); usage is recorded from activation on",
                f.activated
            ),
        ));
    }
    if let Some(m) = f.last_reported
        && YearMonth::of(day) <= m
    {
        return Err(StoreError::refused(
            Code::OutOfRange,
            format!(
                "{day} is in {}, a month already reported to the vendor (reports run to {m}); it can no longer be billed",
                YearMonth::of(day)
            ),
        ));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn counts_are_bounded_and_never_overflow() {
        assert_eq!(metered_total(5, 1).ok(), Some(6));
        assert_eq!(
            metered_total(0, MAX_METERED_PER_CALL).ok(),
            Some(MAX_METERED_PER_CALL)
        );
        for bad in [0, MAX_METERED_PER_CALL + 1, u64::MAX] {
            let e = metered_total(0, bad).expect_err("refused");
            assert_eq!(e.code(), Code::OutOfRange);
        }
        assert!(metered_total(u64::MAX - 3, 4).is_err());
        assert!(storage(MAX_STORAGE_BYTES).is_ok());
        assert!(storage(u64::MAX).is_err());
    }

    #[test]
    fn days_lie_between_activation_and_today_outside_reported_months() {
        let f = DayFacts {
            today: d("2026-05-20"),
            activated: d("2026-04-10"),
            last_reported: Some("2026-04".parse().expect("month")),
            booked: false,
        };
        assert!(usage_day(d("2026-05-20"), &f).is_ok());
        assert!(usage_day(d("2026-05-01"), &f).is_ok());
        assert!(usage_day(d("2026-05-21"), &f).is_err(), "the future");
        assert!(usage_day(d("2026-04-30"), &f).is_err(), "a reported month");
        assert!(usage_day(d("2026-04-09"), &f).is_err(), "before activation");
        let booked = DayFacts { booked: true, ..f };
        assert!(usage_day(d("2026-08-20"), &booked).is_ok());
        assert!(usage_day(d("2026-08-21"), &booked).is_err());
        assert!(usage_day(d("2026-04-30"), &booked).is_err());
    }
}
