//! The signed documents and what each carries.
//!
//! Field order is the format: bincode writes fields in declaration order, and
//! golden-bytes tests pin every struct. Add fields only in a new format version.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::constants::{self, kind_byte};
use crate::values::{DaySet, Money, RawPublicKey, Timestamp, YearMonth};

/// Which of the signed documents a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// A licence, signed by a vendor (root or endorsed issuer) key.
    Licence,
    /// A licence request, signed by an installation key.
    Request,
    /// A usage report, signed by an installation key.
    UsageReport,
    /// An issuer endorsement, signed by a root key.
    Endorsement,
    /// A site's request for the vendor's time, signed by an installation key.
    ClockRequest,
    /// The vendor's time for one clock request, signed by a root key.
    ClockCorrection,
    /// A usage report of format 2: format 1 and the [`ReportChain`] after it,
    /// signed by an installation key under a context of its own.
    UsageReport2,
    /// A lease: a user may work until a time, signed by the installation key,
    /// which a product verifies offline with the installation's public key.
    Lease,
    /// A licence request of format 2: format 1 and the add-on and
    /// integration changes after it ([`ModuleChange`]), signed by an
    /// installation key under a context of its own.
    Request2,
}

impl DocumentKind {
    /// Every kind, in envelope-byte order.
    pub const ALL: [DocumentKind; 9] = [
        DocumentKind::Licence,
        DocumentKind::Request,
        DocumentKind::UsageReport,
        DocumentKind::Endorsement,
        DocumentKind::ClockRequest,
        DocumentKind::ClockCorrection,
        DocumentKind::UsageReport2,
        DocumentKind::Lease,
        DocumentKind::Request2,
    ];

    /// Whether a document of kind `found` is what a reader asking for this
    /// kind takes: the kind itself, or either format of usage report or of
    /// licence request.
    pub fn accepts(self, found: DocumentKind) -> bool {
        self == found
            || matches!(
                (self, found),
                (DocumentKind::UsageReport, DocumentKind::UsageReport2)
                    | (DocumentKind::UsageReport2, DocumentKind::UsageReport)
                    | (DocumentKind::Request, DocumentKind::Request2)
                    | (DocumentKind::Request2, DocumentKind::Request)
            )
    }

    /// The signing context: a signature made for one kind never verifies as another.
    pub fn context(self) -> &'static str {
        match self {
            DocumentKind::Licence => constants::CONTEXT_LICENCE,
            DocumentKind::Request => constants::CONTEXT_REQUEST,
            DocumentKind::UsageReport => constants::CONTEXT_USAGE_REPORT,
            DocumentKind::Endorsement => constants::CONTEXT_ENDORSEMENT,
            DocumentKind::ClockRequest => constants::CONTEXT_CLOCK_REQUEST,
            DocumentKind::ClockCorrection => constants::CONTEXT_CLOCK_CORRECTION,
            DocumentKind::UsageReport2 => constants::CONTEXT_USAGE_REPORT_2,
            DocumentKind::Lease => constants::CONTEXT_LEASE,
            DocumentKind::Request2 => constants::CONTEXT_REQUEST_2,
        }
    }

    /// The label between `-----BEGIN ` and `-----`.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Licence => constants::LABEL_LICENCE,
            DocumentKind::Request => constants::LABEL_REQUEST,
            DocumentKind::UsageReport => constants::LABEL_USAGE_REPORT,
            DocumentKind::Endorsement => constants::LABEL_ENDORSEMENT,
            DocumentKind::ClockRequest => constants::LABEL_CLOCK_REQUEST,
            DocumentKind::ClockCorrection => constants::LABEL_CLOCK_CORRECTION,
            DocumentKind::UsageReport2 => constants::LABEL_USAGE_REPORT_2,
            DocumentKind::Lease => constants::LABEL_LEASE,
            DocumentKind::Request2 => constants::LABEL_REQUEST_2,
        }
    }

    /// The byte that names this kind inside the envelope.
    pub fn byte(self) -> u8 {
        match self {
            DocumentKind::Licence => kind_byte::LICENCE,
            DocumentKind::Request => kind_byte::REQUEST,
            DocumentKind::UsageReport => kind_byte::USAGE_REPORT,
            DocumentKind::Endorsement => kind_byte::ENDORSEMENT,
            DocumentKind::ClockRequest => kind_byte::CLOCK_REQUEST,
            DocumentKind::ClockCorrection => kind_byte::CLOCK_CORRECTION,
            DocumentKind::UsageReport2 => kind_byte::USAGE_REPORT_2,
            DocumentKind::Lease => kind_byte::LEASE,
            DocumentKind::Request2 => kind_byte::REQUEST_2,
        }
    }

    /// The kind an envelope byte names, if any.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.byte() == b)
    }

    /// The kind an armor label names, if any.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }

    /// A name for people: "licence", "licence request", …
    pub fn describe(self) -> &'static str {
        match self {
            DocumentKind::Licence => "licence",
            DocumentKind::Request => "licence request",
            DocumentKind::UsageReport => "usage report",
            DocumentKind::Endorsement => "issuer endorsement",
            DocumentKind::ClockRequest => "clock request",
            DocumentKind::ClockCorrection => "clock correction",
            DocumentKind::UsageReport2 => "usage report (format 2)",
            DocumentKind::Lease => "lease",
            DocumentKind::Request2 => "licence request (format 2)",
        }
    }
}

/// The company a licence is issued to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licensee {
    /// Company name, as shown on the console's title line.
    pub company: String,
    /// Where licence e-mails go (seed 000: "the e-mail address in your Company details").
    pub email: String,
}

/// The plan the site subscribes to (seed 002: Startup, Go Paperless, Customer Journey, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Plan name, e.g. "Customer Journey".
    pub name: String,
    /// Rank among the vendor's plans; higher tiers include the features of lower ones.
    pub tier: u32,
}

/// The contract the licence belongs to (seed 001: contract dates, auto-renewal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// First day of the contract.
    pub start: NaiveDate,
    /// Last day of the contract.
    pub end: NaiveDate,
    /// Whether the contract renews by itself at its end.
    pub auto_renew: bool,
    /// Days before `end` during which contracted seats may be reduced, effective at renewal.
    pub renewal_window_days: u32,
}

/// When a time-limited licence stops granting anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    /// Last day the licence is fully in force.
    pub date: NaiveDate,
    /// Days after `date` during which it still works, with warnings, before termination.
    pub grace_days: u32,
}

/// How seats of a pool are committed and billed (seeds 000 and 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Term {
    /// 12-month commitment, billed a month ahead; reduced only in the renewal window.
    Contracted,
    /// Added and removed freely, billed a month ahead.
    Monthly,
    /// Billed afterwards per charged user-day.
    Daily,
}

impl Term {
    /// Every term.
    pub const ALL: [Term; 3] = [Term::Contracted, Term::Monthly, Term::Daily];

    /// The name administrators type: `contracted`, `monthly`, `daily`.
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Contracted => "contracted",
            Term::Monthly => "monthly",
            Term::Daily => "daily",
        }
    }

    /// Parses a term name, ignoring case; "monthly rolling" and "rolling" mean monthly.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "contracted" | "contract" => Some(Term::Contracted),
            "monthly" | "monthly rolling" | "monthly-rolling" | "rolling" => Some(Term::Monthly),
            "daily" => Some(Term::Daily),
            _ => None,
        }
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A system licence: a part of the installation the site may run (seed 004).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemLicence {
    /// Name, e.g. "Online Web Services".
    pub name: String,
    /// What it allows, as the vendor describes it.
    #[serde(default)]
    pub description: String,
}

/// A pool of user seats of one licence and term (seeds 000–003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatPool {
    /// Product area, e.g. "Jobs" or "Sales".
    pub area: String,
    /// Licence name within the area, e.g. "User" or "Sales Support".
    pub licence: String,
    /// Commitment and billing.
    pub term: Term,
    /// Seats granted. A pool of 0 seats offers the term for purchase without granting any.
    pub count: u32,
    /// Storage allowance each seat brings, in GB; daily seats bring none whatever this says.
    pub storage_gb_per_seat: u32,
    /// Price a seat a month (contracted, monthly) or a user-day (daily).
    pub price: Money,
    /// Feature areas a seat of this pool reaches; empty means every area
    /// (seed 002: Sales Support reaches attached files, customers, diary, opportunities).
    #[serde(default)]
    pub limited_to: Vec<String>,
}

/// An add-on module licence, e.g. an Outlook connector (seed 003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOn {
    /// Module name.
    pub name: String,
    /// Users that may hold the module.
    pub count: u32,
    /// Price a module licence a month.
    pub price: Money,
}

/// An integration licence, e.g. Business Central (seed 003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    /// Integration name.
    pub name: String,
    /// When true the integration follows the standard seat count and `count` is 0
    /// (seed 003: Business Central, Visma Admin, NAV follow the standard licences).
    pub follows_standard: bool,
    /// Its own seat count, when it does not follow the standard count.
    pub count: u32,
    /// Monthly fee.
    pub price: Money,
}

/// A service invoiced past a threshold that grows with the user count (seed 004).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteredService {
    /// Identifier used by `tessera usage metered`, e.g. "emails-sent".
    pub name: String,
    /// Unit counted, e.g. "emails".
    pub unit: String,
    /// Free each month whatever the user count.
    pub base_allowance: u64,
    /// Free each month for each licensed user.
    pub allowance_per_user: u64,
    /// Price of each unit past the threshold.
    pub overage_price: Money,
}

/// A licence: what a site may use, signed by the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// The installation serial number the licence binds to.
    pub serial: String,
    /// The vendor's identifier of this licence.
    pub licence_id: String,
    /// Monotonic per serial: an import with a lower sequence than the licence in force is refused.
    pub sequence: u64,
    /// When the vendor signed it.
    pub issued_at: Timestamp,
    /// The product licensed; an endorsed issuer may sign only the products it is endorsed for.
    pub product: String,
    /// Who the licence is issued to.
    pub licensee: Licensee,
    /// The subscription plan.
    pub plan: Plan,
    /// The contract period.
    pub contract: Contract,
    /// For time-limited licences: expiry day and grace.
    pub expiry: Option<Expiry>,
    /// Parts of the installation the site may run.
    pub system_licences: Vec<SystemLicence>,
    /// User seats per product area, licence and term.
    pub seat_pools: Vec<SeatPool>,
    /// Add-on module licences.
    pub add_ons: Vec<AddOn>,
    /// Integration licences.
    pub integrations: Vec<Integration>,
    /// Metered services and their thresholds.
    pub metered_services: Vec<MeteredService>,
    /// Days an over-allocated user keeps working before deactivation (seed 003: seven).
    pub overage_grace_days: u32,
    /// ISO 4217 code every price is in.
    pub currency: String,
}

/// Adding or removing seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatAction {
    /// Buy seats.
    Add,
    /// Give seats back.
    Remove,
}

/// One change a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatChange {
    /// Product area of the pool.
    pub area: String,
    /// Licence name of the pool.
    pub licence: String,
    /// Term of the pool.
    pub term: Term,
    /// Add or remove.
    pub action: SeatAction,
    /// How many seats.
    pub count: u32,
    /// The day the change takes effect (today for purchases, the renewal for contracted reductions).
    pub effective: NaiveDate,
}

/// One line of a cost breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostLine {
    /// What is charged, e.g. "Jobs User (monthly) x 2, 2026-11-22 to 2026-11-30".
    pub description: String,
    /// The amount, unrounded; the total is rounded once.
    pub amount: Money,
}

/// "Jobs User", "Sales Support": a licence name with its area, said once (the
/// area is not repeated when the name already starts with it).
pub fn licence_label(area: &str, licence: &str) -> String {
    if licence.to_lowercase().starts_with(&area.to_lowercase()) {
        licence.to_string()
    } else {
        format!("{area} {licence}")
    }
}

/// A licence request: the site asks the vendor for a change, signed by the installation key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceRequest {
    /// Installation serial.
    pub serial: String,
    /// The site's identifier of this request; a vendor refuses one it has seen.
    pub request_id: String,
    /// When the site made it.
    pub created_at: Timestamp,
    /// The installation's public key, which signed this request.
    pub installation_key: RawPublicKey,
    /// Who asks, and where the confirmation goes.
    pub licensee: Licensee,
    /// The product of the licence in force.
    pub product: String,
    /// Sequence of the licence in force when the request was made.
    pub licence_sequence: u64,
    /// What is asked.
    pub changes: Vec<SeatChange>,
    /// The cost breakdown the administrator saw.
    pub costs: Vec<CostLine>,
    /// Total, rounded to two decimals.
    pub total: Money,
    /// Currency of the amounts.
    pub currency: String,
    /// Free text for the vendor.
    pub note: String,
    /// Format 2: the add-on modules and integrations asked for. Not part of
    /// format 1's encoding (a format 1 request has none); format 2 encodes
    /// them after the other fields ([`crate::encoding`]). A site writes
    /// format 1 whenever it asks for seats only, so that a vendor's older
    /// binary still reads every seat request.
    #[serde(skip)]
    pub modules: Option<Vec<ModuleChange>>,
}

/// What a [`ModuleChange`] is about: an add-on module or an integration
/// with a count of its own (seed 003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleKind {
    /// An add-on module ([`AddOn`]), e.g. an Outlook connector.
    AddOn,
    /// An integration ([`Integration`]) with its own count, e.g. Visma Admin.
    Integration,
}

impl ModuleKind {
    /// "add-on" or "integration".
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::AddOn => "add-on",
            ModuleKind::Integration => "integration",
        }
    }
}

impl std::fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One add-on or integration change a request of format 2 asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleChange {
    /// Add-on module or integration.
    pub kind: ModuleKind,
    /// Its name as the licence writes it.
    pub name: String,
    /// Add or remove.
    pub action: SeatAction,
    /// How many licences of it.
    pub count: u32,
    /// The day the change takes effect (today for purchases, the next period for reductions).
    pub effective: NaiveDate,
}

impl LicenceRequest {
    /// The add-on and integration changes (none in a format 1 request).
    pub fn module_changes(&self) -> &[ModuleChange] {
        self.modules.as_deref().unwrap_or_default()
    }
}

/// Peak seat use of one pool during the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolUsage {
    /// Product area.
    pub area: String,
    /// Licence name.
    pub licence: String,
    /// Term.
    pub term: Term,
    /// Seats in force from the first day of the next month: what is billed ahead.
    pub total: u32,
    /// Most seats assigned at once during the month.
    pub peak_in_use: u32,
    /// Price a seat a month (contracted, monthly) or a user-day (daily), from the licence.
    pub price: Money,
}

/// The days one user was charged for in a daily pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDays {
    /// Username.
    pub user: String,
    /// Each charged day of the report's month.
    pub days: DaySet,
}

/// The charged user-days of one daily pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyPoolDays {
    /// Product area of the daily pool.
    pub area: String,
    /// Licence name of the daily pool.
    pub licence: String,
    /// Each user charged in the pool, once.
    pub users: Vec<UserDays>,
}

impl DailyPoolDays {
    /// Charged user-days of the pool.
    pub fn user_days(&self) -> u64 {
        self.users.iter().map(|u| u64::from(u.days.len())).sum()
    }
}

/// A metered service's use in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteredUsage {
    /// Service identifier.
    pub name: String,
    /// Units used.
    pub used: u64,
    /// Free units: base + per-user x users.
    pub threshold: u64,
    /// Units past the threshold.
    pub excess: u64,
    /// Price of each excess unit.
    pub overage_price: Money,
}

/// A usage report: what a site used in a month, signed by the installation key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// Installation serial.
    pub serial: String,
    /// The site's identifier of this report (the same in all its parts).
    pub report_id: String,
    /// Which part this is, from 1. A large site's month does not fit one
    /// document: the report is then split, part 1 carrying the seats, metered
    /// services and storage, and every part a share of the daily user-days.
    pub part: u32,
    /// How many parts the report has.
    pub parts: u32,
    /// When the site made it.
    pub created_at: Timestamp,
    /// The installation's public key, which signed this report.
    pub installation_key: RawPublicKey,
    /// The month reported.
    pub month: YearMonth,
    /// Sequence of the licence in force at the end of the month.
    pub licence_sequence: u64,
    /// Seats per pool (part 1 only).
    pub pools: Vec<PoolUsage>,
    /// Charged user-days of daily seats, per daily pool.
    pub daily_user_days: Vec<DailyPoolDays>,
    /// Metered services (part 1 only).
    pub metered: Vec<MeteredUsage>,
    /// Storage used at the end of the month, in bytes.
    pub storage_used_bytes: u64,
    /// Pooled storage allowance, in GB.
    pub storage_allowance_gb: u64,
    /// Currency of the prices.
    pub currency: String,
    /// Format 2: the site's audit log and the report before this one. Not
    /// part of format 1's encoding (a format 1 report has none); format 2
    /// encodes it after the other fields ([`crate::encoding`]).
    #[serde(skip)]
    pub chain: Option<ReportChain>,
}

/// What a format 2 usage report commits to, so that the vendor can tell a
/// gap, a rollback or a replay in a site's reports: the head of the site's
/// audit log when the report was made, and the report before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportChain {
    /// Events in the site's action log when the report was made.
    pub audit_seq: u64,
    /// The hash of the last of them (the chain's head).
    pub audit_head: [u8; 32],
    /// The id of the report made before this one, if any.
    pub previous_report: Option<String>,
}

impl UsageReport {
    /// Charged user-days of every daily pool in this part.
    pub fn user_days(&self) -> u64 {
        self.daily_user_days
            .iter()
            .map(DailyPoolDays::user_days)
            .sum()
    }

    /// Users charged in this part, counted once per pool.
    pub fn daily_users(&self) -> usize {
        self.daily_user_days.iter().map(|g| g.users.len()).sum()
    }
}

/// A root key's statement that an issuer key may sign licences for some products until a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    /// The issuer's name, shown beside its licences (e.g. an add-on vendor).
    pub issuer: String,
    /// The issuer's public key.
    pub issuer_key: RawPublicKey,
    /// Products the issuer may license.
    pub products: Vec<String>,
    /// When the root signed it.
    pub issued_at: Timestamp,
    /// Last day the endorsement holds: licences signed by the issuer are accepted
    /// only if issued on or before it, and only until it (a key past its
    /// endorsement is retired, so a leaked one stops working).
    pub until: NaiveDate,
}

/// A site's request for the vendor's time, signed by the installation key it carries.
///
/// A store's clock high-water mark only ever moves forward, so one wrong
/// future clock would hold it there for good; the vendor answers this request
/// with a [`ClockCorrection`] that brings it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    /// Installation serial.
    pub serial: String,
    /// The installation's public key, which signed this request.
    pub installation_key: RawPublicKey,
    /// The store's high-water mark: the latest time it has seen (what is to be corrected).
    pub high_water: Timestamp,
    /// What the site's clock said when the request was made.
    pub created_at: Timestamp,
    /// Random, chosen by the site; the correction must carry it back.
    pub nonce: [u8; 16],
}

/// The vendor's time, for one clock request, signed by a root key.
///
/// Only a root key signs one, never an endorsed issuer: an issuer is trusted
/// with its own products' licences, not with a site's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockCorrection {
    /// Installation serial of the request answered.
    pub serial: String,
    /// The request's nonce.
    pub nonce: [u8; 16],
    /// The vendor's time when it signed.
    pub time: Timestamp,
    /// The correction may be imported until then (the vendor sets time + 48 hours).
    pub valid_until: Timestamp,
    /// The high-water mark the request reported.
    pub corrected_mark: Timestamp,
}

/// The seat pool a lease's user holds: the pool as the store names it, by the
/// issuer of its licence, its product area, licence name and term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseSeat {
    /// The issuer of the licence that grants the pool: empty for the vendor's
    /// own (root-signed) licences, else the endorsed issuer's name. Part of the
    /// pool's identity: an add-on vendor may name a pool as the vendor does.
    pub issuer: String,
    /// Product area, as the licence writes it, e.g. "Jobs".
    pub area: String,
    /// Licence name within the area, as the licence writes it, e.g. "User".
    pub licence: String,
    /// The pool's term.
    pub term: Term,
}

/// A lease: the installation's word that a user may work until `not_after`,
/// signed by the installation key it carries.
///
/// `tessera check USER --lease FILE` writes one for a user who may work; the
/// licensed product keeps it and, while the installation cannot be asked,
/// verifies it offline with the installation's public key
/// ([`crate::lease::verify`]). It renews at half-life ([`Lease::renew_at`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lease {
    /// Installation serial.
    pub serial: String,
    /// The store user the lease is for, exactly as the store names them.
    pub user: String,
    /// The pool the user holds a seat of; none for a user who may work without
    /// a seat (an Owner/manager).
    pub seat: Option<LeaseSeat>,
    /// When the installation signed it.
    pub issued_at: Timestamp,
    /// The first moment the lease no longer holds: valid while `now < not_after`.
    pub not_after: Timestamp,
    /// The installation's public key, which signed this lease.
    pub installation_key: RawPublicKey,
}

/// Any of the signed documents, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// A licence.
    Licence(Licence),
    /// A licence request.
    Request(LicenceRequest),
    /// A usage report.
    UsageReport(UsageReport),
    /// An issuer endorsement.
    Endorsement(Endorsement),
    /// A clock request.
    ClockRequest(ClockRequest),
    /// A clock correction.
    ClockCorrection(ClockCorrection),
    /// A lease.
    Lease(Lease),
}

impl Document {
    /// Which kind this is.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Document::Licence(_) => DocumentKind::Licence,
            Document::Request(r) if r.modules.is_some() => DocumentKind::Request2,
            Document::Request(_) => DocumentKind::Request,
            Document::UsageReport(r) if r.chain.is_some() => DocumentKind::UsageReport2,
            Document::UsageReport(_) => DocumentKind::UsageReport,
            Document::Endorsement(_) => DocumentKind::Endorsement,
            Document::ClockRequest(_) => DocumentKind::ClockRequest,
            Document::ClockCorrection(_) => DocumentKind::ClockCorrection,
            Document::Lease(_) => DocumentKind::Lease,
        }
    }

    /// The readable header lines written above the base64, and checked against the payload.
    pub fn header(&self) -> Vec<(&'static str, String)> {
        match self {
            Document::Licence(l) => {
                let mut h = vec![
                    ("Serial", l.serial.clone()),
                    ("Licensee", l.licensee.company.clone()),
                ];
                h.push((
                    "Expires",
                    l.expiry
                        .map(|e| e.date.to_string())
                        .unwrap_or_else(|| "never".to_string()),
                ));
                h
            }
            Document::Request(r) => vec![
                ("Serial", r.serial.clone()),
                ("Licensee", r.licensee.company.clone()),
            ],
            Document::UsageReport(r) => {
                vec![("Serial", r.serial.clone()), ("Month", r.month.to_string())]
            }
            Document::Endorsement(e) => {
                vec![("Issuer", e.issuer.clone()), ("Until", e.until.to_string())]
            }
            Document::ClockRequest(r) => vec![
                ("Serial", r.serial.clone()),
                ("High-water", r.high_water.to_string()),
            ],
            Document::ClockCorrection(c) => vec![
                ("Serial", c.serial.clone()),
                ("Time", c.time.to_string()),
                ("Valid until", c.valid_until.to_string()),
            ],
            Document::Lease(l) => vec![
                ("Serial", l.serial.clone()),
                ("User", l.user.clone()),
                ("Not after", l.not_after.to_string()),
            ],
        }
    }
}
