//! Key layout of the store's one sled tree. Namespaces are short prefixes;
//! integers are big-endian so that byte order is numeric order.

use crate::model::PoolKey;

/// Separates the parts of a composite key: below any printable character.
const SEP: u8 = 0x1f;

/// A meta record.
pub fn meta(name: &str) -> Vec<u8> {
    [b"m/".as_slice(), name.as_bytes()].concat()
}

/// An imported licence file.
pub fn licence(id: u64) -> Vec<u8> {
    [b"l/".as_slice(), &id.to_be_bytes()].concat()
}

/// Prefix of every imported licence.
pub const LICENCES: &[u8] = b"l/";

/// The licence in force for an issuer.
pub fn in_force(issuer: &str) -> Vec<u8> {
    [b"f/".as_slice(), issuer.to_lowercase().as_bytes()].concat()
}

/// Prefix of the in-force pointers.
pub const IN_FORCE: &[u8] = b"f/";

/// A user, by lower-case name.
pub fn user(name: &str) -> Vec<u8> {
    [b"u/".as_slice(), name.to_lowercase().as_bytes()].concat()
}

/// Prefix of every user.
pub const USERS: &[u8] = b"u/";

/// The pool part of keys.
pub fn pool(p: &PoolKey) -> Vec<u8> {
    let mut k = Vec::with_capacity(p.issuer.len() + p.area.len() + p.licence.len() + 4);
    k.extend_from_slice(p.issuer.to_lowercase().as_bytes());
    k.push(SEP);
    k.extend_from_slice(p.area.to_lowercase().as_bytes());
    k.push(SEP);
    k.extend_from_slice(p.licence.to_lowercase().as_bytes());
    k.push(SEP);
    k.push(match p.term {
        licfile::Term::Contracted => b'c',
        licfile::Term::Monthly => b'm',
        licfile::Term::Daily => b'd',
    });
    k.push(SEP);
    k
}

/// Splits `<pool><rest>` after the pool part (four separators), for keys of the
/// form prefix + pool + …; the names in a pool never hold the separator (licence
/// text refuses control characters).
pub fn split_pool(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut seps = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == SEP {
            seps += 1;
            if seps == 4 {
                return Some(bytes.split_at(i + 1));
            }
        }
    }
    None
}

/// Seats in use: active holders of a pool, ordered by activation number.
pub fn seat(p: &PoolKey, activation: u64, name: &str) -> Vec<u8> {
    [
        b"s/".as_slice(),
        &pool(p),
        &activation.to_be_bytes(),
        name.to_lowercase().as_bytes(),
    ]
    .concat()
}

/// Prefix of a pool's seats in use.
pub fn seats(p: &PoolKey) -> Vec<u8> {
    [b"s/".as_slice(), &pool(p)].concat()
}

/// Holders of a pool, active or not, by name.
pub fn holder(p: &PoolKey, name: &str) -> Vec<u8> {
    [b"h/".as_slice(), &pool(p), name.to_lowercase().as_bytes()].concat()
}

/// Prefix of a pool's holders.
#[cfg(test)]
pub fn holders(p: &PoolKey) -> Vec<u8> {
    [b"h/".as_slice(), &pool(p)].concat()
}

/// The in-use counter of a pool.
pub fn counter(p: &PoolKey) -> Vec<u8> {
    [b"c/".as_slice(), &pool(p)].concat()
}

/// Over-allocated users of a pool, by the time they became so.
pub fn over(p: &PoolKey, since: i64, name: &str) -> Vec<u8> {
    [
        b"o/".as_slice(),
        &pool(p),
        &since.to_be_bytes(),
        name.to_lowercase().as_bytes(),
    ]
    .concat()
}

/// Prefix of every over-allocation.
pub const OVER: &[u8] = b"o/";

/// A pending purchase of a pool, by request id.
pub fn pending(p: &PoolKey, request: &str) -> Vec<u8> {
    [b"p/".as_slice(), &pool(p), request.as_bytes()].concat()
}

/// Prefix of a pool's pending purchases.
pub fn pendings(p: &PoolKey) -> Vec<u8> {
    [b"p/".as_slice(), &pool(p)].concat()
}

/// Prefix of every pending purchase.
pub const PENDING: &[u8] = b"p/";

/// A scheduled seat reduction of a pool, by request id.
pub fn reduction(p: &PoolKey, request: &str) -> Vec<u8> {
    [b"r/".as_slice(), &pool(p), request.as_bytes()].concat()
}

/// Prefix of a pool's reductions.
pub fn reductions(p: &PoolKey) -> Vec<u8> {
    [b"r/".as_slice(), &pool(p)].concat()
}

/// Prefix of every reduction.
pub const REDUCTIONS: &[u8] = b"r/";

/// A module's part of a key: its kind, then its name without case.
fn module(m: &crate::model::ModuleKey) -> Vec<u8> {
    [
        m.kind.as_str().as_bytes(),
        &[SEP],
        m.name.to_lowercase().as_bytes(),
        &[SEP],
    ]
    .concat()
}

/// A pending purchase of an add-on or integration, by request id.
pub fn module_pending(m: &crate::model::ModuleKey, request: &str) -> Vec<u8> {
    [MODULE_PENDING, &module(m), request.as_bytes()].concat()
}

/// Prefix of a module's pending purchases.
pub fn module_pendings(m: &crate::model::ModuleKey) -> Vec<u8> {
    [MODULE_PENDING, &module(m)].concat()
}

/// Prefix of every pending add-on or integration purchase.
pub const MODULE_PENDING: &[u8] = b"mp/";

/// A scheduled reduction of an add-on or integration, by request id.
pub fn module_reduction(m: &crate::model::ModuleKey, request: &str) -> Vec<u8> {
    [MODULE_REDUCTIONS, &module(m), request.as_bytes()].concat()
}

/// Prefix of a module's reductions.
pub fn module_reductions(m: &crate::model::ModuleKey) -> Vec<u8> {
    [MODULE_REDUCTIONS, &module(m)].concat()
}

/// Prefix of every add-on or integration reduction.
pub const MODULE_REDUCTIONS: &[u8] = b"mr/";

/// A licence request as signed, by id.
pub fn request(id: &str) -> Vec<u8> {
    [b"q/".as_slice(), id.as_bytes()].concat()
}

/// A usage report as signed, by month.
pub fn report(month: licfile::YearMonth) -> Vec<u8> {
    [REPORTS, month.to_string().as_bytes()].concat()
}

/// Prefix of every usage report (months sort as `YYYY-MM`).
pub const REPORTS: &[u8] = b"rp/";

/// A holder of an add-on module.
pub fn add_on(module: &str, name: &str) -> Vec<u8> {
    [
        b"a/".as_slice(),
        module.to_lowercase().as_bytes(),
        &[SEP],
        name.to_lowercase().as_bytes(),
    ]
    .concat()
}

/// Prefix of an add-on's holders.
pub fn add_on_holders(module: &str) -> Vec<u8> {
    [b"a/".as_slice(), module.to_lowercase().as_bytes(), &[SEP]].concat()
}

/// The holder counters of add-on modules.
pub const ADD_ON_COUNTERS: &[u8] = b"ac/";

/// The holder counter of an add-on module.
pub fn add_on_counter(module: &str) -> Vec<u8> {
    [ADD_ON_COUNTERS, module.to_lowercase().as_bytes()].concat()
}

/// A charged user-day of a daily seat.
pub fn day_charge(day: chrono::NaiveDate, name: &str) -> Vec<u8> {
    [
        b"d/".as_slice(),
        &day_number(day).to_be_bytes(),
        name.to_lowercase().as_bytes(),
    ]
    .concat()
}

/// Prefix of a day's charges.
pub fn day_charges(day: chrono::NaiveDate) -> Vec<u8> {
    [b"d/".as_slice(), &day_number(day).to_be_bytes()].concat()
}

/// Prefix of the charged user-day counters (day, then pool).
pub const DAY_COUNTS: &[u8] = b"dn/";

/// User-days charged for a day on a daily pool (schema 4 on).
pub fn day_count(day: chrono::NaiveDate, p: &PoolKey) -> Vec<u8> {
    [DAY_COUNTS, &day_number(day).to_be_bytes(), &pool(p)].concat()
}

/// The first key of a day's counters: days sort by number, so a range from
/// one day's to another's covers the days between.
pub fn day_counts(day: chrono::NaiveDate) -> Vec<u8> {
    [DAY_COUNTS, &day_number(day).to_be_bytes()].concat()
}

/// The day a [`day_number`] names.
pub fn day_of_number(n: u32) -> Option<chrono::NaiveDate> {
    let from_ce = i64::from(n) - 1_000_000;
    chrono::NaiveDate::from_num_days_from_ce_opt(i32::try_from(from_ce).ok()?)
}

/// Days since 0001-01-01, offset so the number is positive and sorts as bytes.
pub fn day_number(day: chrono::NaiveDate) -> u32 {
    use chrono::Datelike;
    (day.num_days_from_ce() + 1_000_000) as u32
}

/// A metered service's count in a month.
pub fn metered(month: licfile::YearMonth, service: &str) -> Vec<u8> {
    [
        b"x/".as_slice(),
        month.to_string().as_bytes(),
        &[SEP],
        service.to_lowercase().as_bytes(),
    ]
    .concat()
}

/// Peak seats in use of a pool in a month.
pub fn peak(month: licfile::YearMonth, p: &PoolKey) -> Vec<u8> {
    [
        b"pk/".as_slice(),
        month.to_string().as_bytes(),
        &[SEP],
        &pool(p),
    ]
    .concat()
}

/// Peak seats of a pool in a month, from the pool's key bytes (as in counters).
pub fn peak_raw(month: licfile::YearMonth, pool_bytes: &[u8]) -> Vec<u8> {
    [
        b"pk/".as_slice(),
        month.to_string().as_bytes(),
        &[SEP],
        pool_bytes,
    ]
    .concat()
}

/// The most users active at once in a month: the "users" of a metered
/// service's threshold (base + per user x users) for that month.
pub fn users_peak(month: licfile::YearMonth) -> Vec<u8> {
    [b"ua/".as_slice(), month.to_string().as_bytes()].concat()
}

/// The most storage used in a month.
pub fn storage_month(month: licfile::YearMonth) -> Vec<u8> {
    [b"sm/".as_slice(), month.to_string().as_bytes()].concat()
}

/// The pooled storage allowance (GB) in force in a month, as last recorded
/// (schema 4 on).
pub fn storage_allowance(month: licfile::YearMonth) -> Vec<u8> {
    [b"sa/".as_slice(), month.to_string().as_bytes()].concat()
}

/// A committed e-mail not yet written to the outbox, by its file name.
pub fn outbox(file_name: &str) -> Vec<u8> {
    [OUTBOX, file_name.as_bytes()].concat()
}

/// Prefix of the e-mails waiting to be written to the outbox.
pub const OUTBOX: &[u8] = b"ob/";

/// An event.
pub fn event(seq: u64) -> Vec<u8> {
    [b"e/".as_slice(), &seq.to_be_bytes()].concat()
}

/// Prefix of every event.
pub const EVENTS: &[u8] = b"e/";

/// Meta names.
pub mod names {
    /// The installation record.
    pub const INSTALLATION: &str = "installation";
    /// The latest time seen (clock high-water mark).
    pub const HIGH_WATER: &str = "clock";
    /// When the clock was last reported as moved backwards.
    pub const CLOCK_WARNED: &str = "clock-warned";
    /// Clock requests made and not yet answered.
    pub const CLOCK_REQUESTS: &str = "clock-requests";
    /// Nonces of clock corrections already taken.
    pub const CLOCK_USED: &str = "clock-used";
    /// Last event sequence and hash.
    pub const CHAIN: &str = "chain";
    /// Last licence import number.
    pub const LICENCE_SEQ: &str = "licence-seq";
    /// Current storage used, bytes.
    pub const STORAGE: &str = "storage";
    /// User counts.
    pub const USER_COUNTS: &str = "user-counts";
    /// Once-only notices already given (expiry warnings and the like).
    pub const NOTICES: &str = "notices";
    /// The last activation number given.
    pub const ACTIVATIONS: &str = "activations";
    /// The last licence request number given.
    pub const REQUEST_SEQ: &str = "request-seq";
    /// The last usage report number given.
    pub const REPORT_SEQ: &str = "report-seq";
    /// The month of the last change (peaks are seeded when it turns).
    pub const MONTH: &str = "month";
    /// Format version of the store's records.
    pub const SCHEMA: &str = "schema";
    /// The latest month a usage report was made for (`YYYY-MM`).
    pub const LAST_REPORT: &str = "last-report";
    /// The id of the latest usage report made, which the next one names.
    pub const LAST_REPORT_ID: &str = "last-report-id";
    /// The lifetime of the leases the store signs, in hours (unset: the default).
    pub const LEASE_HOURS: &str = "lease-hours";
}

/// Prefix of a pool's over-allocated users.
pub fn overs(p: &PoolKey) -> Vec<u8> {
    [OVER, &pool(p)].concat()
}

/// Prefix of every seat counter.
pub const COUNTERS: &[u8] = b"c/";

/// Reading keys back: every key that is sliced is sliced here, by the same
/// module that built it.
pub mod decode {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn be_u64(bytes: &[u8]) -> Option<u64> {
        Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
    }

    /// The (folded) name a `prefix + name` key ends in: holders, add-on holders.
    pub fn name_after(prefix: &[u8], key: &[u8]) -> Option<String> {
        key.strip_prefix(prefix).map(text)
    }

    /// A seat in use, from [`seat`]: its activation number and folded name.
    pub fn seat(p: &PoolKey, key: &[u8]) -> Option<(u64, String)> {
        let rest = key.strip_prefix(seats(p).as_slice())?;
        Some((be_u64(rest)?, text(rest.get(8..)?)))
    }

    /// An over-allocation, from [`over`]: the pool's key bytes, since when,
    /// and the folded name.
    pub fn over(key: &[u8]) -> Option<(&[u8], i64, String)> {
        let (pool, rest) = split_pool(key.strip_prefix(OVER)?)?;
        let since = i64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
        Some((pool, since, text(rest.get(8..)?)))
    }

    /// The pool's key bytes of a seat counter, from [`counter`].
    pub fn counter(key: &[u8]) -> Option<&[u8]> {
        key.strip_prefix(COUNTERS)
    }

    /// The lower-case module of an add-on counter, from [`add_on_counter`].
    pub fn add_on_counter(key: &[u8]) -> Option<String> {
        key.strip_prefix(ADD_ON_COUNTERS).map(text)
    }

    /// The folded name of a day's charge, from [`day_charge`].
    pub fn day_charge(key: &[u8]) -> Option<String> {
        key.strip_prefix(b"d/".as_slice())?.get(4..).map(text)
    }

    /// The day and the pool's key bytes of a day counter, from [`day_count`].
    pub fn day_count(key: &[u8]) -> Option<(chrono::NaiveDate, &[u8])> {
        let rest = key.strip_prefix(DAY_COUNTS)?;
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        Some((day_of_number(n)?, rest.get(4..)?))
    }

    /// The day of a day's charge, from [`day_charge`].
    pub fn day_charge_day(key: &[u8]) -> Option<chrono::NaiveDate> {
        let rest = key.strip_prefix(b"d/".as_slice())?;
        day_of_number(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?))
    }

    /// The month of a usage report, from [`report`].
    pub fn report(key: &[u8]) -> Option<licfile::YearMonth> {
        std::str::from_utf8(key.strip_prefix(REPORTS)?)
            .ok()?
            .parse()
            .ok()
    }

    /// The file name of a queued e-mail, from [`outbox`].
    pub fn outbox(key: &[u8]) -> Option<String> {
        key.strip_prefix(OUTBOX).map(text)
    }

    /// A pool's key bytes for people: `issuer/area/licence/term`.
    pub fn pool_label(pool_bytes: &[u8]) -> String {
        text(pool_bytes)
            .trim_end_matches(char::from(SEP))
            .replace(char::from(SEP), "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_to_what_built_them() {
        let p = PoolKey {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: "User".into(),
            term: licfile::Term::Daily,
        };
        assert_eq!(
            decode::seat(&p, &seat(&p, 42, "Bob")),
            Some((42, "bob".into()))
        );
        let o = over(&p, 1_700_000_000, "Ann");
        let (pool_bytes, since, name) = decode::over(&o).expect("over");
        assert_eq!(
            (pool_bytes, since, name.as_str()),
            (pool(&p).as_slice(), 1_700_000_000, "ann")
        );
        assert_eq!(decode::counter(&counter(&p)), Some(pool(&p).as_slice()));
        let day: chrono::NaiveDate = "2026-05-01".parse().expect("a date");
        assert_eq!(
            decode::day_count(&day_count(day, &p)),
            Some((day, pool(&p).as_slice()))
        );
        assert!(day_count(day, &p) >= day_counts(day));
        assert!(day_count(day, &p) < day_counts(day.succ_opt().expect("a next day")));
        assert_eq!(
            decode::day_charge(&day_charge(day, "Zed")),
            Some("zed".into())
        );
        let m: licfile::YearMonth = "2026-11".parse().expect("a month");
        assert_eq!(decode::report(&report(m)), Some(m));
        assert_eq!(decode::outbox(&outbox("a.eml")), Some("a.eml".into()));
        assert_eq!(
            decode::name_after(&holders(&p), &holder(&p, "Cy")),
            Some("cy".into())
        );
        assert_eq!(decode::pool_label(&pool(&p)), "/jobs/user/d");
        assert_eq!(decode::seat(&p, b"s/short"), None);
    }
}
