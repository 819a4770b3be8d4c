//! Value types shared by the documents: money, timestamps, months and raw keys.
//!
//! Each has one binary form (what is signed) and one readable form (what the
//! JSON and TOML specs use). Both are fixed here so that the encoding never
//! depends on a dependency's choice.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Asks a readable format (JSON, TOML) for whatever it holds, and a binary one
/// (bincode, which cannot describe itself) for the form it was written in.
fn any_if_readable<'de, D, V>(
    deserializer: D,
    visitor: V,
    binary: Binary,
) -> Result<V::Value, D::Error>
where
    D: Deserializer<'de>,
    V: Visitor<'de>,
{
    if deserializer.is_human_readable() {
        deserializer.deserialize_any(visitor)
    } else {
        match binary {
            Binary::Str => deserializer.deserialize_str(visitor),
            Binary::I64 => deserializer.deserialize_i64(visitor),
            Binary::Bytes32 => deserializer.deserialize_tuple(32, visitor),
        }
    }
}

/// The binary form a value is written in.
#[derive(Clone, Copy)]
enum Binary {
    Str,
    I64,
    Bytes32,
}

/// An amount of money in the licence's currency.
///
/// Always normalised (no trailing zeros) so that `12.50` and `12.5` sign the
/// same bytes; serialised as a decimal string in every format. Floats are
/// refused on input because `0.1` as a float is not one tenth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal, normalising it.
    pub fn new(value: Decimal) -> Self {
        Money(value.normalize())
    }

    /// The decimal value.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// The amount rounded half away from zero to two decimals, for display and invoices.
    pub fn rounded(self) -> Decimal {
        self.0
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }
}

impl From<Decimal> for Money {
    fn from(value: Decimal) -> Self {
        Money::new(value)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{:.2}", self.rounded()))
    }
}

impl FromStr for Money {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str_exact(s.trim()).map(Money::new)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.normalize())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MoneyVisitor;
        impl Visitor<'_> for MoneyVisitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount as a decimal string such as \"12.50\", or a whole number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(|_| {
                    E::custom(format!("{v:?} is not a decimal amount such as \"12.50\""))
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
                Ok(Money::new(Decimal::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
                Ok(Money::new(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
                Err(E::custom(format!(
                    "amount {v} is a floating-point number; write amounts as strings, e.g. \"{v}\", so they are exact"
                )))
            }
        }
        any_if_readable(deserializer, MoneyVisitor, Binary::Str)
    }
}

/// A moment in whole seconds since 1970-01-01 UTC.
///
/// Signed as an `i64`; read and written as RFC 3339 (`2026-11-22T09:30:00Z`)
/// in readable formats, where a bare number of seconds is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Seconds since the epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// The UTC date this moment falls on, if it is within chrono's range.
    pub fn date(self) -> Option<NaiveDate> {
        DateTime::<Utc>::from_timestamp(self.0, 0).map(|t| t.date_naive())
    }

    /// As a chrono UTC time, if it is within chrono's range.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::<Utc>::from_timestamp(self.0, 0)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t.timestamp())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_utc() {
            Some(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            None => write!(f, "@{}", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Timestamp(t.timestamp()))
            .map_err(|e| {
                format!("{s:?} is not an RFC 3339 time such as 2026-11-22T09:30:00Z ({e})")
            })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // RFC 3339 has four-digit years; outside them, plain seconds read back.
        let in_range = self
            .to_utc()
            .is_some_and(|t| (0..=9999).contains(&t.year()));
        if serializer.is_human_readable() && in_range {
            serializer.collect_str(self)
        } else {
            serializer.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TsVisitor;
        impl Visitor<'_> for TsVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a time such as \"2026-11-22T09:30:00Z\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom(format!("time {v} is out of range")))
            }
        }
        any_if_readable(deserializer, TsVisitor, Binary::I64)
    }
}

/// A calendar month, written `YYYY-MM`: the period a usage report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// The month, if `month` is 1..=12 and the year is a plain four-digit year.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1..=9999).contains(&year))
            .then_some(YearMonth { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Self {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        // In range by construction.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The month after this one.
    pub fn next(self) -> Self {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    /// How many days the month has.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a month written YYYY-MM, such as 2026-11");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).ok_or_else(bad)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct YmVisitor;
        impl Visitor<'_> for YmVisitor {
            type Value = YearMonth;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a month such as \"2026-11\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YearMonth, E> {
                v.parse().map_err(E::custom)
            }
        }
        any_if_readable(deserializer, YmVisitor, Binary::Str)
    }
}

/// The days of one month a user was charged for: bit `d - 1` is day `d`.
///
/// Signed as one `u32` (four bytes a user instead of a date string a day,
/// which is what lets a large site's month fit a report); read and written as
/// the list of day numbers (`[1, 2, 15]`) in readable formats. Which days
/// exist in the month is the report's check, not this type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DaySet(u32);

impl DaySet {
    /// No day.
    pub const EMPTY: DaySet = DaySet(0);

    /// The set whose bit `d - 1` stands for day `d`, as signed.
    pub fn from_bits(bits: u32) -> Self {
        DaySet(bits)
    }

    /// The bits as signed.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Adds day `day` (1 to 32); false if it is out of range or already in.
    pub fn insert(&mut self, day: u32) -> bool {
        if !(1..=32).contains(&day) || self.contains(day) {
            return false;
        }
        self.0 |= 1 << (day - 1);
        true
    }

    /// Whether day `day` is in.
    pub fn contains(self, day: u32) -> bool {
        (1..=32).contains(&day) && self.0 & (1 << (day - 1)) != 0
    }

    /// How many days.
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether there is no day.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The day numbers, in order.
    pub fn days(self) -> impl Iterator<Item = u32> {
        (1..=32).filter(move |d| self.contains(*d))
    }

    /// The last day in the set, if any.
    pub fn last(self) -> Option<u32> {
        (self.0 != 0).then(|| 32 - self.0.leading_zeros())
    }

    /// The dates of `month` in the set (days the month does not have are skipped).
    pub fn dates(self, month: YearMonth) -> impl Iterator<Item = NaiveDate> {
        self.days()
            .filter_map(move |d| NaiveDate::from_ymd_opt(month.year(), month.month(), d))
    }
}

impl Serialize for DaySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_seq(self.days())
        } else {
            serializer.serialize_u32(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for DaySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let days = Vec::<u32>::deserialize(deserializer)?;
            let mut set = DaySet::EMPTY;
            for d in days {
                if !(1..=31).contains(&d) {
                    return Err(de::Error::custom(format!(
                        "day {d} is not a day of a month (1 to 31)"
                    )));
                }
                if !set.insert(d) {
                    return Err(de::Error::custom(format!("day {d} is listed twice")));
                }
            }
            Ok(set)
        } else {
            u32::deserialize(deserializer).map(DaySet)
        }
    }
}

/// A raw ed25519 public key carried inside a document (an endorsed issuer's
/// key, or the installation key that signs requests and reports).
///
/// Signed as 32 bytes; readable as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawPublicKey(pub [u8; 32]);

impl fmt::Debug for RawPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawPublicKey({self})")
    }
}

impl fmt::Display for RawPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for RawPublicKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not a public key written as 64 hex digits");
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(RawPublicKey(out))
    }
}

impl Serialize for RawPublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for RawPublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = RawPublicKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a public key as 64 hex digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPublicKey, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawPublicKey, A::Error> {
                let mut out = [0u8; 32];
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(RawPublicKey(out))
            }
        }
        any_if_readable(deserializer, KeyVisitor, Binary::Bytes32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_normalises_and_rounds_half_away_from_zero() {
        let a: Money = "12.50".parse().unwrap();
        let b: Money = "12.5".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"12.5\"");
        assert_eq!("2.345".parse::<Money>().unwrap().to_string(), "2.35");
        assert_eq!("-2.345".parse::<Money>().unwrap().to_string(), "-2.35");
    }

    #[test]
    fn day_sets_are_bits_when_signed_and_day_numbers_when_read() {
        let mut s = DaySet::EMPTY;
        assert!(s.insert(1) && s.insert(15) && s.insert(31));
        assert!(!s.insert(15), "a day is in once");
        assert!(!s.insert(0) && !s.insert(33));
        assert_eq!(s.len(), 3);
        assert_eq!(s.last(), Some(31));
        assert_eq!(s.bits(), 1 | 1 << 14 | 1 << 30);
        assert_eq!(serde_json::to_string(&s).unwrap(), "[1,15,31]");
        assert_eq!(serde_json::from_str::<DaySet>("[31,1,15]").unwrap(), s);
        for bad in ["[0]", "[32]", "[3,3]", "7"] {
            assert!(serde_json::from_str::<DaySet>(bad).is_err(), "{bad}");
        }
        let nov = YearMonth::new(2026, 11).unwrap();
        // November has no 31st: dates() skips it.
        assert_eq!(s.dates(nov).count(), 2);
        let bytes = bincode::serde::encode_to_vec(
            s,
            bincode::config::standard()
                .with_big_endian()
                .with_fixed_int_encoding(),
        )
        .unwrap();
        assert_eq!(bytes, s.bits().to_be_bytes());
    }

    #[test]
    fn money_refuses_floats_in_readable_formats() {
        let err = serde_json::from_str::<Money>("12.5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("floating-point"), "{err}");
        assert_eq!(
            serde_json::from_str::<Money>("12").unwrap().to_string(),
            "12.00"
        );
    }

    #[test]
    fn year_month_parses_and_knows_its_days() {
        let feb: YearMonth = "2028-02".parse().unwrap();
        assert_eq!(feb.days(), 29);
        assert_eq!("2027-02".parse::<YearMonth>().unwrap().days(), 28);
        assert_eq!(
            "2026-12".parse::<YearMonth>().unwrap().next().to_string(),
            "2027-01"
        );
        assert!("2026-13".parse::<YearMonth>().is_err());
        assert!("26-01".parse::<YearMonth>().is_err());
    }

    #[test]
    fn timestamps_read_rfc3339() {
        let t: Timestamp = "2026-11-22T09:30:00Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-22T09:30:00Z");
        assert!("yesterday".parse::<Timestamp>().is_err());
    }
}
