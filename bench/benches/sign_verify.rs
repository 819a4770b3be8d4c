//! Signing and reading+verifying a complete licence, and the layers underneath.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench sign_verify`; figures and targets are in
//! docs/PERFORMANCE.md (target: `policy::check` of the sample licence at least
//! 20,000 a second on one core, i.e. at most 50 µs each).

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use licfile::envelope::Envelope;
use licfile::{
    Document, Policy, Roots, SecretKey, armor, encoding, policy, sample, signed, verify,
};

fn benches(c: &mut Criterion) {
    let key = SecretKey::from_seed(&[1; 32]).expect("seed [1; 32] is a valid key");
    let document = Document::Licence(sample::licence("NW-000123"));
    let text = signed::sign(&document, &key, None).expect("the sample licence signs");
    let bytes = text.as_bytes();
    let armored = armor::parse(bytes).expect("armor");
    let envelope = Envelope::parse_v1(&armored.body).expect("envelope");
    let mut roots = Roots::new();
    roots.add("bench root", *key.public());
    let date = NaiveDate::from_ymd_opt(2026, 6, 1).expect("a real date");
    let policy = Policy {
        roots: &roots,
        serial: Some("NW-000123"),
        date,
        expected: None,
    };
    assert!(policy::check(bytes, &policy).is_valid());
    let doc = signed::read(bytes).expect("read");

    let mut g = c.benchmark_group("licence");
    g.throughput(Throughput::Elements(1));
    // The vendor's side: validate, encode, sign, armor.
    g.bench_function("sign", |b| {
        b.iter(|| signed::sign(black_box(&document), &key, None))
    });
    // The whole of what `tessera verify` does in-process: read, verify, judge.
    g.bench_function("check (read + verify + policy)", |b| {
        b.iter(|| policy::check(black_box(bytes), &policy))
    });
    // Reading without trust: armor + envelope + decode + validate + header check.
    g.bench_function("read", |b| b.iter(|| signed::read(black_box(bytes))));
    // The parts.
    g.bench_function("armor parse", |b| b.iter(|| armor::parse(black_box(bytes))));
    g.bench_function("envelope parse", |b| {
        b.iter(|| Envelope::parse(black_box(&armored.body)))
    });
    g.bench_function("decode payload", |b| {
        b.iter(|| encoding::decode_document(envelope.kind, black_box(&envelope.payload)))
    });
    g.bench_function("validate", |b| {
        b.iter(|| black_box(&doc.document).validate())
    });
    g.bench_function("verify signature (ed25519 strict)", |b| {
        b.iter(|| verify::verify_signature(black_box(&doc), &roots))
    });
    g.finish();

    // A lease, as a product verifies it offline with the installation's key
    // (issue 14: leases verified per second on one core).
    let installation = SecretKey::from_seed(&[2; 32]).expect("seed [2; 32] is a valid key");
    let lease = licfile::Lease {
        serial: "NW-000123".into(),
        user: "tcarter".into(),
        seat: Some(licfile::LeaseSeat {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: "User".into(),
            term: licfile::Term::Monthly,
        }),
        issued_at: licfile::Timestamp(1_780_000_000),
        not_after: licfile::Timestamp(1_780_014_400),
        installation_key: installation.public().raw(),
    };
    let lease_doc = Document::Lease(lease);
    let lease_text = signed::sign(&lease_doc, &installation, None).expect("a lease");
    let now = licfile::Timestamp(1_780_003_600);
    let trusted = *installation.public();
    assert!(
        licfile::lease::verify(lease_text.as_bytes(), &trusted, Some("NW-000123"), now).is_ok()
    );
    let mut g = c.benchmark_group("lease");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| signed::sign(black_box(&lease_doc), &installation, None))
    });
    g.bench_function("verify (lease::verify)", |b| {
        b.iter(|| {
            licfile::lease::verify(
                black_box(lease_text.as_bytes()),
                &trusted,
                Some("NW-000123"),
                now,
            )
        })
    });
    g.finish();
}

criterion_group!(sign_verify, benches);
criterion_main!(sign_verify);
