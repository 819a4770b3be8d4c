//! Every single-bit change to a signed licence's envelope is refused, and so
//! is every one to a signed clock request, clock correction and lease.
//!
//! The envelope (the base64-decoded body) of a reference document has each bit
//! flipped in turn; the result is re-armored with `armor::write` and judged by
//! `policy::check`, which must refuse it at the format, key or signature line
//! (no flip may get as far as the content checks) and must never panic.
//!
//! The flipped files are re-armored without readable header lines, so that a
//! flip in the payload is caught by the signature rather than by a header
//! that no longer matches.
//!
//! Each flip costs one or two signature verifications, which in an unoptimised
//! build are milliseconds each, so the reference licence is a compact one that
//! still holds every kind of field; the flips are shared out over the cores.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::common::{
    LEASE_NOW, SERIAL, check_date, clock_correction, clock_request, day, installation_key,
    issuer_key, lease, money, root_key, roots, signed_endorsement, standard_endorsement,
};
use licfile::{
    AddOn, Contract, Document, DocumentKind, Expiry, Integration, Licence, Licensee,
    MeteredService, Plan, Policy, Roots, SeatPool, SecretKey, SignedDocument, Status,
    SystemLicence, Term, Timestamp, armor, policy, signed,
};

/// A licence with one of everything and short strings.
fn compact_licence() -> Licence {
    Licence {
        serial: SERIAL.into(),
        licence_id: "L-7".into(),
        sequence: 7,
        issued_at: Timestamp(1_767_607_200),
        product: "fieldsuite".into(),
        licensee: Licensee {
            company: "Northwind".into(),
            email: "a@nw.example".into(),
        },
        plan: Plan {
            name: "Go".into(),
            tier: 1,
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
        system_licences: vec![SystemLicence {
            name: "Server".into(),
            description: "Run".into(),
        }],
        seat_pools: vec![SeatPool {
            area: "Jobs".into(),
            licence: "User".into(),
            term: Term::Monthly,
            count: 5,
            storage_gb_per_seat: 20,
            price: money("52"),
            limited_to: vec!["Diary".into()],
        }],
        add_ons: vec![AddOn {
            name: "CRM".into(),
            count: 2,
            price: money("12.5"),
        }],
        integrations: vec![Integration {
            name: "BC".into(),
            follows_standard: false,
            count: 3,
            price: money("99"),
        }],
        metered_services: vec![MeteredService {
            name: "emails".into(),
            unit: "mails".into(),
            base_allowance: 5000,
            allowance_per_user: 200,
            overage_price: money("0.002"),
        }],
        overage_grace_days: 7,
        currency: "GBP".into(),
    }
}

/// The envelope bytes of the signed reference licence: the base64 body of its file.
fn envelope_of(key: &SecretKey, endorsement: Option<&SignedDocument>) -> Vec<u8> {
    envelope_of_document(&Document::Licence(compact_licence()), key, endorsement)
}

/// The envelope bytes of `doc` signed by `key`: the base64 body of its file.
fn envelope_of_document(
    doc: &Document,
    key: &SecretKey,
    endorsement: Option<&SignedDocument>,
) -> Vec<u8> {
    let text = signed::sign(doc, key, endorsement).expect("the reference document signs");
    armor::parse(text.as_bytes())
        .expect("the reference document parses")
        .body
}

/// What happened to one flip that was not refused as it should be.
fn judge_flip(bytes: &[u8], kind: DocumentKind, roots: &Roots) -> Option<String> {
    let text = armor::write(kind, &[], bytes);
    let policy = Policy {
        roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: None,
    };
    match catch_unwind(AssertUnwindSafe(|| policy::check(text.as_bytes(), &policy))) {
        Err(_) => Some("policy::check panicked".into()),
        Ok(verdict) => match verdict.first_failure() {
            None => Some("accepted".into()),
            Some(f) if !matches!(f.name, "format" | "key" | "signature") => Some(format!(
                "got past the signature, refused only by {:?}: {}",
                f.name, f.detail
            )),
            Some(_) => None,
        },
    }
}

/// Flips every bit of `envelope` (of a document of `kind`), in parallel, and
/// returns each flip not refused properly.
fn flip_every_bit(envelope: &[u8], kind: DocumentKind, roots: &Roots) -> Vec<String> {
    flip_every_bit_judged(envelope, &|bytes| judge_flip(bytes, kind, roots))
}

/// Flips every bit of `envelope`, in parallel, and returns what `judge` says
/// of each flip it finds wrong.
fn flip_every_bit_judged(
    envelope: &[u8],
    judge: &(dyn Fn(&[u8]) -> Option<String> + Sync),
) -> Vec<String> {
    let bits = envelope.len() * 8;
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let chunk = bits.div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut problems = Vec::new();
                    let mut bytes = envelope.to_vec();
                    for bit in (t * chunk)..((t + 1) * chunk).min(bits) {
                        let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
                        bytes[byte] ^= mask;
                        if let Some(problem) = judge(&bytes) {
                            problems.push(format!(
                                "byte {byte} bit {} (mask {mask:#04x}): {problem}",
                                bit % 8
                            ));
                        }
                        bytes[byte] ^= mask;
                    }
                    problems
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread panicked"))
            .collect()
    })
}

fn assert_reference_is_valid(envelope: &[u8], kind: DocumentKind, roots: &Roots) {
    let text = armor::write(kind, &[], envelope);
    let policy = Policy {
        roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: None,
    };
    let verdict = policy::check(text.as_bytes(), &policy);
    assert!(
        verdict.is_valid(),
        "the unflipped reference must be valid: {:#?}",
        verdict.checks
    );
    assert!(
        verdict.checks.iter().all(|c| c.status != Status::Warn),
        "{:#?}",
        verdict.checks
    );
}

#[test]
fn every_bit_flip_of_a_root_signed_licence_is_refused() {
    let roots = roots();
    let envelope = envelope_of(&root_key(), None);
    assert_reference_is_valid(&envelope, DocumentKind::Licence, &roots);
    let problems = flip_every_bit(&envelope, DocumentKind::Licence, &roots);
    assert!(
        problems.is_empty(),
        "{} of {} single-bit flips were not refused:\n{}",
        problems.len(),
        envelope.len() * 8,
        problems.join("\n")
    );
}

#[test]
fn every_bit_flip_of_an_issuer_signed_licence_is_refused() {
    let roots = roots();
    let endorsement = signed_endorsement(&standard_endorsement(), &root_key());
    let envelope = envelope_of(&issuer_key(), Some(&endorsement));
    assert_reference_is_valid(&envelope, DocumentKind::Licence, &roots);
    // The endorsement's own envelope is in there, byte for byte: its bits are flipped too.
    assert!(
        envelope
            .windows(endorsement.raw.len())
            .any(|w| w == endorsement.raw.as_slice())
    );
    let problems = flip_every_bit(&envelope, DocumentKind::Licence, &roots);
    assert!(
        problems.is_empty(),
        "{} of {} single-bit flips were not refused:\n{}",
        problems.len(),
        envelope.len() * 8,
        problems.join("\n")
    );
}

/// Flips every bit of `doc`'s envelope signed by `key` and asserts each is refused.
fn assert_every_flip_refused(doc: &Document, key: &SecretKey) {
    let roots = roots();
    let envelope = envelope_of_document(doc, key, None);
    assert_reference_is_valid(&envelope, doc.kind(), &roots);
    let problems = flip_every_bit(&envelope, doc.kind(), &roots);
    assert!(
        problems.is_empty(),
        "{} of {} single-bit flips of the {} were not refused:\n{}",
        problems.len(),
        envelope.len() * 8,
        doc.kind().describe(),
        problems.join("\n")
    );
}

#[test]
fn every_bit_flip_of_a_clock_request_is_refused() {
    let install = installation_key();
    assert_every_flip_refused(&Document::ClockRequest(clock_request(&install)), &install);
}

#[test]
fn every_bit_flip_of_a_clock_correction_is_refused() {
    assert_every_flip_refused(&Document::ClockCorrection(clock_correction()), &root_key());
}

#[test]
fn every_bit_flip_of_a_lease_is_refused_by_the_product_and_by_policy() {
    let install = installation_key();
    let envelope = envelope_of_document(&Document::Lease(lease(&install)), &install, None);
    let verify = |bytes: &[u8]| {
        let text = armor::write(DocumentKind::Lease, &[], bytes);
        licfile::lease::verify(text.as_bytes(), install.public(), Some(SERIAL), LEASE_NOW)
    };
    assert_eq!(
        verify(&envelope),
        Ok(lease(&install)),
        "the unflipped lease holds"
    );
    // What a product verifies with: no flip may get past the key and signature.
    let problems =
        flip_every_bit_judged(&envelope, &|bytes| match catch_unwind(AssertUnwindSafe(|| {
            verify(bytes)
        })) {
            Err(_) => Some("lease::verify panicked".into()),
            Ok(Ok(_)) => Some("accepted".into()),
            Ok(Err(e)) => (!matches!(e.code(), "malformed" | "untrusted_key" | "bad_signature"))
                .then(|| format!("got past the signature, refused only as {}: {e}", e.code())),
        });
    assert!(
        problems.is_empty(),
        "{} of {} single-bit flips of the lease were not refused by lease::verify:\n{}",
        problems.len(),
        envelope.len() * 8,
        problems.join("\n")
    );
    // And what `tessera verify` prints without the installation's key.
    let problems = flip_every_bit(&envelope, DocumentKind::Lease, &roots());
    assert!(
        problems.is_empty(),
        "{} of {} single-bit flips of the lease were not refused by policy::check:\n{}",
        problems.len(),
        envelope.len() * 8,
        problems.join("\n")
    );
}
