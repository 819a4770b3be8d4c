//! Taking an installations.json into the ledger: once, whole or not at all.

use ledger::{IMPORT_ACTOR, ImportCounts, LedgerError, Standing};
use licfile::registry::{Known, Registry};
use licfile::{RawPublicKey, Timestamp};

use crate::harness::{Backend, key, key_id, place, t};
use crate::records::{invoice, licence};

crate::on_both!(
    a_registry_is_imported_once,
    a_registry_that_disagrees_with_the_ledger_is_refused_whole,
    the_registry_file_as_tessera_wrote_it_is_read,
);

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn registry() -> Registry {
    let mut r = Registry::default();
    r.installations.insert(
        "NW-1".into(),
        Known {
            installation_key: RawPublicKey(key(1)),
            first_seen: Timestamp(t(0)),
            requests: strings(&["R-1", "clock 00112233445566778899aabbccddeeff"]),
            reports: strings(&[
                "NW-1-U202601-1",
                "BIG part 1 of 2",
                "BIG part 2 of 2",
                // Before the file kept months: the site's id says it.
                "NW-1-U202512-3",
                // Neither the file nor the id says.
                "LEGACY",
            ]),
            invoiced: vec![
                ("2026-01".into(), "NW-1-U202601-1".into()),
                ("2026-02".into(), "BIG".into()),
            ],
        },
    );
    r.installations.insert(
        "NW-2".into(),
        Known {
            installation_key: RawPublicKey(key(2)),
            first_seen: Timestamp(t(100)),
            requests: vec![],
            reports: vec![],
            invoiced: vec![],
        },
    );
    r
}

fn json(r: &Registry) -> Vec<u8> {
    serde_json::to_vec_pretty(r).expect("json")
}

fn a_registry_is_imported_once(b: Backend) {
    let Some(p) = place(b, "import") else {
        return;
    };
    let mut l = p.open();
    // The ledger heard of NW-2 after the file did (a licence issued since).
    l.transaction(|tx| tx.record_licence(&licence("NW-2", 1, t(500))))
        .expect("licence");
    let now = t(10_000);
    let counts = l.import_registry(&json(&registry()), now).expect("import");
    assert_eq!(
        counts,
        ImportCounts {
            installations: 1,
            keys: 2,
            requests: 2,
            reports: 4,
            reports_without_month: 1,
            already_there: 0,
        }
    );
    let said = counts.to_string();
    assert!(
        said.contains("2 installation keys") && said.contains("1 reports of unknown month"),
        "{said}"
    );
    // Again: nothing new, everything counted as there.
    let again = l
        .import_registry(&json(&registry()), t(20_000))
        .expect("again");
    assert_eq!(
        again,
        ImportCounts {
            already_there: 8,
            ..ImportCounts::default()
        }
    );

    // What the file knew, the ledger now enforces.
    let e = l
        .transaction(|tx| tx.note_request("NW-1", "R-1", Some(("alice", t(30_000)))))
        .expect_err("fulfilled before");
    assert_eq!(
        e,
        LedgerError::AlreadyDone {
            what: "request R-1 of serial NW-1".into(),
            by: IMPORT_ACTOR.into(),
            at: now
        }
    );
    for (month, report) in [
        ("2026-01", "NW-1-U202601-1"),
        ("2026-02", "BIG"),
        ("2025-12", "NW-1-U202512-3"),
    ] {
        let e = l
            .transaction(|tx| tx.record_invoice(&invoice("NW-1", "NEW", month, "alice", t(30_000))))
            .expect_err("invoiced before");
        assert_eq!(
            e,
            LedgerError::AlreadyInvoiced {
                serial: "NW-1".into(),
                month: month.into(),
                report: report.into(),
                by: IMPORT_ACTOR.into(),
                at: now
            }
        );
    }
    assert_eq!(
        l.transaction(|tx| tx.check_key("NW-1", &key(1), false, t(30_000))),
        Ok(Standing::KnownKey)
    );
    let reports = l.transaction(|tx| tx.reports("NW-1")).expect("reports");
    let seen: Vec<_> = reports
        .iter()
        .map(|r| (r.report_id.as_str(), r.month.as_deref(), r.parts, r.invoice))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("NW-1-U202601-1", Some("2026-01"), 1, None),
            ("BIG", Some("2026-02"), 2, None),
            ("NW-1-U202512-3", Some("2025-12"), 1, None),
            ("LEGACY", None, 1, None),
        ]
    );
    assert!(
        reports
            .iter()
            .all(|r| r.actor == IMPORT_ACTOR && r.seen_at == now)
    );
    let list = l.transaction(|tx| tx.installations()).expect("list");
    let firsts: Vec<_> = list
        .iter()
        .map(|i| {
            (
                i.serial.as_str(),
                i.first_seen,
                i.key_id.clone(),
                i.licences,
            )
        })
        .collect();
    assert_eq!(
        firsts,
        vec![
            ("NW-1", t(0), Some(key_id(1)), 0),
            // The file's earlier first sight wins over the licence's.
            ("NW-2", t(100), Some(key_id(2)), 1),
        ]
    );
    // A month the file did not have is invoiced as usual.
    l.transaction(|tx| tx.record_invoice(&invoice("NW-1", "NEW", "2026-03", "alice", t(30_000))))
        .expect("a new month");
}

fn a_registry_that_disagrees_with_the_ledger_is_refused_whole(b: Backend) {
    let Some(p) = place(b, "import_conflict") else {
        return;
    };
    let mut l = p.open();
    l.import_registry(&json(&registry()), t(10_000))
        .expect("import");
    let tables = [
        "installations",
        "installation_keys",
        "requests",
        "fulfilments",
        "reports",
    ];
    let before: Vec<i64> = tables
        .iter()
        .map(|t| p.count(&format!("SELECT count(*) FROM {t}")))
        .collect();

    // NW-2 reinstalled since the file was written elsewhere: another key.
    let mut other = registry();
    other.installations.insert(
        "NW-0".into(),
        Known {
            installation_key: RawPublicKey(key(7)),
            first_seen: Timestamp(t(0)),
            requests: strings(&["R-new"]),
            reports: vec![],
            invoiced: vec![],
        },
    );
    if let Some(k) = other.installations.get_mut("NW-2") {
        k.installation_key = RawPublicKey(key(3));
    }
    let e = l
        .import_registry(&json(&other), t(20_000))
        .expect_err("another key");
    assert_eq!(e.code(), "import_refused");
    let msg = e.to_string();
    assert!(
        msg.contains("NW-2") && msg.contains(&key_id(3)) && msg.contains(&key_id(2)),
        "{msg}"
    );
    assert!(msg.contains("nothing was imported"), "{msg}");

    // A month the file says was invoiced from another report than the ledger's.
    let mut month = registry();
    if let Some(k) = month.installations.get_mut("NW-1") {
        k.reports.push("OTHER".into());
        k.invoiced.push(("2026-01".into(), "OTHER".into()));
    }
    let e = l
        .import_registry(&json(&month), t(20_000))
        .expect_err("another report for the month");
    let msg = e.to_string();
    assert!(
        msg.contains("2026-01") && msg.contains("OTHER") && msg.contains("NW-1-U202601-1"),
        "{msg}"
    );

    // Not a registry at all.
    for bad in [&b"[1, 2]"[..], b"{\"installations\": 7}", b"\xff\xfe"] {
        let e = l
            .import_registry(bad, t(20_000))
            .expect_err("not a registry");
        assert_eq!(e.code(), "import_refused");
        assert!(e.to_string().contains("not a Tessera registry"), "{e}");
    }
    // NW-0 came before the refusal in the file, and is not in the ledger either.
    let after: Vec<i64> = tables
        .iter()
        .map(|t| p.count(&format!("SELECT count(*) FROM {t}")))
        .collect();
    assert_eq!(before, after);
    assert_eq!(l.transaction(|tx| tx.installation("NW-0")), Ok(None));
}

fn the_registry_file_as_tessera_wrote_it_is_read(b: Backend) {
    let Some(p) = place(b, "import_file") else {
        return;
    };
    let mut l = p.open();
    // As `tessera vendor … --registry installations.json` writes it.
    let file = format!(
        r#"{{
  "installations": {{
    "NW-9": {{
      "installation_key": "{}",
      "first_seen": "2026-01-01T00:00:00Z",
      "requests": ["NW-9-R1"],
      "reports": ["NW-9-U202601-1"],
      "invoiced": [["2026-01", "NW-9-U202601-1"]]
    }},
    "NW-8": {{
      "installation_key": "{}",
      "first_seen": "2026-01-01T00:01:40Z"
    }}
  }}
}}"#,
        ledger::hex(&key(9)),
        ledger::hex(&key(8))
    );
    let counts = l.import_registry(file.as_bytes(), t(1)).expect("import");
    assert_eq!(
        (
            counts.installations,
            counts.keys,
            counts.requests,
            counts.reports
        ),
        (2, 2, 1, 1)
    );
    let row = l
        .transaction(|tx| tx.installation("NW-8"))
        .expect("read")
        .expect("there");
    assert_eq!(row.first_seen, t(100));
    assert_eq!(row.current_key().map(|k| k.key), Some(key(8)));
}
