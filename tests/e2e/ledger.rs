//! `tessera vendor ledger …`: the vendor's ledger read by an accounts team,
//! and an installations.json written by the vendor commands taken into it.
//! (The ledger crate's own tests run every record on SQLite and PostgreSQL;
//! these run the command line on a SQLite file.)

use ledger::{InvoiceLineRow, InvoiceRecord, IssuedLicence, Ledger, Location};
use serde_json::Value;

use crate::util::{Dir, assert_refused, stdout};

/// `tessera ARGS… --ledger ledger.sqlite --json`, which must succeed, parsed.
fn ledger_json(d: &Dir, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--ledger", "ledger.sqlite", "--json"]);
    let out = d.run(&all);
    assert!(out.status.success(), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("JSON on standard output")
}

/// The installations.json the vendor commands of earlier versions kept with
/// `--registry`: here the one they wrote after answering `clock.req`.
fn registry_of_earlier_versions(d: &Dir, request: &str) {
    let doc = licfile::signed::read(d.read(request).as_bytes()).expect("a signed request");
    let mut registry = licfile::registry::Registry::default();
    registry
        .record(&doc.document, licfile::Timestamp(1_790_000_000), false)
        .expect("recorded");
    d.write(
        "installations.json",
        serde_json::to_string_pretty(&registry).expect("JSON"),
    );
}

#[test]
fn the_registry_the_vendor_commands_wrote_is_imported_once() {
    let d = Dir::new();
    d.site();
    d.st(&["request", "clock", "--out", "clock.req"])
        .assert()
        .success();
    registry_of_earlier_versions(&d, "clock.req");

    let first = d.run(&[
        "vendor",
        "ledger",
        "import",
        "installations.json",
        "--ledger",
        "ledger.sqlite",
    ]);
    assert!(first.status.success(), "{first:?}");
    let said = stdout(&first);
    assert!(
        // The installation is known already: its licence was issued through this ledger.
        said.contains("0 installations, 1 installation keys, 1 fulfilled requests"),
        "{said}"
    );
    let again = ledger_json(&d, &["vendor", "ledger", "import", "installations.json"]);
    assert_eq!(again["imported"]["installations"], 0);
    assert_eq!(again["imported"]["already_there"], 2, "{again}");

    let list = ledger_json(&d, &["vendor", "ledger", "installations"]);
    let rows = list["installations"].as_array().expect("a list");
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["serial"], "NW-000123");
    // The installation key the site signed with.
    let registry: Value =
        serde_json::from_str(&d.read("installations.json")).expect("the registry");
    let raw: licfile::RawPublicKey = registry["installations"]["NW-000123"]["installation_key"]
        .as_str()
        .expect("a key")
        .parse()
        .expect("hex");
    assert_eq!(
        rows[0]["key_id"],
        licfile::KeyId::of(&raw.0).to_string(),
        "{list}"
    );
    // What the registry remembered, the ledger enforces.
    let mut l = Ledger::open(&Location::Sqlite(d.path("ledger.sqlite"))).expect("open");
    let id = registry["installations"]["NW-000123"]["requests"][0]
        .as_str()
        .expect("the clock request")
        .to_string();
    let e = l
        .transaction(|tx| tx.note_request("NW-000123", &id, Some(("alice", 0))))
        .expect_err("answered already");
    assert_eq!(e.code(), "already_done");
}

/// A ledger with two licences and an invoice whose description needs quoting.
fn ledger_with_an_invoice(d: &Dir) -> i64 {
    let mut l = Ledger::open(&Location::Sqlite(d.path("ledger.sqlite"))).expect("open");
    l.transaction(|tx| {
        for sequence in [1, 2] {
            tx.record_licence(&IssuedLicence {
                serial: "NW-1".into(),
                sequence,
                licence_id: format!("NW-1-{sequence:04}"),
                issued_at: 1_767_225_600,
                expiry: None,
                signer_key_id: "deec8fe06af90840".into(),
                signed: "-----BEGIN TESSERA LICENCE-----".into(),
            })?;
        }
        tx.record_invoice(&InvoiceRecord {
            serial: "NW-1".into(),
            report_id: "NW-1-U202601-1".into(),
            month: "2026-01".into(),
            parts: 1,
            audit_seq: None,
            audit_head: None,
            previous_report: None,
            lines: vec![InvoiceLineRow {
                description: "Jobs User, \"Premium\" (monthly) seats".into(),
                quantity: 3,
                unit_price: "45.00".parse().expect("decimal"),
                amount: "135.00".parse().expect("decimal"),
            }],
            total: "135.00".parse().expect("decimal"),
            currency: "GBP".into(),
            findings: vec!["a finding".into()],
            actor: "alice".into(),
            at: 1_769_904_000,
        })
    })
    .expect("record")
}

#[test]
fn invoices_and_licences_are_listed_for_an_accounts_team() {
    let d = Dir::new();
    let id = ledger_with_an_invoice(&d);

    let csv = d.run(&[
        "vendor",
        "ledger",
        "invoices",
        "--csv",
        "--month",
        "2026-01",
        "--ledger",
        "ledger.sqlite",
    ]);
    assert!(csv.status.success(), "{csv:?}");
    assert_eq!(
        stdout(&csv),
        format!(
            "serial,month,report,invoice,description,quantity,unit_price,amount,currency\r\n\
             NW-1,2026-01,NW-1-U202601-1,{id},\"Jobs User, \"\"Premium\"\" (monthly) seats\",3,45.00,135.00,GBP\r\n"
        )
    );
    let json = ledger_json(&d, &["vendor", "ledger", "invoices", "--month", "2026-01"]);
    assert_eq!(json["invoices"][0]["id"], id);
    assert_eq!(json["invoices"][0]["total"], "135.00");
    assert_eq!(json["invoices"][0]["at"], "2026-02-01T00:00:00Z");
    let other = ledger_json(&d, &["vendor", "ledger", "invoices", "--month", "2026-02"]);
    assert_eq!(other["invoices"], serde_json::json!([]));
    let text = d.run(&["vendor", "ledger", "invoices", "--ledger", "ledger.sqlite"]);
    let text = stdout(&text);
    assert!(
        text.contains(&format!("Invoice {id} for serial NW-1, usage of 2026-01"))
            && text.contains("135.00")
            && text.contains("finding: a finding"),
        "{text}"
    );

    let licences = ledger_json(&d, &["vendor", "ledger", "licences", "NW-1"]);
    let seqs: Vec<_> = licences["licences"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| l["sequence"].clone())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    let out = d.run(&[
        "vendor",
        "ledger",
        "licences",
        "NW-404",
        "--ledger",
        "ledger.sqlite",
        "--json",
    ]);
    assert_refused(&out, &["NW-404", "not in the ledger"]);
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "unknown_serial");

    // $TESSERA_LEDGER names it when --ledger does not.
    let out = d
        .cmd(&["vendor", "ledger", "installations"])
        .env("TESSERA_LEDGER", d.path("ledger.sqlite"))
        .output()
        .expect("run");
    assert!(stdout(&out).contains("NW-1"), "{out:?}");
}

#[test]
fn a_ledger_that_cannot_be_used_is_refused_and_left_alone() {
    let d = Dir::new();
    let out = d.run(&[
        "vendor",
        "ledger",
        "installations",
        "--ledger",
        "no/such/dir/ledger.sqlite",
        "--json",
    ]);
    assert_refused(&out, &["no/such", "does not exist"]);
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "unreachable");

    // A ledger a newer Tessera migrated.
    ledger_with_an_invoice(&d);
    let mut newer = ledger::schema::MIGRATIONS.to_vec();
    newer.push(ledger::Migration {
        version: ledger::SCHEMA_VERSION + 1,
        description: "a later build's step",
        sql: "CREATE TABLE later (x TEXT);",
    });
    drop(
        Ledger::open_with_migrations(&Location::Sqlite(d.path("ledger.sqlite")), &newer)
            .expect("migrate"),
    );
    let before = std::fs::read(d.path("ledger.sqlite")).expect("read");
    let out = d.run(&[
        "vendor",
        "ledger",
        "invoices",
        "--ledger",
        "ledger.sqlite",
        "--json",
    ]);
    let msg = assert_refused(&out, &["ledger.sqlite", "newer than this Tessera knows"]);
    assert!(
        msg.contains(&format!("version {}", ledger::SCHEMA_VERSION + 1)),
        "{msg}"
    );
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "newer_ledger");
    assert_eq!(
        std::fs::read(d.path("ledger.sqlite")).expect("read"),
        before
    );

    // An import that is not a registry changes nothing either.
    d.write("bad.json", "{\"installations\": 7}");
    let out = d.run(&[
        "vendor",
        "ledger",
        "import",
        "bad.json",
        "--ledger",
        "fresh.sqlite",
        "--json",
    ]);
    assert_refused(
        &out,
        &["bad.json", "not a Tessera registry", "nothing was imported"],
    );
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "import_refused");
}
