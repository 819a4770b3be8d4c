//! Invoices priced from what the vendor issued: a site that re-signs its
//! report with other prices, fewer seats or a pool left out is billed what
//! the licence says, and the differences are listed.

use licfile::document::{DailyPoolDays, MeteredUsage, PoolUsage, Term, UserDays};
use licfile::invoice::{Priced, in_force_for, invoice_from_licence};
use licfile::{DaySet, Licence, Money, UsageReport, YearMonth, sample};
use rust_decimal::Decimal;

use crate::common::{SERIAL, installation_key, usage_report};

fn licence() -> Licence {
    sample::licence(SERIAL)
}

/// What an honest site reports for May under `licence()`: its pools as
/// licensed, two daily users, each metered service at twice its base.
fn honest() -> UsageReport {
    let l = licence();
    let mut r = usage_report(&installation_key());
    r.licence_sequence = l.sequence;
    r.currency = l.currency.clone();
    r.pools = l
        .seat_pools
        .iter()
        .map(|p| PoolUsage {
            area: p.area.clone(),
            licence: p.licence.clone(),
            term: p.term,
            total: p.count,
            peak_in_use: p.count.min(3),
            price: p.price,
        })
        .collect();
    let daily = l
        .seat_pools
        .iter()
        .find(|p| p.term == Term::Daily)
        .expect("the sample licence has a daily pool");
    let days = |d: &[u32]| {
        let mut set = DaySet::default();
        for day in d {
            assert!(set.insert(*day), "a day of the month");
        }
        set
    };
    r.daily_user_days = vec![DailyPoolDays {
        area: daily.area.clone(),
        licence: daily.licence.clone(),
        users: vec![
            UserDays {
                user: "dana".into(),
                days: days(&[4, 5, 6]),
            },
            UserDays {
                user: "eli".into(),
                days: days(&[12]),
            },
        ],
    }];
    let users = 10u64;
    r.metered = l
        .metered_services
        .iter()
        .map(|m| {
            let threshold = m.base_allowance + m.allowance_per_user * users;
            MeteredUsage {
                name: m.name.clone(),
                used: threshold + 100,
                threshold,
                excess: 100,
                overage_price: m.overage_price,
            }
        })
        .collect();
    r
}

fn priced(r: &UsageReport) -> Priced {
    invoice_from_licence(&licence(), std::slice::from_ref(r)).expect("an invoice")
}

#[test]
fn an_honest_report_is_billed_from_the_licence_with_no_findings() {
    let p = priced(&honest());
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    let l = licence();
    // Every contracted and monthly pool, every add-on and integration, a month ahead.
    let ahead: Decimal = l
        .seat_pools
        .iter()
        .filter(|s| s.term != Term::Daily)
        .map(|s| s.price.value() * Decimal::from(s.count))
        .sum::<Decimal>()
        + l.add_ons
            .iter()
            .map(|a| a.price.value() * Decimal::from(a.count))
            .sum::<Decimal>()
        + l.integrations
            .iter()
            .map(|i| i.price.value())
            .sum::<Decimal>();
    let daily_price = l
        .seat_pools
        .iter()
        .find(|s| s.term == Term::Daily)
        .unwrap()
        .price
        .value();
    let metered: Decimal = l
        .metered_services
        .iter()
        .map(|m| m.overage_price.value() * Decimal::from(100u32))
        .sum();
    let mut expected = (ahead + daily_price * Decimal::from(4u32) + metered)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    expected.rescale(2);
    assert_eq!(p.invoice.total, expected);
    assert!(
        p.invoice
            .lines
            .iter()
            .any(|line| line.description.contains("add-on licences")),
        "add-ons are billed"
    );
}

#[test]
fn a_report_re_signed_with_every_price_zero_is_billed_the_licences_prices() {
    let honest_total = priced(&honest()).invoice.total;
    let mut forged = honest();
    for p in &mut forged.pools {
        p.price = Money::new(Decimal::ZERO);
    }
    for m in &mut forged.metered {
        m.overage_price = Money::new(Decimal::ZERO);
    }
    let p = priced(&forged);
    assert_eq!(p.invoice.total, honest_total);
    assert!(p.invoice.total > Decimal::ZERO);
    let price_findings = p.findings.iter().filter(|f| f.contains("prices")).count();
    assert_eq!(
        price_findings,
        forged.pools.len() + forged.metered.len(),
        "{:?}",
        p.findings
    );
}

#[test]
fn lowered_totals_a_removed_pool_and_a_made_up_one_change_nothing_billed() {
    let honest_total = priced(&honest()).invoice.total;
    let mut forged = honest();
    for p in &mut forged.pools {
        p.total /= 2;
    }
    let removed = forged.pools.remove(0);
    forged.pools.push(PoolUsage {
        area: "Jobs".into(),
        licence: "Imaginary".into(),
        term: Term::Monthly,
        total: 1,
        peak_in_use: 1,
        price: Money::new(Decimal::ONE),
    });
    let p = priced(&forged);
    assert_eq!(p.invoice.total, honest_total);
    assert!(
        p.findings
            .iter()
            .any(|f| f.contains("leaves out") && f.contains(&removed.licence)),
        "{:?}",
        p.findings
    );
    assert!(
        p.findings.iter().any(|f| f.contains("Imaginary")),
        "{:?}",
        p.findings
    );
    assert!(
        p.findings
            .iter()
            .any(|f| f.contains("the licence") && f.contains("seats of")),
        "{:?}",
        p.findings
    );
}

#[test]
fn a_threshold_counting_more_users_than_the_licence_allows_is_capped() {
    let l = licence();
    // The most users the licence allows: its contracted and monthly seats,
    // and the two daily users the report charges.
    let cap: u64 = l
        .seat_pools
        .iter()
        .filter(|p| p.term != Term::Daily)
        .map(|p| u64::from(p.count))
        .sum::<u64>()
        + 2;
    let mut forged = honest();
    for m in &mut forged.metered {
        let svc = l
            .metered_services
            .iter()
            .find(|s| s.name == m.name)
            .unwrap();
        m.used = svc.base_allowance + svc.allowance_per_user * cap + 50;
        // A threshold for a million users: nothing past it, the site says.
        m.threshold = svc.base_allowance + svc.allowance_per_user * 1_000_000;
        m.excess = 0;
    }
    let p = priced(&forged);
    assert!(
        p.findings.iter().any(|f| f.contains("more than the")),
        "{:?}",
        p.findings
    );
    for svc in &l.metered_services {
        let line = p
            .invoice
            .lines
            .iter()
            .find(|line| {
                line.description
                    .starts_with(&format!("{} past the threshold", svc.name))
            })
            .unwrap_or_else(|| panic!("{} billed: {:?}", svc.name, p.invoice.lines));
        assert_eq!(line.quantity, 50, "{}", line.description);
        assert_eq!(line.unit_price, svc.overage_price.value());
    }
}

#[test]
fn a_repeated_part_is_refused() {
    let mut first = honest();
    (first.part, first.parts) = (1, 2);
    let again = first.clone();
    assert!(invoice_from_licence(&licence(), &[first, again]).is_err());
}

#[test]
fn the_licence_in_force_for_a_month_is_the_latest_issued_by_its_end() {
    let may = YearMonth::new(2026, 5).unwrap();
    let mut a = licence();
    a.sequence = 1;
    a.issued_at = licfile::Timestamp(1_777_000_000); // 2026-04-24
    let mut b = licence();
    b.sequence = 2;
    b.issued_at = licfile::Timestamp(1_780_000_000); // 2026-05-28
    let mut c = licence();
    c.sequence = 3;
    c.issued_at = licfile::Timestamp(1_781_000_000); // 2026-06-09
    let all = [a, b, c];
    assert_eq!(in_force_for(&all, may).map(|l| l.sequence), Some(2));
    assert_eq!(
        in_force_for(&all, YearMonth::new(2026, 3).unwrap()).map(|l| l.sequence),
        None
    );
}

mod chain {
    use licfile::ReportChain;
    use licfile::report::{SeenReport, chain_findings};

    fn seen(id: &str, seq: u64, prev: Option<&str>) -> SeenReport {
        SeenReport {
            report_id: id.into(),
            chain: Some(ReportChain {
                audit_seq: seq,
                audit_head: [seq as u8; 32],
                previous_report: prev.map(str::to_string),
            }),
        }
    }

    fn chain(seq: u64, prev: Option<&str>) -> ReportChain {
        ReportChain {
            audit_seq: seq,
            audit_head: [seq as u8; 32],
            previous_report: prev.map(str::to_string),
        }
    }

    #[test]
    fn a_report_that_follows_on_has_nothing_to_say() {
        let before = [seen("R1", 10, None), seen("R2", 20, Some("R1"))];
        assert!(chain_findings(&before, "R3", Some(&chain(30, Some("R2")))).is_empty());
        assert!(chain_findings(&[], "R1", Some(&chain(5, None))).is_empty());
    }

    #[test]
    fn a_gap_a_rollback_a_fork_a_replay_and_a_downgrade_are_named() {
        let before = [seen("R1", 10, None), seen("R2", 20, Some("R1"))];
        let gap = chain_findings(&before, "R4", Some(&chain(40, Some("R3"))));
        assert!(
            gap[0].starts_with("gap") && gap[0].contains("R3"),
            "{gap:?}"
        );
        let back = chain_findings(&before, "R3", Some(&chain(15, Some("R2"))));
        assert!(back.iter().any(|f| f.starts_with("rollback")), "{back:?}");
        let mut forked = chain(20, Some("R2"));
        forked.audit_head = [99; 32];
        let fork = chain_findings(&before, "R3", Some(&forked));
        assert!(fork.iter().any(|f| f.starts_with("fork")), "{fork:?}");
        let replay = chain_findings(&before, "R2", Some(&chain(20, Some("R1"))));
        assert!(replay[0].starts_with("replay"), "{replay:?}");
        let down = chain_findings(&before, "R3", None);
        assert!(down[0].starts_with("downgrade"), "{down:?}");
        let reset = chain_findings(&before, "R3", Some(&chain(50, None)));
        assert!(reset[0].starts_with("gap"), "{reset:?}");
    }
}
