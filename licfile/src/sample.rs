//! A complete licence as the seeds describe one: both product areas, all three
//! terms, system licences, add-ons, integrations and metered services.
//!
//! Used by examples, tests, benchmarks and the demo store, so that all of them
//! exercise every field of the format.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::document::{
    AddOn, Contract, Expiry, Integration, Licence, Licensee, MeteredService, Plan, SeatPool,
    SystemLicence, Term,
};
use crate::values::{Money, Timestamp};

fn money(units: i64, scale: u32) -> Money {
    Money::new(Decimal::new(units, scale))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn pool(area: &str, licence: &str, term: Term, count: u32, gb: u32, price: Money) -> SeatPool {
    SeatPool {
        area: area.into(),
        licence: licence.into(),
        term,
        count,
        storage_gb_per_seat: gb,
        price,
        limited_to: Vec::new(),
    }
}

/// A heating-and-plumbing company's licence for `serial`: Customer Journey for
/// Jobs (20 GB a seat), Starter for Sales (50 GB a seat), contracted, monthly and
/// daily pools, issued 2026-01-05, contract 2026-01-01 to 2026-12-31, expiring
/// 2027-01-31 with 14 days' grace.
pub fn licence(serial: &str) -> Licence {
    let sys = |name: &str, description: &str| SystemLicence {
        name: name.into(),
        description: description.into(),
    };
    let mut support = pool(
        "Sales",
        "Sales Support",
        Term::Contracted,
        3,
        50,
        money(1500, 2),
    );
    support.limited_to = vec![
        "Attached files".into(),
        "Customer database".into(),
        "Diary".into(),
        "Opportunities".into(),
    ];
    let mut support_monthly = support.clone();
    support_monthly.term = Term::Monthly;
    support_monthly.count = 1;
    support_monthly.price = money(1800, 2);
    Licence {
        serial: serial.into(),
        licence_id: format!("{serial}-0001"),
        sequence: 1,
        issued_at: Timestamp(1_767_607_200), // 2026-01-05T10:00:00Z
        product: "fieldsuite".into(),
        licensee: Licensee {
            company: "Northwind Heating & Plumbing Ltd".into(),
            email: "accounts@northwind-heating.example".into(),
        },
        plan: Plan {
            name: "Customer Journey".into(),
            tier: 3,
        },
        contract: Contract {
            start: day(2026, 1, 1),
            end: day(2026, 12, 31),
            auto_renew: true,
            renewal_window_days: 60,
        },
        expiry: Some(Expiry {
            date: day(2027, 1, 31),
            grace_days: 14,
        }),
        system_licences: vec![
            sys("SuperOffice Server", "Required to run the system."),
            sys("Online Web Services", "Required to work from a web client."),
            sys("Sales Intelligence", "Allows status monitors."),
            sys("Exchange Synchronizer", "Allows calendar synchronisation."),
            sys(
                "Expander Services",
                "Anonymous and external users via third-party applications.",
            ),
            sys("Customer Centre", "Allows use of the Customer Centre."),
            sys("Sales Quote Management", "Allows use of quotes."),
        ],
        seat_pools: vec![
            pool("Jobs", "User", Term::Contracted, 25, 20, money(4500, 2)),
            pool("Jobs", "User", Term::Monthly, 5, 20, money(5200, 2)),
            pool("Jobs", "User", Term::Daily, 4, 20, money(350, 2)),
            pool(
                "Sales",
                "Sales Person",
                Term::Contracted,
                6,
                50,
                money(3900, 2),
            ),
            pool(
                "Sales",
                "Sales Person",
                Term::Monthly,
                2,
                50,
                money(4400, 2),
            ),
            support,
            support_monthly,
        ],
        add_ons: vec![
            AddOn {
                name: "Outlook connector".into(),
                count: 10,
                price: money(400, 2),
            },
            AddOn {
                name: "CRM module".into(),
                count: 5,
                price: money(1250, 2),
            },
        ],
        integrations: vec![
            Integration {
                name: "Business Central".into(),
                follows_standard: true,
                count: 0,
                price: money(9900, 2),
            },
            Integration {
                name: "Visma Admin".into(),
                follows_standard: true,
                count: 0,
                price: money(4900, 2),
            },
            Integration {
                name: "Resource planner".into(),
                follows_standard: false,
                count: 8,
                price: money(2500, 2),
            },
        ],
        metered_services: vec![
            MeteredService {
                name: "emails-sent".into(),
                unit: "e-mails".into(),
                base_allowance: 5000,
                allowance_per_user: 200,
                overage_price: money(2, 3),
            },
            MeteredService {
                name: "customer-centre-logins".into(),
                unit: "logins".into(),
                base_allowance: 1000,
                allowance_per_user: 50,
                overage_price: money(5, 2),
            },
            MeteredService {
                name: "chat-sessions".into(),
                unit: "sessions".into(),
                base_allowance: 500,
                allowance_per_user: 20,
                overage_price: money(10, 2),
            },
            MeteredService {
                name: "form-submissions".into(),
                unit: "submissions".into(),
                base_allowance: 1000,
                allowance_per_user: 10,
                overage_price: money(1, 2),
            },
        ],
        overage_grace_days: 7,
        currency: "GBP".into(),
    }
}
