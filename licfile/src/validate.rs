//! Content rules every document must meet, checked before signing and after decoding.
//!
//! A signature says who wrote a document, not that it makes sense: a licence
//! with two pools of the same name, or a licensee name holding a newline that
//! would forge a readable header line, is refused either way.

use std::collections::HashSet;
use std::fmt;

use crate::constants::{CLOCK_CORRECTION_HOURS, LEASE_MAX_HOURS};
use crate::document::{
    ClockCorrection, ClockRequest, Document, Endorsement, Lease, Licence, LicenceRequest, Term,
    UsageReport,
};
use crate::values::Money;

/// What is wrong with a document's content: every problem found, one a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ValidationError {
    /// Each problem, naming the field.
    pub problems: Vec<String>,
}

/// Collects problems so that one pass reports all of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, p: impl Into<String>) {
        self.0.push(p.into());
    }

    /// A one-line text field: present, not too long, no control characters.
    fn text(&mut self, field: impl fmt::Display + Copy, value: &str, max: usize) {
        if value.trim().is_empty() {
            self.push(format!("{field} is empty"));
        } else if value.chars().count() > max {
            self.push(format!("{field} is longer than {max} characters"));
        }
        if value.chars().any(char::is_control) {
            self.push(format!(
                "{field} contains a control character (such as a line break)"
            ));
        }
        if value != value.trim() {
            self.push(format!("{field} has leading or trailing spaces"));
        }
    }

    /// Free text that may be empty.
    fn optional_text(&mut self, field: impl fmt::Display + Copy, value: &str, max: usize) {
        if !value.is_empty() {
            self.text(field, value, max);
        }
    }

    fn identifier(&mut self, field: impl fmt::Display + Copy, value: &str) {
        if value.is_empty()
            || value.len() > 64
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.push(format!(
                "{field} {value:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
            ));
        }
    }

    fn email(&mut self, field: impl fmt::Display + Copy, value: &str) {
        self.text(field, value, 254);
        let ok = value
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !value.contains(' '));
        if !ok {
            self.push(format!("{field} {value:?} is not an e-mail address"));
        }
    }

    fn currency(&mut self, value: &str) {
        if value.len() != 3 || !value.chars().all(|c| c.is_ascii_uppercase()) {
            self.push(format!(
                "currency {value:?} must be a three-letter ISO 4217 code such as EUR or GBP"
            ));
        }
    }

    fn price(&mut self, field: impl fmt::Display + Copy, value: Money) {
        if value.value().is_sign_negative() && !value.value().is_zero() {
            self.push(format!("{field} is negative"));
        }
        if value.value().scale() > 6 {
            self.push(format!("{field} has more than 6 decimal places"));
        }
    }

    fn finish(self) -> Result<(), ValidationError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { problems: self.0 })
        }
    }
}

/// Upper bound on any count, so sums never overflow and a typo is caught.
const MAX_COUNT: u32 = 10_000_000;

impl Licence {
    /// Checks the licence's content; every problem is reported.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        p.identifier("licence_id", &self.licence_id);
        if self.sequence == 0 {
            p.push("sequence must be 1 or more");
        }
        p.identifier("product", &self.product);
        p.text("licensee.company", &self.licensee.company, 200);
        p.email("licensee.email", &self.licensee.email);
        p.text("plan.name", &self.plan.name, 100);
        if self.contract.start > self.contract.end {
            p.push(format!(
                "contract.start {} is after contract.end {}",
                self.contract.start, self.contract.end
            ));
        }
        if self.contract.renewal_window_days > 366 {
            p.push("contract.renewal_window_days is more than a year");
        }
        if let Some(e) = self.expiry
            && e.grace_days > 366
        {
            p.push("expiry.grace_days is more than a year");
        }
        if self.overage_grace_days > 366 {
            p.push("overage_grace_days is more than a year");
        }
        p.currency(&self.currency);

        let mut names = HashSet::new();
        for (i, s) in self.system_licences.iter().enumerate() {
            p.text(format_args!("system_licences[{i}].name"), &s.name, 100);
            p.optional_text(
                format_args!("system_licences[{i}].description"),
                &s.description,
                500,
            );
            if !names.insert(s.name.to_lowercase()) {
                p.push(format!("system licence {:?} is listed twice", s.name));
            }
        }

        if self.seat_pools.is_empty() {
            p.push("seat_pools is empty: a licence grants at least one pool of seats");
        }
        let mut pools = HashSet::new();
        for (i, s) in self.seat_pools.iter().enumerate() {
            p.text(format_args!("seat_pools[{i}].area"), &s.area, 50);
            p.text(format_args!("seat_pools[{i}].licence"), &s.licence, 100);
            if s.count > MAX_COUNT {
                p.push(format!("seat_pools[{i}].count is more than {MAX_COUNT}"));
            }
            if s.storage_gb_per_seat > 100_000 {
                p.push(format!(
                    "seat_pools[{i}].storage_gb_per_seat is more than 100000"
                ));
            }
            p.price(format_args!("seat_pools[{i}].price"), s.price);
            for (j, a) in s.limited_to.iter().enumerate() {
                p.text(format_args!("seat_pools[{i}].limited_to[{j}]"), a, 100);
            }
            if !pools.insert((s.area.to_lowercase(), s.licence.to_lowercase(), s.term)) {
                p.push(format!(
                    "seat pool {} / {} ({}) is listed twice",
                    s.area, s.licence, s.term
                ));
            }
        }

        let mut add_ons = HashSet::new();
        for (i, a) in self.add_ons.iter().enumerate() {
            p.text(format_args!("add_ons[{i}].name"), &a.name, 100);
            if a.count > MAX_COUNT {
                p.push(format!("add_ons[{i}].count is more than {MAX_COUNT}"));
            }
            p.price(format_args!("add_ons[{i}].price"), a.price);
            if !add_ons.insert(a.name.to_lowercase()) {
                p.push(format!("add-on {:?} is listed twice", a.name));
            }
        }

        let mut integrations = HashSet::new();
        for (i, a) in self.integrations.iter().enumerate() {
            p.text(format_args!("integrations[{i}].name"), &a.name, 100);
            if a.follows_standard && a.count != 0 {
                p.push(format!(
                    "integrations[{i}] follows the standard seat count, so its count must be 0"
                ));
            }
            if a.count > MAX_COUNT {
                p.push(format!("integrations[{i}].count is more than {MAX_COUNT}"));
            }
            p.price(format_args!("integrations[{i}].price"), a.price);
            if !integrations.insert(a.name.to_lowercase()) {
                p.push(format!("integration {:?} is listed twice", a.name));
            }
        }

        let mut metered = HashSet::new();
        for (i, m) in self.metered_services.iter().enumerate() {
            p.identifier(format_args!("metered_services[{i}].name"), &m.name);
            p.text(format_args!("metered_services[{i}].unit"), &m.unit, 50);
            p.price(
                format_args!("metered_services[{i}].overage_price"),
                m.overage_price,
            );
            if !metered.insert(m.name.to_lowercase()) {
                p.push(format!("metered service {:?} is listed twice", m.name));
            }
        }
        p.finish()
    }

    /// Whether the licence offers seats of this term for this licence name (a pool
    /// exists, even of 0 seats).
    pub fn offers(&self, area: &str, licence: &str, term: Term) -> bool {
        self.seat_pools.iter().any(|p| {
            p.term == term
                && p.area.eq_ignore_ascii_case(area)
                && p.licence.eq_ignore_ascii_case(licence)
        })
    }
}

impl LicenceRequest {
    /// Checks the request's content.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        p.identifier("request_id", &self.request_id);
        p.identifier("product", &self.product);
        p.text("licensee.company", &self.licensee.company, 200);
        p.email("licensee.email", &self.licensee.email);
        p.currency(&self.currency);
        p.optional_text("note", &self.note, 1000);
        if self.changes.is_empty() && self.module_changes().is_empty() {
            p.push("changes is empty: a request asks for at least one change");
        }
        for (i, c) in self.module_changes().iter().enumerate() {
            p.text(format_args!("modules[{i}].name"), &c.name, 100);
            if c.count == 0 || c.count > MAX_COUNT {
                p.push(format!("modules[{i}].count must be 1 to {MAX_COUNT}"));
            }
        }
        for (i, c) in self.changes.iter().enumerate() {
            p.text(format_args!("changes[{i}].area"), &c.area, 50);
            p.text(format_args!("changes[{i}].licence"), &c.licence, 100);
            if c.count == 0 || c.count > MAX_COUNT {
                p.push(format!("changes[{i}].count must be 1 to {MAX_COUNT}"));
            }
        }
        for (i, c) in self.costs.iter().enumerate() {
            p.text(format_args!("costs[{i}].description"), &c.description, 300);
        }
        p.finish()
    }
}

impl UsageReport {
    /// Checks the report's content.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        p.identifier("report_id", &self.report_id);
        p.currency(&self.currency);
        for (i, pool) in self.pools.iter().enumerate() {
            p.text(format_args!("pools[{i}].area"), &pool.area, 50);
            p.text(format_args!("pools[{i}].licence"), &pool.licence, 100);
        }
        if self.parts == 0 || self.parts > crate::constants::MAX_REPORT_PARTS {
            p.push(format!(
                "parts is {}; a report has 1 to {} parts",
                self.parts,
                crate::constants::MAX_REPORT_PARTS
            ));
        } else if self.part == 0 || self.part > self.parts {
            p.push(format!(
                "part is {}, not one of the report's {} parts",
                self.part, self.parts
            ));
        }
        if self.part != 1 && !(self.pools.is_empty() && self.metered.is_empty()) {
            p.push("only part 1 of a report carries pools and metered services");
        }
        let month_days = self.month.days();
        let mut groups = HashSet::new();
        for (i, g) in self.daily_user_days.iter().enumerate() {
            p.text(format_args!("daily_user_days[{i}].area"), &g.area, 50);
            p.text(
                format_args!("daily_user_days[{i}].licence"),
                &g.licence,
                100,
            );
            if !groups.insert((g.area.as_str(), g.licence.as_str())) {
                p.push(format!(
                    "daily pool {} is listed twice",
                    crate::document::licence_label(&g.area, &g.licence)
                ));
            }
            let mut users = HashSet::new();
            for u in &g.users {
                if u.user.trim().is_empty() || u.user.chars().count() > 100 {
                    p.push(format!(
                        "daily_user_days[{i}] has a user name that is empty or longer than 100 characters"
                    ));
                }
                if !users.insert(u.user.as_str()) {
                    p.push(format!("user {:?} is listed twice in one pool", u.user));
                }
                if u.days.is_empty() {
                    p.push(format!("user {:?} is listed with no day", u.user));
                }
                if let Some(last) = u.days.last()
                    && last > month_days
                {
                    p.push(format!(
                        "user {:?} has day {last}, and {} has {month_days} days",
                        u.user, self.month
                    ));
                }
            }
        }
        for (i, m) in self.metered.iter().enumerate() {
            p.identifier(format_args!("metered[{i}].name"), &m.name);
            if m.excess != m.used.saturating_sub(m.threshold) {
                p.push(format!("metered[{i}].excess is not used minus threshold"));
            }
        }
        p.finish()
    }
}

impl Endorsement {
    /// Checks the endorsement's content.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.text("issuer", &self.issuer, 100);
        if self.products.is_empty() {
            p.push("products is empty: an endorsement names the products it covers");
        }
        for (i, prod) in self.products.iter().enumerate() {
            p.identifier(format_args!("products[{i}]"), prod);
        }
        p.finish()
    }
}

impl ClockRequest {
    /// Checks the clock request's content.
    ///
    /// The times are what the site saw and are not compared: a request is made
    /// because its clock and its high-water mark disagree. Its key is checked
    /// with its signature ([`crate::verify::verify_signature`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        p.finish()
    }
}

impl ClockCorrection {
    /// Checks the clock correction's content: it may be imported for a short
    /// while after the vendor's time, at most [`CLOCK_CORRECTION_HOURS`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        // i128: two i64 seconds from a hostile file must not overflow.
        let window = i128::from(self.valid_until.0) - i128::from(self.time.0);
        if window <= 0 {
            p.push(format!(
                "valid_until {} is not after time {}",
                self.valid_until, self.time
            ));
        } else if window > i128::from(CLOCK_CORRECTION_HOURS) * 3600 {
            p.push(format!(
                "valid_until {} is more than {CLOCK_CORRECTION_HOURS} hours after time {}",
                self.valid_until, self.time
            ));
        }
        p.finish()
    }
}

impl Lease {
    /// Checks the lease's content: names as other documents bound them, and a
    /// lifetime after `issued_at` of at most [`LEASE_MAX_HOURS`].
    ///
    /// The user name is bounded as a usage report bounds it rather than by the
    /// store's rule for new names, so that a lease can be signed for any user
    /// a store holds. Its key is checked with its signature
    /// ([`crate::lease::verify`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut p = Problems::default();
        p.identifier("serial", &self.serial);
        p.text("user", &self.user, 100);
        if let Some(seat) = &self.seat {
            p.optional_text("seat.issuer", &seat.issuer, 100);
            p.text("seat.area", &seat.area, 50);
            p.text("seat.licence", &seat.licence, 100);
        }
        // i128: two i64 seconds from a hostile file must not overflow.
        let lifetime = i128::from(self.not_after.0) - i128::from(self.issued_at.0);
        if lifetime <= 0 {
            p.push(format!(
                "not_after {} is not after issued_at {}",
                self.not_after, self.issued_at
            ));
        } else if lifetime > i128::from(LEASE_MAX_HOURS) * 3600 {
            p.push(format!(
                "not_after {} is more than {LEASE_MAX_HOURS} hours after issued_at {}",
                self.not_after, self.issued_at
            ));
        }
        p.finish()
    }
}

impl Document {
    /// Checks whichever document this is.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Document::Licence(l) => l.validate(),
            Document::Request(r) => r.validate(),
            Document::UsageReport(r) => r.validate(),
            Document::Endorsement(e) => e.validate(),
            Document::ClockRequest(r) => r.validate(),
            Document::ClockCorrection(c) => c.validate(),
            Document::Lease(l) => l.validate(),
        }
    }
}
