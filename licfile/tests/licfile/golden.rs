//! Golden bytes: the format is field order plus one bincode configuration plus
//! the envelope layout, so every encoded struct and every envelope is pinned
//! here against a file under `tests/golden/`.
//!
//! A failure means files signed by an earlier build would no longer verify or
//! decode. The files are rewritten only under `TESSERA_BLESS=1`, for a
//! deliberate format change, and the diff is then reviewed like code.

use crate::common;

use crate::common::{
    LEASE_NOW, SERIAL, assert_golden_bytes, assert_golden_text, check_date, clock_correction,
    clock_request, day, installation_key, issuer_key, lease, money, request, request_2, root_key,
    roots, signed_endorsement, standard_endorsement, usage_report, usage_report_2,
};
use ed25519_dalek::{Signature, VerifyingKey};
use licfile::constants::{self, kind_byte};
use licfile::encoding::{self, decode, encode};
use licfile::envelope::{Envelope, Versioned};
use licfile::{
    Document, DocumentKind, Expiry, KeyId, Licence, Policy, RawPublicKey, SeatAction, Term,
    Timestamp, YearMonth, policy, sample, signed,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Encodes `value` the way payloads are encoded.
fn enc<T: Serialize>(value: &T) -> Vec<u8> {
    encode(value, DocumentKind::Licence).expect("encodes")
}

/// Pins `value`'s encoding and checks the pinned bytes decode back to `value`,
/// so that files written by earlier builds still read.
fn pin<T>(name: &str, what: &str, value: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = enc(value);
    assert_golden_bytes(name, what, &bytes);
    let back: T = decode(&bytes, DocumentKind::Licence)
        .unwrap_or_else(|e| panic!("{name}: pinned bytes do not decode: {e}"));
    assert_eq!(&back, value, "{name}: pinned bytes decode to another value");
}

fn licence() -> Licence {
    sample::licence(SERIAL)
}

// --- the configuration, by hand --------------------------------------------
//
// These do not read any file: they pin the bincode configuration itself
// (big-endian, fixed-width integers, u64 length prefixes), so a blessed golden
// file cannot hide a configuration change.

#[test]
fn integers_are_fixed_width_big_endian() {
    assert_eq!(enc(&1u32), [0, 0, 0, 1]);
    assert_eq!(enc(&0x0102_0304_0506_0708u64), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(enc(&true), [1]);
    assert_eq!(enc(&false), [0]);
}

#[test]
fn strings_and_vectors_carry_a_u64_length() {
    assert_eq!(enc(&"ab"), [0, 0, 0, 0, 0, 0, 0, 2, b'a', b'b']);
    assert_eq!(enc(&Vec::<u32>::new()), [0; 8]);
    assert_eq!(enc(&vec![7u32]), [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7]);
}

#[test]
fn options_are_a_tag_byte() {
    assert_eq!(enc(&None::<u32>), [0]);
    assert_eq!(enc(&Some(5u32)), [1, 0, 0, 0, 5]);
}

#[test]
fn money_is_a_normalised_decimal_string() {
    let twelve_fifty = [0, 0, 0, 0, 0, 0, 0, 4, b'1', b'2', b'.', b'5'];
    assert_eq!(enc(&money("12.5")), twelve_fifty);
    assert_eq!(
        enc(&money("12.50")),
        twelve_fifty,
        "12.50 and 12.5 must sign the same bytes"
    );
    assert_eq!(enc(&money("0.000")), [0, 0, 0, 0, 0, 0, 0, 1, b'0']);
    assert_eq!(
        enc(&money("100")),
        [0, 0, 0, 0, 0, 0, 0, 3, b'1', b'0', b'0']
    );
    assert_eq!(
        enc(&money("-0.25")),
        [0, 0, 0, 0, 0, 0, 0, 5, b'-', b'0', b'.', b'2', b'5']
    );
}

#[test]
fn timestamps_are_i64_seconds() {
    assert_eq!(enc(&Timestamp(1)), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(enc(&Timestamp(-1)), [0xff; 8]);
    assert_eq!(
        enc(&Timestamp(1_767_607_200)),
        1_767_607_200i64.to_be_bytes()
    );
}

#[test]
fn dates_and_months_are_iso_strings() {
    let mut date = vec![0, 0, 0, 0, 0, 0, 0, 10];
    date.extend_from_slice(b"2026-01-05");
    assert_eq!(enc(&day(2026, 1, 5)), date);
    let mut month = vec![0, 0, 0, 0, 0, 0, 0, 7];
    month.extend_from_slice(b"2026-05");
    assert_eq!(enc(&YearMonth::new(2026, 5).unwrap()), month);
}

#[test]
fn raw_keys_are_32_bytes_without_a_length() {
    let key: Vec<u8> = (0..32).collect();
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&key);
    assert_eq!(enc(&RawPublicKey(raw)), key);
}

#[test]
fn enums_are_a_u32_variant_index() {
    assert_eq!(enc(&Term::Contracted), [0, 0, 0, 0]);
    assert_eq!(enc(&Term::Monthly), [0, 0, 0, 1]);
    assert_eq!(enc(&Term::Daily), [0, 0, 0, 2]);
    assert_eq!(enc(&SeatAction::Add), [0, 0, 0, 0]);
    assert_eq!(enc(&SeatAction::Remove), [0, 0, 0, 1]);
}

#[test]
fn the_magic_values_are_the_format() {
    assert_eq!(&constants::MAGIC, b"TSRA");
    assert_eq!(constants::FORMAT_VERSION, 1);
    assert_eq!(constants::CONTEXT_SEPARATOR, 0);
    assert_eq!(constants::KEY_ID_LEN, 8);
    assert_eq!(constants::SIGNATURE_LEN, 64);
    assert_eq!(constants::MAX_FILE_BYTES, 65_536);
    assert_eq!(constants::MAX_PAYLOAD_BYTES, 40 * 1024);
    assert_eq!(constants::ARMOR_LINE_WIDTH, 64);
    assert_eq!(constants::CLOCK_CORRECTION_HOURS, 48);
    assert_eq!(constants::LEASE_MAX_HOURS, 168);
    assert_eq!(constants::LEASE_CLOCK_SKEW_SECONDS, 300);
    let table = [
        (
            DocumentKind::Licence,
            kind_byte::LICENCE,
            1,
            "tessera/licence/v1",
            "TESSERA LICENCE",
        ),
        (
            DocumentKind::Request,
            kind_byte::REQUEST,
            2,
            "tessera/request/v1",
            "TESSERA LICENCE REQUEST",
        ),
        (
            DocumentKind::UsageReport,
            kind_byte::USAGE_REPORT,
            3,
            "tessera/usage-report/v1",
            "TESSERA USAGE REPORT",
        ),
        (
            DocumentKind::Endorsement,
            kind_byte::ENDORSEMENT,
            4,
            "tessera/issuer/v1",
            "TESSERA ISSUER ENDORSEMENT",
        ),
        (
            DocumentKind::ClockRequest,
            kind_byte::CLOCK_REQUEST,
            5,
            "tessera/clock-request/v1",
            "TESSERA CLOCK REQUEST",
        ),
        (
            DocumentKind::ClockCorrection,
            kind_byte::CLOCK_CORRECTION,
            6,
            "tessera/clock/v1",
            "TESSERA CLOCK CORRECTION",
        ),
        (
            DocumentKind::UsageReport2,
            kind_byte::USAGE_REPORT_2,
            7,
            "tessera/usage-report/v2",
            "TESSERA USAGE REPORT V2",
        ),
        (
            DocumentKind::Lease,
            kind_byte::LEASE,
            8,
            "tessera/lease/v1",
            "TESSERA LEASE",
        ),
        (
            DocumentKind::Request2,
            kind_byte::REQUEST_2,
            9,
            "tessera/request/v2",
            "TESSERA LICENCE REQUEST V2",
        ),
    ];
    // Every kind is in the table, once: a kind added without a line here fails.
    assert_eq!(
        table.iter().map(|row| row.0).collect::<Vec<_>>(),
        DocumentKind::ALL,
        "every document kind, in envelope-byte order"
    );
    for (kind, byte, expected_byte, context, label) in table {
        assert_eq!(byte, expected_byte, "{kind:?} byte");
        assert_eq!(kind.byte(), expected_byte, "{kind:?}.byte()");
        assert_eq!(kind.context(), context, "{kind:?} context");
        assert_eq!(kind.label(), label, "{kind:?} label");
        assert_eq!(DocumentKind::from_byte(expected_byte), Some(kind));
        assert_eq!(DocumentKind::from_label(label), Some(kind));
    }
}

#[test]
fn key_ids_are_the_first_8_bytes_of_sha256() {
    let public = root_key().public().raw();
    let digest = Sha256::digest(public.0);
    assert_eq!(root_key().public().id().0, digest[..8]);
    assert_eq!(KeyId::of(&public.0).0, digest[..8]);
}

// --- the small values, pinned -------------------------------------------------

#[test]
fn golden_values() {
    pin(
        "money",
        "Money \"1234.50\" (normalised to 1234.5)",
        &money("1234.50"),
    );
    pin("money-fraction", "Money \"0.002\"", &money("0.002"));
    pin(
        "timestamp",
        "Timestamp(1_767_607_200), 2026-01-05T10:00:00Z",
        &Timestamp(1_767_607_200),
    );
    pin("naive-date", "NaiveDate 2026-01-05", &day(2026, 1, 5));
    pin(
        "year-month",
        "YearMonth 2026-05",
        &YearMonth::new(2026, 5).unwrap(),
    );
    pin(
        "raw-public-key",
        "RawPublicKey of the key from seed [1;32]",
        &root_key().public().raw(),
    );
    pin(
        "term",
        "[Term::Contracted, Term::Monthly, Term::Daily]",
        &Term::ALL,
    );
    pin(
        "seat-action",
        "[SeatAction::Add, SeatAction::Remove]",
        &[SeatAction::Add, SeatAction::Remove],
    );
}

// --- the documents and the structs inside them --------------------------------

#[test]
fn golden_licence_parts() {
    let l = licence();
    pin("licensee", "sample licence .licensee", &l.licensee);
    pin("plan", "sample licence .plan", &l.plan);
    pin("contract", "sample licence .contract", &l.contract);
    pin("expiry", "sample licence .expiry (Some)", &l.expiry);
    pin("expiry-none", "Option<Expiry>::None", &None::<Expiry>);
    pin(
        "system-licence",
        "sample licence .system_licences[0]",
        &l.system_licences[0],
    );
    pin(
        "seat-pool",
        "sample licence .seat_pools[0] (no limited_to)",
        &l.seat_pools[0],
    );
    pin(
        "seat-pool-limited",
        "sample licence .seat_pools[5] (limited_to set)",
        &l.seat_pools[5],
    );
    pin("add-on", "sample licence .add_ons[0]", &l.add_ons[0]);
    pin(
        "integration-standard",
        "sample licence .integrations[0]",
        &l.integrations[0],
    );
    pin(
        "integration-own-count",
        "sample licence .integrations[2]",
        &l.integrations[2],
    );
    pin(
        "metered-service",
        "sample licence .metered_services[0]",
        &l.metered_services[0],
    );
}

#[test]
fn golden_licence() {
    pin(
        "licence",
        "licfile::sample::licence(\"NW-000123\")",
        &licence(),
    );
}

#[test]
fn golden_request() {
    let r = request(&installation_key());
    pin("seat-change", "fixture request .changes[1]", &r.changes[1]);
    pin("cost-line", "fixture request .costs[0]", &r.costs[0]);
    pin(
        "request",
        "fixture LicenceRequest (tests/licfile/common.rs), installation key seed [4;32]",
        &r,
    );
}

#[test]
fn golden_request_2() {
    let r = request_2(&installation_key());
    pin(
        "module-change",
        "fixture request 2 .modules[1]: one Visma Admin integration licence fewer from 2027-01-01",
        &r.module_changes()[1],
    );
    let doc = Document::Request(r);
    assert_eq!(doc.kind(), DocumentKind::Request2);
    let bytes = encoding::encode_document(&doc).unwrap();
    assert_golden_bytes(
        "request-2",
        "fixture request in format 2 (tests/licfile/common.rs), installation key seed [4;32]",
        &bytes,
    );
    assert_eq!(
        encoding::decode_document(DocumentKind::Request2, &bytes).unwrap(),
        doc
    );
}

#[test]
fn a_format_2_request_is_format_1_then_the_modules() {
    // By hand: format 1's payload unchanged, then the modules as a sequence
    // (a u64 count, then each change's fields in order).
    let r = request_2(&installation_key());
    let mut v1 = r.clone();
    v1.modules = None;
    let mut expected = enc(&v1);
    let modules = r.module_changes();
    expected.extend_from_slice(&(modules.len() as u64).to_be_bytes());
    for m in modules {
        expected.extend_from_slice(&enc(m));
    }
    let v2 = encoding::encode_document(&Document::Request(r)).unwrap();
    assert_eq!(v2, expected);
    // Neither reads as the other: format 1 finds trailing bytes, format 2 runs out.
    let v1 = enc(&v1);
    assert!(encoding::decode_document(DocumentKind::Request, &v2).is_err());
    assert!(encoding::decode_document(DocumentKind::Request2, &v1).is_err());
    // The kinds byte by byte: an add-on is 0, an integration 1 (enum position, u32).
    assert_eq!(enc(&licfile::ModuleKind::AddOn), [0, 0, 0, 0]);
    assert_eq!(enc(&licfile::ModuleKind::Integration), [0, 0, 0, 1]);
}

#[test]
fn golden_usage_report() {
    let r = usage_report(&installation_key());
    pin("pool-usage", "fixture usage report .pools[0]", &r.pools[0]);
    pin(
        "daily-pool-days",
        "fixture usage report .daily_user_days[0]",
        &r.daily_user_days[0],
    );
    pin(
        "user-days",
        "fixture usage report .daily_user_days[0].users[0]",
        &r.daily_user_days[0].users[0],
    );
    pin(
        "metered-usage",
        "fixture usage report .metered[0]",
        &r.metered[0],
    );
    pin(
        "usage-report",
        "fixture UsageReport (tests/licfile/common.rs), installation key seed [4;32]",
        &r,
    );
}

#[test]
fn golden_usage_report_2() {
    let r = usage_report_2(&installation_key());
    let chain = r.chain.clone().expect("a chain");
    pin(
        "report-chain",
        "fixture usage report 2 .chain: event 812, head [7;32], after USE-2026-04",
        &chain,
    );
    let doc = Document::UsageReport(r);
    assert_eq!(doc.kind(), DocumentKind::UsageReport2);
    let bytes = encoding::encode_document(&doc).unwrap();
    assert_golden_bytes(
        "usage-report-2",
        "fixture usage report in format 2 (tests/licfile/common.rs), installation key seed [4;32]",
        &bytes,
    );
    assert_eq!(
        encoding::decode_document(DocumentKind::UsageReport2, &bytes).unwrap(),
        doc
    );
}

#[test]
fn a_format_2_report_is_format_1_then_the_chain() {
    // By hand: format 1's payload unchanged, then the chain's three fields
    // (u64, 32 bare bytes, an Option tag and a u64-prefixed string).
    let v1 = enc(&usage_report(&installation_key()));
    let mut expected = v1.clone();
    expected.extend_from_slice(&812u64.to_be_bytes());
    expected.extend_from_slice(&[7; 32]);
    expected.push(1);
    expected.extend_from_slice(&("USE-2026-04".len() as u64).to_be_bytes());
    expected.extend_from_slice(b"USE-2026-04");
    let v2 = encoding::encode_document(&Document::UsageReport(usage_report_2(&installation_key())))
        .unwrap();
    assert_eq!(v2, expected);
    // Neither reads as the other: format 1 finds trailing bytes, format 2 runs out.
    assert!(encoding::decode_document(DocumentKind::UsageReport, &v2).is_err());
    assert!(encoding::decode_document(DocumentKind::UsageReport2, &v1).is_err());
}

#[test]
fn golden_endorsement() {
    pin(
        "endorsement",
        "fixture Endorsement of the key from seed [2;32] for fieldsuite until 2027-12-31",
        &standard_endorsement(),
    );
}

#[test]
fn golden_clock_documents() {
    pin(
        "clock-request",
        "fixture ClockRequest (tests/licfile/common.rs), installation key seed [4;32]",
        &clock_request(&installation_key()),
    );
    pin(
        "clock-correction",
        "fixture ClockCorrection (tests/licfile/common.rs): time 2026-05-31T12:00:00Z, valid until 2026-06-02T12:00:00Z",
        &clock_correction(),
    );
}

#[test]
fn clock_documents_are_their_fields_in_order_with_no_lengths() {
    // By hand, not from a file: the five fields back to back, the nonce as 16
    // bare bytes (a fixed-size array has no length prefix), timestamps as i64.
    let c = clock_correction();
    let mut expected = Vec::new();
    expected.extend_from_slice(&(SERIAL.len() as u64).to_be_bytes());
    expected.extend_from_slice(SERIAL.as_bytes());
    expected.extend_from_slice(&c.nonce);
    expected.extend_from_slice(&c.time.0.to_be_bytes());
    expected.extend_from_slice(&c.valid_until.0.to_be_bytes());
    expected.extend_from_slice(&c.corrected_mark.0.to_be_bytes());
    assert_eq!(enc(&c), expected);

    let r = clock_request(&installation_key());
    let mut expected = Vec::new();
    expected.extend_from_slice(&(SERIAL.len() as u64).to_be_bytes());
    expected.extend_from_slice(SERIAL.as_bytes());
    expected.extend_from_slice(&r.installation_key.0);
    expected.extend_from_slice(&r.high_water.0.to_be_bytes());
    expected.extend_from_slice(&r.created_at.0.to_be_bytes());
    expected.extend_from_slice(&r.nonce);
    assert_eq!(enc(&r), expected);
}

#[test]
fn golden_lease() {
    let l = lease(&installation_key());
    pin(
        "lease-seat",
        "fixture lease .seat: the vendor's Jobs User (monthly) pool",
        &l.seat,
    );
    pin(
        "lease",
        "fixture Lease (tests/licfile/common.rs): tcarter of NW-000123, 2026-06-01T08:00:00Z to 16:00:00Z, installation key seed [4;32]",
        &l,
    );
    let owner = licfile::Lease {
        user: "alice".into(),
        seat: None,
        ..l
    };
    pin(
        "lease-no-seat",
        "fixture lease for alice, an Owner/manager who holds no seat",
        &owner,
    );
}

#[test]
fn a_lease_is_its_fields_in_order_with_no_framing() {
    // By hand, not from a file, as docs/PROTOCOL.md lays it out: strings with
    // a u64 length, the seat behind an Option tag byte, the term a u32, times
    // i64 seconds, the key 32 bare bytes.
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u64).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let l = lease(&installation_key());
    let mut expected = Vec::new();
    string(&mut expected, "NW-000123");
    string(&mut expected, "tcarter");
    expected.push(1);
    string(&mut expected, "");
    string(&mut expected, "Jobs");
    string(&mut expected, "User");
    expected.extend_from_slice(&1u32.to_be_bytes());
    expected.extend_from_slice(&1_780_300_800i64.to_be_bytes());
    expected.extend_from_slice(&1_780_329_600i64.to_be_bytes());
    expected.extend_from_slice(&installation_key().public().raw().0);
    assert_eq!(enc(&l), expected);
    assert_eq!(expected.len(), 117, "the size docs/PROTOCOL.md gives");

    let seatless = licfile::Lease { seat: None, ..l };
    let mut expected = Vec::new();
    string(&mut expected, "NW-000123");
    string(&mut expected, "tcarter");
    expected.push(0);
    expected.extend_from_slice(&1_780_300_800i64.to_be_bytes());
    expected.extend_from_slice(&1_780_329_600i64.to_be_bytes());
    expected.extend_from_slice(&installation_key().public().raw().0);
    assert_eq!(enc(&seatless), expected);
}

#[test]
fn document_payloads_are_the_struct_encodings() {
    // encode_document must not wrap the payload (no enum tag, no length).
    let docs = [
        Document::Licence(licence()),
        Document::Request(request(&installation_key())),
        Document::UsageReport(usage_report(&installation_key())),
        Document::Endorsement(standard_endorsement()),
        Document::ClockRequest(clock_request(&installation_key())),
        Document::ClockCorrection(clock_correction()),
        Document::Lease(lease(&installation_key())),
    ];
    for doc in docs {
        let direct = match &doc {
            Document::Licence(d) => enc(d),
            Document::Request(d) => enc(d),
            Document::UsageReport(d) => enc(d),
            Document::Endorsement(d) => enc(d),
            Document::ClockRequest(d) => enc(d),
            Document::ClockCorrection(d) => enc(d),
            Document::Lease(d) => enc(d),
        };
        assert_eq!(
            encoding::encode_document(&doc).unwrap(),
            direct,
            "{:?}",
            doc.kind()
        );
        assert_eq!(encoding::decode_document(doc.kind(), &direct).unwrap(), doc);
    }
}

// --- envelopes ----------------------------------------------------------------

fn envelope_bytes(
    doc: &Document,
    key: &licfile::SecretKey,
    with: Option<&licfile::SignedDocument>,
) -> Vec<u8> {
    signed::sign_envelope(doc, key, with).expect("signs").1
}

/// Every pinned envelope: file name, what it is, its bytes as signed now.
fn envelopes() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let root = root_key();
    let install = installation_key();
    let endorsement = signed_endorsement(&standard_endorsement(), &root);
    vec![
        (
            "envelope-licence",
            "envelope of the sample licence signed by the root key (seed [1;32])",
            envelope_bytes(&Document::Licence(licence()), &root, None),
        ),
        (
            "envelope-licence-issuer",
            "envelope of the sample licence signed by the issuer key (seed [2;32]), carrying its endorsement",
            envelope_bytes(
                &Document::Licence(licence()),
                &issuer_key(),
                Some(&endorsement),
            ),
        ),
        (
            "envelope-request",
            "envelope of the fixture request signed by the installation key (seed [4;32])",
            envelope_bytes(&Document::Request(request(&install)), &install, None),
        ),
        (
            "envelope-request-2",
            "envelope of the fixture request in format 2 signed by the installation key (seed [4;32])",
            envelope_bytes(&Document::Request(request_2(&install)), &install, None),
        ),
        (
            "envelope-usage-report",
            "envelope of the fixture usage report signed by the installation key (seed [4;32])",
            envelope_bytes(
                &Document::UsageReport(usage_report(&install)),
                &install,
                None,
            ),
        ),
        (
            "envelope-usage-report-2",
            "envelope of the fixture usage report in format 2 signed by the installation key (seed [4;32])",
            envelope_bytes(
                &Document::UsageReport(usage_report_2(&install)),
                &install,
                None,
            ),
        ),
        (
            "envelope-endorsement",
            "envelope of the fixture endorsement signed by the root key (seed [1;32])",
            envelope_bytes(&Document::Endorsement(standard_endorsement()), &root, None),
        ),
        (
            "envelope-clock-request",
            "envelope of the fixture clock request signed by the installation key (seed [4;32])",
            envelope_bytes(
                &Document::ClockRequest(clock_request(&install)),
                &install,
                None,
            ),
        ),
        (
            "envelope-clock-correction",
            "envelope of the fixture clock correction signed by the root key (seed [1;32])",
            envelope_bytes(&Document::ClockCorrection(clock_correction()), &root, None),
        ),
        (
            "envelope-lease",
            "envelope of the fixture lease signed by the installation key (seed [4;32])",
            envelope_bytes(&Document::Lease(lease(&install)), &install, None),
        ),
    ]
}

fn check_envelope_goldens() {
    for (name, what, bytes) in envelopes() {
        assert_golden_bytes(name, what, &bytes);
    }
}

/// The bytes of a pinned envelope file; under `TESSERA_BLESS=1` the files are
/// written first, once, so that tests reading them do not race the writer.
fn pinned_envelope(name: &str) -> Vec<u8> {
    static BLESSED: std::sync::Once = std::sync::Once::new();
    if common::blessing() {
        BLESSED.call_once(check_envelope_goldens);
    }
    let text = std::fs::read_to_string(common::test_path(&format!("golden/{name}.hex")))
        .unwrap_or_else(|e| panic!("{name}.hex: {e}; generate it with TESSERA_BLESS=1"));
    common::from_hex_lines(&text).unwrap_or_else(|e| panic!("{name}.hex: {e}"))
}

#[test]
fn golden_envelopes() {
    check_envelope_goldens();
}

/// Reads a big-endian u32 length at `at`.
fn len_at(bytes: &[u8], at: usize) -> usize {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

/// Walks an envelope by the documented offsets, independently of `Envelope::parse`,
/// and checks the signature with ed25519-dalek directly.
fn check_layout(
    bytes: &[u8],
    kind: DocumentKind,
    payload: &[u8],
    signer: &RawPublicKey,
) -> Option<Vec<u8>> {
    assert_eq!(&bytes[0..4], b"TSRA", "magic");
    assert_eq!(bytes[4], 1, "format version");
    assert_eq!(bytes[5], kind.byte(), "kind byte");
    assert_eq!(bytes[6..14], Sha256::digest(signer.0)[..8], "key id");
    assert_eq!(len_at(bytes, 14), payload.len(), "payload length");
    let payload_end = 18 + payload.len();
    assert_eq!(&bytes[18..payload_end], payload, "payload bytes");
    let endorsement_len = len_at(bytes, payload_end);
    let endorsement_end = payload_end + 4 + endorsement_len;
    let signature: [u8; 64] = bytes[endorsement_end..]
        .try_into()
        .expect("exactly 64 signature bytes at the end");

    let mut message = kind.context().as_bytes().to_vec();
    message.push(0);
    message.extend_from_slice(payload);
    let key = VerifyingKey::from_bytes(&signer.0).unwrap();
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .expect("the signature covers context || 0x00 || payload");
    (endorsement_len > 0).then(|| bytes[payload_end + 4..endorsement_end].to_vec())
}

#[test]
fn envelope_layout_is_as_documented() {
    let root = root_key();
    let doc = Document::Licence(licence());
    let payload = encoding::encode_document(&doc).unwrap();
    let bytes = envelope_bytes(&doc, &root, None);
    assert_eq!(bytes.len(), 4 + 1 + 1 + 8 + 4 + payload.len() + 4 + 64);
    assert_eq!(
        check_layout(
            &bytes,
            DocumentKind::Licence,
            &payload,
            &root.public().raw()
        ),
        None
    );

    // An issuer-signed licence carries the endorsement's whole envelope, byte for byte.
    let endorsement = signed_endorsement(&standard_endorsement(), &root);
    let bytes = envelope_bytes(&doc, &issuer_key(), Some(&endorsement));
    let carried = check_layout(
        &bytes,
        DocumentKind::Licence,
        &payload,
        &issuer_key().public().raw(),
    )
    .expect("an endorsement is carried");
    assert_eq!(carried, endorsement.raw);
    let endorsement_payload = encoding::encode_document(&endorsement.document).unwrap();
    assert_eq!(
        check_layout(
            &carried,
            DocumentKind::Endorsement,
            &endorsement_payload,
            &root.public().raw()
        ),
        None
    );
}

#[test]
fn envelope_parse_and_to_bytes_agree_with_the_golden_files() {
    for name in [
        "envelope-licence",
        "envelope-licence-issuer",
        "envelope-request",
        "envelope-usage-report",
        "envelope-endorsement",
        "envelope-clock-request",
        "envelope-clock-correction",
        "envelope-lease",
    ] {
        let bytes = pinned_envelope(name);
        let Versioned::V1(envelope) = Envelope::parse(&bytes).unwrap() else {
            panic!("{name}: not version 1");
        };
        assert_eq!(
            envelope.to_bytes(),
            bytes,
            "{name}: parse then to_bytes is not the identity"
        );
        // The pinned payload still decodes and is still valid content.
        let doc = encoding::decode_document(envelope.kind, &envelope.payload).unwrap();
        doc.validate().unwrap();
    }
}

#[test]
fn unknown_versions_are_named_not_parsed() {
    let mut bytes = envelope_bytes(&Document::Licence(licence()), &root_key(), None);
    bytes[4] = 2;
    assert_eq!(
        Envelope::parse(&bytes),
        Ok(Versioned::Unknown { version: 2 })
    );
    // Nothing after the version byte is read: even a bare prefix names the version.
    assert_eq!(
        Envelope::parse(b"TSRA\x07"),
        Ok(Versioned::Unknown { version: 7 })
    );
}

// --- a whole signed file ------------------------------------------------------

#[test]
fn golden_armored_licence() {
    let text = signed::sign(&Document::Licence(licence()), &root_key(), None).unwrap();
    assert_golden_text("golden/licence.txt", &text);

    // The pinned file is a valid licence today, for the roots and serial it was made for.
    let pinned = std::fs::read(common::test_path("golden/licence.txt")).unwrap();
    let roots = roots();
    let verdict = policy::check(
        &pinned,
        &Policy {
            roots: &roots,
            serial: Some(SERIAL),
            date: check_date(),
            expected: Some(DocumentKind::Licence),
        },
    );
    assert!(verdict.is_valid(), "{:#?}", verdict.checks);
    let doc = verdict.document.unwrap();
    assert_eq!(doc.document, Document::Licence(licence()));
    assert_eq!(
        doc.headers,
        vec![
            ("Serial", SERIAL.to_string()),
            ("Licensee", "Northwind Heating & Plumbing Ltd".to_string()),
            ("Expires", "2027-01-31".to_string()),
            ("Key", root_key().public().id().to_string()),
        ]
    );
}

#[test]
fn golden_armored_documents_of_every_kind_decode() {
    // Requests, reports, endorsements and clock documents decode from their
    // pinned envelopes into the fixtures.
    let pairs: [(&str, Document); 8] = [
        (
            "envelope-request",
            Document::Request(request(&installation_key())),
        ),
        (
            "envelope-request-2",
            Document::Request(request_2(&installation_key())),
        ),
        (
            "envelope-usage-report",
            Document::UsageReport(usage_report(&installation_key())),
        ),
        (
            "envelope-usage-report-2",
            Document::UsageReport(usage_report_2(&installation_key())),
        ),
        (
            "envelope-endorsement",
            Document::Endorsement(standard_endorsement()),
        ),
        (
            "envelope-clock-request",
            Document::ClockRequest(clock_request(&installation_key())),
        ),
        (
            "envelope-clock-correction",
            Document::ClockCorrection(clock_correction()),
        ),
        (
            "envelope-lease",
            Document::Lease(lease(&installation_key())),
        ),
    ];
    for (name, expected) in pairs {
        let bytes = pinned_envelope(name);
        let armored = licfile::armor::write(expected.kind(), &[], &bytes);
        let doc = signed::read(armored.as_bytes()).unwrap();
        assert_eq!(doc.document, expected, "{name}");
    }
}

#[test]
fn clock_envelopes_are_laid_out_as_documented() {
    // Each signed over its own context, neither carrying an endorsement.
    let install = installation_key();
    let request = Document::ClockRequest(clock_request(&install));
    assert_eq!(
        check_layout(
            &envelope_bytes(&request, &install, None),
            DocumentKind::ClockRequest,
            &encoding::encode_document(&request).unwrap(),
            &install.public().raw(),
        ),
        None
    );
    let root = root_key();
    let correction = Document::ClockCorrection(clock_correction());
    assert_eq!(
        check_layout(
            &envelope_bytes(&correction, &root, None),
            DocumentKind::ClockCorrection,
            &encoding::encode_document(&correction).unwrap(),
            &root.public().raw(),
        ),
        None
    );
}

#[test]
fn golden_armored_clock_documents() {
    // The whole files, readable header lines included, pinned and valid today.
    let install = installation_key();
    let cases = [
        (
            "golden/clock-request.txt",
            Document::ClockRequest(clock_request(&install)),
            signed::sign(
                &Document::ClockRequest(clock_request(&install)),
                &install,
                None,
            )
            .unwrap(),
            vec![
                ("Serial", SERIAL.to_string()),
                ("High-water", "2026-09-01T00:00:00Z".to_string()),
                ("Key", install.public().id().to_string()),
            ],
        ),
        (
            "golden/clock-correction.txt",
            Document::ClockCorrection(clock_correction()),
            signed::sign(
                &Document::ClockCorrection(clock_correction()),
                &root_key(),
                None,
            )
            .unwrap(),
            vec![
                ("Serial", SERIAL.to_string()),
                ("Time", "2026-05-31T12:00:00Z".to_string()),
                ("Valid until", "2026-06-02T12:00:00Z".to_string()),
                ("Key", root_key().public().id().to_string()),
            ],
        ),
    ];
    let roots = roots();
    for (path, document, text, headers) in cases {
        assert_golden_text(path, &text);
        let pinned = std::fs::read(common::test_path(path)).unwrap();
        let verdict = policy::check(
            &pinned,
            &Policy {
                roots: &roots,
                serial: Some(SERIAL),
                date: check_date(),
                expected: Some(document.kind()),
            },
        );
        assert!(verdict.is_valid(), "{path}: {:#?}", verdict.checks);
        let doc = verdict.document.unwrap();
        assert_eq!(doc.document, document, "{path}");
        assert_eq!(doc.headers, headers, "{path}");
    }
}

#[test]
fn lease_envelopes_are_laid_out_as_documented() {
    // Signed over the lease's own context by the installation key, no endorsement.
    let install = installation_key();
    let doc = Document::Lease(lease(&install));
    let payload = encoding::encode_document(&doc).unwrap();
    let bytes = envelope_bytes(&doc, &install, None);
    assert_eq!(
        bytes.len(),
        86 + payload.len(),
        "the size docs/PROTOCOL.md gives"
    );
    assert_eq!(bytes[5], 8, "the lease's kind byte");
    assert_eq!(
        check_layout(
            &bytes,
            DocumentKind::Lease,
            &payload,
            &install.public().raw()
        ),
        None
    );
}

#[test]
fn golden_armored_lease() {
    // The whole file, readable header lines included, pinned; it is the file
    // docs/PROTOCOL.md shows and the Python verifier is run on.
    let install = installation_key();
    let text = signed::sign(&Document::Lease(lease(&install)), &install, None).unwrap();
    assert_golden_text("golden/lease.txt", &text);

    let pinned = std::fs::read(common::test_path("golden/lease.txt")).unwrap();
    let verified = licfile::lease::verify(&pinned, install.public(), Some(SERIAL), LEASE_NOW)
        .unwrap_or_else(|e| panic!("the pinned lease must hold at noon: {e}"));
    assert_eq!(verified, lease(&install));
    let doc = signed::read(&pinned).unwrap();
    assert_eq!(
        doc.headers,
        vec![
            ("Serial", SERIAL.to_string()),
            ("User", "tcarter".to_string()),
            ("Not after", "2026-06-01T16:00:00Z".to_string()),
            ("Key", install.public().id().to_string()),
        ]
    );
}

#[test]
fn the_protocol_shows_the_golden_lease() {
    // docs/PROTOCOL.md's worked example is these files: the armored lease,
    // and the payload's hex with its annotations beside it.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PROTOCOL.md"),
    )
    .expect("docs/PROTOCOL.md");
    let armored = std::fs::read_to_string(common::test_path("golden/lease.txt")).unwrap();
    assert!(
        doc.contains(&armored),
        "docs/PROTOCOL.md no longer shows tests/golden/lease.txt as it is"
    );
    let (_, after) = doc
        .split_once("The payload of the lease above, 117 bytes:\n\n```\n")
        .expect("the payload's example in docs/PROTOCOL.md");
    let (block, _) = after.split_once("```").expect("the example's end");
    // Each line's leading hex groups; the annotation starts at the first word that is not hex.
    let hex: String = block
        .lines()
        .flat_map(|line| {
            line.split_whitespace()
                .take_while(|w| w.len() % 2 == 0 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect();
    let shown = common::from_hex_lines(&hex).expect("hex");
    assert_eq!(
        shown,
        encoding::encode_document(&Document::Lease(lease(&installation_key()))).unwrap(),
        "docs/PROTOCOL.md's payload example is not the golden lease's payload"
    );
}
