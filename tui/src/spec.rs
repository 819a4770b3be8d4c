//! The licence spec a vendor writes (TOML or JSON) and its conversion to a licence.
//!
//! The spec is the licence's own fields, with `licence_id`, `sequence`,
//! `issued_at` and `overage_grace_days` optional. The JSON that
//! `tessera inspect --json` prints for a licence is itself a valid spec: its
//! `inspect` section is ignored, so a vendor re-issues by editing what a site has.

use chrono::{DateTime, Utc};
use licfile::{
    AddOn, Contract, Expiry, Integration, Licence, Licensee, MeteredService, Plan, SeatPool,
    SystemLicence, Timestamp,
};
use serde::Deserialize;

/// A licence spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceSpec {
    /// What `inspect --json` adds about the file; ignored here.
    #[serde(default)]
    inspect: Option<serde::de::IgnoredAny>,
    serial: String,
    #[serde(default)]
    licence_id: Option<String>,
    #[serde(default)]
    sequence: Option<u64>,
    #[serde(default)]
    issued_at: Option<Timestamp>,
    product: String,
    licensee: Licensee,
    plan: Plan,
    contract: Contract,
    #[serde(default)]
    expiry: Option<Expiry>,
    #[serde(default)]
    system_licences: Vec<SystemLicence>,
    seat_pools: Vec<SeatPool>,
    #[serde(default)]
    add_ons: Vec<AddOn>,
    #[serde(default)]
    integrations: Vec<Integration>,
    #[serde(default)]
    metered_services: Vec<MeteredService>,
    #[serde(default)]
    overage_grace_days: Option<u32>,
    currency: String,
}

/// Seed 003: seven days to buy seats for over-allocated users.
const DEFAULT_OVERAGE_GRACE_DAYS: u32 = 7;

impl LicenceSpec {
    /// Parses a spec: JSON when it looks like JSON, else TOML.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_toml(text)
        }
    }

    /// Parses a JSON spec.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON spec: {e}"))
    }

    /// Parses a TOML spec. TOML dates (`start = 2026-01-01`) and quoted dates both work.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| format!("invalid TOML spec: {e}"))?;
        dates_to_strings(value)
            .try_into()
            .map_err(|e: toml::de::Error| format!("invalid spec: {}", e.message()))
    }

    /// The serial the licence binds to.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The sequence the spec gives, if it gives one (else the ledger gives the next).
    pub fn sequence(&self) -> Option<u64> {
        self.sequence
    }

    /// The licence this spec describes, issued at `now` unless the spec says
    /// when, with `sequence` (the caller passes the spec's own, when it has one).
    pub fn into_licence(self, now: DateTime<Utc>, sequence: u64) -> Licence {
        let _ = self.inspect;
        Licence {
            licence_id: self
                .licence_id
                .unwrap_or_else(|| format!("{}-{sequence:04}", self.serial)),
            serial: self.serial,
            sequence,
            issued_at: self.issued_at.unwrap_or_else(|| Timestamp::from(now)),
            product: self.product,
            licensee: self.licensee,
            plan: self.plan,
            contract: self.contract,
            expiry: self.expiry,
            system_licences: self.system_licences,
            seat_pools: self.seat_pools,
            add_ons: self.add_ons,
            integrations: self.integrations,
            metered_services: self.metered_services,
            overage_grace_days: self
                .overage_grace_days
                .unwrap_or(DEFAULT_OVERAGE_GRACE_DAYS),
            currency: self.currency,
        }
    }
}

/// TOML has a date type; the licence's dates read from strings. Turning TOML
/// dates into their text lets the spec be written either way.
fn dates_to_strings(value: toml::Value) -> toml::Value {
    match value {
        toml::Value::Datetime(d) => toml::Value::String(d.to_string()),
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(dates_to_strings).collect()),
        toml::Value::Table(t) => toml::Value::Table(
            t.into_iter()
                .map(|(k, v)| (k, dates_to_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/licence.toml");

    #[test]
    fn the_shipped_example_is_a_valid_licence() {
        let spec = LicenceSpec::parse(EXAMPLE).unwrap();
        let sequence = spec.sequence().unwrap_or(1);
        let licence = spec.into_licence(Utc::now(), sequence);
        licence.validate().unwrap();
        let areas: std::collections::HashSet<_> =
            licence.seat_pools.iter().map(|p| p.area.as_str()).collect();
        assert!(areas.contains("Jobs") && areas.contains("Sales"));
        for term in licfile::Term::ALL {
            assert!(
                licence.seat_pools.iter().any(|p| p.term == term),
                "no {term} pool"
            );
        }
        assert!(licence.expiry.is_some());
        assert!(!licence.metered_services.is_empty());
    }

    #[test]
    fn inspect_json_is_a_spec() {
        let licence = licfile::sample::licence("NW-1");
        let mut json = serde_json::to_value(&licence).unwrap();
        json["inspect"] = serde_json::json!({"document": "licence", "verified": false});
        let spec = LicenceSpec::from_json(&json.to_string()).unwrap();
        assert_eq!(spec.sequence(), Some(licence.sequence));
        assert_eq!(spec.serial(), "NW-1");
        assert_eq!(spec.into_licence(Utc::now(), licence.sequence), licence);
    }

    #[test]
    fn mistakes_are_named() {
        let err = LicenceSpec::parse(&EXAMPLE.replace("currency", "curency")).unwrap_err();
        assert!(err.contains("curency"), "{err}");
        let err = LicenceSpec::parse(&EXAMPLE.replacen("price = \"45.00\"", "price = 45.0", 1))
            .unwrap_err();
        assert!(err.contains("floating-point"), "{err}");
    }
}
