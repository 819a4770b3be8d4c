//! Tessera's signed licence-file format.
//!
//! A vendor signs **licences**; a site signs **licence requests**, **usage
//! reports**, **clock requests** and **leases** with its installation key (a
//! lease lets the licensed product keep a user working for a few hours while
//! the site cannot be asked, verified offline by [`lease::verify`]); a root key signs
//! **issuer endorsements** that let another key (an add-on vendor, a rotated key)
//! sign licences for named products, and **clock corrections** that answer a
//! clock request with the vendor's time. Each kind has its own signing context,
//! so a signature on one can never be replayed as another.
//!
//! The crate is layered: [`document`] (what each file carries), [`encoding`]
//! (bincode 2.0.1 in one fixed configuration), [`envelope`] (magic, version, key
//! id, payload, signature), [`armor`] (the text form), [`keys`], [`signed`]
//! (reading and signing whole files), [`verify`] (signatures and trust),
//! [`policy`] (the checklist `tessera verify` prints) and [`lease`] (a lease
//! against the installation key a product trusts). It takes bytes and values
//! and returns bytes and verdicts: no files, no clock, no printing.
//!
//! ```
//! use licfile::{Document, Policy, Roots, SecretKey, policy, sample, signed};
//!
//! let vendor = SecretKey::generate()?;
//! let text = signed::sign(&Document::Licence(sample::licence("NW-000123")), &vendor, None)?;
//!
//! let mut roots = Roots::new();
//! roots.add("vendor", *vendor.public());
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
//! let verdict = policy::check(
//!     text.as_bytes(),
//!     &Policy { roots: &roots, serial: Some("NW-000123"), date, expected: None },
//! );
//! assert!(verdict.is_valid());
//!
//! // One changed character and the file is refused.
//! let tampered = text.replacen("NW-000123", "NW-000124", 1);
//! assert!(!policy::check(tampered.as_bytes(), &Policy { roots: &roots, serial: None, date, expected: None }).is_valid());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod armor;
pub mod constants;
pub mod document;
pub mod encoding;
pub mod envelope;
pub mod error;
pub mod invoice;
pub mod keys;
pub mod lease;
pub mod policy;
pub mod registry;
pub mod report;
pub mod sample;
pub mod signed;
pub mod validate;
pub mod values;
pub mod verify;

pub use document::{
    AddOn, ClockCorrection, ClockRequest, Contract, CostLine, DailyPoolDays, Document,
    DocumentKind, Endorsement, Expiry, Integration, Lease, LeaseSeat, Licence, LicenceRequest,
    Licensee, MeteredService, MeteredUsage, ModuleChange, ModuleKind, Plan, PoolUsage, ReportChain,
    SeatAction, SeatChange, SeatPool, SystemLicence, Term, UsageReport, UserDays,
};
pub use error::{ArmorError, DecodeError, KeyError, LeaseError, SignError, VerifyError};
pub use keys::{KeyId, PublicKey, SecretKey};
pub use policy::{Check, EndorsementProblem, LicenceState, Policy, Status, Verdict};
pub use signed::{Inspected, SignedDocument};
pub use validate::ValidationError;
pub use values::{DaySet, Money, RawPublicKey, Timestamp, YearMonth};
pub use verify::{Roots, Signer, TrustedRoot};
