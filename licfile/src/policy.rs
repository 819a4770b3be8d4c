//! Policy: turns (document, trusted roots, installation serial, date) into a
//! verdict with a checklist, one line per check, as `tessera verify` prints it.

use chrono::NaiveDate;

use crate::constants::EXPIRY_WARNING_DAYS;
use crate::document::{ClockCorrection, Document, DocumentKind, Endorsement, Lease, Licence};
use crate::signed::{self, SignedDocument};
use crate::values::Timestamp;
use crate::verify::{Roots, Signer, verify_signature};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Pass,
    /// Passed, with something the reader should know (expiring, in grace).
    Warn,
    /// Failed: the document is refused.
    Fail,
    /// Not applicable, or not reached because an earlier check failed.
    Skip,
}

impl Status {
    /// `ok`, `warn`, `FAIL`, `skip`: a word beside every state, for terminals without colour.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked: format, key, signature, endorsement, serial, not before, expiry.
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found, for people.
    pub detail: String,
}

/// Where a licence stands on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceState {
    /// In force, no expiry in sight.
    Valid,
    /// In force; expires within the warning period.
    Expiring {
        /// Last day in force.
        expires: NaiveDate,
        /// Days from the checking date to that day (0 on the day itself).
        days_left: i64,
    },
    /// Expired, still working during its grace period.
    Grace {
        /// The expiry day that passed.
        expired: NaiveDate,
        /// First day of termination.
        terminates: NaiveDate,
    },
    /// Past expiry and grace: grants nothing.
    Terminated {
        /// First day of termination.
        since: NaiveDate,
    },
}

impl LicenceState {
    /// `valid`, `expiring`, `grace` or `terminated`: the word `status --json` uses.
    pub fn word(self) -> &'static str {
        match self {
            LicenceState::Valid => "valid",
            LicenceState::Expiring { .. } => "expiring",
            LicenceState::Grace { .. } => "grace",
            LicenceState::Terminated { .. } => "terminated",
        }
    }

    /// Whether the licence still grants anything.
    pub fn in_force(self) -> bool {
        !matches!(self, LicenceState::Terminated { .. })
    }
}

/// Where a licence stands on `date`.
pub fn licence_state(licence: &Licence, date: NaiveDate) -> LicenceState {
    let Some(expiry) = licence.expiry else {
        return LicenceState::Valid;
    };
    let terminates = expiry
        .date
        .checked_add_days(chrono::Days::new(u64::from(expiry.grace_days) + 1))
        .unwrap_or(NaiveDate::MAX);
    if date <= expiry.date {
        let days_left = (expiry.date - date).num_days();
        if days_left <= EXPIRY_WARNING_DAYS {
            LicenceState::Expiring {
                expires: expiry.date,
                days_left,
            }
        } else {
            LicenceState::Valid
        }
    } else if date < terminates {
        LicenceState::Grace {
            expired: expiry.date,
            terminates,
        }
    } else {
        LicenceState::Terminated { since: terminates }
    }
}

/// What a verdict is asked about.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Trusted root keys.
    pub roots: &'a Roots,
    /// The installation serial the document must be for, if known.
    pub serial: Option<&'a str>,
    /// The day to judge on.
    pub date: NaiveDate,
    /// The kind the document must be, if any.
    pub expected: Option<DocumentKind>,
}

/// The outcome of [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The document, when it could be read.
    pub document: Option<SignedDocument>,
    /// Who signed it, when the signature verified.
    pub signer: Option<Signer>,
    /// For licences: where it stands on the date.
    pub state: Option<LicenceState>,
}

impl Verdict {
    /// Whether no check failed.
    pub fn is_valid(&self) -> bool {
        self.first_failure().is_none()
    }

    /// The first failed check, which names why the document is refused.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }
}

struct List(Vec<Check>);

impl List {
    fn push(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.0.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    /// Marks every remaining check of this document kind as not reached.
    fn skip_rest(&mut self, names: &[&'static str]) {
        for name in names {
            if !self.0.iter().any(|c| c.name == *name) {
                self.push(name, Status::Skip, "not checked: an earlier check failed");
            }
        }
    }
}

/// The checks of each kind, in order.
fn check_names(kind: Option<DocumentKind>) -> &'static [&'static str] {
    match kind {
        Some(DocumentKind::Licence) | None => &[
            "format",
            "key",
            "signature",
            "endorsement",
            "serial",
            "not before",
            "expiry",
        ],
        Some(DocumentKind::Request)
        | Some(DocumentKind::Request2)
        | Some(DocumentKind::UsageReport)
        | Some(DocumentKind::UsageReport2)
        | Some(DocumentKind::ClockRequest) => {
            &["format", "key", "signature", "serial", "not before"]
        }
        Some(DocumentKind::Endorsement) => &["format", "key", "signature", "not before", "expiry"],
        Some(DocumentKind::ClockCorrection) | Some(DocumentKind::Lease) => &[
            "format",
            "key",
            "signature",
            "serial",
            "not before",
            "expiry",
        ],
    }
}

/// Judges a document: every check, in order; the first failure stops the ones
/// that depend on it.
pub fn check(input: &[u8], policy: &Policy<'_>) -> Verdict {
    let mut list = List(Vec::new());
    let doc = match signed::read_structure(input) {
        Ok(doc) => doc,
        Err(e) => {
            list.push("format", Status::Fail, e.to_string());
            list.skip_rest(check_names(policy.expected));
            return Verdict {
                checks: list.0,
                document: None,
                signer: None,
                state: None,
            };
        }
    };
    let kind = doc.envelope.kind;
    let names = check_names(Some(kind));
    if let Some(expected) = policy.expected
        && !expected.accepts(kind)
    {
        list.push(
            "format",
            Status::Fail,
            format!(
                "this is a {}, not a {}",
                kind.describe(),
                expected.describe()
            ),
        );
        list.skip_rest(names);
        return Verdict {
            checks: list.0,
            document: Some(doc),
            signer: None,
            state: None,
        };
    }
    // The signature is checked before the content: when both fail, the file
    // was altered, and that is what the reader needs to hear.
    let signature = verify_signature(&doc, policy.roots);
    if signature.is_ok()
        && let Err(e) = signed::check_content(&doc)
    {
        list.push(
            "format",
            Status::Fail,
            format!("signed, but not valid: {e}"),
        );
        list.skip_rest(names);
        return Verdict {
            checks: list.0,
            document: Some(doc),
            signer: None,
            state: None,
        };
    }
    list.push(
        "format",
        Status::Pass,
        format!(
            "{}, format version {}",
            kind.describe(),
            crate::constants::FORMAT_VERSION
        ),
    );

    let signer = match signature {
        Ok(s) => s,
        Err(e) => {
            // Key problems and signature problems are different lines, so the
            // reader knows whether to ask for a key or for a fresh copy.
            let key_problem = matches!(
                e,
                crate::error::VerifyError::UnknownKey(_)
                    | crate::error::VerifyError::NotRoot { .. }
                    | crate::error::VerifyError::WeakKey(_)
                    | crate::error::VerifyError::EndorsementUnknownRoot(_)
                    | crate::error::VerifyError::EndorsementKeyMismatch { .. }
                    | crate::error::VerifyError::InstallationKeyMismatch { .. }
            );
            if key_problem {
                list.push("key", Status::Fail, e.to_string());
            } else {
                list.push("key", Status::Pass, format!("key {}", doc.envelope.key_id));
                list.push("signature", Status::Fail, e.to_string());
            }
            list.skip_rest(names);
            return Verdict {
                checks: list.0,
                document: Some(doc),
                signer: None,
                state: None,
            };
        }
    };
    let mut key_status = Status::Pass;
    let key_detail = match &signer {
        Signer::Root { name, key_id } => format!("{key_id}, trusted root \"{name}\""),
        Signer::Issuer {
            issuer,
            key_id,
            root,
            ..
        } => format!("{key_id}, issuer \"{issuer}\" endorsed by root \"{root}\""),
        // Policy knows roots, not installations: for a lease, the one key that
        // matters is the one the product trusts, so this says only "intact".
        Signer::Installation { key_id } if kind == DocumentKind::Lease => {
            key_status = Status::Warn;
            format!(
                "{key_id}, the installation key the lease carries, not compared with a trusted installation key: verify a lease with the installation's public key"
            )
        }
        Signer::Installation { key_id } => format!(
            "{key_id}, the installation key the document carries (a vendor checks it against its registry)"
        ),
    };
    list.push("key", key_status, key_detail);
    list.push("signature", Status::Pass, "ed25519, strict");

    let mut state = None;
    match &doc.document {
        Document::Licence(licence) => {
            endorsement_check(&mut list, &signer, licence, policy.date);
            serial_check(&mut list, &licence.serial, policy.serial);
            not_before_check(&mut list, licence.issued_at, policy.date);
            let s = licence_state(licence, policy.date);
            state = Some(s);
            let (status, detail) = match s {
                LicenceState::Valid => match licence.expiry {
                    None => (Status::Pass, "not time-limited".to_string()),
                    Some(e) => (Status::Pass, format!("expires {}", e.date)),
                },
                LicenceState::Expiring { expires, days_left } => (
                    Status::Warn,
                    format!("expires {expires}, in {days_left} days: ask the vendor for a renewal"),
                ),
                LicenceState::Grace {
                    expired,
                    terminates,
                } => (
                    Status::Warn,
                    format!(
                        "expired {expired}; in grace, terminated from {terminates}: import a renewed licence"
                    ),
                ),
                LicenceState::Terminated { since } => (
                    Status::Fail,
                    format!("terminated since {since} (expired and grace over)"),
                ),
            };
            list.push("expiry", status, detail);
        }
        Document::Request(r) => {
            serial_check(&mut list, &r.serial, policy.serial);
            not_before_check(&mut list, r.created_at, policy.date);
        }
        Document::UsageReport(r) => {
            serial_check(&mut list, &r.serial, policy.serial);
            not_before_check(&mut list, r.created_at, policy.date);
        }
        Document::Endorsement(e) => match endorsement_holds(e, policy.date) {
            Ok(()) => {
                list.push(
                    "not before",
                    Status::Pass,
                    format!("issued {}", e.issued_at),
                );
                list.push(
                    "expiry",
                    Status::Pass,
                    format!("endorsement holds until {}", e.until),
                );
            }
            Err(problem @ EndorsementProblem::PostDated { .. }) => {
                list.push("not before", Status::Fail, problem.to_string());
            }
            Err(problem) => {
                list.push(
                    "not before",
                    Status::Pass,
                    format!("issued {}", e.issued_at),
                );
                list.push("expiry", Status::Fail, problem.to_string());
            }
        },
        Document::ClockRequest(r) => {
            serial_check(&mut list, &r.serial, policy.serial);
            not_before_check(&mut list, r.created_at, policy.date);
        }
        Document::ClockCorrection(c) => {
            serial_check(&mut list, &c.serial, policy.serial);
            not_before_check(&mut list, c.time, policy.date);
            correction_expiry_check(&mut list, c, policy.date);
        }
        Document::Lease(l) => {
            serial_check(&mut list, &l.serial, policy.serial);
            not_before_check(&mut list, l.issued_at, policy.date);
            lease_expiry_check(&mut list, l, policy.date);
        }
    }
    list.skip_rest(names);
    Verdict {
        checks: list.0,
        document: Some(doc),
        signer: Some(signer),
        state,
    }
}

/// Why an issuer endorsement does not let an issuer's licence through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndorsementProblem {
    /// The endorsement was issued after the day it is judged on.
    #[error(
        "issuer \"{issuer}\"'s endorsement was issued {issued}, after the checking date {date}: the endorsement is post-dated or the clock is behind"
    )]
    PostDated {
        /// The issuer's name.
        issuer: String,
        /// When the root signed the endorsement.
        issued: Timestamp,
        /// The day it was judged on.
        date: NaiveDate,
    },
    /// The day judged on is after the endorsement's last day.
    #[error("issuer \"{issuer}\"'s endorsement expired {until}")]
    Expired {
        /// The issuer's name.
        issuer: String,
        /// The endorsement's last day.
        until: NaiveDate,
    },
    /// The licence is for a product the endorsement does not name.
    #[error(
        "issuer \"{issuer}\" is endorsed for {} but this licence is for product {product:?}",
        .products.join(", ")
    )]
    WrongProduct {
        /// The issuer's name.
        issuer: String,
        /// The products the endorsement names.
        products: Vec<String>,
        /// The licence's product.
        product: String,
    },
    /// The licence was issued after the endorsement's last day.
    #[error("licence issued {issued}, after issuer \"{issuer}\"'s endorsement ended {until}")]
    IssuedAfter {
        /// The issuer's name.
        issuer: String,
        /// The day the licence was issued (the earliest day there is, if its
        /// time is outside the calendar).
        issued: NaiveDate,
        /// The endorsement's last day.
        until: NaiveDate,
    },
}

/// Whether an issuer endorsement holds on `date`: issued on or before it, and
/// `date` on or before its last day.
///
/// The one judgement of an endorsement against a day, for a stand-alone
/// endorsement and for one carried in a licence alike, so that a post-dated
/// endorsement cannot pass by being carried.
pub fn endorsement_holds(
    endorsement: &Endorsement,
    date: NaiveDate,
) -> Result<(), EndorsementProblem> {
    // A time outside the calendar has no day: it counts as post-dated, never as valid.
    if endorsement.issued_at.date().is_none_or(|d| d > date) {
        return Err(EndorsementProblem::PostDated {
            issuer: endorsement.issuer.clone(),
            issued: endorsement.issued_at,
            date,
        });
    }
    if date > endorsement.until {
        return Err(EndorsementProblem::Expired {
            issuer: endorsement.issuer.clone(),
            until: endorsement.until,
        });
    }
    Ok(())
}

/// Whether `endorsement` lets its issuer's `licence` through on `date`: it
/// names the licence's product, holds on `date` ([`endorsement_holds`]), and
/// the licence was issued on or before its last day.
///
/// What a site checks of an issuer-signed licence, and what a vendor checks
/// before issuing one, so that a vendor does not ship a licence sites refuse.
pub fn endorsement_covers(
    endorsement: &Endorsement,
    licence: &Licence,
    date: NaiveDate,
) -> Result<(), EndorsementProblem> {
    if !endorsement.products.iter().any(|p| p == &licence.product) {
        return Err(EndorsementProblem::WrongProduct {
            issuer: endorsement.issuer.clone(),
            products: endorsement.products.clone(),
            product: licence.product.clone(),
        });
    }
    endorsement_holds(endorsement, date)?;
    let issued = licence.issued_at.date().unwrap_or(NaiveDate::MIN);
    if issued > endorsement.until {
        return Err(EndorsementProblem::IssuedAfter {
            issuer: endorsement.issuer.clone(),
            issued,
            until: endorsement.until,
        });
    }
    Ok(())
}

fn endorsement_check(list: &mut List, signer: &Signer, licence: &Licence, date: NaiveDate) {
    let Signer::Issuer {
        issuer,
        endorsement,
        ..
    } = signer
    else {
        list.push("endorsement", Status::Skip, "signed by a root: none needed");
        return;
    };
    match endorsement_covers(endorsement, licence, date) {
        Ok(()) => list.push(
            "endorsement",
            Status::Pass,
            format!(
                "issuer \"{issuer}\" endorsed for {} until {}",
                licence.product, endorsement.until
            ),
        ),
        Err(problem @ EndorsementProblem::Expired { .. }) => list.push(
            "endorsement",
            Status::Fail,
            format!("{problem}; ask the issuer for a licence under a current endorsement"),
        ),
        Err(problem) => list.push("endorsement", Status::Fail, problem.to_string()),
    }
}

/// A clock correction may be imported until its `valid_until`: it passes up
/// to and on that time's day, and fails after it.
fn correction_expiry_check(list: &mut List, correction: &ClockCorrection, date: NaiveDate) {
    match correction.valid_until.date() {
        Some(last) if date <= last => list.push(
            "expiry",
            Status::Pass,
            format!("may be imported until {}", correction.valid_until),
        ),
        Some(_) => list.push(
            "expiry",
            Status::Fail,
            format!(
                "the clock correction could be imported until {}: make a new clock request and ask the vendor for a fresh correction",
                correction.valid_until
            ),
        ),
        // Only a time outside the calendar has no day; it is never taken as valid.
        None => list.push(
            "expiry",
            Status::Fail,
            format!(
                "the clock correction's end {} is outside the calendar",
                correction.valid_until
            ),
        ),
    }
}

/// A policy judges a day: a lease passes when it still held as the day began,
/// and fails when it had run out by then. To the second, and against the
/// installation's key, a lease is judged by [`crate::lease::verify`].
fn lease_expiry_check(list: &mut List, lease: &Lease, date: NaiveDate) {
    let day_begins = date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
    if lease.not_after.0 > day_begins {
        list.push(
            "expiry",
            Status::Pass,
            format!("the lease runs until {}", lease.not_after),
        );
    } else {
        list.push(
            "expiry",
            Status::Fail,
            format!(
                "the lease ran out at {}, before {date}: the product asks for a new one",
                lease.not_after
            ),
        );
    }
}

fn serial_check(list: &mut List, serial: &str, wanted: Option<&str>) {
    match wanted {
        None => list.push(
            "serial",
            Status::Skip,
            format!("for serial {serial} (no installation serial given to compare)"),
        ),
        Some(w) if w == serial => list.push("serial", Status::Pass, format!("serial {serial}")),
        Some(w) => list.push(
            "serial",
            Status::Fail,
            format!("for serial {serial}, but this installation is {w}"),
        ),
    }
}

fn not_before_check(list: &mut List, issued: Timestamp, date: NaiveDate) {
    match issued.date() {
        Some(d) if d <= date => list.push("not before", Status::Pass, format!("issued {issued}")),
        _ => list.push(
            "not before",
            Status::Fail,
            format!(
                "issued {issued}, after the checking date {date}: the clock is behind or the file is post-dated"
            ),
        ),
    }
}
