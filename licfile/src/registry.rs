//! The vendor's memory of installations: each serial's installation key, seen
//! first on its first request or report and required of every later one
//! (trust on first use), and the request and report ids already seen, so that
//! a file sent twice is not acted on twice.
//!
//! Values in and out; where the registry is kept (a JSON file) is the caller's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::keys::KeyId;
use crate::values::{RawPublicKey, Timestamp};

/// What the vendor knows of one installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// The installation key.
    pub installation_key: RawPublicKey,
    /// When it was first seen.
    pub first_seen: Timestamp,
    /// Request ids already acted on.
    #[serde(default)]
    pub requests: Vec<String>,
    /// Report ids already acted on.
    #[serde(default)]
    pub reports: Vec<String>,
    /// Months invoiced, with the report that was: a month is invoiced once,
    /// whichever report of it comes.
    #[serde(default)]
    pub invoiced: Vec<(String, String)>,
}

/// Every installation the vendor has heard from, by serial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// By serial.
    pub installations: BTreeMap<String, Known>,
}

/// How a document stands against the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The first document of this serial: its key will be remembered.
    FirstSight,
    /// The key is the one remembered.
    KnownKey,
    /// The key differs and the caller said to accept it (a reinstalled site).
    KeyReplaced,
}

/// Why the registry refuses a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Another key than the one remembered for the serial.
    #[error(
        "serial {serial} is known with installation key {known}, but this file is signed by key {presented}: it comes from another installation, or the site was reinstalled (then accept the new key explicitly)"
    )]
    KeyChanged {
        /// The serial.
        serial: String,
        /// The key remembered.
        known: KeyId,
        /// The key presented.
        presented: KeyId,
    },
    /// The id was seen before.
    #[error("{kind} {id} of serial {serial} was already acted on: this is a replay or a duplicate")]
    Replayed {
        /// "request" or "report".
        kind: &'static str,
        /// The id.
        id: String,
        /// The serial.
        serial: String,
    },
    /// The month was invoiced from another report already.
    #[error(
        "{month} of serial {serial} was already invoiced, from report {report}; a month is invoiced once"
    )]
    AlreadyInvoiced {
        /// The serial.
        serial: String,
        /// The month.
        month: String,
        /// The report it was invoiced from.
        report: String,
    },
    /// Only requests and reports are registered.
    #[error("a {0} is not registered; only licence requests and usage reports are")]
    NotRegistered(&'static str),
}

/// Serial, installation key, kind and id of a document the registry keeps:
/// a report's parts each have their own id, so a part is acted on once.
fn identity(doc: &Document) -> Result<(&str, RawPublicKey, &'static str, String), RegistryError> {
    match doc {
        Document::Request(r) => Ok((
            &r.serial,
            r.installation_key,
            "request",
            r.request_id.clone(),
        )),
        Document::UsageReport(r) if r.parts > 1 => Ok((
            &r.serial,
            r.installation_key,
            "report",
            format!("{} part {} of {}", r.report_id, r.part, r.parts),
        )),
        Document::UsageReport(r) => {
            Ok((&r.serial, r.installation_key, "report", r.report_id.clone()))
        }
        // A clock request is answered once, like a licence request.
        Document::ClockRequest(r) => Ok((
            &r.serial,
            r.installation_key,
            "request",
            format!(
                "clock {}",
                r.nonce
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        )),
        other => Err(RegistryError::NotRegistered(other.kind().describe())),
    }
}

impl Registry {
    /// The serial's record, made on first sight; its key replaced when that was accepted.
    fn entry(
        &mut self,
        serial: &str,
        key: RawPublicKey,
        now: Timestamp,
        standing: Standing,
    ) -> &mut Known {
        let entry = self
            .installations
            .entry(serial.to_string())
            .or_insert_with(|| Known {
                installation_key: key,
                first_seen: now,
                requests: Vec::new(),
                reports: Vec::new(),
                invoiced: Vec::new(),
            });
        if standing == Standing::KeyReplaced {
            entry.installation_key = key;
        }
        entry
    }

    /// How `doc` stands, without changing anything.
    pub fn check(&self, doc: &Document, accept_new_key: bool) -> Result<Standing, RegistryError> {
        let (serial, key, kind, id) = identity(doc)?;
        let Some(known) = self.installations.get(serial) else {
            return Ok(Standing::FirstSight);
        };
        let seen = if kind == "request" {
            &known.requests
        } else {
            &known.reports
        };
        if seen.contains(&id) {
            return Err(RegistryError::Replayed {
                kind,
                id,
                serial: serial.to_string(),
            });
        }
        if known.installation_key != key {
            if accept_new_key {
                return Ok(Standing::KeyReplaced);
            }
            return Err(RegistryError::KeyChanged {
                serial: serial.to_string(),
                known: KeyId::of(&known.installation_key.0),
                presented: KeyId::of(&key.0),
            });
        }
        Ok(Standing::KnownKey)
    }

    /// Checks `doc` and remembers its key on first sight (or when accepted), not its id:
    /// for verifying a document that is not acted on yet.
    pub fn remember_key(
        &mut self,
        doc: &Document,
        now: Timestamp,
        accept_new_key: bool,
    ) -> Result<Standing, RegistryError> {
        let standing = self.check(doc, accept_new_key)?;
        let (serial, key, _, _) = identity(doc)?;
        self.entry(serial, key, now, standing);
        Ok(standing)
    }

    /// Checks `doc` and remembers it as acted on: its key on first sight (or when accepted), its id always.
    pub fn record(
        &mut self,
        doc: &Document,
        now: Timestamp,
        accept_new_key: bool,
    ) -> Result<Standing, RegistryError> {
        let standing = self.check(doc, accept_new_key)?;
        if let Document::UsageReport(r) = doc
            && let Some(known) = self.installations.get(&r.serial)
            && let Some((_, report)) = known
                .invoiced
                .iter()
                .find(|(m, id)| *m == r.month.to_string() && *id != r.report_id)
        {
            return Err(RegistryError::AlreadyInvoiced {
                serial: r.serial.clone(),
                month: r.month.to_string(),
                report: report.clone(),
            });
        }
        let (serial, key, kind, id) = identity(doc)?;
        let entry = self.entry(serial, key, now, standing);
        if kind == "request" {
            entry.requests.push(id);
        } else {
            entry.reports.push(id);
        }
        // The month is invoiced from this report; its other parts may follow.
        if let Document::UsageReport(r) = doc {
            let month = r.month.to_string();
            if !entry
                .invoiced
                .iter()
                .any(|(m, id)| *m == month && *id == r.report_id)
            {
                entry.invoiced.push((month, r.report_id.clone()));
            }
        }
        Ok(standing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{LicenceRequest, Licensee};
    use crate::values::Money;

    fn request(id: &str, key: u8) -> Document {
        Document::Request(LicenceRequest {
            serial: "S-1".into(),
            request_id: id.into(),
            created_at: Timestamp(0),
            installation_key: RawPublicKey([key; 32]),
            licensee: Licensee {
                company: "C".into(),
                email: "a@b.example".into(),
            },
            product: "p".into(),
            licence_sequence: 1,
            changes: vec![],
            costs: vec![],
            total: Money::ZERO,
            currency: "GBP".into(),
            note: String::new(),
            modules: None,
        })
    }

    #[test]
    fn keys_are_remembered_on_first_sight_and_required_after() {
        let mut r = Registry::default();
        assert_eq!(
            r.remember_key(&request("R1", 1), Timestamp(0), false),
            Ok(Standing::FirstSight)
        );
        assert_eq!(r.check(&request("R2", 1), false), Ok(Standing::KnownKey));
        assert!(matches!(
            r.check(&request("R2", 2), false),
            Err(RegistryError::KeyChanged { .. })
        ));
        assert_eq!(
            r.record(&request("R2", 2), Timestamp(0), true),
            Ok(Standing::KeyReplaced)
        );
        assert_eq!(r.check(&request("R3", 2), false), Ok(Standing::KnownKey));
    }

    #[test]
    fn an_id_acted_on_is_a_replay() {
        let mut r = Registry::default();
        r.record(&request("R1", 1), Timestamp(0), false).unwrap();
        assert!(matches!(
            r.check(&request("R1", 1), false),
            Err(RegistryError::Replayed { .. })
        ));
        // Verifying (not acting) leaves the id free.
        r.remember_key(&request("R2", 1), Timestamp(0), false)
            .unwrap();
        assert_eq!(r.check(&request("R2", 1), false), Ok(Standing::KnownKey));
    }
}
