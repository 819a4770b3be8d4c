//! Conformance vectors: one armored file per case under `tests/vectors/`, the
//! expected verdict of each in `tests/vectors/EXPECTED`, and one harness that
//! runs `policy::check` on every file.
//!
//! The files are made by [`generate`] from fixed seeds, so they are reproducible:
//! `vectors_are_reproducible` fails when the generator and the files disagree,
//! and `TESSERA_BLESS=1` rewrites the files. The expectations are written by
//! hand and never generated: they are what the format promises.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Once;

use crate::common::{
    ISSUER_NAME, ROOT_NAME, SERIAL, blessing, check_date, clock_correction, clock_request, day,
    endorsement, installation_key, issuer_key, lease, request, request_2, root_key, roots,
    signed_endorsement, standard_endorsement, test_path, usage_report, usage_report_2, wrong_key,
};
use licfile::armor;
use licfile::constants::{FORMAT_VERSION, MAGIC};
use licfile::encoding;
use licfile::envelope::{Envelope, signed_message};
use licfile::{
    Document, DocumentKind, Expiry, Inspected, KeyId, Lease, Licence, Policy, RawPublicKey,
    SecretKey, SignedDocument, Status, Timestamp, policy, sample, signed,
};

// --- making the vectors -------------------------------------------------------

fn sign(doc: Document, key: &SecretKey, endorsement: Option<&SignedDocument>) -> String {
    signed::sign(&doc, key, endorsement).expect("the fixture signs")
}

fn licence() -> Licence {
    sample::licence(SERIAL)
}

fn licence_expiring(date: chrono::NaiveDate, grace_days: u32) -> Licence {
    let mut l = licence();
    l.expiry = Some(Expiry { date, grace_days });
    l
}

/// Re-armors a signed file after changing its envelope, keeping its header lines.
fn with_envelope(text: &str, change: impl FnOnce(&mut Envelope)) -> String {
    let armored = armor::parse(text.as_bytes()).expect("the fixture parses");
    let mut envelope = Envelope::parse_v1(&armored.body).expect("the fixture is version 1");
    change(&mut envelope);
    armor::write(armored.kind, &armored.headers, &envelope.to_bytes())
}

/// Re-armors a signed file after changing its envelope bytes, keeping its header lines.
fn with_envelope_bytes(text: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
    let armored = armor::parse(text.as_bytes()).expect("the fixture parses");
    let mut bytes = armored.body;
    change(&mut bytes);
    armor::write(armored.kind, &armored.headers, &bytes)
}

/// The base64 lines of an armored file, in order.
fn base64_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with("-----") && !l.contains(':'))
        .collect()
}

/// The same file with its base64 joined and cut into lines of `width`.
fn rewrap(text: &str, width: usize) -> String {
    let joined: String = base64_lines(text).concat();
    let mut out = String::new();
    let mut in_body = false;
    for line in text.lines() {
        let is_base64 = !line.is_empty() && !line.starts_with("-----") && !line.contains(':');
        if is_base64 {
            if !in_body {
                in_body = true;
                for chunk in joined.as_bytes().chunks(width) {
                    out.push_str(std::str::from_utf8(chunk).unwrap());
                    out.push('\n');
                }
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The small-order point that is the group's identity: as a public key it
/// "verifies" the signature (R = identity, S = 0) on every message under
/// cofactored or lax verification.
const IDENTITY_POINT: [u8; 32] = {
    let mut p = [0u8; 32];
    p[0] = 1;
    p
};

/// A request whose installation key is the identity point, with the signature
/// that such a key accepts for any message: the envelope is laid out by hand.
fn weak_key_request() -> String {
    let mut r = request(&installation_key());
    r.installation_key = RawPublicKey(IDENTITY_POINT);
    let doc = Document::Request(r);
    let payload = encoding::encode_document(&doc).unwrap();
    let key_id = KeyId::of(&IDENTITY_POINT);

    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MAGIC);
    bytes.push(FORMAT_VERSION);
    bytes.push(DocumentKind::Request.byte());
    bytes.extend_from_slice(&key_id.0);
    bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend_from_slice(&IDENTITY_POINT); // R: the identity
    bytes.extend_from_slice(&[0u8; 32]); // S: zero

    let mut headers = doc.header();
    headers.push(("Key", key_id.to_string()));
    armor::write(DocumentKind::Request, &headers, &bytes)
}

/// A document signed without the content checks `signed::sign` makes, as a
/// careless or hostile signer would: the envelope is laid out by hand.
fn sign_unchecked(doc: &Document, seed: [u8; 32]) -> String {
    sign_under(doc, seed, doc.kind())
}

/// `doc` in its own envelope, signed over the signing context of `context`
/// (another kind's, for a signature made for something else), without the
/// content checks `signed::sign` makes.
fn sign_under(doc: &Document, seed: [u8; 32], context: DocumentKind) -> String {
    sign_payload(doc, encoding::encode_document(doc).unwrap(), seed, context)
}

/// `payload` in an envelope of `doc`'s kind (and `doc`'s header lines), signed
/// over `context`'s signing context.
fn sign_payload(doc: &Document, payload: Vec<u8>, seed: [u8; 32], context: DocumentKind) -> String {
    let (key_id, envelope) = envelope_signed(doc.kind(), payload, seed, context);
    let mut headers = doc.header();
    headers.push(("Key", key_id.to_string()));
    armor::write(doc.kind(), &headers, &envelope)
}

/// The bytes of an envelope of `kind` holding `payload` as it is (even one
/// `encode_document` refuses), signed by the key from `seed` over `context`'s
/// signing context; and that key's id.
fn envelope_signed(
    kind: DocumentKind,
    payload: Vec<u8>,
    seed: [u8; 32],
    context: DocumentKind,
) -> (KeyId, Vec<u8>) {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let key_id = KeyId::of(&key.verifying_key().to_bytes());
    let signature = key.sign(&signed_message(context, &payload)).to_bytes();
    let envelope = Envelope {
        kind,
        key_id,
        payload,
        endorsement: None,
        signature,
    };
    (key_id, envelope.to_bytes())
}

/// Every vector: file name and exact bytes.
fn generate() -> BTreeMap<String, Vec<u8>> {
    let root = root_key();
    let issuer = issuer_key();
    let wrong = wrong_key();
    let install = installation_key();
    let endorsed = signed_endorsement(&standard_endorsement(), &root);

    let valid_root = sign(Document::Licence(licence()), &root, None);
    let valid_issuer = sign(Document::Licence(licence()), &issuer, Some(&endorsed));
    let valid_request = sign(Document::Request(request(&install)), &install, None);

    // Valid documents of each kind, and of each signer.
    let mut v: Vec<(&str, String)> = vec![
        ("valid-root.txt", valid_root.clone()),
        ("valid-issuer.txt", valid_issuer.clone()),
        ("valid-request.txt", valid_request.clone()),
        (
            "valid-request-2.txt",
            sign(Document::Request(request_2(&install)), &install, None),
        ),
        (
            "valid-usage-report.txt",
            sign(
                Document::UsageReport(usage_report(&install)),
                &install,
                None,
            ),
        ),
        (
            "valid-usage-report-2.txt",
            sign(
                Document::UsageReport(usage_report_2(&install)),
                &install,
                None,
            ),
        ),
        (
            "valid-endorsement.txt",
            sign(Document::Endorsement(standard_endorsement()), &root, None),
        ),
    ];

    // What mail and editors do to a file, none of which changes its meaning.
    let armored = armor::parse(valid_root.as_bytes()).unwrap();
    v.push((
        "valid-no-headers.txt",
        armor::write(DocumentKind::Licence, &[], &armored.body),
    ));
    v.push(("valid-crlf.txt", valid_root.replace('\n', "  \r\n")));
    v.push(("valid-rewrapped.txt", rewrap(&valid_root, 76)));
    v.push(("valid-one-line.txt", rewrap(&valid_root, usize::MAX)));
    let indented: String = valid_root.lines().map(|l| format!("    {l}\n")).collect();
    v.push(("valid-bom-indented.txt", format!("\u{feff}{indented}")));
    v.push((
        "valid-surrounded.txt",
        format!(
            "From: licensing@vendor.example\nSubject: Your renewed licence\n\nHello,\n\n\
             your licence for NW-000123 is below: import it with `tessera licence import`.\n\
             ----- (cut here) -----\n\n{valid_root}\n-- \nVendor licensing team\n\
             -----BEGIN PGP SIGNATURE-----\nnot part of the licence\n-----END PGP SIGNATURE-----\n"
        ),
    ));

    // Valid, with a warning.
    v.push((
        "warn-expiring.txt",
        sign(
            Document::Licence(licence_expiring(day(2026, 6, 21), 14)),
            &root,
            None,
        ),
    ));
    v.push((
        "warn-grace.txt",
        sign(
            Document::Licence(licence_expiring(day(2026, 5, 25), 14)),
            &root,
            None,
        ),
    ));

    // Altered after signing.
    v.push((
        "tampered-payload.txt",
        with_envelope(&valid_root, |e| {
            let mut l: Licence = encoding::decode(&e.payload, DocumentKind::Licence).unwrap();
            l.seat_pools[0].count = 250;
            e.payload = encoding::encode(&l, DocumentKind::Licence).unwrap();
        }),
    ));
    v.push((
        "tampered-signature.txt",
        with_envelope(&valid_root, |e| e.signature[17] ^= 0x08),
    ));
    v.push((
        "tampered-endorsement.txt",
        with_envelope(&valid_issuer, |e| {
            let mut inner = Envelope::parse_v1(e.endorsement.as_ref().unwrap()).unwrap();
            let mut en: licfile::Endorsement =
                encoding::decode(&inner.payload, DocumentKind::Endorsement).unwrap();
            en.until = day(2099, 12, 31);
            en.products.push("every-product".into());
            inner.payload = encoding::encode(&en, DocumentKind::Endorsement).unwrap();
            e.endorsement = Some(inner.to_bytes());
        }),
    ));
    v.push((
        "trailing-bytes.txt",
        with_envelope_bytes(&valid_root, |b| b.extend_from_slice(&[0, 0, 0])),
    ));
    v.push((
        "unknown-version.txt",
        with_envelope_bytes(&valid_root, |b| b[4] = 2),
    ));

    // Keys.
    v.push((
        "wrong-key.txt",
        sign(Document::Licence(licence()), &wrong, None),
    ));
    v.push((
        "issuer-without-endorsement.txt",
        sign(Document::Licence(licence()), &issuer, None),
    ));
    let endorsed_by_wrong = signed_endorsement(&standard_endorsement(), &wrong);
    v.push((
        "endorsement-untrusted-root.txt",
        sign(
            Document::Licence(licence()),
            &issuer,
            Some(&endorsed_by_wrong),
        ),
    ));
    // A valid endorsement of the issuer, attached to a licence signed by another key.
    let stolen = with_envelope(&sign(Document::Licence(licence()), &wrong, None), |e| {
        e.endorsement = Some(endorsed.raw.clone());
    });
    v.push(("stolen-endorsement.txt", stolen));
    v.push(("weak-key-request.txt", weak_key_request()));

    // A format 2 report passed off as format 1 (its chain cut off would need
    // a new signature; relabelled whole, it is not a format 1 payload).
    let v2 = sign(
        Document::UsageReport(usage_report_2(&install)),
        &install,
        None,
    );
    let armored = armor::parse(v2.as_bytes()).unwrap();
    let mut envelope = Envelope::parse_v1(&armored.body).unwrap();
    envelope.kind = DocumentKind::UsageReport;
    v.push((
        "usage-report-2-as-format-1.txt",
        armor::write(
            DocumentKind::UsageReport,
            &armored.headers,
            &envelope.to_bytes(),
        ),
    ));

    // A format 2 request passed off as format 1, the same way: an older
    // vendor must not read it as a request for seats alone.
    let v2 = sign(Document::Request(request_2(&install)), &install, None);
    let armored = armor::parse(v2.as_bytes()).unwrap();
    let mut envelope = Envelope::parse_v1(&armored.body).unwrap();
    envelope.kind = DocumentKind::Request;
    v.push((
        "request-2-as-format-1.txt",
        armor::write(
            DocumentKind::Request,
            &armored.headers,
            &envelope.to_bytes(),
        ),
    ));

    // Usage reports in parts.
    let mut second = usage_report(&install);
    (second.part, second.parts) = (2, 2);
    second.pools.clear();
    second.metered.clear();
    v.push((
        "valid-usage-report-part.txt",
        sign(Document::UsageReport(second.clone()), &install, None),
    ));
    let mut beyond = second.clone();
    beyond.part = 3;
    v.push((
        "report-part-beyond-parts.txt",
        sign_unchecked(&Document::UsageReport(beyond), [4; 32]),
    ));
    let mut seats_late = second;
    seats_late.pools = usage_report(&install).pools;
    v.push((
        "report-seats-in-a-later-part.txt",
        sign_unchecked(&Document::UsageReport(seats_late), [4; 32]),
    ));
    let mut day_32 = usage_report(&install);
    day_32.daily_user_days[0].users[0].days = licfile::DaySet::from_bits(1 << 31);
    v.push((
        "report-day-outside-month.txt",
        sign_unchecked(&Document::UsageReport(day_32), [4; 32]),
    ));
    v.push((
        "request-key-mismatch.txt",
        sign(Document::Request(request(&install)), &wrong, None),
    ));

    // The armor.
    v.push((
        "request-as-licence.txt",
        valid_request
            .replace(
                "-----BEGIN TESSERA LICENCE REQUEST-----",
                "-----BEGIN TESSERA LICENCE-----",
            )
            .replace(
                "-----END TESSERA LICENCE REQUEST-----",
                "-----END TESSERA LICENCE-----",
            ),
    ));
    v.push((
        "truncated.txt",
        valid_root[..valid_root.len() / 2].to_string(),
    ));
    let last = *base64_lines(&valid_root).last().unwrap();
    v.push((
        "truncated-body.txt",
        valid_root.replace(&format!("{last}\n"), ""),
    ));
    let third = base64_lines(&valid_root)[2];
    v.push((
        "junk-in-armor.txt",
        valid_root.replacen(
            third,
            &format!("{third}\nPlease do not reply to this e-mail."),
            1,
        ),
    ));
    v.push((
        "junk-base64-letters.txt",
        valid_root.replacen(third, &format!("{third}\nThisIsJunk"), 1),
    ));
    v.push((
        "header-mismatch.txt",
        valid_root.replace("Expires: 2027-01-31", "Expires: 2099-01-31"),
    ));
    v.push((
        "unknown-header.txt",
        valid_root.replace("Serial: ", "Colour: red\nSerial: "),
    ));
    v.push((
        "duplicate-header.txt",
        valid_root.replace(
            "Serial: NW-000123\n",
            "Serial: NW-000123\nSerial: NW-000123\n",
        ),
    ));
    v.push((
        "unknown-label.txt",
        valid_root.replace("TESSERA LICENCE-----", "TESSERA LICENSE-----"),
    ));
    v.push((
        "no-armor.txt",
        "Here is the licence you asked for.\nRegards, Sales\n".into(),
    ));
    v.push((
        "empty-armor.txt",
        "-----BEGIN TESSERA LICENCE-----\n-----END TESSERA LICENCE-----\n".into(),
    ));
    let mut oversize = valid_root.clone();
    oversize.push('\n');
    while oversize.len() <= 64 * 1024 {
        oversize
            .push_str("> Quoted reply: thank you for the licence, we will import it on Monday.\n");
    }
    v.push(("oversize.txt", oversize));

    // Policy: endorsements, serial, dates.
    let short = endorsement(&issuer, &["fieldsuite"], day(2026, 3, 31));
    v.push((
        "endorsement-expired.txt",
        sign(
            Document::Licence(licence()),
            &issuer,
            Some(&signed_endorsement(&short, &root)),
        ),
    ));
    let other = endorsement(&issuer, &["addon-suite"], day(2027, 12, 31));
    v.push((
        "endorsement-wrong-product.txt",
        sign(
            Document::Licence(licence()),
            &issuer,
            Some(&signed_endorsement(&other, &root)),
        ),
    ));
    let mut late = licence();
    late.issued_at = Timestamp(1_801_476_000); // 2027-02-01T08:00:00Z
    let until_2026 = endorsement(&issuer, &["fieldsuite"], day(2026, 12, 31));
    v.push((
        "issued-after-endorsement.txt",
        sign(
            Document::Licence(late),
            &issuer,
            Some(&signed_endorsement(&until_2026, &root)),
        ),
    ));
    v.push((
        "other-serial.txt",
        sign(Document::Licence(sample::licence("NW-000999")), &root, None),
    ));
    let mut post_dated = licence();
    post_dated.issued_at = Timestamp(1_782_900_000); // 2026-07-01T10:00:00Z
    v.push((
        "post-dated.txt",
        sign(Document::Licence(post_dated), &root, None),
    ));
    v.push((
        "terminated.txt",
        sign(
            Document::Licence(licence_expiring(day(2026, 3, 1), 14)),
            &root,
            None,
        ),
    ));

    // An endorsement carried in a licence is judged on the checking date like
    // one on its own: issued 2026-07-01, after 2026-06-01, it does not hold yet.
    let mut post_dated_endorsement = standard_endorsement();
    post_dated_endorsement.issued_at = Timestamp(1_782_864_000); // 2026-07-01T00:00:00Z
    v.push((
        "endorsement-post-dated.txt",
        sign(
            Document::Licence(licence()),
            &issuer,
            Some(&signed_endorsement(&post_dated_endorsement, &root)),
        ),
    ));
    v.push((
        "endorsement-alone-post-dated.txt",
        sign(Document::Endorsement(post_dated_endorsement), &root, None),
    ));

    // Clock requests and corrections.
    v.push((
        "valid-clock-request.txt",
        sign(
            Document::ClockRequest(clock_request(&install)),
            &install,
            None,
        ),
    ));
    v.push((
        "valid-clock-correction.txt",
        sign(Document::ClockCorrection(clock_correction()), &root, None),
    ));
    let mut last_day = clock_correction();
    last_day.time = Timestamp(1_780_101_000); // 2026-05-30T00:30:00Z
    last_day.valid_until = Timestamp(1_780_273_800); // 2026-06-01T00:30:00Z
    v.push((
        "valid-clock-correction-last-day.txt",
        sign(Document::ClockCorrection(last_day), &root, None),
    ));
    v.push((
        "clock-request-key-mismatch.txt",
        sign(
            Document::ClockRequest(clock_request(&install)),
            &wrong,
            None,
        ),
    ));
    let mut other_serial = clock_correction();
    other_serial.serial = "NW-000999".into();
    v.push((
        "clock-correction-other-serial.txt",
        sign(Document::ClockCorrection(other_serial), &root, None),
    ));
    let mut expired = clock_correction();
    expired.time = Timestamp(1_780_099_199); // 2026-05-29T23:59:59Z
    expired.valid_until = Timestamp(1_780_271_999); // 2026-05-31T23:59:59Z
    v.push((
        "clock-correction-expired.txt",
        sign(Document::ClockCorrection(expired), &root, None),
    ));
    let mut ahead = clock_correction();
    ahead.time = Timestamp(1_780_646_400); // 2026-06-05T08:00:00Z
    ahead.valid_until = Timestamp(1_780_819_200); // 2026-06-07T08:00:00Z
    v.push((
        "clock-correction-post-dated.txt",
        sign(Document::ClockCorrection(ahead), &root, None),
    ));
    let mut too_long = clock_correction();
    too_long.valid_until = Timestamp(too_long.time.0 + 48 * 3600 + 1);
    v.push((
        "clock-correction-too-long.txt",
        sign_unchecked(&Document::ClockCorrection(too_long), [1; 32]),
    ));
    // The issuer is endorsed for licences; that never makes it a root for a clock.
    v.push((
        "clock-correction-issuer.txt",
        sign(Document::ClockCorrection(clock_correction()), &issuer, None),
    ));
    v.push((
        "clock-correction-unknown-key.txt",
        sign(Document::ClockCorrection(clock_correction()), &wrong, None),
    ));
    // Signed by the issuer and carrying its genuine endorsement, as a licence
    // of its would: refused before any key is looked at.
    v.push((
        "clock-correction-endorsed.txt",
        with_envelope(
            &sign(Document::ClockCorrection(clock_correction()), &issuer, None),
            |e| e.endorsement = Some(endorsed.raw.clone()),
        ),
    ));

    lease_vectors(&mut v);

    let mut out = BTreeMap::new();
    for (name, text) in v {
        assert!(
            out.insert(name.to_string(), text.into_bytes()).is_none(),
            "{name} twice"
        );
    }
    out
}

/// The lease vectors: judged by `policy::check` like every vector (EXPECTED),
/// and by `lease::verify` and the Python verifier against the installation
/// key (LEASES).
fn lease_vectors(v: &mut Vec<(&'static str, String)>) {
    let install = installation_key();
    let wrong = wrong_key();
    let signed = |l: Lease, key: &SecretKey| sign(Document::Lease(l), key, None);
    let at = |issued_at: i64, not_after: i64| Lease {
        issued_at: Timestamp(issued_at),
        not_after: Timestamp(not_after),
        ..lease(&install)
    };
    let valid = signed(lease(&install), &install);
    v.push(("valid-lease.txt", valid.clone()));
    v.push((
        "valid-lease-no-seat.txt",
        signed(
            Lease {
                user: "alice".into(),
                seat: None,
                ..lease(&install)
            },
            &install,
        ),
    ));
    // Issued at 12:04:00, four minutes ahead of the verifier's noon: within the skew.
    v.push((
        "valid-lease-within-skew.txt",
        signed(at(1_780_315_440, 1_780_344_240), &install),
    ));

    // Altered after signing: each would let someone work longer or as another.
    v.push((
        "lease-tampered-user.txt",
        with_envelope(&valid, |e| {
            let mut l: Lease = encoding::decode(&e.payload, DocumentKind::Lease).unwrap();
            l.user = "mallory".into();
            e.payload = encoding::encode(&l, DocumentKind::Lease).unwrap();
        }),
    ));
    v.push((
        "lease-extended.txt",
        with_envelope(&valid, |e| {
            let mut l: Lease = encoding::decode(&e.payload, DocumentKind::Lease).unwrap();
            l.not_after = Timestamp(1_780_934_400); // 2026-06-08T16:00:00Z
            e.payload = encoding::encode(&l, DocumentKind::Lease).unwrap();
        }),
    ));
    v.push((
        "lease-tampered-signature.txt",
        with_envelope(&valid, |e| e.signature[40] ^= 0x01),
    ));
    // The header promises a week; the signed payload says 16:00.
    v.push((
        "lease-header-mismatch.txt",
        valid.replace(
            "Not after: 2026-06-01T16:00:00Z",
            "Not after: 2026-06-08T16:00:00Z",
        ),
    ));
    // What a reader in another language may take too kindly: a header name
    // whose K is the Kelvin sign (Unicode lowercases it to k), and an
    // information separator (white space to some, not to Unicode) before a
    // base64 line.
    v.push((
        "lease-kelvin-header.txt",
        valid.replace("Key: ", "\u{212a}ey: "),
    ));
    let second = base64_lines(&valid)[1];
    v.push((
        "lease-separator-in-armor.txt",
        valid.replacen(second, &format!("\u{1c}{second}"), 1),
    ));
    // The lease's bytes signed by the installation key as a licence request:
    // a signature made for one kind never verifies as another.
    v.push((
        "lease-request-context.txt",
        sign_under(
            &Document::Lease(lease(&install)),
            [4; 32],
            DocumentKind::Request,
        ),
    ));
    v.push((
        "lease-endorsed.txt",
        with_envelope(&valid, |e| {
            e.endorsement = Some(
                signed_endorsement(&standard_endorsement(), &root_key())
                    .raw
                    .clone(),
            );
        }),
    ));

    // Keys.
    v.push(("lease-other-key.txt", signed(lease(&wrong), &wrong)));
    v.push(("lease-key-mismatch.txt", signed(lease(&install), &wrong)));
    // Signed by the installation key, carrying another: never made by Tessera.
    v.push((
        "lease-carries-another-key.txt",
        signed(lease(&wrong), &install),
    ));

    // Serial and time, judged at 2026-06-01T12:00:00Z.
    v.push((
        "lease-other-serial.txt",
        signed(
            Lease {
                serial: "NW-000999".into(),
                ..lease(&install)
            },
            &install,
        ),
    ));
    // Yesterday, 08:00 to 16:00.
    v.push((
        "lease-expired.txt",
        signed(at(1_780_214_400, 1_780_243_200), &install),
    ));
    // Today, 02:00 to 10:00: the day still holds it, the second does not.
    v.push((
        "lease-ran-out-this-morning.txt",
        signed(at(1_780_279_200, 1_780_308_000), &install),
    ));
    // Today, 04:00 to noon: not_after is the first moment it no longer holds.
    v.push((
        "lease-not-after-is-now.txt",
        signed(at(1_780_286_400, 1_780_315_200), &install),
    ));
    // Tomorrow, 08:00 to 16:00.
    v.push((
        "lease-post-dated.txt",
        signed(at(1_780_387_200, 1_780_416_000), &install),
    ));
    // Issued at 12:05:01: one second beyond the five minutes' skew.
    v.push((
        "lease-beyond-skew.txt",
        signed(at(1_780_315_501, 1_780_344_301), &install),
    ));

    // Content the installation should never have signed.
    v.push((
        "lease-too-long.txt",
        sign_unchecked(
            &Document::Lease(at(1_780_300_800, 1_780_300_800 + 168 * 3600 + 1)),
            [4; 32],
        ),
    ));
    v.push((
        "lease-ends-as-it-begins.txt",
        sign_unchecked(&Document::Lease(at(1_780_300_800, 1_780_300_800)), [4; 32]),
    ));
    // Longer than any payload may be (a user name of 41,000 letters), signed
    // by a key nobody trusts: refused as it is read, before any key is looked at.
    let mut huge = lease(&wrong);
    huge.user = "x".repeat(41_000);
    // Encoded without the size check that signing makes.
    let payload = bincode::serde::encode_to_vec(&huge, encoding::config()).unwrap();
    assert!(payload.len() > licfile::constants::MAX_PAYLOAD_BYTES);
    // No header lines: the user's alone would take the file past 64 KiB.
    let (_, envelope) = envelope_signed(DocumentKind::Lease, payload, [3; 32], DocumentKind::Lease);
    v.push((
        "lease-oversized-payload.txt",
        armor::write(DocumentKind::Lease, &[], &envelope),
    ));
    // A user name holding a control character.
    let mut bell = lease(&install);
    bell.user = "tc\u{7}arter".into();
    v.push((
        "lease-control-character.txt",
        sign_unchecked(&Document::Lease(bell), [4; 32]),
    ));
    // A user name holding a line break, which would forge a header line: the
    // armor refuses the second Not after before the content is looked at.
    let mut forged = lease(&install);
    forged.user = "tcarter\nNot after: 2099-01-01T00:00:00Z".into();
    v.push((
        "lease-forged-header.txt",
        sign_unchecked(&Document::Lease(forged), [4; 32]),
    ));
}

// --- the files on disk --------------------------------------------------------

fn vector_dir() -> std::path::PathBuf {
    test_path("vectors")
}

/// The `.txt` files under `tests/vectors/`.
fn files_on_disk() -> BTreeSet<String> {
    std::fs::read_dir(vector_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".txt"))
                .collect()
        })
        .unwrap_or_default()
}

/// Under `TESSERA_BLESS=1`, writes the generated vectors (once per test run)
/// and removes `.txt` files the generator no longer makes.
fn bless_vectors() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = vector_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let generated = generate();
        for stale in files_on_disk() {
            if !generated.contains_key(&stale) {
                eprintln!("TESSERA_BLESS: removed {stale}");
                std::fs::remove_file(dir.join(&stale)).unwrap();
            }
        }
        for (name, bytes) in generated {
            let path = dir.join(&name);
            if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
                eprintln!("TESSERA_BLESS: wrote {}", path.display());
                std::fs::write(&path, bytes).unwrap();
            }
        }
    });
}

#[test]
fn vectors_are_reproducible() {
    if blessing() {
        bless_vectors();
    }
    let generated = generate();
    let on_disk = files_on_disk();
    let mut problems = Vec::new();
    for name in generated.keys() {
        if !on_disk.contains(name) {
            problems.push(format!(
                "{name}: made by the generator but not in tests/vectors/"
            ));
        }
    }
    for name in &on_disk {
        match generated.get(name) {
            None => problems.push(format!(
                "{name}: in tests/vectors/ but not made by the generator"
            )),
            Some(bytes) => {
                let disk = std::fs::read(vector_dir().join(name)).unwrap();
                if &disk != bytes {
                    problems.push(format!(
                        "{name}: the file ({} bytes) differs from what the generator makes ({} bytes)",
                        disk.len(),
                        bytes.len()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the conformance vectors are out of date:\n  {}\n\
         If the change is intended, rerun with TESSERA_BLESS=1, review the files and tests/vectors/EXPECTED.",
        problems.join("\n  ")
    );
}

// --- the harness --------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Valid, no check warns; the named check passed.
    Valid,
    /// Valid; the named check is the first that warns.
    Warn,
    /// Refused; the named check is the first that failed.
    Invalid,
}

#[derive(Debug)]
struct Row {
    line: usize,
    file: String,
    expected: Expected,
    check: String,
    substring: String,
}

/// Reads `tests/vectors/EXPECTED`: `file | verdict | check | substring` lines,
/// `#` comments and blank lines ignored.
fn table() -> Vec<Row> {
    let path = vector_dir().join("EXPECTED");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()));
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.splitn(4, '|').map(str::trim).collect();
        let [file, verdict, check, substring] = cols[..] else {
            panic!("EXPECTED line {line_no}: want `file | verdict | check | substring`: {line:?}");
        };
        let expected = match verdict {
            "valid" => Expected::Valid,
            "warn" => Expected::Warn,
            "invalid" => Expected::Invalid,
            other => {
                panic!("EXPECTED line {line_no}: verdict {other:?} is not valid, warn or invalid")
            }
        };
        assert!(
            !check.is_empty() && !substring.is_empty(),
            "EXPECTED line {line_no}: empty column"
        );
        rows.push(Row {
            line: line_no,
            file: file.to_string(),
            expected,
            check: check.to_string(),
            substring: substring.to_string(),
        });
    }
    rows
}

fn checklist(verdict: &licfile::Verdict) -> String {
    verdict
        .checks
        .iter()
        .map(|c| format!("      {:<5} {:<12} {}", c.status.word(), c.name, c.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is wrong with `verdict` for `row`, if anything.
fn judge(row: &Row, verdict: &licfile::Verdict) -> Option<String> {
    let found = match row.expected {
        Expected::Valid | Expected::Warn if !verdict.is_valid() => {
            let f = verdict.first_failure().unwrap();
            return Some(format!(
                "expected {:?}, but check {:?} failed: {}",
                row.expected, f.name, f.detail
            ));
        }
        Expected::Valid => {
            if let Some(w) = verdict.checks.iter().find(|c| c.status == Status::Warn) {
                return Some(format!(
                    "expected no warning, but check {:?} warns: {}",
                    w.name, w.detail
                ));
            }
            match verdict.checks.iter().find(|c| c.name == row.check) {
                Some(c) if c.status == Status::Pass => c,
                Some(c) => {
                    return Some(format!(
                        "expected check {:?} to pass, it is {:?}",
                        row.check, c.status
                    ));
                }
                None => return Some(format!("no check named {:?}", row.check)),
            }
        }
        Expected::Warn => match verdict.checks.iter().find(|c| c.status == Status::Warn) {
            Some(c) => c,
            None => return Some(format!("expected a warning from {:?}, got none", row.check)),
        },
        Expected::Invalid => match verdict.first_failure() {
            Some(c) => c,
            None => {
                return Some(format!(
                    "expected check {:?} to fail, but the file was accepted",
                    row.check
                ));
            }
        },
    };
    if found.name != row.check {
        return Some(format!(
            "expected check {:?}, but the deciding check is {:?}: {}",
            row.check, found.name, found.detail
        ));
    }
    if !found.detail.contains(&row.substring) {
        return Some(format!(
            "check {:?} says {:?}, which does not contain {:?}",
            found.name, found.detail, row.substring
        ));
    }
    None
}

#[test]
fn conformance() {
    if blessing() {
        bless_vectors();
    }
    let rows = table();
    let roots = roots();
    let policy = Policy {
        roots: &roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: None,
    };

    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in &rows {
        if !listed.insert(row.file.clone()) {
            problems.push(format!(
                "EXPECTED line {}: {} is listed twice",
                row.line, row.file
            ));
            continue;
        }
        let input = match std::fs::read(vector_dir().join(&row.file)) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(format!("{} (EXPECTED line {}): {e}", row.file, row.line));
                continue;
            }
        };
        let verdict = policy::check(&input, &policy);
        // Every verdict is a complete checklist: a line per check, none twice.
        let names: BTreeSet<_> = verdict.checks.iter().map(|c| c.name).collect();
        if names.len() != verdict.checks.len()
            || verdict.checks.first().map(|c| c.name) != Some("format")
        {
            problems.push(format!(
                "{}: malformed checklist\n{}",
                row.file,
                checklist(&verdict)
            ));
        }
        if let Some(why) = judge(row, &verdict) {
            problems.push(format!(
                "{} (EXPECTED line {}): {why}\n{}",
                row.file,
                row.line,
                checklist(&verdict)
            ));
        }
    }
    for file in files_on_disk() {
        if !listed.contains(&file) {
            problems.push(format!("{file}: a vector with no line in EXPECTED"));
        }
    }
    assert!(
        rows.len() >= 30,
        "EXPECTED lists only {} vectors",
        rows.len()
    );
    assert!(
        problems.is_empty(),
        "{} conformance problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// --- what the harness cannot say in a table -----------------------------------

fn vector(name: &str) -> Vec<u8> {
    if blessing() {
        bless_vectors();
    }
    std::fs::read(vector_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn signers_are_named() {
    let roots = roots();
    let policy = Policy {
        roots: &roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: None,
    };
    let root_signed = policy::check(&vector("valid-root.txt"), &policy);
    assert_eq!(
        root_signed.signer,
        Some(licfile::Signer::Root {
            name: ROOT_NAME.into(),
            key_id: root_key().public().id()
        })
    );
    assert_eq!(root_signed.state, Some(licfile::LicenceState::Valid));

    let issuer_signed = policy::check(&vector("valid-issuer.txt"), &policy);
    match issuer_signed.signer {
        Some(licfile::Signer::Issuer {
            issuer,
            key_id,
            root,
            root_key_id,
            endorsement,
        }) => {
            assert_eq!(issuer, ISSUER_NAME);
            assert_eq!(key_id, issuer_key().public().id());
            assert_eq!(root, ROOT_NAME);
            assert_eq!(root_key_id, root_key().public().id());
            assert_eq!(endorsement, standard_endorsement());
        }
        other => panic!("expected an issuer signer, got {other:?}"),
    }

    let request = policy::check(&vector("valid-request.txt"), &policy);
    assert_eq!(
        request.signer,
        Some(licfile::Signer::Installation {
            key_id: installation_key().public().id()
        })
    );
}

#[test]
fn the_mangled_copies_read_as_the_original() {
    let original = signed::read(&vector("valid-root.txt")).unwrap();
    for name in [
        "valid-no-headers.txt",
        "valid-crlf.txt",
        "valid-rewrapped.txt",
        "valid-one-line.txt",
        "valid-bom-indented.txt",
        "valid-surrounded.txt",
    ] {
        let copy = signed::read(&vector(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(copy.raw, original.raw, "{name}: other envelope bytes");
        assert_eq!(copy.document, original.document, "{name}");
    }
}

#[test]
fn an_unknown_version_is_named_by_inspect() {
    let inspected = signed::inspect(&vector("unknown-version.txt")).unwrap();
    assert_eq!(
        inspected,
        Inspected::UnknownVersion {
            kind: DocumentKind::Licence,
            version: 2
        }
    );
}

#[test]
fn the_weak_key_vector_is_a_real_forgery() {
    // The request carries a key and a signature that lax verification accepts
    // for any content: only the weak-key rule stands between it and a forgery.
    let doc = signed::read(&vector("weak-key-request.txt")).unwrap();
    let Document::Request(r) = &doc.document else {
        panic!("not a request")
    };
    let lax = ed25519_dalek::VerifyingKey::from_bytes(&r.installation_key.0).unwrap();
    assert!(lax.is_weak());
    let signature = ed25519_dalek::Signature::from_bytes(&doc.envelope.signature);
    use ed25519_dalek::Verifier as _;
    lax.verify(&doc.envelope.signed_message(), &signature)
        .expect("lax verification accepts the forged signature");
    lax.verify(b"any other message at all", &signature)
        .expect("lax verification accepts it on any message");
    assert_eq!(
        doc.envelope.signed_message(),
        signed_message(DocumentKind::Request, &doc.envelope.payload)
    );
}

#[test]
fn expectations_are_checked_against_the_kind_asked_for() {
    // A request where a licence is expected is refused at the format line even
    // though it is a perfectly valid request.
    let roots = roots();
    let policy = Policy {
        roots: &roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: Some(DocumentKind::Licence),
    };
    let verdict = policy::check(&vector("valid-request.txt"), &policy);
    let failure = verdict.first_failure().expect("refused");
    assert_eq!(failure.name, "format");
    assert_eq!(failure.detail, "this is a licence request, not a licence");
    assert!(
        verdict.checks[1..].iter().all(|c| c.status == Status::Skip),
        "{:#?}",
        verdict.checks
    );
}

#[test]
fn clock_documents_are_signed_by_their_installation_and_by_a_root() {
    let roots = roots();
    let policy = Policy {
        roots: &roots,
        serial: Some(SERIAL),
        date: check_date(),
        expected: None,
    };
    let request = policy::check(&vector("valid-clock-request.txt"), &policy);
    assert_eq!(
        request.signer,
        Some(licfile::Signer::Installation {
            key_id: installation_key().public().id()
        })
    );
    let correction = policy::check(&vector("valid-clock-correction.txt"), &policy);
    assert_eq!(
        correction.signer,
        Some(licfile::Signer::Root {
            name: ROOT_NAME.into(),
            key_id: root_key().public().id()
        })
    );
    assert_eq!(
        correction
            .checks
            .iter()
            .map(|c| (c.name, c.status))
            .collect::<Vec<_>>(),
        [
            ("format", Status::Pass),
            ("key", Status::Pass),
            ("signature", Status::Pass),
            ("serial", Status::Pass),
            ("not before", Status::Pass),
            ("expiry", Status::Pass),
        ]
    );
}

#[test]
fn a_clock_correction_never_carries_an_endorsement() {
    // Signing refuses to attach one.
    let endorsed = signed_endorsement(&standard_endorsement(), &root_key());
    let refused = signed::sign(
        &Document::ClockCorrection(clock_correction()),
        &issuer_key(),
        Some(&endorsed),
    );
    assert!(
        matches!(
            refused,
            Err(licfile::SignError::EndorsementOnNonLicence(
                "clock correction"
            ))
        ),
        "{refused:?}"
    );

    // Verifying refuses one even on a document not made by parsing, where it
    // would otherwise be the only thing vouching for the issuer key.
    let text = signed::sign(
        &Document::ClockCorrection(clock_correction()),
        &issuer_key(),
        None,
    )
    .unwrap();
    let mut doc = signed::read(text.as_bytes()).unwrap();
    doc.endorsement = signed::read(
        signed::sign(
            &Document::Licence(licence()),
            &issuer_key(),
            Some(&endorsed),
        )
        .unwrap()
        .as_bytes(),
    )
    .unwrap()
    .endorsement;
    assert!(doc.endorsement.is_some());
    let mut trusting_issuer = roots();
    trusting_issuer.add("not a root for clocks", *issuer_key().public());
    assert_eq!(
        licfile::verify::verify_signature(&doc, &trusting_issuer),
        Err(licfile::VerifyError::Decode(
            licfile::DecodeError::EndorsedClockCorrection
        ))
    );
}

#[test]
fn an_endorsement_holds_from_its_issue_day_to_its_last_day() {
    use licfile::EndorsementProblem;
    use licfile::policy::endorsement_holds;
    // Issued 2026-01-01T00:00:00Z, until 2027-12-31.
    let e = standard_endorsement();
    assert_eq!(endorsement_holds(&e, day(2026, 1, 1)), Ok(()));
    assert_eq!(endorsement_holds(&e, day(2027, 12, 31)), Ok(()));
    assert!(matches!(
        endorsement_holds(&e, day(2025, 12, 31)),
        Err(EndorsementProblem::PostDated { .. })
    ));
    assert!(matches!(
        endorsement_holds(&e, day(2028, 1, 1)),
        Err(EndorsementProblem::Expired { .. })
    ));
    // An issue time with no calendar day is never taken to be in the past.
    let mut odd = e;
    odd.issued_at = Timestamp(i64::MAX);
    assert!(matches!(
        endorsement_holds(&odd, day(2026, 6, 1)),
        Err(EndorsementProblem::PostDated { .. })
    ));
}
