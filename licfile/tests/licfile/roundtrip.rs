//! Property tests: arbitrary valid documents survive every form they take
//! (signed file, bincode payload, JSON), and arbitrary input never panics a reader.
//!
//! The strategies generate only documents that `validate()` accepts, with text
//! drawn from all of Unicode except control characters, so that the readable
//! header lines are exercised with names no fixture would think of.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use licfile::document::CostLine;
use licfile::envelope::Envelope;
use licfile::verify::read_verified;
use licfile::{
    AddOn, ClockCorrection, ClockRequest, Contract, DailyPoolDays, DaySet, Document, DocumentKind,
    Endorsement, Expiry, Integration, Lease, LeaseSeat, Licence, LicenceRequest, Licensee,
    MeteredService, MeteredUsage, ModuleChange, ModuleKind, Money, Plan, Policy, PoolUsage,
    RawPublicKey, Roots, SeatAction, SeatChange, SeatPool, SecretKey, Signer, SystemLicence, Term,
    Timestamp, UsageReport, UserDays, YearMonth, armor, encoding, policy, signed,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::common;

// --- strategies ---------------------------------------------------------------

/// What `validate` calls an identifier.
fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,24}"
}

/// One-line text: no control characters, no surrounding white space, not empty.
fn text() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{1,24}".prop_map(|s| {
        let t = s.trim();
        if t.is_empty() {
            "x".to_string()
        } else {
            t.to_string()
        }
    })
}

fn optional_text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), text()]
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,16}@[a-z0-9-]{1,12}\\.[a-z]{2,6}"
}

fn currency() -> impl Strategy<Value = String> {
    "[A-Z]{3}"
}

/// A price as `validate` wants it: not negative, at most 6 decimals.
fn price() -> impl Strategy<Value = Money> {
    (0i64..1_000_000_000_000, 0u32..=6)
        .prop_map(|(units, scale)| Money::new(Decimal::new(units, scale)))
}

/// Any amount rust_decimal can hold: negative, 28 decimals, 96-bit mantissas.
fn any_money() -> impl Strategy<Value = Money> {
    let max = (1i128 << 96) - 1;
    prop_oneof![
        price(),
        (-max..=max, 0u32..=28)
            .prop_map(|(m, scale)| Money::new(Decimal::from_i128_with_scale(m, scale))),
    ]
}

/// Any day chrono knows (signed years past 9999 included), mostly near today.
fn date() -> impl Strategy<Value = NaiveDate> {
    let days = |a: NaiveDate, b: NaiveDate| {
        (a.num_days_from_ce()..=b.num_days_from_ce())
            .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap())
    };
    let near = days(
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2200, 12, 31).unwrap(),
    );
    prop_oneof![3 => near, 1 => days(NaiveDate::MIN, NaiveDate::MAX)]
}

/// Seconds from 1000-01-01 to 9999-12-31T23:59:59Z.
///
/// Not wider: a `Timestamp` outside years 0 to 9999 is written in JSON as
/// `+10000-…` or `@seconds`, which its own parser refuses, so such a document
/// signs and verifies but does not survive a JSON round trip.
fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-30_610_224_000i64..=253_402_300_799).prop_map(Timestamp)
}

fn raw_key() -> impl Strategy<Value = RawPublicKey> {
    any::<[u8; 32]>().prop_map(RawPublicKey)
}

fn term() -> impl Strategy<Value = Term> {
    prop_oneof![
        Just(Term::Contracted),
        Just(Term::Monthly),
        Just(Term::Daily)
    ]
}

fn licensee() -> impl Strategy<Value = Licensee> {
    (text(), email()).prop_map(|(company, email)| Licensee { company, email })
}

/// Keeps the first element of each key, as `validate` wants names unique.
fn unique_by<T, K: Eq + std::hash::Hash>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(key(i))).collect()
}

fn seat_pool() -> impl Strategy<Value = SeatPool> {
    (
        text(),
        text(),
        term(),
        0u32..=10_000_000,
        0u32..=100_000,
        price(),
        vec(text(), 0..3),
    )
        .prop_map(
            |(area, licence, term, count, storage_gb_per_seat, price, limited_to)| SeatPool {
                area,
                licence,
                term,
                count,
                storage_gb_per_seat,
                price,
                limited_to,
            },
        )
}

fn integration() -> impl Strategy<Value = Integration> {
    (text(), any::<bool>(), 0u32..=10_000_000, price()).prop_map(
        |(name, follows_standard, count, price)| Integration {
            name,
            follows_standard,
            count: if follows_standard { 0 } else { count },
            price,
        },
    )
}

fn metered_service() -> impl Strategy<Value = MeteredService> {
    (ident(), text(), any::<u64>(), any::<u64>(), price()).prop_map(
        |(name, unit, base_allowance, allowance_per_user, overage_price)| MeteredService {
            name,
            unit,
            base_allowance,
            allowance_per_user,
            overage_price,
        },
    )
}

fn licence() -> impl Strategy<Value = Licence> {
    let head = (
        ident(),
        ident(),
        1u64..,
        timestamp(),
        ident(),
        licensee(),
        (text(), any::<u32>()).prop_map(|(name, tier)| Plan { name, tier }),
        (date(), date(), any::<bool>(), 0u32..=366),
        proptest::option::of(
            (date(), 0u32..=366).prop_map(|(date, grace_days)| Expiry { date, grace_days }),
        ),
        0u32..=366,
        currency(),
    );
    let lists = (
        vec((text(), optional_text()), 0..4),
        vec(seat_pool(), 1..5),
        vec((text(), 0u32..=10_000_000, price()), 0..4),
        vec(integration(), 0..4),
        vec(metered_service(), 0..4),
    );
    (head, lists).prop_map(|(head, lists)| {
        let (
            serial,
            licence_id,
            sequence,
            issued_at,
            product,
            licensee,
            plan,
            contract,
            expiry,
            overage,
            currency,
        ) = head;
        let (system, pools, add_ons, integrations, metered) = lists;
        let (a, b, auto_renew, renewal_window_days) = contract;
        Licence {
            serial,
            licence_id,
            sequence,
            issued_at,
            product,
            licensee,
            plan,
            contract: Contract {
                start: a.min(b),
                end: a.max(b),
                auto_renew,
                renewal_window_days,
            },
            expiry,
            system_licences: unique_by(
                system
                    .into_iter()
                    .map(|(name, description)| SystemLicence { name, description })
                    .collect(),
                |s| s.name.to_lowercase(),
            ),
            seat_pools: unique_by(pools, |p| {
                (p.area.to_lowercase(), p.licence.to_lowercase(), p.term)
            }),
            add_ons: unique_by(
                add_ons
                    .into_iter()
                    .map(|(name, count, price)| AddOn { name, count, price })
                    .collect(),
                |a| a.name.to_lowercase(),
            ),
            integrations: unique_by(integrations, |i| i.name.to_lowercase()),
            metered_services: unique_by(metered, |m| m.name.to_lowercase()),
            overage_grace_days: overage,
            currency,
        }
    })
}

fn seat_change() -> impl Strategy<Value = SeatChange> {
    (
        text(),
        text(),
        term(),
        any::<bool>(),
        1u32..=10_000_000,
        date(),
    )
        .prop_map(|(area, licence, term, add, count, effective)| SeatChange {
            area,
            licence,
            term,
            action: if add {
                SeatAction::Add
            } else {
                SeatAction::Remove
            },
            count,
            effective,
        })
}

fn module_change() -> impl Strategy<Value = ModuleChange> {
    (
        text(),
        any::<bool>(),
        any::<bool>(),
        1u32..=10_000_000,
        date(),
    )
        .prop_map(|(name, add_on, add, count, effective)| ModuleChange {
            kind: if add_on {
                ModuleKind::AddOn
            } else {
                ModuleKind::Integration
            },
            name,
            action: if add {
                SeatAction::Add
            } else {
                SeatAction::Remove
            },
            count,
            effective,
        })
}

fn request() -> impl Strategy<Value = LicenceRequest> {
    (
        (
            ident(),
            ident(),
            timestamp(),
            raw_key(),
            licensee(),
            ident(),
            any::<u64>(),
        ),
        (
            vec(seat_change(), 1..4),
            vec(
                (text(), any_money()).prop_map(|(description, amount)| CostLine {
                    description,
                    amount,
                }),
                0..4,
            ),
            any_money(),
            currency(),
            optional_text(),
            // Format 1 (none) or format 2 (any number, even none).
            option::of(vec(module_change(), 0..3)),
        ),
    )
        .prop_map(|(head, tail)| {
            let (
                serial,
                request_id,
                created_at,
                installation_key,
                licensee,
                product,
                licence_sequence,
            ) = head;
            let (changes, costs, total, currency, note, modules) = tail;
            LicenceRequest {
                serial,
                request_id,
                created_at,
                installation_key,
                licensee,
                product,
                licence_sequence,
                changes,
                costs,
                total,
                currency,
                note,
                modules,
            }
        })
}

fn year_month() -> impl Strategy<Value = YearMonth> {
    (1000i32..=9999, 1u32..=12).prop_map(|(y, m)| YearMonth::new(y, m).unwrap())
}

fn usage_report() -> impl Strategy<Value = UsageReport> {
    let pool = (
        text(),
        text(),
        term(),
        any::<u32>(),
        any::<u32>(),
        any_money(),
    )
        .prop_map(
            |(area, licence, term, total, peak_in_use, price)| PoolUsage {
                area,
                licence,
                term,
                total,
                peak_in_use,
                price,
            },
        );
    let group = (text(), text(), vec((text(), vec(1u32..=31, 0..6)), 0..4));
    let metered = (ident(), any::<u64>(), any::<u64>(), any_money()).prop_map(
        |(name, used, threshold, overage_price)| MeteredUsage {
            name,
            used,
            threshold,
            excess: used.saturating_sub(threshold),
            overage_price,
        },
    );
    (
        (
            ident(),
            ident(),
            timestamp(),
            raw_key(),
            year_month(),
            any::<u64>(),
            (1u32..=5).prop_flat_map(|n| (1u32..=n, Just(n))),
        ),
        (
            vec(pool, 0..4),
            vec(group, 0..3),
            vec(metered, 0..4),
            any::<u64>(),
            any::<u64>(),
            currency(),
        ),
    )
        .prop_map(|(head, tail)| {
            let (serial, report_id, created_at, installation_key, month, licence_sequence, part) =
                head;
            let (part, parts) = part;
            let (
                mut pools,
                groups,
                mut metered,
                storage_used_bytes,
                storage_allowance_gb,
                currency,
            ) = tail;
            // Only part 1 carries the seats and metered services.
            if part != 1 {
                pools.clear();
                metered.clear();
            }
            let daily_user_days = unique_by(
                groups
                    .into_iter()
                    .map(|(area, licence, users)| DailyPoolDays {
                        area,
                        licence,
                        users: unique_by(
                            users
                                .into_iter()
                                .map(|(user, days)| {
                                    let mut set = DaySet::EMPTY;
                                    // Days of the reported month, each once.
                                    for d in days.into_iter().filter(|d| *d <= month.days()) {
                                        set.insert(d);
                                    }
                                    UserDays { user, days: set }
                                })
                                .filter(|u| !u.days.is_empty())
                                .collect(),
                            |u| u.user.clone(),
                        ),
                    })
                    .collect(),
                |g| (g.area.clone(), g.licence.clone()),
            );
            UsageReport {
                serial,
                report_id,
                part,
                parts,
                created_at,
                installation_key,
                month,
                licence_sequence,
                pools,
                daily_user_days,
                metered,
                storage_used_bytes,
                storage_allowance_gb,
                currency,
                chain: None,
            }
        })
}

fn endorsement() -> impl Strategy<Value = Endorsement> {
    (text(), raw_key(), vec(ident(), 1..4), timestamp(), date()).prop_map(
        |(issuer, issuer_key, products, issued_at, until)| Endorsement {
            issuer,
            issuer_key,
            products,
            issued_at,
            until,
        },
    )
}

fn clock_request() -> impl Strategy<Value = ClockRequest> {
    (
        ident(),
        raw_key(),
        timestamp(),
        timestamp(),
        any::<[u8; 16]>(),
    )
        .prop_map(
            |(serial, installation_key, high_water, created_at, nonce)| ClockRequest {
                serial,
                installation_key,
                high_water,
                created_at,
                nonce,
            },
        )
}

/// The longest a correction may be imported for, in seconds.
const CORRECTION_WINDOW: i64 = licfile::constants::CLOCK_CORRECTION_HOURS * 3600;

fn clock_correction() -> impl Strategy<Value = ClockCorrection> {
    // `valid_until` stays within [`timestamp`]'s range, for the JSON round trip.
    let time = (-30_610_224_000i64..=253_402_300_799 - CORRECTION_WINDOW).prop_map(Timestamp);
    (
        ident(),
        any::<[u8; 16]>(),
        time,
        1..=CORRECTION_WINDOW,
        timestamp(),
    )
        .prop_map(
            |(serial, nonce, time, window, corrected_mark)| ClockCorrection {
                serial,
                nonce,
                time,
                valid_until: Timestamp(time.0 + window),
                corrected_mark,
            },
        )
}

/// The longest a lease may last, in seconds.
const LEASE_LIFETIME: i64 = licfile::constants::LEASE_MAX_HOURS * 3600;

fn lease() -> impl Strategy<Value = Lease> {
    // `not_after` stays within [`timestamp`]'s range, for the JSON round trip.
    let issued = (-30_610_224_000i64..=253_402_300_799 - LEASE_LIFETIME).prop_map(Timestamp);
    let seat =
        (optional_text(), text(), text(), term()).prop_map(|(issuer, area, licence, term)| {
            LeaseSeat {
                issuer,
                area,
                licence,
                term,
            }
        });
    (
        ident(),
        text(),
        proptest::option::of(seat),
        issued,
        1..=LEASE_LIFETIME,
        raw_key(),
    )
        .prop_map(
            |(serial, user, seat, issued_at, lifetime, installation_key)| Lease {
                serial,
                user,
                seat,
                issued_at,
                not_after: Timestamp(issued_at.0 + lifetime),
                installation_key,
            },
        )
}

fn key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>()
        .prop_map(|seed| SecretKey::from_seed(&seed).expect("a random seed gives a strong key"))
}

// --- helpers --------------------------------------------------------------------

fn roots_of(key: &SecretKey) -> Roots {
    let mut roots = Roots::new();
    roots.add("root", *key.public());
    roots
}

/// Signs, reads back with verification, and checks the document and that
/// signing what was read gives the same file (one canonical encoding).
fn sign_read_verify(
    doc: &Document,
    key: &SecretKey,
    roots: &Roots,
) -> Result<Signer, TestCaseError> {
    prop_assert_eq!(
        doc.validate(),
        Ok(()),
        "the strategy made an invalid document"
    );
    let text = signed::sign(doc, key, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (read, signer) = read_verified(text.as_bytes(), doc.kind(), roots)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&read.document, doc);
    prop_assert_eq!(read.envelope.key_id, key.public().id());
    prop_assert_eq!(signed::sign(&read.document, key, None).unwrap(), text);
    Ok(signer)
}

fn encode_decode<T>(value: &T, kind: DocumentKind) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = encoding::encode(value, kind).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = encoding::decode(&bytes, kind).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(
        &encoding::encode(&back, kind).unwrap(),
        &bytes,
        "re-encoding is not byte-identical"
    );
    // One byte more or less is refused, never silently accepted.
    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert!(
        encoding::decode::<T>(&longer, kind).is_err(),
        "a trailing byte was accepted"
    );
    prop_assert!(
        encoding::decode::<T>(&bytes[..bytes.len() - 1], kind).is_err(),
        "a short payload was accepted"
    );
    Ok(())
}

fn json_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

/// Runs every reader on `input`; the point is that none panics.
fn read_everything(input: &[u8]) {
    let _ = armor::parse(input);
    let _ = signed::inspect(input);
    let roots = common::roots();
    let policy = Policy {
        roots: &roots,
        serial: Some(common::SERIAL),
        date: common::check_date(),
        expected: None,
    };
    let verdict = policy::check(input, &policy);
    assert!(!verdict.checks.is_empty());
}

// --- properties -----------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn licences_sign_read_and_verify(l in licence(), root in key()) {
        let signer = sign_read_verify(&Document::Licence(l), &root, &roots_of(&root))?;
        prop_assert_eq!(signer, Signer::Root { name: "root".into(), key_id: root.public().id() });
    }

    #[test]
    fn issuer_signed_licences_verify_through_their_endorsement(
        l in licence(), e in endorsement(), root in key(), issuer in key()
    ) {
        let mut e = e;
        e.issuer_key = issuer.public().raw();
        if !e.products.contains(&l.product) {
            e.products.push(l.product.clone());
        }
        let endorsement_text = signed::sign(&Document::Endorsement(e.clone()), &root, None).unwrap();
        let carried = signed::read(endorsement_text.as_bytes()).unwrap();
        let text = signed::sign(&Document::Licence(l.clone()), &issuer, Some(&carried)).unwrap();
        let (read, signer) = read_verified(text.as_bytes(), DocumentKind::Licence, &roots_of(&root))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(read.document, Document::Licence(l));
        prop_assert_eq!(read.endorsement.map(|c| c.endorsement), Some(e.clone()));
        match signer {
            Signer::Issuer { key_id, root_key_id, endorsement, .. } => {
                prop_assert_eq!(key_id, issuer.public().id());
                prop_assert_eq!(root_key_id, root.public().id());
                prop_assert_eq!(endorsement, e);
            }
            other => prop_assert!(false, "expected an issuer signer, got {:?}", other),
        }
        // The issuer alone is not a root.
        prop_assert!(read_verified(text.as_bytes(), DocumentKind::Licence, &roots_of(&issuer)).is_err());
    }

    #[test]
    fn requests_sign_read_and_verify(r in request(), installation in key()) {
        let mut r = r;
        r.installation_key = installation.public().raw();
        let signer = sign_read_verify(&Document::Request(r), &installation, &Roots::new())?;
        prop_assert_eq!(signer, Signer::Installation { key_id: installation.public().id() });
    }

    #[test]
    fn usage_reports_sign_read_and_verify(r in usage_report(), installation in key()) {
        let mut r = r;
        r.installation_key = installation.public().raw();
        let signer = sign_read_verify(&Document::UsageReport(r), &installation, &Roots::new())?;
        prop_assert_eq!(signer, Signer::Installation { key_id: installation.public().id() });
    }

    #[test]
    fn endorsements_sign_read_and_verify(e in endorsement(), root in key()) {
        let signer = sign_read_verify(&Document::Endorsement(e), &root, &roots_of(&root))?;
        prop_assert_eq!(signer, Signer::Root { name: "root".into(), key_id: root.public().id() });
    }

    #[test]
    fn clock_requests_sign_read_and_verify(r in clock_request(), installation in key()) {
        let mut r = r;
        r.installation_key = installation.public().raw();
        let signer = sign_read_verify(&Document::ClockRequest(r), &installation, &Roots::new())?;
        prop_assert_eq!(signer, Signer::Installation { key_id: installation.public().id() });
    }

    #[test]
    fn leases_sign_read_and_verify(l in lease(), installation in key(), other in key()) {
        let mut l = l;
        l.installation_key = installation.public().raw();
        let doc = Document::Lease(l.clone());
        let signer = sign_read_verify(&doc, &installation, &Roots::new())?;
        prop_assert_eq!(signer, Signer::Installation { key_id: installation.public().id() });
        // A product that trusts the installation takes it at any moment it holds,
        // and one that trusts another installation never does.
        let text = signed::sign(&doc, &installation, None).unwrap();
        let half = l.renew_at();
        prop_assert_eq!(
            licfile::lease::verify(text.as_bytes(), installation.public(), Some(&l.serial), half),
            Ok(l.clone())
        );
        let refused = licfile::lease::verify(text.as_bytes(), other.public(), None, half);
        prop_assert!(
            matches!(refused, Err(licfile::LeaseError::UntrustedKey { .. })),
            "{:?}", refused
        );
    }

    #[test]
    fn clock_corrections_sign_read_and_verify(c in clock_correction(), root in key(), other in key()) {
        let doc = Document::ClockCorrection(c);
        let signer = sign_read_verify(&doc, &root, &roots_of(&root))?;
        prop_assert_eq!(signer, Signer::Root { name: "root".into(), key_id: root.public().id() });
        // Any other key is refused: a correction is the roots' alone.
        let text = signed::sign(&doc, &other, None).unwrap();
        let refused = read_verified(text.as_bytes(), DocumentKind::ClockCorrection, &roots_of(&root));
        prop_assert!(
            matches!(refused, Err(licfile::VerifyError::NotRoot { .. })),
            "{:?}", refused
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn licences_encode_decode_and_json(l in licence()) {
        prop_assert_eq!(l.validate(), Ok(()));
        encode_decode(&l, DocumentKind::Licence)?;
        json_round_trip(&l)?;
    }

    #[test]
    fn requests_encode_decode_and_json(r in request()) {
        prop_assert_eq!(r.validate(), Ok(()));
        // Either format, as a document: format 2 carries the modules after format 1.
        let doc = Document::Request(r.clone());
        let bytes = encoding::encode_document(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(encoding::decode_document(doc.kind(), &bytes).ok(), Some(doc));
        // The struct alone is format 1 (the modules are not among its fields).
        let mut r = r;
        r.modules = None;
        encode_decode(&r, DocumentKind::Request)?;
        json_round_trip(&r)?;
    }

    #[test]
    fn usage_reports_encode_decode_and_json(r in usage_report()) {
        prop_assert_eq!(r.validate(), Ok(()));
        encode_decode(&r, DocumentKind::UsageReport)?;
        json_round_trip(&r)?;
    }

    #[test]
    fn endorsements_encode_decode_and_json(e in endorsement()) {
        prop_assert_eq!(e.validate(), Ok(()));
        encode_decode(&e, DocumentKind::Endorsement)?;
        json_round_trip(&e)?;
    }

    #[test]
    fn clock_requests_encode_decode_and_json(r in clock_request()) {
        prop_assert_eq!(r.validate(), Ok(()));
        encode_decode(&r, DocumentKind::ClockRequest)?;
        json_round_trip(&r)?;
    }

    #[test]
    fn clock_corrections_encode_decode_and_json(c in clock_correction()) {
        prop_assert_eq!(c.validate(), Ok(()));
        encode_decode(&c, DocumentKind::ClockCorrection)?;
        json_round_trip(&c)?;
    }

    #[test]
    fn leases_encode_decode_and_json(l in lease()) {
        prop_assert_eq!(l.validate(), Ok(()));
        encode_decode(&l, DocumentKind::Lease)?;
        json_round_trip(&l)?;
    }

    #[test]
    fn values_encode_decode_and_json(
        m in any_money(), t in timestamp(), d in date(), ym in year_month(), k in raw_key(), te in term()
    ) {
        encode_decode(&m, DocumentKind::Licence)?;
        json_round_trip(&m)?;
        encode_decode(&t, DocumentKind::Licence)?;
        json_round_trip(&t)?;
        encode_decode(&d, DocumentKind::Licence)?;
        json_round_trip(&d)?;
        encode_decode(&ym, DocumentKind::Licence)?;
        json_round_trip(&ym)?;
        encode_decode(&k, DocumentKind::Licence)?;
        json_round_trip(&k)?;
        encode_decode(&te, DocumentKind::Licence)?;
        json_round_trip(&te)?;
        // Money is kept normalised, so equal amounts sign equal bytes.
        let rescaled = Money::new(m.value() * Decimal::new(100, 2));
        prop_assert_eq!(
            encoding::encode(&rescaled, DocumentKind::Licence).unwrap(),
            encoding::encode(&m, DocumentKind::Licence).unwrap()
        );
    }

    #[test]
    fn armor_round_trips_any_body(
        body in vec(any::<u8>(), 1..600),
        serial in ident(),
        company in text(),
        kind in proptest::sample::select(DocumentKind::ALL.to_vec()),
    ) {
        let headers = [("Serial", serial.clone()), ("Licensee", company.clone())];
        let text = armor::write(kind, &headers, &body);
        let read = armor::parse(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read.kind, kind);
        prop_assert_eq!(read.body, body);
        prop_assert_eq!(read.headers, vec![("Serial", serial), ("Licensee", company)]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..2048)) {
        for kind in DocumentKind::ALL {
            let _ = encoding::decode_document(kind, &bytes);
        }
        let _ = Envelope::parse(&bytes);
        read_everything(armor::write(DocumentKind::Licence, &[], &bytes).as_bytes());
    }

    #[test]
    fn decoding_damaged_payloads_never_panics(
        l in licence(),
        damage in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encoding::encode(&l, DocumentKind::Licence).unwrap();
        for (at, value) in damage {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = encoding::decode_document(DocumentKind::Licence, &bytes);
        let _ = encoding::decode_document(DocumentKind::Licence, &bytes[..cut.index(bytes.len())]);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in any::<String>()) {
        read_everything(s.as_bytes());
    }

    #[test]
    fn parsing_arbitrary_armor_never_panics(
        label in prop_oneof![
            Just("TESSERA LICENCE"), Just("TESSERA LICENCE REQUEST"),
            Just("TESSERA USAGE REPORT"), Just("TESSERA ISSUER ENDORSEMENT"),
            Just("TESSERA CLOCK REQUEST"), Just("TESSERA CLOCK CORRECTION"),
            Just("TESSERA USAGE REPORT V2"), Just("TESSERA LEASE"), Just("TESSERA X"),
        ],
        lines in vec("[A-Za-z0-9+/= :\\-\t\r\u{feff}é]{0,80}", 0..12),
        end in any::<bool>(),
    ) {
        let mut text = format!("-----BEGIN {label}-----\n{}\n", lines.join("\n"));
        if end {
            text.push_str(&format!("-----END {label}-----\n"));
        }
        read_everything(text.as_bytes());
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..1024)) {
        read_everything(&bytes);
    }
}

// --- at the size limits -------------------------------------------------------

/// `l` grown with system licences until its payload is at least `size` bytes.
fn grown(mut l: Licence, size: usize) -> Licence {
    // Growing past the payload limit makes encode refuse: that is large enough too.
    while encoding::encode(&l, DocumentKind::Licence).is_ok_and(|b| b.len() < size) {
        l.system_licences.push(SystemLicence {
            name: format!("Module {:05}", l.system_licences.len()),
            description: "Allows a part of the system that the vendor describes at some length."
                .into(),
        });
    }
    l
}

#[test]
fn the_largest_payload_signs_into_a_file_that_reads() {
    // The payload limit and the file limit must agree: a payload just under the
    // limit, with the longest readable header, is still a readable file.
    let mut l = licfile::sample::licence(common::SERIAL);
    l.licensee.company = "\u{10348}".repeat(200); // 200 characters, 800 bytes of header
    let l = grown(l, licfile::constants::MAX_PAYLOAD_BYTES - 100);
    let root = common::root_key();
    let text = signed::sign(&Document::Licence(l.clone()), &root, None).expect("signs");
    let (read, _) =
        read_verified(text.as_bytes(), DocumentKind::Licence, &common::roots()).expect("reads");
    assert_eq!(read.document, Document::Licence(l.clone()));
    assert!(
        text.len() > 50_000,
        "the file is {} bytes: not near the limit",
        text.len()
    );

    // One more module and the payload is over the limit: signing refuses it.
    let over = grown(l, licfile::constants::MAX_PAYLOAD_BYTES + 1);
    let err = signed::sign(&Document::Licence(over), &root, None).unwrap_err();
    assert!(matches!(err, licfile::SignError::TooLarge { .. }), "{err}");
}

#[test]
fn sign_never_writes_a_file_that_read_refuses_as_too_large() {
    // A payload and a carried endorsement each within the payload limit can
    // together make a file over the file limit: sign must refuse to write it,
    // not hand the vendor a licence no site can read.
    let l = grown(licfile::sample::licence(common::SERIAL), 38_000);
    let mut e = common::standard_endorsement();
    e.products
        .extend((0..1000).map(|i| format!("product-{i:04}")));
    let carried = common::signed_endorsement(&e, &common::root_key());
    match signed::sign(
        &Document::Licence(l.clone()),
        &common::issuer_key(),
        Some(&carried),
    ) {
        Err(licfile::SignError::TooLarge { size, max, .. }) => {
            assert_eq!(max, licfile::constants::MAX_FILE_BYTES);
            assert!(size > max);
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(text) => {
            let read = read_verified(text.as_bytes(), DocumentKind::Licence, &common::roots());
            assert!(
                read.is_ok(),
                "sign wrote a {}-byte file that read refuses: {}",
                text.len(),
                read.unwrap_err()
            );
        }
    }
}

// --- the clock correction's window ----------------------------------------------

fn correction_from(time: i64, valid_until: i64) -> ClockCorrection {
    ClockCorrection {
        serial: common::SERIAL.into(),
        nonce: common::CLOCK_NONCE,
        time: Timestamp(time),
        valid_until: Timestamp(valid_until),
        corrected_mark: common::HIGH_WATER,
    }
}

#[test]
fn a_correction_is_importable_for_at_most_48_hours_after_its_time() {
    let t = common::clock_correction().time.0;
    assert_eq!(correction_from(t, t + 1).validate(), Ok(()));
    assert_eq!(correction_from(t, t + CORRECTION_WINDOW).validate(), Ok(()));
    for (valid_until, problem) in [
        (t + CORRECTION_WINDOW + 1, "more than 48 hours after time"),
        (t, "is not after time"),
        (t - 1, "is not after time"),
    ] {
        let err = correction_from(t, valid_until)
            .validate()
            .expect_err("refused");
        assert!(err.to_string().contains(problem), "{err}");
    }
    // The farthest-apart times there are: refused, not overflowed.
    for (time, valid_until) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN)] {
        assert!(correction_from(time, valid_until).validate().is_err());
    }
}

#[test]
fn a_clock_request_needs_a_serial() {
    let mut r = common::clock_request(&common::installation_key());
    assert_eq!(r.validate(), Ok(()));
    r.serial = String::new();
    assert!(r.validate().is_err());
    r.serial = "NW 000123".into();
    assert!(r.validate().is_err());
}
