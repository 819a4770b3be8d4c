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
//!
//! Beside the lines, a breakdown carries the contract month by month to the
//! contract end ([`MonthCharge`]): what each month costs and whether it is a
//! commitment, as the console shows it beside the cost (seed 000: "Review
//! cost and contract breakdown"). Each month's amount is rounded so that the
//! months of the commitment add up to the rounded total to the penny.

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
    /// The contract month by month, to its end (empty for daily seats,
    /// which commit nothing, and for removals).
    #[serde(default)]
    pub months: Vec<MonthCharge>,
}

/// One calendar month of a purchase's contract breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MonthCharge {
    /// The month.
    pub month: YearMonth,
    /// Days of the month the seats are held (from today, to the contract end).
    pub days: u32,
    /// Days in the month.
    pub days_in_month: u32,
    /// The month's amount, to the penny: rounded so that the commitment's
    /// months add up to the breakdown's total exactly.
    pub amount: Decimal,
    /// Whether the month is committed to by the purchase: every month of
    /// contracted seats (a 12-month commitment that cannot be removed), the
    /// current period only of monthly rolling seats (later months can be
    /// given back, and are shown at their price for information).
    pub commitment: bool,
}

/// The month by month breakdown of buying `count` seats of `term` at
/// `price` on `today`, to `contract_end`.
///
/// Each month overlapping [today, contract end] is priced as
/// [`purchase`] prices it; the rounding is cumulative (each month is the
/// rounded running total less the months before), so that the committed
/// months sum to the rounded total, and each month is within a penny of
/// its exact amount.
pub fn contract_months(
    term: Term,
    count: u32,
    price: Money,
    today: NaiveDate,
    contract_end: NaiveDate,
) -> Vec<MonthCharge> {
    if term == Term::Daily {
        return Vec::new();
    }
    let monthly = price.value() * Decimal::from(count);
    let mut exact: Vec<(YearMonth, u32, u32, Decimal, bool)> = Vec::new();
    let mut month = YearMonth::of(today);
    // A monthly seat's first period is charged now even past the contract end.
    let last = contract_end.max(if term == Term::Monthly {
        month.last_day()
    } else {
        contract_end
    });
    while month.first_day() <= last {
        let from = today.max(month.first_day());
        let to = match term {
            Term::Contracted => contract_end.min(month.last_day()),
            // Monthly seats are billed a whole calendar month at a time.
            _ => month.last_day(),
        };
        if from <= to {
            let covered = (to - from).num_days() as u32 + 1;
            let days = days_in(month);
            let amount = if covered == days {
                monthly
            } else {
                monthly * Decimal::from(covered) / Decimal::from(days)
            };
            let commitment = term == Term::Contracted || month == YearMonth::of(today);
            exact.push((month, covered, days, amount, commitment));
        }
        month = month.next();
    }
    // Cumulative rounding over the committed months, then over the rest.
    let mut out = Vec::with_capacity(exact.len());
    for committed in [true, false] {
        let mut running = Decimal::ZERO;
        let mut shown = Decimal::ZERO;
        for (month, covered, days, amount, commitment) in &exact {
            if *commitment != committed {
                continue;
            }
            running += amount;
            let rounded = round(running) - shown;
            shown += rounded;
            out.push(MonthCharge {
                month: *month,
                days: *covered,
                days_in_month: *days,
                amount: round(rounded),
                commitment: *commitment,
            });
        }
    }
    out.sort_by_key(|m| m.month);
    out
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
        months: contract_months(term, count, price, today, contract_end),
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

    /// The committed months' sum.
    fn committed(b: &Breakdown) -> Decimal {
        b.months
            .iter()
            .filter(|m| m.commitment)
            .map(|m| m.amount)
            .sum()
    }

    #[test]
    fn the_months_of_a_contract_sum_to_its_total() {
        // 22 Nov 2026 to 31 Dec 2026: 9/30 of November + December.
        let b = purchase(
            Term::Contracted,
            1,
            m("45.00"),
            d("2026-11-22"),
            d("2026-12-31"),
            "x",
            "GBP",
        );
        let months: Vec<(String, String, bool)> = b
            .months
            .iter()
            .map(|m| (m.month.to_string(), m.amount.to_string(), m.commitment))
            .collect();
        assert_eq!(
            months,
            vec![
                ("2026-11".into(), "13.50".into(), true),
                ("2026-12".into(), "45.00".into(), true),
            ]
        );
        assert_eq!(committed(&b), b.total);
        // Thirds of a penny: 3 seats at 10.00 for 1 of 31 days, then whole
        // months: rounded cumulatively, the months still make the total.
        let b = purchase(
            Term::Contracted,
            3,
            m("10.01"),
            d("2026-01-31"),
            d("2026-12-15"),
            "x",
            "GBP",
        );
        assert_eq!(b.months.len(), 12);
        assert_eq!(b.months[0].days, 1);
        assert_eq!(b.months[11].days, 15);
        assert_eq!(committed(&b), b.total);
        assert!(b.months.iter().all(|m| m.commitment));
        // Every month within a penny of its exact amount.
        let p = Decimal::from_str_exact("30.03").unwrap();
        for mc in &b.months {
            let exact = p * Decimal::from(mc.days) / Decimal::from(mc.days_in_month);
            assert!((mc.amount - exact).abs() < Decimal::new(1, 2), "{mc:?}");
        }
    }

    #[test]
    fn monthly_seats_commit_to_this_period_only() {
        let b = purchase(
            Term::Monthly,
            2,
            m("45.00"),
            d("2026-11-22"),
            d("2027-02-28"),
            "x",
            "GBP",
        );
        let months: Vec<(String, String, bool)> = b
            .months
            .iter()
            .map(|m| (m.month.to_string(), m.amount.to_string(), m.commitment))
            .collect();
        assert_eq!(
            months,
            vec![
                ("2026-11".into(), "27.00".into(), true),
                ("2026-12".into(), "90.00".into(), false),
                ("2027-01".into(), "90.00".into(), false),
                ("2027-02".into(), "90.00".into(), false),
            ]
        );
        assert_eq!(committed(&b), b.total);
        // Daily seats commit nothing.
        let b = purchase(
            Term::Daily,
            4,
            m("3.50"),
            d("2026-11-22"),
            d("2026-12-31"),
            "x",
            "GBP",
        );
        assert!(b.months.is_empty());
        // A contract already ended: nothing committed, nothing listed.
        let b = purchase(
            Term::Contracted,
            1,
            m("45.00"),
            d("2027-01-05"),
            d("2026-12-31"),
            "x",
            "GBP",
        );
        assert!(b.months.is_empty());
        assert_eq!(committed(&b), b.total);
    }

    proptest::proptest! {
        #[test]
        fn committed_months_always_sum_to_the_total(
            contracted in proptest::bool::ANY,
            count in 1u32..500,
            cents in 1i64..1_000_000,
            start in 0i64..800,
            length in 0i64..800,
        ) {
            let today = d("2026-01-01") + chrono::Duration::days(start);
            let end = today + chrono::Duration::days(length);
            let term = if contracted { Term::Contracted } else { Term::Monthly };
            let price = Money::new(Decimal::new(cents, 3));
            let b = purchase(term, count, price, today, end, "x", "GBP");
            proptest::prop_assert_eq!(committed(&b), b.total);
            for w in b.months.windows(2) {
                proptest::prop_assert!(w[0].month < w[1].month);
            }
        }
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
