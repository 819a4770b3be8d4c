//! The cost breakdown shown before a purchase is saved (seeds 000, 001, 003).
//!
//! - contracted: commitment from today until the contract end; each calendar
//!   month overlapping [today, contract end] counts one month of price if fully
//!   covered, else days covered / days in that month;
//! - monthly rolling: this period's charge is price x days left in the current
//!   calendar month (today included) / days in the month; then price a month;
//! - daily: nothing now; price per charged user-day afterwards.
//!
//! Amounts are exact decimals; the total is rounded half away from zero to two
//! decimals once, at the end.

use chrono::{Datelike, NaiveDate};
use licfile::{Money, Term, YearMonth};
use rust_decimal::Decimal;
use serde::Serialize;

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Line {
    /// What it is for.
    pub description: String,
    /// The amount, exact (unrounded).
    pub amount: Decimal,
    /// Whether it counts in the total charged now (false: later charges shown for information).
    pub in_total: bool,
}

/// A cost breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Breakdown {
    /// The lines.
    pub lines: Vec<Line>,
    /// The sum of the lines in the total, rounded once.
    pub total: Decimal,
    /// Currency.
    pub currency: String,
}

/// Rounds half away from zero to two decimals, and always shows two.
pub fn round(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

fn days_in(month: YearMonth) -> u32 {
    month.days()
}

/// The breakdown of buying `count` seats of `term` at `price` on `today`, for a contract ending `contract_end`.
pub fn purchase(
    term: Term,
    count: u32,
    price: Money,
    today: NaiveDate,
    contract_end: NaiveDate,
    label: &str,
    currency: &str,
) -> Breakdown {
    let n = Decimal::from(count);
    let p = price.value();
    let mut lines = Vec::new();
    match term {
        Term::Contracted => {
            if contract_end < today {
                lines.push(Line {
                    description: format!(
                        "{label}: the contract ended {contract_end}; nothing until renewal"
                    ),
                    amount: Decimal::ZERO,
                    in_total: true,
                });
            }
            let mut month = YearMonth::of(today);
            while month.first_day() <= contract_end {
                let from = today.max(month.first_day());
                let to = contract_end.min(month.last_day());
                if from <= to {
                    let covered = (to - from).num_days() as u32 + 1;
                    let days = days_in(month);
                    let fraction = if covered == days {
                        Decimal::ONE
                    } else {
                        Decimal::from(covered) / Decimal::from(days)
                    };
                    let amount = p * n * fraction;
                    let description = if covered == days {
                        format!(
                            "{label} x {count}, {month} (whole month) at {} a month",
                            price
                        )
                    } else {
                        format!(
                            "{label} x {count}, {month} ({covered} of {days} days, {from} to {to}) at {} a month",
                            price
                        )
                    };
                    lines.push(Line {
                        description,
                        amount,
                        in_total: true,
                    });
                }
                month = month.next();
            }
        }
        Term::Monthly => {
            let month = YearMonth::of(today);
            let days = days_in(month);
            let left = days - today.day() + 1;
            let amount = p * n * Decimal::from(left) / Decimal::from(days);
            lines.push(Line {
                description: format!(
                    "{label} x {count}, this period {today} to {} ({left} of {days} days) at {} a month",
                    month.last_day(),
                    price
                ),
                amount,
                in_total: true,
            });
            lines.push(Line {
                description: format!(
                    "then {} a month from {}, billed a month ahead",
                    round(p * n),
                    month.next().first_day()
                ),
                amount: p * n,
                in_total: false,
            });
        }
        Term::Daily => {
            lines.push(Line {
                description: format!("{label} x {count}: nothing now"),
                amount: Decimal::ZERO,
                in_total: true,
            });
            lines.push(Line {
                description: format!("then {} per charged user-day, billed afterwards", price),
                amount: p,
                in_total: false,
            });
        }
    }
    let total = round(lines.iter().filter(|l| l.in_total).map(|l| l.amount).sum());
    Breakdown {
        lines,
        total,
        currency: currency.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn monthly_charges_the_days_left_including_today() {
        // 22 November: 9 of 30 days left.
        let b = purchase(
            Term::Monthly,
            2,
            m("45.00"),
            d("2026-11-22"),
            d("2026-12-31"),
            "Jobs User",
            "GBP",
        );
        assert_eq!(
            b.lines[0].amount,
            Decimal::from(90) * Decimal::from(9) / Decimal::from(30)
        );
        assert_eq!(b.total.to_string(), "27.00");
        assert!(!b.lines[1].in_total);
        // Last day of the month: 1 of 31 days.
        let b = purchase(
            Term::Monthly,
            1,
            m("31.00"),
            d("2026-12-31"),
            d("2027-12-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "1.00");
        // First day: the whole month.
        let b = purchase(
            Term::Monthly,
            1,
            m("52.00"),
            d("2026-02-01"),
            d("2027-12-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "52.00");
    }

    #[test]
    fn leap_february_has_29_days() {
        let b = purchase(
            Term::Monthly,
            1,
            m("29.00"),
            d("2028-02-29"),
            d("2028-12-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "1.00");
        let b = purchase(
            Term::Monthly,
            1,
            m("28.00"),
            d("2027-02-28"),
            d("2027-12-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "1.00");
    }

    #[test]
    fn contracted_counts_whole_months_and_prorates_partial_ones() {
        // 22 Nov 2026 to 31 Dec 2026: 9/30 of November + all of December.
        let b = purchase(
            Term::Contracted,
            1,
            m("45.00"),
            d("2026-11-22"),
            d("2026-12-31"),
            "Jobs User",
            "GBP",
        );
        assert_eq!(b.lines.len(), 2);
        assert_eq!(b.lines[1].amount, Decimal::from(45));
        assert_eq!(b.total.to_string(), "58.50");
    }

    #[test]
    fn a_contract_ending_mid_month_prorates_its_last_month() {
        // 1 Mar to 15 Apr: March whole, 15/30 of April.
        let b = purchase(
            Term::Contracted,
            2,
            m("30.00"),
            d("2026-03-01"),
            d("2026-04-15"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "90.00");
        // Both ends in one month: 10 to 20 June is 11 of 30 days.
        let b = purchase(
            Term::Contracted,
            1,
            m("30.00"),
            d("2026-06-10"),
            d("2026-06-20"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "11.00");
    }

    #[test]
    fn rounding_happens_once_half_away_from_zero() {
        // 3 seats at 10.00 for 1 of 31 days = 0.967741…; three such lines would round to 2.91, once is 2.90.
        let b = purchase(
            Term::Contracted,
            3,
            m("10.00"),
            d("2026-01-31"),
            d("2026-01-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "0.97");
        let b = purchase(
            Term::Monthly,
            1,
            m("0.05"),
            d("2026-11-16"),
            d("2026-12-31"),
            "x",
            "GBP",
        );
        // 0.05 x 15/30 = 0.025 -> 0.03.
        assert_eq!(b.total.to_string(), "0.03");
    }

    #[test]
    fn daily_costs_nothing_now() {
        let b = purchase(
            Term::Daily,
            4,
            m("3.50"),
            d("2026-11-22"),
            d("2026-12-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total, Decimal::ZERO);
    }

    #[test]
    fn a_contract_over_a_year_end_and_a_leap_day() {
        // 15 Feb 2028 (leap) to 31 Mar 2028: 15/29 of Feb + March.
        let b = purchase(
            Term::Contracted,
            1,
            m("29.00"),
            d("2028-02-15"),
            d("2028-03-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "44.00");
        let b = purchase(
            Term::Contracted,
            1,
            m("31.00"),
            d("2026-12-31"),
            d("2027-01-31"),
            "x",
            "GBP",
        );
        assert_eq!(b.total.to_string(), "32.00");
    }
}
