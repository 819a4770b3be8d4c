//! `tessera verify` and `tessera inspect` on good, damaged and hostile files.

use crate::util::{Dir, assert_fails_saying, assert_invalid, stderr, stdout};

fn signed(d: &Dir) {
    d.keygen("vendor");
    d.issue_example("vendor.key", "nw.lic");
}

#[test]
fn verify_json_names_every_check_and_the_state() {
    let d = Dir::new();
    signed(&d);
    let out = d.run(&[
        "verify",
        "--json",
        "nw.lic",
        "--trust",
        "vendor.pub",
        "--serial",
        "NW-000123",
        "--at",
        "2027-01-10",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["state"], "expiring");
    let names: Vec<_> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "format",
            "key",
            "signature",
            "endorsement",
            "serial",
            "not before",
            "expiry"
        ]
    );
}

#[test]
fn expiry_grace_and_termination_follow_the_date() {
    let d = Dir::new();
    signed(&d);
    let at = |date: &str| d.run(&["verify", "nw.lic", "--trust", "vendor.pub", "--at", date]);
    let grace = at("2027-02-10");
    assert!(grace.status.success());
    assert!(stdout(&grace).contains("in grace"), "{}", stdout(&grace));
    let ended = at("2027-02-15");
    assert_eq!(ended.status.code(), Some(1));
    assert!(
        stdout(&ended).contains("INVALID: expiry: terminated since 2027-02-15"),
        "{}",
        stdout(&ended)
    );
}

#[test]
fn a_licence_for_another_serial_is_refused() {
    let d = Dir::new();
    signed(&d);
    let out = d.run(&[
        "verify",
        "nw.lic",
        "--trust",
        "vendor.pub",
        "--serial",
        "XX-1",
    ]);
    assert_invalid(
        &out,
        "INVALID: serial: for serial NW-000123, but this installation is XX-1",
    );
}

#[test]
fn a_tampered_file_is_refused_with_a_reason() {
    let d = Dir::new();
    signed(&d);
    let lic = d.read("nw.lic");
    // Change one base64 character in the middle of the payload.
    let mut lines: Vec<String> = lic.lines().map(String::from).collect();
    let line = &mut lines[8];
    let c = line.remove(10);
    line.insert(10, if c == 'A' { 'B' } else { 'A' });
    d.write("tampered.lic", lines.join("\n"));
    let out = d.run(&["verify", "tampered.lic", "--trust", "vendor.pub"]);
    assert_invalid(&out, "INVALID");

    // A header that disagrees with the signed content.
    d.write(
        "header.lic",
        lic.replace("Licensee: Northwind", "Licensee: Southwind"),
    );
    let out = d.run(&["verify", "header.lic", "--trust", "vendor.pub"]);
    assert_invalid(&out, "readable header says Licensee");
}

#[test]
fn files_that_are_not_documents_get_a_clear_message() {
    let d = Dir::new();
    d.write("empty.lic", "");
    let out = d.run(&["verify", "empty.lic"]);
    assert_invalid(&out, "not a Tessera document");

    d.write("big.lic", vec![b'A'; 70_000]);
    let out = d.run(&["verify", "big.lic"]);
    assert_fails_saying(&out, "was not read");

    d.write("bin.lic", [0xffu8, 0xfe, 0, 1, 2]);
    let out = d.run(&["inspect", "bin.lic"]);
    assert_fails_saying(&out, "not text");

    let out = d.run(&["verify", "nowhere.lic"]);
    assert_fails_saying(&out, "nowhere.lic: no such file");

    let out = d.run(&["verify", "."]);
    assert_fails_saying(&out, "is a directory");
}

#[test]
fn usage_errors_exit_2() {
    let d = Dir::new();
    signed(&d);
    let out = d.run(&["verify", "nw.lic", "--at", "31/01/2027"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("YYYY-MM-DD"), "{}", stderr(&out));
    let out = d.run(&["verify"]);
    assert_eq!(out.status.code(), Some(2));
    let out = d.run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn inspect_says_it_does_not_verify_and_reads_standard_input() {
    let d = Dir::new();
    signed(&d);
    let lic = d.read("nw.lic");
    let out = d.cmd(&["inspect", "-"]).write_stdin(lic).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("NOT VERIFIED"), "{text}");
    assert!(
        text.contains("Jobs     User             contracted      25"),
        "{text}"
    );
    assert!(text.contains("Business Central"), "{text}");
}

#[test]
fn the_demo_root_is_trusted_only_when_asked() {
    let d = Dir::new();
    let demo_key = crate::util::repo("keys/demo/demo.key");
    let spec = std::path::PathBuf::from(d.example_spec());
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        demo_key.to_str().unwrap(),
        spec.to_str().unwrap(),
        "--out",
        "demo.lic",
    ])
    .assert()
    .success();
    d.cmd(&["verify", "demo.lic", "--at", "2026-06-01"])
        .assert()
        .code(1);
    d.cmd(&["verify", "demo.lic", "--demo", "--at", "2026-06-01"])
        .assert()
        .success();
}

/// A clock request from the site with key seed [8; 32] and the correction the
/// root with key seed [7; 32] answers it with (its time 2026-05-31T12:00:00Z,
/// importable until 2026-06-02T12:00:00Z), written to clock.req and clock.cor
/// with the root's public key in root.pub.
fn clock_files(d: &Dir) {
    use licfile::{ClockCorrection, ClockRequest, Document, SecretKey, Timestamp, signed};
    let root = SecretKey::from_seed(&[7; 32]).unwrap();
    let site = SecretKey::from_seed(&[8; 32]).unwrap();
    d.write("root.pub", root.public().to_pem().unwrap());
    let nonce = *b"e2e-clock-nonce!";
    let high_water = Timestamp(1_788_220_800); // 2026-09-01T00:00:00Z
    let request = ClockRequest {
        serial: "NW-000123".into(),
        installation_key: site.public().raw(),
        high_water,
        created_at: Timestamp(1_780_218_000), // 2026-05-31T09:00:00Z
        nonce,
    };
    let correction = ClockCorrection {
        serial: "NW-000123".into(),
        nonce,
        time: Timestamp(1_780_228_800),        // 2026-05-31T12:00:00Z
        valid_until: Timestamp(1_780_401_600), // 2026-06-02T12:00:00Z
        corrected_mark: high_water,
    };
    let sign = |doc, key| signed::sign(&doc, key, None).unwrap();
    d.write("clock.req", sign(Document::ClockRequest(request), &site));
    d.write(
        "clock.cor",
        sign(Document::ClockCorrection(correction), &root),
    );
}

#[test]
fn clock_requests_and_corrections_verify_and_inspect() {
    let d = Dir::new();
    clock_files(&d);
    // A request verifies against the installation key it carries: no root needed.
    let out = d.run(&[
        "verify",
        "clock.req",
        "--serial",
        "NW-000123",
        "--at",
        "2026-06-01",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("VALID: clock request"),
        "{}",
        stdout(&out)
    );

    let at = |date: &str| {
        d.run(&[
            "verify",
            "clock.cor",
            "--trust",
            "root.pub",
            "--serial",
            "NW-000123",
            "--at",
            date,
        ])
    };
    // A correction verifies against the root, up to the day it may be imported until.
    let out = at("2026-06-02");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("VALID: clock correction for NW-000123"),
        "{}",
        stdout(&out)
    );
    assert_invalid(&at("2026-06-03"), "INVALID: expiry");
    assert_invalid(&at("2026-05-30"), "INVALID: not before");
    // Without the root, nobody vouches for it.
    let out = d.run(&["verify", "clock.cor", "--at", "2026-06-01"]);
    assert_invalid(&out, "INVALID: key");

    let out = d.run(&["inspect", "clock.cor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Clock correction for serial NW-000123"),
        "{text}"
    );
    assert!(text.contains("Valid until  2026-06-02T12:00:00Z"), "{text}");
    // The nonce in hex, as it is compared with the request's.
    assert!(text.contains("6532652d636c6f636b2d6e6f6e636521"), "{text}");
    let out = d.run(&["inspect", "--json", "clock.req"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inspect"]["document"], "clock-request");
    assert_eq!(v["high_water"], "2026-09-01T00:00:00Z");
}
