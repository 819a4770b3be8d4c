//! Writes a small seed corpus for the fuzz targets into `corpus/<target>/`:
//! valid documents of every kind, signed by the keys the `verify` target
//! trusts, so the fuzzer starts past the signature check instead of having to
//! discover the armor, envelope and bincode layouts from nothing.
//!
//! Run from `fuzz/`: `cargo run --example seed_corpus` (plain stable, no sanitizer).

use std::fs;
use std::path::Path;

use chrono::NaiveDate;
use licfile::envelope::Envelope;
use licfile::{
    ClockCorrection, ClockRequest, CostLine, DailyPoolDays, DaySet, Document, Endorsement,
    LicenceRequest, Licensee, MeteredUsage, Money, PoolUsage, SeatAction, SeatChange, SecretKey,
    Term, Timestamp, UsageReport, UserDays, YearMonth, encoding, sample, signed,
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The root the `verify` target trusts, an issuer it endorses, and an installation.
    let root = SecretKey::from_seed(&[1; 32])?;
    let issuer = SecretKey::from_seed(&[2; 32])?;
    let installation = SecretKey::from_seed(&[3; 32])?;

    let licence = Document::Licence(sample::licence("NW-000123"));
    let mut no_expiry = sample::licence("NW-000123");
    no_expiry.expiry = None;
    no_expiry.sequence = 2;

    let endorsement = Document::Endorsement(Endorsement {
        issuer: "Add-on Vendor Ltd".into(),
        issuer_key: issuer.public().raw(),
        products: vec!["fieldsuite".into()],
        issued_at: Timestamp(1_767_225_600), // 2026-01-01
        until: day(2027, 12, 31),
    });
    let endorsement_text = signed::sign(&endorsement, &root, None)?;
    let endorsement_doc = signed::read(endorsement_text.as_bytes())?;

    let request = Document::Request(LicenceRequest {
        serial: "NW-000123".into(),
        request_id: "NW-000123-R0001".into(),
        created_at: Timestamp(1_768_000_000),
        installation_key: installation.public().raw(),
        licensee: Licensee {
            company: "Northwind Heating & Plumbing Ltd".into(),
            email: "accounts@northwind-heating.example".into(),
        },
        product: "fieldsuite".into(),
        licence_sequence: 1,
        changes: vec![SeatChange {
            area: "Jobs".into(),
            licence: "User".into(),
            term: Term::Monthly,
            action: SeatAction::Add,
            count: 2,
            effective: day(2026, 1, 10),
        }],
        costs: vec![CostLine {
            description: "Jobs User (monthly) x 2, 2026-01-10 to 2026-01-31".into(),
            amount: "73.806451".parse::<Money>()?,
        }],
        total: "73.81".parse::<Money>()?,
        currency: "GBP".into(),
        note: "Two more engineers from Monday.".into(),
        modules: None,
    });

    let report = Document::UsageReport(UsageReport {
        serial: "NW-000123".into(),
        report_id: "NW-000123-U2026-01".into(),
        part: 1,
        parts: 1,
        created_at: Timestamp(1_769_904_000),
        installation_key: installation.public().raw(),
        month: YearMonth::new(2026, 1).ok_or("month")?,
        licence_sequence: 1,
        pools: vec![PoolUsage {
            area: "Jobs".into(),
            licence: "User".into(),
            term: Term::Contracted,
            total: 25,
            peak_in_use: 24,
            price: "45.00".parse::<Money>()?,
        }],
        daily_user_days: vec![DailyPoolDays {
            area: "Jobs".into(),
            licence: "User".into(),
            users: vec![UserDays {
                user: "jsmith".into(),
                days: DaySet::from_bits(1 << 11 | 1 << 12),
            }],
        }],
        metered: vec![MeteredUsage {
            name: "emails-sent".into(),
            used: 12_000,
            threshold: 11_000,
            excess: 1_000,
            overage_price: "0.002".parse::<Money>()?,
        }],
        storage_used_bytes: 123_456_789_012,
        storage_allowance_gb: 1_000,
        currency: "GBP".into(),
        // Format 1: no chain (the corpus seeds the oldest readable form).
        chain: None,
    });

    // A site whose mark ran ahead to 2026-09-01 asks for the time on 2026-05-31;
    // the root answers at 12:00 that day, importable for 48 hours.
    let nonce = *b"seed-corpus-nonc";
    let clock_request = Document::ClockRequest(ClockRequest {
        serial: "NW-000123".into(),
        installation_key: installation.public().raw(),
        high_water: Timestamp(1_788_220_800), // 2026-09-01T00:00:00Z
        created_at: Timestamp(1_780_218_000), // 2026-05-31T09:00:00Z
        nonce,
    });
    let clock_correction = Document::ClockCorrection(ClockCorrection {
        serial: "NW-000123".into(),
        nonce,
        time: Timestamp(1_780_228_800),        // 2026-05-31T12:00:00Z
        valid_until: Timestamp(1_780_401_600), // 2026-06-02T12:00:00Z
        corrected_mark: Timestamp(1_788_220_800),
    });

    let texts = [
        ("licence", signed::sign(&licence, &root, None)?),
        (
            "licence-no-expiry",
            signed::sign(&Document::Licence(no_expiry), &root, None)?,
        ),
        (
            "licence-endorsed",
            signed::sign(&licence, &issuer, Some(&endorsement_doc))?,
        ),
        ("endorsement", endorsement_text.clone()),
        ("request", signed::sign(&request, &installation, None)?),
        ("usage-report", signed::sign(&report, &installation, None)?),
        (
            "clock-request",
            signed::sign(&clock_request, &installation, None)?,
        ),
        (
            "clock-correction",
            signed::sign(&clock_correction, &root, None)?,
        ),
    ];

    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in ["armor", "decode", "verify"] {
        fs::create_dir_all(out.join(target))?;
    }
    for (name, text) in &texts {
        // Armored text for the targets that read files.
        fs::write(out.join("armor").join(name), text)?;
        fs::write(out.join("verify").join(name), text)?;
        // Mail-mangled variant: CRLF, trailing spaces, text around the armor.
        let crlf = format!(
            "Hello,\r\n\r\n{}\r\n-- \r\nBob\r\n",
            text.replace('\n', "  \r\n")
        );
        fs::write(out.join("verify").join(format!("{name}-crlf")), crlf)?;
        // Envelope bytes and bare payloads for the binary layers.
        let doc = signed::read(text.as_bytes())?;
        fs::write(
            out.join("decode").join(format!("{name}.envelope")),
            &doc.raw,
        )?;
        let envelope = Envelope::parse_v1(&doc.raw)?;
        fs::write(
            out.join("decode").join(format!("{name}.payload")),
            &envelope.payload,
        )?;
        // The payload re-encoded must be what was signed (the format is the bytes).
        assert_eq!(encoding::encode_document(&doc.document)?, envelope.payload);
    }
    println!(
        "wrote {} seeds per target into {}",
        texts.len(),
        out.display()
    );
    Ok(())
}
