//! `tessera vendor keygen / issue / endorse`.

use std::os::unix::fs::PermissionsExt;

use crate::util::{
    Dir, assert_fails_saying, assert_invalid, cannot_run, repo, stderr, stdout, tessera,
};

#[test]
fn no_command_prints_the_overview_and_succeeds() {
    let out = tessera().output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("verify"), "{}", stdout(&out));
}

/// `tessera generate man --dir DIR` (what packaging/regenerate.sh runs) writes
/// the pages that are packaged, byte for byte, and prints each path; without
/// `--dir` it prints the top page.
#[test]
fn generate_man_writes_every_packaged_page() {
    let d = Dir::new();
    let out = d.run(&["generate", "man", "--dir", "man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut written: Vec<String> = std::fs::read_dir(d.path("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut packaged: Vec<String> = std::fs::read_dir(repo("packaging/man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    packaged.sort();
    assert_eq!(written, packaged, "run packaging/regenerate.sh");
    assert!(written.len() > 30, "a page per subcommand: {written:?}");
    for page in &written {
        assert_eq!(
            d.read(&format!("man/{page}")),
            std::fs::read_to_string(repo("packaging/man").join(page)).unwrap(),
            "{page} differs from packaging/man/{page}: run packaging/regenerate.sh"
        );
        assert!(
            stdout(&out)
                .lines()
                .any(|l| l.ends_with(&format!("man/{page}"))),
            "{page} is not in the list printed: {}",
            stdout(&out)
        );
    }
    let top = d.run(&["generate", "man"]);
    assert!(top.status.success(), "{}", stderr(&top));
    assert_eq!(stdout(&top), d.read("man/tessera.1"));
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites() {
    let d = Dir::new();
    let out = d.run(&["vendor", "keygen", "--out", "vendor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let mode = std::fs::metadata(d.path("vendor.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let secret = d.read("vendor.key");
    assert!(secret.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        d.read("vendor.pub")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    // The key id printed is the one licences name.
    let id = printed.split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(id.len(), 16, "{printed}");
    // The secret is never printed.
    assert!(!printed.contains("PRIVATE"));

    let again = d.run(&["vendor", "keygen", "--out", "vendor"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwritten"),
        "{}",
        stderr(&again)
    );
    assert_eq!(d.read("vendor.key"), secret);

    // A dangling link where the public key would go: refused before anything
    // is written, so no secret key is left without its public half.
    std::os::unix::fs::symlink("nowhere/at/all", d.path("second.pub")).unwrap();
    let out = d.run(&["vendor", "keygen", "--out", "second"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("second.pub"), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(d.path("second.key")).is_err(),
        "an orphan key"
    );
}

#[test]
fn keys_are_standard_pem_that_openssl_reads() {
    let d = Dir::new();
    d.keygen("vendor");
    let status = std::process::Command::new("openssl")
        .args(["pkey", "-in", "vendor.key", "-noout"])
        .current_dir(d.path(""))
        .status()
        .unwrap_or_else(|e| cannot_run("openssl", "openssl", &e));
    assert!(status.success());
    let status = std::process::Command::new("openssl")
        .args(["pkey", "-pubin", "-in", "vendor.pub", "-noout"])
        .current_dir(d.path(""))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn issue_signs_the_example_spec_and_verify_accepts_it() {
    let d = Dir::new();
    d.keygen("vendor");
    d.issue_example("vendor.key", "nw.lic");
    let lic = d.read("nw.lic");
    assert!(
        lic.starts_with("-----BEGIN TESSERA LICENCE-----\nSerial: NW-000123\n"),
        "{lic}"
    );
    let out = d.run(&[
        "verify",
        "nw.lic",
        "--trust",
        "vendor.pub",
        "--serial",
        "NW-000123",
        "--at",
        "2026-06-01",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("VALID: licence NW-000123 sequence 2"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn issue_without_out_prints_the_licence_and_never_overwrites_a_file() {
    let d = Dir::new();
    d.keygen("vendor");
    let spec = std::path::PathBuf::from(d.example_spec());
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "vendor.key",
        spec.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("-----BEGIN TESSERA LICENCE-----"));
    d.write("taken.lic", "keep me");
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "vendor.key",
        spec.to_str().unwrap(),
        "--out",
        "taken.lic",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(d.read("taken.lic"), "keep me");
}

#[test]
fn inspect_json_is_a_spec_that_reissues_the_same_licence() {
    let d = Dir::new();
    d.keygen("vendor");
    d.issue_example("vendor.key", "nw.lic");
    let out = d.run(&["inspect", "--json", "nw.lic"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["inspect"]["verified"], false);
    assert_eq!(json["serial"], "NW-000123");
    assert_eq!(json["seat_pools"][0]["price"], "45");
    d.write("spec.json", &out.stdout);
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        "vendor.key",
        "spec.json",
        "--out",
        "again.lic",
        "--ledger",
        "another.sqlite",
    ])
    .assert()
    .success();
    // Same content, same key: ed25519 is deterministic, so the files are identical.
    assert_eq!(d.read("again.lic"), d.read("nw.lic"));
    // The ledger that issued it refuses the sequence a second time, naming the
    // licence that has it, and writes nothing.
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "vendor.key",
        "spec.json",
        "--out",
        "third.lic",
    ]);
    assert_fails_saying(
        &out,
        "sequence 2 of serial NW-000123 was already issued, as NW-000123-0002",
    );
    assert!(!d.path("third.lic").exists());
}

#[test]
fn a_spec_mistake_is_named_and_nothing_is_written() {
    let d = Dir::new();
    d.keygen("vendor");
    let spec = std::fs::read_to_string(repo("examples/licence.toml")).unwrap();
    d.write(
        "bad.toml",
        spec.replace("end = 2026-12-31", "end = 2025-12-31"),
    );
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "vendor.key",
        "bad.toml",
        "--out",
        "x.lic",
    ]);
    assert_fails_saying(
        &out,
        "contract.start 2026-01-01 is after contract.end 2025-12-31",
    );
    assert!(!d.path("x.lic").exists());

    d.write("typo.toml", spec.replace("auto_renew", "autorenew"));
    let out = d.run(&["vendor", "issue", "--key", "vendor.key", "typo.toml"]);
    assert_fails_saying(&out, "autorenew");

    let out = d.run(&["vendor", "issue", "--key", "missing.key", "typo.toml"]);
    assert_fails_saying(&out, "missing.key: no such file");

    let out = d.run(&["vendor", "issue", "--key", "vendor.pub", "typo.toml"]);
    assert_fails_saying(&out, "PKCS#8");
}

/// `vendor issue --key vendor.key --batch specs.jsonl --out-dir out`: a
/// licence in out/ for every spec line of specs.jsonl.
const ISSUE_BATCH: [&str; 8] = [
    "vendor",
    "issue",
    "--key",
    "vendor.key",
    "--batch",
    "specs.jsonl",
    "--out-dir",
    "out",
];

/// Writes `specs` (one JSON spec a line) to specs.jsonl and makes the empty
/// directory out/ for [`ISSUE_BATCH`].
fn write_batch(d: &Dir, specs: impl AsRef<[u8]>) {
    d.write("specs.jsonl", specs);
    std::fs::create_dir(d.path("out")).unwrap();
}

/// `vendor endorse --key root.key --issuer ISSUER --products PRODUCTS
/// --until 2099-12-31 addon.pub --out addon.endorsement`, run on 2026-01-01:
/// the root endorses the key addon.pub. Endorsed on a fixed day, before every
/// date a test checks on (a site refuses an endorsement issued after its
/// checking date), and for long enough that `vendor issue`, which judges the
/// endorsement on the real today, accepts it for years.
fn endorse_addon(d: &Dir, issuer: &str, products: &str) -> assert_cmd::Command {
    assert_cmd::Command::from_std(d.at(
        "2026-01-01 00:00:00",
        &[
            "vendor",
            "endorse",
            "--key",
            "root.key",
            "--issuer",
            issuer,
            "--products",
            products,
            "--until",
            "2099-12-31",
            "addon.pub",
            "--out",
            "addon.endorsement",
        ],
    ))
}

/// Makes the shipped example licence as a batch spec line for each of
/// `serials` (licence id SERIAL-1), issuing base.lic with vendor.key on the way.
fn batch_specs(d: &Dir, serials: &[&str]) -> String {
    d.issue_example("vendor.key", "base.lic");
    let out = d.run(&["inspect", "--json", "base.lic"]);
    let mut base: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut lines = String::new();
    for s in serials {
        base["serial"] = serde_json::json!(s);
        base["licence_id"] = serde_json::json!(format!("{s}-1"));
        lines.push_str(&serde_json::to_string(&base).unwrap());
        lines.push('\n');
    }
    lines
}

#[test]
fn batch_issues_one_file_per_line() {
    let d = Dir::new();
    d.keygen("vendor");
    write_batch(&d, batch_specs(&d, &["A-1", "B-2", "C-3"]));
    let out = d.run(&ISSUE_BATCH);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("issued 3 licences"));
    for s in ["A-1", "B-2", "C-3"] {
        let file = format!("out/{s}-2.lic");
        d.cmd(&[
            "verify",
            &file,
            "--trust",
            "vendor.pub",
            "--serial",
            s,
            "--at",
            "2026-06-01",
        ])
        .assert()
        .success();
    }
}

#[test]
fn a_batch_with_one_bad_line_writes_nothing() {
    let d = Dir::new();
    d.keygen("vendor");
    let mut specs = batch_specs(&d, &["A-1", "B-2"]);
    specs.push_str("{\"serial\": \"broken\"}\n");
    write_batch(&d, specs);
    let out = d.run(&ISSUE_BATCH);
    assert_fails_saying(&out, "line 3");
    assert_eq!(std::fs::read_dir(d.path("out")).unwrap().count(), 0);
}

/// A batch that cannot be written whole (here a file-size limit stands in for
/// a full disk: the second licence is larger than the limit) leaves nothing:
/// the licence written before it and the cut-short file are removed, so the
/// same batch can simply be run again.
#[test]
fn a_batch_cut_short_by_the_disk_leaves_nothing() {
    let d = Dir::new();
    d.keygen("vendor");
    let specs = batch_specs(&d, &["A-1", "B-2"]);
    let mut lines: Vec<serde_json::Value> = specs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let add_ons: Vec<serde_json::Value> = (0..40)
        .map(|i| serde_json::json!({"name": format!("Extra module number {i}"), "count": 1, "price": "1.00"}))
        .collect();
    lines[1]["add_ons"] = serde_json::json!(add_ons);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    write_batch(&d, text);
    // out/ on a tmpfs of two pages: the first licence (about 2.2 KB, one
    // page) fits, the second (two pages) does not. Mounting needs root.
    if !crate::serve::as_root(
        "a_batch_cut_short_by_the_disk_leaves_nothing",
        "mounts a small tmpfs",
    ) {
        return;
    }
    let _mount = crate::disk::Mount::tmpfs(&d.path("out"), "8k");
    let out = d.run(&ISSUE_BATCH);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("B-2-2.lic"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing of this batch is left"),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(d.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // And the ledger holds none of them: the batch can simply be run again.
    let held = d.run(&["vendor", "ledger", "installations", "--json"]);
    let held: serde_json::Value = serde_json::from_slice(&held.stdout).expect("JSON");
    let serials: Vec<&str> = held["installations"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["serial"].as_str().expect("a serial"))
        .collect();
    assert!(
        !serials.contains(&"A-1") && !serials.contains(&"B-2"),
        "{held}"
    );
}

#[test]
fn an_endorsed_issuer_signs_licences_that_verify_against_the_root_alone() {
    let d = Dir::new();
    d.keygen("root");
    d.keygen("addon");
    let out = endorse_addon(&d, "Acme Add-ons", "fieldsuite,planner")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let spec = std::path::PathBuf::from(d.example_spec());
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        "addon.key",
        "--endorsement",
        "addon.endorsement",
        spec.to_str().unwrap(),
        "--out",
        "addon.lic",
    ])
    .assert()
    .success();
    let out = d.run(&[
        "verify",
        "addon.lic",
        "--trust",
        "root.pub",
        "--at",
        "2026-12-01",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("issuer \"Acme Add-ons\" endorsed by root"),
        "{}",
        stdout(&out)
    );

    // Before the endorsement was issued, it does not hold yet: the checking
    // clock is behind, or the endorsement is post-dated.
    let out = d.run(&[
        "verify",
        "addon.lic",
        "--trust",
        "root.pub",
        "--at",
        "2025-12-31",
    ]);
    assert_invalid(&out, "INVALID: endorsement");
    assert!(stdout(&out).contains("post-dated"), "{}", stdout(&out));

    // After the endorsement ends, the issuer's licences stop working.
    let out = d.run(&[
        "verify",
        "addon.lic",
        "--trust",
        "root.pub",
        "--at",
        "2100-01-01",
    ]);
    assert_invalid(&out, "INVALID: endorsement");

    // Without the endorsement the issuer key is trusted by nobody (issued
    // into a ledger of its own: this one has the sequence already).
    d.cmd(&[
        "vendor",
        "issue",
        "--key",
        "addon.key",
        spec.to_str().unwrap(),
        "--out",
        "bare.lic",
        "--ledger",
        "bare.sqlite",
    ])
    .assert()
    .success();
    let out = d.run(&["verify", "bare.lic", "--trust", "root.pub"]);
    assert_invalid(&out, "INVALID: key");
}

#[test]
fn an_endorsement_for_another_key_is_refused_at_issue() {
    let d = Dir::new();
    d.keygen("root");
    d.keygen("addon");
    d.keygen("other");
    endorse_addon(&d, "Acme", "fieldsuite").assert().success();
    let spec = std::path::PathBuf::from(d.example_spec());
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "other.key",
        "--endorsement",
        "addon.endorsement",
        spec.to_str().unwrap(),
    ]);
    assert_fails_saying(&out, "endorsement is for key");
}

#[test]
fn an_endorsement_that_does_not_cover_the_product_is_refused_at_issue() {
    let d = Dir::new();
    d.keygen("root");
    d.keygen("addon");
    endorse_addon(&d, "Acme", "planner").assert().success();
    let spec = d.example_spec();
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        "addon.key",
        "--endorsement",
        "addon.endorsement",
        spec,
    ]);
    assert_fails_saying(&out, "covers planner, not product \"fieldsuite\"");
}
