//! What the ledger records and answers: keys over time, licences, requests,
//! reports and invoices, clock corrections, endorsements, and the queries.

use chrono::NaiveDate;
use ledger::{
    ClockCorrectionRow, EndorsementRow, InvoiceLineRow, InvoiceRecord, IssuedLicence, LedgerError,
    Standing,
};
use rust_decimal::Decimal;

use crate::harness::{Backend, key, key_id, place, t};

crate::on_both!(
    keys_are_taken_on_first_sight_and_replaced_only_when_accepted,
    a_licence_sequence_is_issued_once,
    a_request_is_fulfilled_once,
    amounts_round_trip_exactly,
    a_report_is_invoiced_once_and_a_month_once,
    a_failed_transaction_leaves_nothing,
    a_refused_item_of_a_batch_leaves_the_others,
    the_report_chain_is_kept_for_the_next_reports_findings,
    clock_corrections_and_endorsements_are_kept,
    queries_for_an_accounts_team,
    invoices_as_csv_quote_what_needs_quoting,
);

fn dec(s: &str) -> Decimal {
    s.parse().expect("a decimal")
}

pub fn licence(serial: &str, sequence: u64, at: i64) -> IssuedLicence {
    IssuedLicence {
        serial: serial.into(),
        sequence,
        licence_id: format!("{serial}-{sequence:04}"),
        issued_at: at,
        expiry: NaiveDate::from_ymd_opt(2027, 12, 31),
        signer_key_id: "a1b2c3d4e5f60718".into(),
        signed: format!(
            "-----BEGIN TESSERA LICENCE-----\nSerial: {serial}\n\nAAAA\n-----END TESSERA LICENCE-----\n"
        ),
    }
}

pub fn invoice(serial: &str, report: &str, month: &str, actor: &str, at: i64) -> InvoiceRecord {
    InvoiceRecord {
        serial: serial.into(),
        report_id: report.into(),
        month: month.into(),
        parts: 1,
        audit_seq: None,
        audit_head: None,
        previous_report: None,
        lines: vec![
            InvoiceLineRow {
                description: "Jobs User (monthly) seats, billed ahead".into(),
                quantity: 3,
                unit_price: dec("45.00"),
                amount: dec("135.00"),
            },
            InvoiceLineRow {
                description: "emails-sent past the threshold".into(),
                quantity: 7,
                unit_price: dec("0.015"),
                amount: dec("0.105"),
            },
        ],
        total: dec("135.11"),
        currency: "GBP".into(),
        findings: vec![],
        actor: actor.into(),
        at,
    }
}

fn keys_are_taken_on_first_sight_and_replaced_only_when_accepted(b: Backend) {
    let Some(p) = place(b, "keys") else {
        return;
    };
    let mut l = p.open();
    let s = "NW-000123";
    assert_eq!(
        l.transaction(|tx| tx.check_key(s, &key(1), false, t(0))),
        Ok(Standing::FirstSight)
    );
    assert_eq!(
        l.transaction(|tx| tx.check_key(s, &key(1), false, t(10))),
        Ok(Standing::KnownKey)
    );
    // Another key is refused, naming both, and changes nothing.
    let e = l
        .transaction(|tx| tx.check_key(s, &key(2), false, t(20)))
        .expect_err("another key");
    assert_eq!(
        e,
        LedgerError::KeyChanged {
            serial: s.into(),
            known: key_id(1),
            presented: key_id(2)
        }
    );
    assert_eq!(e.code(), "key_changed");
    assert!(e.to_string().contains("accept the new key"), "{e}");
    let row = l
        .transaction(|tx| tx.installation(s))
        .expect("read")
        .expect("known");
    assert_eq!(row.keys.len(), 1);
    assert_eq!(row.first_seen, t(0));

    // Accepted (a reinstalled site): the new key is current, the old one kept, retired.
    assert_eq!(
        l.transaction(|tx| tx.check_key(s, &key(2), true, t(30))),
        Ok(Standing::KeyReplaced)
    );
    let row = l
        .transaction(|tx| tx.installation(s))
        .expect("read")
        .expect("known");
    assert_eq!(row.keys.len(), 2);
    assert_eq!(row.keys[0].key, key(1));
    assert_eq!(row.keys[0].since, t(0));
    assert_eq!(row.keys[0].retired_at, Some(t(30)));
    assert_eq!(row.keys[1].key, key(2));
    assert_eq!(row.keys[1].key_id, key_id(2));
    assert_eq!(row.keys[1].since, t(30));
    assert_eq!(row.current_key().map(|k| k.key), Some(key(2)));
    // The old key is now the stranger.
    assert_eq!(
        l.transaction(|tx| tx.check_key(s, &key(1), false, t(40))),
        Err(LedgerError::KeyChanged {
            serial: s.into(),
            known: key_id(2),
            presented: key_id(1)
        })
    );
    let list = l.transaction(|tx| tx.installations()).expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].key_id, Some(key_id(2)));
    assert_eq!(l.transaction(|tx| tx.installation("NW-999")), Ok(None));
}

fn a_licence_sequence_is_issued_once(b: Backend) {
    let Some(p) = place(b, "sequences") else {
        return;
    };
    let mut l = p.open();
    let s = "NW-000123";
    assert_eq!(l.transaction(|tx| tx.next_sequence(s)), Ok(1));
    l.transaction(|tx| tx.record_licence(&licence(s, 1, t(0))))
        .expect("first");
    assert_eq!(l.transaction(|tx| tx.next_sequence(s)), Ok(2));
    // The same sequence again, whatever its id, is refused naming the first.
    let mut again = licence(s, 1, t(100));
    again.licence_id = "OTHER".into();
    let e = l
        .transaction(|tx| tx.record_licence(&again))
        .expect_err("taken");
    assert_eq!(
        e,
        LedgerError::SequenceTaken {
            serial: s.into(),
            sequence: 1,
            licence_id: format!("{s}-0001"),
            issued_at: t(0)
        }
    );
    assert_eq!(e.code(), "sequence_taken");
    assert!(e.to_string().contains("2026-01-01 00:00:00 UTC"), "{e}");
    // Out of order in, in order out; without expiry too.
    let mut three = licence(s, 3, t(300));
    three.expiry = None;
    l.transaction(|tx| tx.record_licence(&three)).expect("3");
    l.transaction(|tx| tx.record_licence(&licence(s, 2, t(200))))
        .expect("2");
    let got = l.transaction(|tx| tx.licences(s)).expect("licences");
    assert_eq!(got, vec![licence(s, 1, t(0)), licence(s, 2, t(200)), three]);
    assert_eq!(l.transaction(|tx| tx.next_sequence(s)), Ok(4));
    // Another serial has its own sequences.
    assert_eq!(l.transaction(|tx| tx.next_sequence("NW-2")), Ok(1));
    let e = l
        .transaction(|tx| tx.record_licence(&licence(s, u64::MAX, t(0))))
        .expect_err("too large");
    assert_eq!(e.code(), "invalid", "{e}");
}

fn a_request_is_fulfilled_once(b: Backend) {
    let Some(p) = place(b, "requests") else {
        return;
    };
    let mut l = p.open();
    let s = "NW-000123";
    // A request from a serial whose key was never checked is a caller's mistake.
    let e = l
        .transaction(|tx| tx.note_request(s, "R-1", None))
        .expect_err("unknown serial");
    assert_eq!(e.code(), "invalid");
    l.transaction(|tx| tx.check_key(s, &key(1), false, t(0)))
        .expect("key");
    // Seen (verified) any number of times, fulfilled once.
    for _ in 0..2 {
        l.transaction(|tx| tx.note_request(s, "R-1", None))
            .expect("seen");
    }
    assert_eq!(l.transaction(|tx| tx.fulfilment(s, "R-1")), Ok(None));
    l.transaction(|tx| tx.note_request(s, "R-1", Some(("alice", t(60)))))
        .expect("fulfilled");
    let e = l
        .transaction(|tx| tx.note_request(s, "R-1", Some(("bob", t(120)))))
        .expect_err("twice");
    assert_eq!(
        e,
        LedgerError::AlreadyDone {
            what: format!("request R-1 of serial {s}"),
            by: "alice".into(),
            at: t(60)
        }
    );
    assert_eq!(e.code(), "already_done");
    assert!(
        e.to_string()
            .contains("by alice on 2026-01-01 00:01:00 UTC"),
        "{e}"
    );
    assert_eq!(
        l.transaction(|tx| tx.fulfilment(s, "R-1")),
        Ok(Some(("alice".into(), t(60))))
    );
    // Clock requests are requests too.
    let clock = "clock 00112233445566778899aabbccddeeff";
    l.transaction(|tx| tx.note_request(s, clock, Some(("alice", t(180)))))
        .expect("clock");
    assert_eq!(
        l.transaction(|tx| tx.note_request(s, clock, Some(("alice", t(240)))))
            .map_err(|e| e.code()),
        Err("already_done")
    );
    // The same request id from another serial is another request.
    l.transaction(|tx| {
        tx.check_key("NW-2", &key(2), false, t(0))?;
        tx.note_request("NW-2", "R-1", Some(("bob", t(300))))
    })
    .expect("another serial");
}

fn amounts_round_trip_exactly(b: Backend) {
    let Some(p) = place(b, "decimals") else {
        return;
    };
    let mut l = p.open();
    // Scale kept ("45.00" is not "45"), the smallest and largest Decimal, negatives.
    let values = [
        "45.00",
        "0.10",
        "0",
        "0.0000000000000000000000000001",
        "79228162514264337593543950335",
        "-79228162514264337593543950335",
        "-12.3450",
        "1234567890.123456789012345678",
        "7.5",
    ];
    let mut rec = invoice("S-1", "R-1", "2026-01", "alice", t(0));
    rec.lines = values
        .iter()
        .enumerate()
        .map(|(i, v)| InvoiceLineRow {
            description: format!("line {i}"),
            quantity: i as u64,
            unit_price: dec(v),
            amount: dec(v),
        })
        .collect();
    rec.total = dec("12345.60");
    let id = l.transaction(|tx| tx.record_invoice(&rec)).expect("record");
    let got = l.transaction(|tx| tx.invoices(None)).expect("read");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].record, rec);
    for (line, v) in got[0].record.lines.iter().zip(values) {
        assert_eq!(line.unit_price.to_string(), v, "as written, scale and all");
        assert_eq!(line.amount.to_string(), v);
    }
    assert_eq!(got[0].record.total.to_string(), "12345.60");
    // Behind the ledger's back: exact text in SQLite, NUMERIC in PostgreSQL.
    let stored = p.raw(
        "SELECT typeof(amount) || ' ' || amount FROM invoice_lines ORDER BY position",
        "SELECT pg_typeof(amount)::text || ' ' || amount::text FROM invoice_lines ORDER BY position",
    );
    let kind = match b {
        Backend::Sqlite => "text",
        Backend::Postgres => "numeric",
    };
    let expected: Vec<Option<String>> =
        values.iter().map(|v| Some(format!("{kind} {v}"))).collect();
    assert_eq!(stored, expected);
}

fn a_report_is_invoiced_once_and_a_month_once(b: Backend) {
    let Some(p) = place(b, "invoices") else {
        return;
    };
    let mut l = p.open();
    let s = "NW-000123";
    let first = l
        .transaction(|tx| tx.record_invoice(&invoice(s, "R-1", "2026-01", "alice", t(0))))
        .expect("first");
    // The same report again, by anyone: refused, naming the first.
    let e = l
        .transaction(|tx| tx.record_invoice(&invoice(s, "R-1", "2026-01", "bob", t(10))))
        .expect_err("twice");
    assert_eq!(
        e,
        LedgerError::AlreadyDone {
            what: format!("invoice of report R-1 of serial {s}"),
            by: "alice".into(),
            at: t(0)
        }
    );
    // Another report of the same month: refused, naming the report invoiced.
    let e = l
        .transaction(|tx| tx.record_invoice(&invoice(s, "R-2", "2026-01", "bob", t(20))))
        .expect_err("month twice");
    assert_eq!(
        e,
        LedgerError::AlreadyInvoiced {
            serial: s.into(),
            month: "2026-01".into(),
            report: "R-1".into(),
            by: "alice".into(),
            at: t(0)
        }
    );
    assert_eq!(e.code(), "already_invoiced");
    assert!(e.to_string().contains("a month is invoiced once"), "{e}");
    // Nothing of the refused ones was kept.
    assert_eq!(p.count("SELECT count(*) FROM invoices"), 1);
    assert_eq!(p.count("SELECT count(*) FROM invoice_lines"), 2);
    assert_eq!(p.count("SELECT count(*) FROM reports"), 1);
    // The next month, and the same month of another serial, are their own.
    let second = l
        .transaction(|tx| tx.record_invoice(&invoice(s, "R-3", "2026-02", "bob", t(30))))
        .expect("next month");
    l.transaction(|tx| tx.record_invoice(&invoice("NW-2", "R-1", "2026-01", "bob", t(40))))
        .expect("another serial");
    assert!(second > first, "ids increase: {first} then {second}");
    let reports = l.transaction(|tx| tx.reports(s)).expect("reports");
    let seen: Vec<_> = reports
        .iter()
        .map(|r| {
            (
                r.report_id.as_str(),
                r.month.as_deref(),
                r.invoice,
                r.actor.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("R-1", Some("2026-01"), Some(first), "alice"),
            ("R-3", Some("2026-02"), Some(second), "bob")
        ]
    );
    for bad in ["2026-13", "2026-1", "January"] {
        let e = l
            .transaction(|tx| tx.record_invoice(&invoice(s, "R-9", bad, "bob", t(50))))
            .expect_err("bad month");
        assert_eq!(e.code(), "invalid", "{bad}: {e}");
    }
    let mut none = invoice(s, "R-9", "2026-05", "bob", t(50));
    none.parts = 0;
    assert_eq!(
        l.transaction(|tx| tx.record_invoice(&none))
            .map_err(|e| e.code()),
        Err("invalid")
    );
}

fn a_failed_transaction_leaves_nothing(b: Backend) {
    let Some(p) = place(b, "rollback") else {
        return;
    };
    let mut l = p.open();
    let e = l
        .transaction(|tx| {
            tx.check_key("S-1", &key(1), false, t(0))?;
            tx.record_licence(&licence("S-1", 1, t(0)))?;
            tx.record_invoice(&invoice("S-1", "R-1", "2026-01", "alice", t(0)))?;
            // The command fails after all that: none of it is kept.
            tx.record_invoice(&invoice("S-1", "R-2", "2026-01", "alice", t(0)))
        })
        .expect_err("the month twice");
    assert_eq!(e.code(), "already_invoiced");
    assert_eq!(l.transaction(|tx| tx.installations()), Ok(vec![]));
    for table in [
        "installations",
        "installation_keys",
        "licences",
        "reports",
        "invoices",
        "invoice_lines",
    ] {
        assert_eq!(
            p.count(&format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    // And the ledger goes on working.
    l.transaction(|tx| tx.check_key("S-1", &key(1), false, t(0)))
        .expect("after");
}

/// A caller's own refusal, beside the ledger's.
#[derive(Debug, PartialEq)]
enum Mine {
    Ledger(LedgerError),
    Refused(String),
}

impl From<LedgerError> for Mine {
    fn from(e: LedgerError) -> Self {
        Mine::Ledger(e)
    }
}

impl ledger::TxError for Mine {
    fn is_conflict(&self) -> bool {
        matches!(self, Mine::Ledger(e) if ledger::TxError::is_conflict(e))
    }
}

fn a_refused_item_of_a_batch_leaves_the_others(b: Backend) {
    use ledger::TxError as _;
    let Some(p) = place(b, "savepoint") else {
        return;
    };
    let mut l = p.open();
    // Three invoices in one transaction, each in its own savepoint: the
    // second is refused by the ledger after it wrote, the third by the
    // caller after it wrote; the first and what follows stay.
    let outcomes = l
        .transaction_with(|tx| {
            let mut out = Vec::new();
            out.push(
                tx.savepoint(|tx| {
                    tx.record_invoice(&invoice("S-1", "R-1", "2026-01", "alice", t(0)))
                })
                .map_err(Mine::from),
            );
            out.push(tx.savepoint(|tx| {
                tx.record_licence(&licence("S-2", 1, t(0)))?;
                tx.record_invoice(&invoice("S-1", "R-2", "2026-01", "alice", t(0)))
                    .map_err(Mine::from)
            }));
            out.push(tx.savepoint(|tx| {
                tx.record_invoice(&invoice("S-3", "R-3", "2026-01", "alice", t(0)))?;
                Err::<i64, _>(Mine::Refused("the caller's reason".into()))
            }));
            out.push(
                tx.savepoint(|tx| {
                    tx.record_invoice(&invoice("S-4", "R-4", "2026-01", "alice", t(0)))
                })
                .map_err(Mine::from),
            );
            Ok::<_, Mine>(out)
        })
        .expect("the transaction commits");
    assert!(outcomes[0].is_ok(), "{outcomes:?}");
    assert!(
        matches!(&outcomes[1], Err(Mine::Ledger(e)) if e.code() == "already_invoiced"),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[2],
        Err(Mine::Refused("the caller's reason".into()))
    );
    assert!(outcomes[3].is_ok(), "{outcomes:?}");
    assert!(!Mine::Refused(String::new()).is_conflict());
    let kept: Vec<String> = l
        .transaction(|tx| tx.invoices(None))
        .expect("read")
        .into_iter()
        .map(|i| i.record.serial)
        .collect();
    assert_eq!(kept, ["S-1", "S-4"]);
    // The licence written inside the refused savepoint went with it.
    assert_eq!(p.count("SELECT count(*) FROM licences"), 0);
    // A caller's refusal of the whole transaction leaves nothing either.
    let e = l
        .transaction_with(|tx| {
            tx.record_licence(&licence("S-5", 1, t(0)))?;
            Err::<(), _>(Mine::Refused("no".into()))
        })
        .expect_err("refused");
    assert_eq!(e, Mine::Refused("no".into()));
    assert_eq!(p.count("SELECT count(*) FROM licences"), 0);
}

fn the_report_chain_is_kept_for_the_next_reports_findings(b: Backend) {
    let Some(p) = place(b, "chain") else {
        return;
    };
    let mut l = p.open();
    let s = "NW-000123";
    let mut first = invoice(s, "NW-000123-U202601-1", "2026-01", "alice", t(0));
    first.parts = 3;
    first.audit_seq = Some(41);
    first.audit_head = Some([0xab; 32]);
    first.previous_report = None;
    first.findings = vec!["price of Jobs User differs: billed from the licence".into()];
    l.transaction(|tx| tx.record_invoice(&first))
        .expect("first");
    let reports = l.transaction(|tx| tx.reports(s)).expect("reports");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].parts, 3);
    assert_eq!(reports[0].audit_seq, Some(41));
    assert_eq!(reports[0].audit_head, Some([0xab; 32]));
    assert_eq!(reports[0].previous_report, None);
    assert_eq!(reports[0].seen_at, t(0));
    let got = l
        .transaction(|tx| tx.invoices(Some("2026-01")))
        .expect("invoices");
    assert_eq!(got[0].record, first);

    // The next report names a report the vendor never saw: a gap, as licfile tells it.
    let seen: Vec<_> = reports.iter().map(ledger::ReportRow::seen).collect();
    let chain = licfile::ReportChain {
        audit_seq: 50,
        audit_head: [0xcd; 32],
        previous_report: Some("NW-000123-U202601-7".into()),
    };
    let findings = licfile::report::chain_findings(&seen, "NW-000123-U202602-8", Some(&chain));
    assert!(
        findings.iter().any(|f| f.starts_with("gap:")),
        "{findings:?}"
    );
    // A report that rolls the log back below event 41 is named too.
    let back = licfile::ReportChain {
        audit_seq: 40,
        audit_head: [0xcd; 32],
        previous_report: Some("NW-000123-U202601-1".into()),
    };
    let findings = licfile::report::chain_findings(&seen, "NW-000123-U202602-2", Some(&back));
    assert!(
        findings.iter().any(|f| f.starts_with("rollback:")),
        "{findings:?}"
    );
}

fn clock_corrections_and_endorsements_are_kept(b: Backend) {
    let Some(p) = place(b, "clock") else {
        return;
    };
    let mut l = p.open();
    let c = ClockCorrectionRow {
        serial: "NW-000123".into(),
        nonce_hex: "00112233445566778899aabbccddeeff".into(),
        time: t(1000),
        valid_until: t(1000 + 48 * 3600),
        corrected_mark: t(9_000_000),
        actor: "alice".into(),
        at: t(1000),
    };
    l.transaction(|tx| tx.record_clock_correction(&c))
        .expect("first");
    let mut again = c.clone();
    again.actor = "bob".into();
    again.at = t(2000);
    let e = l
        .transaction(|tx| tx.record_clock_correction(&again))
        .expect_err("twice");
    assert_eq!(
        e,
        LedgerError::AlreadyDone {
            what: "the clock correction of serial NW-000123 for nonce 00112233445566778899aabbccddeeff"
                .into(),
            by: "alice".into(),
            at: t(1000)
        }
    );
    let mut other = c.clone();
    other.nonce_hex = "ffeeddccbbaa99887766554433221100".into();
    l.transaction(|tx| tx.record_clock_correction(&other))
        .expect("another nonce");
    let mut bad = c.clone();
    bad.nonce_hex = "not hex".into();
    assert_eq!(
        l.transaction(|tx| tx.record_clock_correction(&bad))
            .map_err(|e| e.code()),
        Err("invalid")
    );
    let got = l
        .transaction(|tx| tx.clock_corrections("NW-000123"))
        .expect("read");
    assert_eq!(got, vec![c, other]);

    let e = EndorsementRow {
        issuer: "Acme Add-ons, Ltd. \"the good one\"".into(),
        issuer_key_id: "0102030405060708".into(),
        products: vec!["fieldsuite".into(), "planner".into()],
        until: NaiveDate::from_ymd_opt(2027, 12, 31).expect("date"),
        signed: "-----BEGIN TESSERA ISSUER ENDORSEMENT-----".into(),
        at: t(5),
    };
    l.transaction(|tx| tx.record_endorsement(&e))
        .expect("record");
    l.transaction(|tx| tx.record_endorsement(&e))
        .expect("an endorsement may be signed again");
    assert_eq!(
        l.transaction(|tx| tx.endorsements()),
        Ok(vec![e.clone(), e])
    );
}

fn queries_for_an_accounts_team(b: Backend) {
    let Some(p) = place(b, "queries") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| {
        tx.record_licence(&licence("B-2", 1, t(0)))?;
        tx.record_licence(&licence("B-2", 2, t(10)))?;
        tx.check_key("B-2", &key(2), false, t(20))?;
        tx.check_key("A-1", &key(1), false, t(30))?;
        tx.record_invoice(&invoice("B-2", "B-R1", "2026-02", "alice", t(40)))?;
        tx.record_invoice(&invoice("A-1", "A-R1", "2026-02", "alice", t(50)))?;
        tx.record_invoice(&invoice("A-1", "A-R2", "2026-01", "bob", t(60)))?;
        Ok(())
    })
    .expect("record");
    let list = l.transaction(|tx| tx.installations()).expect("list");
    let rows: Vec<_> = list
        .iter()
        .map(|i| {
            (
                i.serial.as_str(),
                i.key_id.clone(),
                i.first_seen,
                i.licences,
                i.latest_sequence,
                i.reports,
                i.invoices,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("A-1", Some(key_id(1)), t(30), 0, None, 2, 2),
            ("B-2", Some(key_id(2)), t(0), 2, Some(2), 1, 1),
        ]
    );
    // By month, then serial; one month alone; a month with none.
    let all = l.transaction(|tx| tx.invoices(None)).expect("all");
    let order: Vec<_> = all
        .iter()
        .map(|i| (i.record.month.as_str(), i.record.serial.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![("2026-01", "A-1"), ("2026-02", "A-1"), ("2026-02", "B-2")]
    );
    assert!(all.iter().all(|i| i.record.lines.len() == 2));
    let feb = l
        .transaction(|tx| tx.invoices(Some("2026-02")))
        .expect("feb");
    assert_eq!(feb.len(), 2);
    assert!(feb.iter().all(|i| i.record.month == "2026-02"));
    assert_eq!(feb, all[1..].to_vec());
    assert_eq!(l.transaction(|tx| tx.invoices(Some("2025-12"))), Ok(vec![]));
    assert_eq!(
        l.transaction(|tx| tx.invoices(Some("last month")))
            .map_err(|e| e.code()),
        Err("invalid")
    );
    let json = serde_json::to_value(&feb[0]).expect("json");
    assert_eq!(json["id"], serde_json::json!(feb[0].id));
    assert_eq!(json["month"], "2026-02");
    assert_eq!(json["lines"][0]["unit_price"], "45.00", "{json}");
    assert_eq!(json["total"], "135.11");
}

fn invoices_as_csv_quote_what_needs_quoting(b: Backend) {
    let Some(p) = place(b, "csv") else {
        return;
    };
    let mut l = p.open();
    let mut rec = invoice("NW-000123", "R-1", "2026-01", "alice", t(0));
    rec.lines[0].description = "Jobs User, \"Premium\" seats\nbilled ahead".into();
    let id = l.transaction(|tx| tx.record_invoice(&rec)).expect("record");
    let csv = ledger::invoice_lines_csv(&l.transaction(|tx| tx.invoices(None)).expect("read"));
    assert_eq!(
        csv,
        format!(
            "serial,month,report,invoice,description,quantity,unit_price,amount,currency\r\n\
             NW-000123,2026-01,R-1,{id},\"Jobs User, \"\"Premium\"\" seats\nbilled ahead\",3,45.00,135.00,GBP\r\n\
             NW-000123,2026-01,R-1,{id},emails-sent past the threshold,7,0.015,0.105,GBP\r\n"
        )
    );
}
