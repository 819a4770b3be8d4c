//! Leases as a licensed product verifies them: `lease::verify` against the
//! installation key, on every lease vector, with the verdicts of
//! `tests/vectors/LEASES` (which the Python verifier is held to as well, in
//! [`crate::python`]); and the content rules a lease is signed under.

use std::collections::BTreeSet;

use crate::common::{LEASE_NOW, SERIAL, assert_golden_text, installation_key, lease, test_path};
use licfile::{Document, LeaseError, LeaseSeat, SignError, Term, Timestamp, lease, signed};

/// Every code a refusal may carry, as `LeaseError::code` and the Python verifier spell it.
pub const CODES: [&str; 8] = [
    "malformed",
    "not_a_lease",
    "untrusted_key",
    "bad_signature",
    "key_mismatch",
    "other_serial",
    "not_yet_valid",
    "expired",
];

/// One line of `tests/vectors/LEASES`.
#[derive(Debug)]
pub struct LeaseRow {
    /// Line number, from 1.
    pub line: usize,
    /// The vector's file name.
    pub file: String,
    /// `valid`, or one of [`CODES`].
    pub verdict: String,
    /// For `valid`, the lease's user; else text the refusal's message contains.
    pub detail: String,
}

/// Reads `tests/vectors/LEASES`: `file | verdict | detail` lines, `#`
/// comments and blank lines ignored.
pub fn lease_table() -> Vec<LeaseRow> {
    let path = test_path("vectors/LEASES");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display()));
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        let [file, verdict, detail] = cols[..] else {
            panic!("LEASES line {line_no}: want `file | verdict | detail`: {line:?}");
        };
        assert!(
            verdict == "valid" || CODES.contains(&verdict),
            "LEASES line {line_no}: verdict {verdict:?} is neither valid nor one of {CODES:?}"
        );
        assert!(!detail.is_empty(), "LEASES line {line_no}: empty detail");
        rows.push(LeaseRow {
            line: line_no,
            file: file.to_string(),
            verdict: verdict.to_string(),
            detail: detail.to_string(),
        });
    }
    rows
}

/// The path of a file under `tests/vectors/`.
pub fn vector_path(name: &str) -> std::path::PathBuf {
    test_path(&format!("vectors/{name}"))
}

#[test]
fn the_trusted_key_file_is_the_installation_key() {
    // What a product is given (`tessera installation key` writes the same
    // form), pinned so that the Python verifier and people can use it.
    let pem = installation_key().public().to_pem().unwrap();
    assert_golden_text("vectors/installation.pub", &pem);
    let read = std::fs::read_to_string(vector_path("installation.pub")).unwrap();
    assert_eq!(
        licfile::PublicKey::from_pem(&read).unwrap(),
        *installation_key().public()
    );
}

#[test]
fn leases() {
    let rows = lease_table();
    let trusted = installation_key();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for row in &rows {
        if !listed.insert(row.file.clone()) {
            problems.push(format!("LEASES line {}: {} twice", row.line, row.file));
            continue;
        }
        let input = match std::fs::read(vector_path(&row.file)) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(format!("{} (LEASES line {}): {e}", row.file, row.line));
                continue;
            }
        };
        let outcome = lease::verify(&input, trusted.public(), Some(SERIAL), LEASE_NOW);
        let wrong = match (&outcome, row.verdict.as_str()) {
            (Ok(l), "valid") if l.user == row.detail => None,
            (Ok(l), "valid") => Some(format!("holds, for user {:?}", l.user)),
            (Ok(l), _) => Some(format!("accepted (user {:?})", l.user)),
            (Err(e), verdict) if e.code() == verdict && e.to_string().contains(&row.detail) => None,
            (Err(e), _) => Some(format!("refused as {}: {e}", e.code())),
        };
        if let Some(why) = wrong {
            problems.push(format!(
                "{} (LEASES line {}): expected {} ({:?}), but {why}",
                row.file, row.line, row.verdict, row.detail
            ));
        }
    }
    // Every lease vector is judged here, and every verdict is reached.
    for file in std::fs::read_dir(test_path("vectors")).unwrap() {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".txt") && name.contains("lease") && !listed.contains(&name) {
            problems.push(format!("{name}: a lease vector with no line in LEASES"));
        }
    }
    for verdict in CODES.iter().chain(&["valid"]) {
        if !rows.iter().any(|r| r.verdict == *verdict) {
            problems.push(format!("no vector in LEASES is {verdict}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} lease problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn without_a_serial_any_installation_serial_is_taken() {
    let input = std::fs::read(vector_path("lease-other-serial.txt")).unwrap();
    let l = lease::verify(&input, installation_key().public(), None, LEASE_NOW).unwrap();
    assert_eq!(l.serial, "NW-000999");
}

#[test]
fn a_lease_holds_until_the_second_before_not_after() {
    let install = installation_key();
    let text = std::fs::read(test_path("golden/lease.txt")).unwrap();
    let l = lease(&install);
    let at = |t: i64| lease::verify(&text, install.public(), Some(SERIAL), Timestamp(t));
    assert_eq!(at(l.not_after.0 - 1), Ok(l.clone()));
    assert_eq!(
        at(l.not_after.0),
        Err(LeaseError::Expired {
            not_after: l.not_after,
            now: l.not_after
        })
    );
    let skew = licfile::constants::LEASE_CLOCK_SKEW_SECONDS;
    assert_eq!(at(l.issued_at.0 - skew), Ok(l.clone()));
    assert!(matches!(
        at(l.issued_at.0 - skew - 1),
        Err(LeaseError::NotYetValid { .. })
    ));
    assert_eq!(l.renew_at(), Timestamp(1_780_315_200), "noon, half-way");
    assert_eq!(l.holds_at(l.renew_at()), Ok(()));
}

#[test]
fn a_lease_names_what_is_wrong_with_it() {
    let install = installation_key();
    let mut l = lease(&install);
    l.serial = "NW 1".into();
    l.user = " tcarter".into();
    l.seat = Some(LeaseSeat {
        issuer: "Add-on Works ".into(),
        area: String::new(),
        licence: "x".repeat(101),
        term: Term::Daily,
    });
    l.not_after = Timestamp(l.issued_at.0 - 1);
    let problems = l.validate().unwrap_err().problems;
    for expected in [
        "serial \"NW 1\" must be 1 to 64 letters, digits, '-', '_' or '.'",
        "user has leading or trailing spaces",
        "seat.issuer has leading or trailing spaces",
        "seat.area is empty",
        "seat.licence is longer than 100 characters",
        "not_after 2026-06-01T07:59:59Z is not after issued_at 2026-06-01T08:00:00Z",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected:?} not among {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 6, "{problems:#?}");

    // The vendor's own pool has no issuer; an add-on issuer's is named.
    let mut ok = lease(&install);
    ok.seat.as_mut().unwrap().issuer = "Add-on Works".into();
    assert_eq!(ok.validate(), Ok(()));
    // Exactly the longest lifetime is allowed.
    ok.not_after = Timestamp(ok.issued_at.0 + licfile::constants::LEASE_MAX_HOURS * 3600);
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn an_installation_never_signs_a_lease_that_breaks_the_rules() {
    let install = installation_key();
    let mut l = lease(&install);
    l.not_after = Timestamp(l.issued_at.0 + licfile::constants::LEASE_MAX_HOURS * 3600 + 1);
    let refused = signed::sign(&Document::Lease(l), &install, None);
    assert!(
        matches!(&refused, Err(SignError::Invalid { kind: "lease", source })
            if source.to_string().contains("more than 168 hours")),
        "{refused:?}"
    );
}

#[test]
fn policy_takes_a_lease_as_intact_and_read_verified_names_its_signer() {
    let install = installation_key();
    let text = std::fs::read(test_path("golden/lease.txt")).unwrap();
    let (doc, signer) =
        licfile::verify::read_verified(&text, licfile::DocumentKind::Lease, &licfile::Roots::new())
            .unwrap();
    assert_eq!(doc.document, Document::Lease(lease(&install)));
    assert_eq!(
        signer,
        licfile::Signer::Installation {
            key_id: install.public().id()
        }
    );
    // Asked for a lease, a request is refused as the wrong kind.
    let request = std::fs::read(vector_path("valid-request.txt")).unwrap();
    assert!(matches!(
        licfile::verify::read_verified(
            &request,
            licfile::DocumentKind::Lease,
            &licfile::Roots::new()
        ),
        Err(licfile::VerifyError::WrongKind {
            expected: "lease",
            found: "licence request"
        })
    ));
}
