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

/// An invoice priced from what the vendor issued, and what the report said
/// that does not agree with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priced {
    /// The invoice: seats, add-ons, integrations, thresholds and prices from
    /// the licence; user-days, metered use and storage from the report.
    pub invoice: Invoice,
    /// Where the report's seat totals, prices, pools or services differ
    /// from the licence: billed from the licence, listed here.
    pub findings: Vec<String>,
}

/// The licence in force for `month` among those issued for a serial: the
/// highest sequence issued by the month's last moment (the one whose counts
/// apply from the next month's first day, which seats are billed ahead for).
pub fn in_force_for(
    licences: &[crate::document::Licence],
    month: YearMonth,
) -> Option<&crate::document::Licence> {
    let end = month
        .next()
        .first_day()
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    licences
        .iter()
        .filter(|l| l.issued_at.0 < end)
        .max_by_key(|l| l.sequence)
}

/// The invoice of a report (all its parts) priced from `licence`, the
/// licence the vendor's ledger holds in force for the month.
///
/// What the site signed is trusted only for what the site alone can know:
/// user-days, metered counts, storage. Seat totals, prices, add-ons,
/// integrations and thresholds come from the licence; a report that says
/// otherwise is billed from the licence and the difference is a finding.
/// The users a metered threshold counts are the site's measure, capped at
/// the users the licence lets it have (its contracted and monthly seats and
/// the daily users the report charges).
pub fn invoice_from_licence(
    licence: &crate::document::Licence,
    parts: &[UsageReport],
) -> Result<Priced, PartsError> {
    let ordered = assemble(parts)?;
    let report = ordered[0];
    let ahead = report.month.next();
    let mut lines = Vec::new();
    let mut findings = Vec::new();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if report.serial != licence.serial {
        findings.push(format!(
            "the report is for serial {}, the licence for {}",
            report.serial, licence.serial
        ));
    }
    if report.licence_sequence != licence.sequence {
        findings.push(format!(
            "the report names licence sequence {}; the ledger's licence in force for {} is sequence {}",
            report.licence_sequence, report.month, licence.sequence
        ));
    }
    if report.currency != licence.currency {
        findings.push(format!(
            "the report prices in {}; the licence in {}, which the invoice uses",
            report.currency, licence.currency
        ));
    }
    // Seats ahead, from the licence (daily pools are billed by the day, below;
    // what the report says of them is checked here all the same).
    for pool in &licence.seat_pools {
        let name = format!("{} ({})", label(&pool.area, &pool.licence), pool.term);
        match report.pools.iter().find(|r| {
            r.term == pool.term && same(&r.area, &pool.area) && same(&r.licence, &pool.licence)
        }) {
            None => findings.push(format!(
                "the report leaves out {name}: {} seats billed from the licence",
                pool.count
            )),
            Some(r) => {
                if r.total != pool.count {
                    findings.push(format!(
                        "the report says {} seats of {name}, the licence {}: {} billed",
                        r.total, pool.count, pool.count
                    ));
                }
                if r.price != pool.price {
                    findings.push(format!(
                        "the report prices {name} at {}, the licence at {}: the licence's price billed",
                        r.price.value(),
                        pool.price.value()
                    ));
                }
            }
        }
        if pool.term != Term::Daily && pool.count > 0 {
            let q = u64::from(pool.count);
            lines.push(InvoiceLine {
                description: format!("{name} seats, {ahead}, billed ahead"),
                quantity: q,
                unit_price: pool.price.value(),
                amount: pool.price.value() * Decimal::from(q),
            });
        }
    }
    for r in &report.pools {
        let known = licence
            .seat_pools
            .iter()
            .any(|p| p.term == r.term && same(&p.area, &r.area) && same(&p.licence, &r.licence));
        if !known {
            findings.push(format!(
                "the report names {} ({}), which the licence does not have: not billed",
                label(&r.area, &r.licence),
                r.term
            ));
        }
    }
    // Add-ons and integrations, a month ahead, from the licence.
    for a in licence.add_ons.iter().filter(|a| a.count > 0) {
        let q = u64::from(a.count);
        lines.push(InvoiceLine {
            description: format!("{} add-on licences, {ahead}, billed ahead", a.name),
            quantity: q,
            unit_price: a.price.value(),
            amount: a.price.value() * Decimal::from(q),
        });
    }
    for i in &licence.integrations {
        lines.push(InvoiceLine {
            description: format!("{} integration, {ahead}, billed ahead", i.name),
            quantity: 1,
            unit_price: i.price.value(),
            amount: i.price.value(),
        });
    }
    // Daily user-days behind: the site's count, the licence's price.
    let mut daily_users = std::collections::BTreeSet::new();
    for g in ordered.iter().flat_map(|p| &p.daily_user_days) {
        let Some(pool) = licence.seat_pools.iter().find(|p| {
            p.term == Term::Daily && same(&p.area, &g.area) && same(&p.licence, &g.licence)
        }) else {
            findings.push(format!(
                "the report charges user-days of {} (daily), which the licence does not have: not billed",
                label(&g.area, &g.licence)
            ));
            continue;
        };
        let name = label(&pool.area, &pool.licence);
        for u in &g.users {
            daily_users.insert(u.user.clone());
            let q = u64::from(u.days.len());
            lines.push(InvoiceLine {
                description: format!("{name} daily user-days of {}, {}", u.user, report.month),
                quantity: q,
                unit_price: pool.price.value(),
                amount: pool.price.value() * Decimal::from(q),
            });
        }
    }
    // Metered use: the site's count; thresholds and prices from the licence.
    let seat_cap = licence
        .seat_pools
        .iter()
        .filter(|p| p.term != Term::Daily)
        .map(|p| u64::from(p.count))
        .sum::<u64>()
        .saturating_add(daily_users.len() as u64);
    for svc in &licence.metered_services {
        let Some(m) = report.metered.iter().find(|m| m.name == svc.name) else {
            findings.push(format!(
                "the report leaves out the metered service {}: nothing billed for it",
                svc.name
            ));
            continue;
        };
        // The users the site's threshold counts, as it computed it.
        let claimed = match svc.allowance_per_user {
            0 => 0,
            per => m.threshold.saturating_sub(svc.base_allowance) / per,
        };
        let users = claimed.min(seat_cap);
        if claimed > seat_cap {
            findings.push(format!(
                "the report's threshold for {} counts {claimed} users, more than the {seat_cap} the licence allows: {seat_cap} counted",
                svc.name
            ));
        }
        let threshold = svc
            .base_allowance
            .saturating_add(svc.allowance_per_user.saturating_mul(users));
        if m.threshold != threshold && claimed <= seat_cap {
            findings.push(format!(
                "the report's threshold for {} is {}, the licence's {threshold} for {users} users",
                svc.name, m.threshold
            ));
        }
        if m.overage_price != svc.overage_price {
            findings.push(format!(
                "the report prices {} overage at {}, the licence at {}: the licence's price billed",
                svc.name,
                m.overage_price.value(),
                svc.overage_price.value()
            ));
        }
        let excess = m.used.saturating_sub(threshold);
        if excess > 0 {
            lines.push(InvoiceLine {
                description: format!(
                    "{} past the threshold of {threshold} ({} used), {}",
                    svc.name, m.used, report.month
                ),
                quantity: excess,
                unit_price: svc.overage_price.value(),
                amount: svc.overage_price.value() * Decimal::from(excess),
            });
        }
    }
    for m in &report.metered {
        if !licence.metered_services.iter().any(|s| s.name == m.name) {
            findings.push(format!(
                "the report names the metered service {}, which the licence does not have: not billed",
                m.name
            ));
        }
    }
    let mut total = lines
        .iter()
        .map(|l| l.amount)
        .sum::<Decimal>()
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    total.rescale(2);
    Ok(Priced {
        invoice: Invoice {
            serial: report.serial.clone(),
            month: report.month,
            billed_ahead: ahead,
            lines,
            total,
            currency: licence.currency.clone(),
        },
        findings,
    })
}
