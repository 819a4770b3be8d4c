//! The vendor's invoice for a usage report: contracted and monthly seats for
//! the month ahead, daily user-days behind, metered excess (seeds 000, 004).
//! Decimal arithmetic throughout; the total is rounded once.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::document::{Term, UsageReport, licence_label as label};
use crate::report::{PartsError, assemble};
use crate::values::YearMonth;

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    /// What is charged.
    pub description: String,
    /// How many (seats, user-days, units).
    pub quantity: u64,
    /// Price of one.
    pub unit_price: Decimal,
    /// quantity x unit price, exact.
    pub amount: Decimal,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// The installation.
    pub serial: String,
    /// The month reported (daily and metered charges are for it).
    pub month: YearMonth,
    /// The month seats are billed ahead for.
    pub billed_ahead: YearMonth,
    /// The lines.
    pub lines: Vec<InvoiceLine>,
    /// The sum, rounded half away from zero to two decimals, once.
    pub total: Decimal,
    /// Currency.
    pub currency: String,
}

/// The invoice of a report given as all its parts (in any order; a small
/// report is one part). Refuses parts that are not exactly one whole report.
pub fn invoice(parts: &[UsageReport]) -> Result<Invoice, PartsError> {
    let ordered = assemble(parts)?;
    // assemble returns at least part 1.
    let report = ordered[0];
    let ahead = report.month.next();
    let mut lines = Vec::new();
    for p in report
        .pools
        .iter()
        .filter(|p| p.term != Term::Daily && p.total > 0)
    {
        let q = u64::from(p.total);
        lines.push(InvoiceLine {
            description: format!(
                "{} ({}) seats, {ahead}, billed ahead",
                label(&p.area, &p.licence),
                p.term
            ),
            quantity: q,
            unit_price: p.price.value(),
            amount: p.price.value() * Decimal::from(q),
        });
    }
    for g in ordered.iter().flat_map(|p| &p.daily_user_days) {
        // assemble checked that every group is a daily pool of part 1.
        let price = report
            .pools
            .iter()
            .find(|p| p.term == Term::Daily && p.area == g.area && p.licence == g.licence)
            .map(|p| p.price.value())
            .unwrap_or(Decimal::ZERO);
        let pool = label(&g.area, &g.licence);
        for u in &g.users {
            let q = u64::from(u.days.len());
            lines.push(InvoiceLine {
                description: format!("{pool} daily user-days of {}, {}", u.user, report.month),
                quantity: q,
                unit_price: price,
                amount: price * Decimal::from(q),
            });
        }
    }
    for m in report.metered.iter().filter(|m| m.excess > 0) {
        lines.push(InvoiceLine {
            description: format!(
                "{} past the threshold of {} ({} used), {}",
                m.name, m.threshold, m.used, report.month
            ),
            quantity: m.excess,
            unit_price: m.overage_price.value(),
            amount: m.overage_price.value() * Decimal::from(m.excess),
        });
    }
    let mut total = lines
        .iter()
        .map(|l| l.amount)
        .sum::<Decimal>()
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    total.rescale(2);
    Ok(Invoice {
        serial: report.serial.clone(),
        month: report.month,
        billed_ahead: ahead,
        lines,
        total,
        currency: report.currency.clone(),
    })
}
