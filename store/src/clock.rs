//! Time is passed in, so every rule can be tested at any date without touching
//! the machine's clock. Production code uses [`SystemClock`]; nothing a user can
//! pass on the command line or in the environment replaces it.

use std::sync::Mutex;

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// The machine's time. A clock set before 1970 or past the year 9999
    /// (which chrono's own `Utc::now` panics on) reads as the nearest of
    /// those bounds: the store then judges by its high-water mark and says
    /// the clock is behind. Commands refuse such a clock before they start
    /// ([`system_clock_problem`]).
    fn now(&self) -> DateTime<Utc> {
        let latest = || {
            NaiveDate::from_ymd_opt(9999, 12, 31)
                .and_then(|d| d.and_hms_opt(23, 59, 59))
                .map(|t| t.and_utc())
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs())
                .ok()
                .and_then(|s| DateTime::from_timestamp(s, d.subsec_nanos()))
                .filter(|t| t.year() <= 9999)
                .unwrap_or_else(latest),
            Err(_) => DateTime::UNIX_EPOCH,
        }
    }
}

/// What is wrong with the machine's clock, when it cannot be used at all:
/// set before 1970, or past the year 9999. `None` for any other time (a
/// clock that is merely wrong is the store's to notice, by its high-water
/// mark).
pub fn system_clock_problem() -> Option<String> {
    const FIX: &str =
        "set the system clock (`timedatectl set-ntp true`, or `date -s`) and try again";
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Err(e) => {
            let said = i64::try_from(e.duration().as_secs())
                .ok()
                .and_then(|s| DateTime::from_timestamp(-s, 0))
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "a time long".into());
            Some(format!(
                "the system clock says {said}, before 1970: no licence date can be judged by it; {FIX}"
            ))
        }
        Ok(d) => {
            let year = i64::try_from(d.as_secs())
                .ok()
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .map(|t| t.year());
            match year {
                Some(y) if y <= 9999 => None,
                _ => Some(format!(
                    "the system clock is set past the year 9999 ({} seconds after 1970): no licence date can be judged by it; {FIX}",
                    d.as_secs()
                )),
            }
        }
    }
}

/// A clock that says what it is told: for tests and simulations.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(t))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }

    /// Moves the time forward (or back, with a negative duration).
    pub fn advance(&self, d: chrono::Duration) {
        if let Ok(mut g) = self.0.lock() {
            *g += d;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}
