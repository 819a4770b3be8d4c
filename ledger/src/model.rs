//! What the ledger keeps, as plain values. Times are seconds since 1970
//! (UTC) in Rust and RFC 3339 in JSON; amounts are exact decimals, strings in JSON.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// 32 bytes as 64 hex digits, for JSON.
fn hex32<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&hex(v))
}

fn opt_hex32<S: serde::Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => hex32(v, s),
        None => s.serialize_none(),
    }
}

/// Seconds since 1970 as RFC 3339 (`2026-11-22T09:30:00Z`), for JSON.
fn ts<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&licfile::Timestamp(*v))
}

fn opt_ts<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ts(v, s),
        None => s.serialize_none(),
    }
}

/// Lower-case hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One installation key of a serial, and when it was in use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallationKey {
    /// The public key.
    #[serde(serialize_with = "hex32")]
    pub key: [u8; 32],
    /// Its key id (as `tessera verify` shows it).
    pub key_id: String,
    /// When the ledger first took it for the serial.
    #[serde(serialize_with = "ts")]
    pub since: i64,
    /// When another key replaced it; `None` for the current key.
    #[serde(serialize_with = "opt_ts")]
    pub retired_at: Option<i64>,
}

/// An installation: its serial, when the ledger first heard of it, and its
/// keys over time (the oldest first; the current one has no `retired_at`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallationRow {
    /// The serial.
    pub serial: String,
    /// When the ledger first heard of the serial: a licence issued for it,
    /// or a document from it.
    #[serde(serialize_with = "ts")]
    pub first_seen: i64,
    /// Its installation keys, in the order they were taken.
    pub keys: Vec<InstallationKey>,
}

impl InstallationRow {
    /// The key documents from the serial must carry now, if any was seen.
    pub fn current_key(&self) -> Option<&InstallationKey> {
        self.keys.iter().find(|k| k.retired_at.is_none())
    }
}

/// One installation in the list an accounts team reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstallationSummary {
    /// The serial.
    pub serial: String,
    /// The id of its current installation key, if any document from it was seen.
    pub key_id: Option<String>,
    /// When the ledger first heard of it.
    #[serde(serialize_with = "ts")]
    pub first_seen: i64,
    /// Licences issued for it.
    pub licences: u64,
    /// The highest licence sequence issued for it.
    pub latest_sequence: Option<u64>,
    /// Reports recorded from it.
    pub reports: u64,
    /// Invoices made from them.
    pub invoices: u64,
}

/// A licence as the vendor signed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IssuedLicence {
    /// The serial it binds to.
    pub serial: String,
    /// Its sequence: one licence per (serial, sequence).
    pub sequence: u64,
    /// Its licence id.
    pub licence_id: String,
    /// When it was signed (seconds since 1970, UTC).
    #[serde(serialize_with = "ts")]
    pub issued_at: i64,
    /// Its expiry day, for a time-limited licence.
    pub expiry: Option<NaiveDate>,
    /// The id of the key that signed it.
    pub signer_key_id: String,
    /// The armored file as issued: the whole document is read back from it.
    pub signed: String,
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceLineRow {
    /// What is charged.
    pub description: String,
    /// How many.
    pub quantity: u64,
    /// The price of one, exact.
    pub unit_price: Decimal,
    /// quantity × unit price, exact.
    pub amount: Decimal,
}

/// A report (all its parts) and the invoice made from it, recorded together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceRecord {
    /// The serial.
    pub serial: String,
    /// The report's id.
    pub report_id: String,
    /// The month reported (YYYY-MM).
    pub month: String,
    /// How many parts the report had.
    pub parts: u32,
    /// Format 2: events in the site's log when the report was made.
    pub audit_seq: Option<u64>,
    /// Format 2: the hash of the last of them.
    #[serde(serialize_with = "opt_hex32")]
    pub audit_head: Option<[u8; 32]>,
    /// Format 2: the report made before it, if any.
    pub previous_report: Option<String>,
    /// The invoice lines, in order.
    pub lines: Vec<InvoiceLineRow>,
    /// The total, as invoiced.
    pub total: Decimal,
    /// The currency (ISO 4217).
    pub currency: String,
    /// What the report said that the licence did not, and the report chain's findings.
    pub findings: Vec<String>,
    /// Who invoiced it.
    pub actor: String,
    /// When (seconds since 1970, UTC).
    #[serde(serialize_with = "ts")]
    pub at: i64,
}

/// An invoice the ledger holds: the record and the id the ledger gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceRow {
    /// The invoice id (increasing; never reused).
    pub id: i64,
    /// What was recorded.
    #[serde(flatten)]
    pub record: InvoiceRecord,
}

/// A report the ledger has seen from a serial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// The report's id.
    pub report_id: String,
    /// The month reported; `None` only for a report imported from an
    /// `installations.json` that did not say (and whose id does not either).
    pub month: Option<String>,
    /// How many parts it had.
    pub parts: u32,
    /// Format 2: events in the site's log when it was made.
    pub audit_seq: Option<u64>,
    /// Format 2: the hash of the last of them.
    #[serde(serialize_with = "opt_hex32")]
    pub audit_head: Option<[u8; 32]>,
    /// Format 2: the report made before it.
    pub previous_report: Option<String>,
    /// When the ledger recorded it.
    #[serde(serialize_with = "ts")]
    pub seen_at: i64,
    /// Who recorded it.
    pub actor: String,
    /// The invoice made from it; `None` for a report imported from an
    /// `installations.json` (invoiced then, amounts not known).
    pub invoice: Option<i64>,
}

impl ReportRow {
    /// As [`licfile::report::chain_findings`] takes it.
    pub fn seen(&self) -> licfile::report::SeenReport {
        licfile::report::SeenReport {
            report_id: self.report_id.clone(),
            chain: self
                .audit_seq
                .zip(self.audit_head)
                .map(|(audit_seq, audit_head)| licfile::ReportChain {
                    audit_seq,
                    audit_head,
                    previous_report: self.previous_report.clone(),
                }),
        }
    }
}

/// A clock correction the vendor signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClockCorrectionRow {
    /// The serial of the request answered.
    pub serial: String,
    /// The request's nonce, as 32 lower-case hex digits: one correction per (serial, nonce).
    pub nonce_hex: String,
    /// The vendor's time in it.
    #[serde(serialize_with = "ts")]
    pub time: i64,
    /// Until when the site may import it.
    #[serde(serialize_with = "ts")]
    pub valid_until: i64,
    /// The site's high-water mark it corrects.
    #[serde(serialize_with = "ts")]
    pub corrected_mark: i64,
    /// Who signed it.
    pub actor: String,
    /// When it was recorded.
    #[serde(serialize_with = "ts")]
    pub at: i64,
}

/// An issuer endorsement the vendor signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndorsementRow {
    /// The issuer's name.
    pub issuer: String,
    /// The id of the issuer's key.
    pub issuer_key_id: String,
    /// The products it may license.
    pub products: Vec<String>,
    /// Its last day.
    pub until: NaiveDate,
    /// The armored file as issued.
    pub signed: String,
    /// When it was recorded.
    #[serde(serialize_with = "ts")]
    pub at: i64,
}

/// What [`crate::Ledger::import_registry`] took from an `installations.json`
/// (things already in the ledger are counted apart, not taken twice).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Installations new to the ledger.
    pub installations: u64,
    /// Installation keys new to the ledger.
    pub keys: u64,
    /// Requests (licence and clock) recorded as fulfilled.
    pub requests: u64,
    /// Reports recorded as invoiced (their months taken).
    pub reports: u64,
    /// Of those, reports whose month neither the file nor the report id says:
    /// their month is not guarded against a second invoice.
    pub reports_without_month: u64,
    /// Keys, requests and reports the ledger already had.
    pub already_there: u64,
}

impl std::fmt::Display for ImportCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} installations, {} installation keys, {} fulfilled requests and {} invoiced reports imported; {} already in the ledger",
            self.installations, self.keys, self.requests, self.reports, self.already_there
        )?;
        if self.reports_without_month > 0 {
            write!(
                f,
                "; {} reports of unknown month (the file does not say which month they invoiced)",
                self.reports_without_month
            )?;
        }
        Ok(())
    }
}
