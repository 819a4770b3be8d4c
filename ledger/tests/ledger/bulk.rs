//! Many rows at once: what a batch records is what the same items recorded
//! one by one would be, refusals included, item by item.

use crate::harness::{Backend, key, key_id, place, t};
use crate::records::{invoice, licence};

crate::on_both!(
    a_batch_of_licences_takes_each_sequence_once,
    a_batch_of_invoices_refuses_item_by_item,
    the_facts_of_many_serials_at_once,
);

fn a_batch_of_licences_takes_each_sequence_once(b: Backend) {
    let Some(p) = place(b, "bulk_licences") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| tx.record_licence(&licence("S-1", 1, t(0))))
        .expect("first");
    // 1,200 licences: more than one statement's worth.
    let mut batch: Vec<_> = (0..1200)
        .map(|i| licence(&format!("B-{i:05}"), 1, t(1)))
        .collect();
    batch.push(licence("S-1", 1, t(1))); // issued before
    batch.push(licence("B-00007", 1, t(1))); // twice in the batch
    let (taken, next) = l
        .transaction(|tx| {
            let taken = tx.record_licences(&batch)?;
            let next = tx.next_sequences(&["S-1", "B-00007", "NEW"])?;
            Ok((taken, next))
        })
        .expect("batch");
    let named: Vec<(String, u64, String)> = taken
        .iter()
        .map(|e| match e {
            ledger::LedgerError::SequenceTaken {
                serial,
                sequence,
                licence_id,
                ..
            } => (serial.clone(), *sequence, licence_id.clone()),
            other => panic!("not a taken sequence: {other:?}"),
        })
        .collect();
    assert_eq!(
        named,
        [
            ("S-1".to_string(), 1, "S-1-0001".to_string()),
            ("B-00007".to_string(), 1, "B-00007-0001".to_string())
        ]
    );
    assert_eq!(next["S-1"], 2);
    assert_eq!(next["B-00007"], 2);
    assert_eq!(next["NEW"], 1);
    assert_eq!(p.count("SELECT count(*) FROM licences"), 1201);
    assert_eq!(p.count("SELECT count(*) FROM installations"), 1201);
}

fn a_batch_of_invoices_refuses_item_by_item(b: Backend) {
    let Some(p) = place(b, "bulk_invoices") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| tx.record_invoice(&invoice("S-1", "R-1", "2026-01", "alice", t(0))))
        .expect("first");
    let mut batch: Vec<_> = (0..700)
        .map(|i| invoice(&format!("B-{i:05}"), "R-1", "2026-01", "bob", t(5)))
        .collect();
    batch.push(invoice("S-1", "R-1", "2026-01", "bob", t(5))); // the same report again
    batch.push(invoice("S-1", "R-9", "2026-01", "bob", t(5))); // the month again
    batch.push(invoice("B-00003", "R-2", "2026-01", "bob", t(5))); // the month again, within the batch
    let mut bad = invoice("S-2", "R-1", "2026-13", "bob", t(5));
    bad.parts = 1;
    batch.push(bad); // no such month
    let results = l
        .transaction(|tx| tx.record_invoices(&batch))
        .expect("batch");
    assert_eq!(results.len(), 704);
    assert!(
        results[..700].iter().all(|r| r.is_ok()),
        "{:?}",
        &results[..3]
    );
    let codes: Vec<&str> = results[700..]
        .iter()
        .map(|r| r.as_ref().map_or_else(|e| e.code(), |_| "ok"))
        .collect();
    assert_eq!(
        codes,
        [
            "already_done",
            "already_invoiced",
            "already_invoiced",
            "invalid"
        ]
    );
    let msg = results[700].as_ref().unwrap_err().to_string();
    assert!(msg.contains("by alice"), "{msg}");
    let within = results[702].as_ref().unwrap_err().to_string();
    assert!(within.contains("from report R-1, by bob"), "{within}");
    // Every recorded invoice has its two lines, in order, and distinct ids.
    let all = l
        .transaction(|tx| tx.invoices(Some("2026-01")))
        .expect("read");
    assert_eq!(all.len(), 701);
    assert!(all.iter().all(|i| i.record.lines == batch[0].lines));
    let ids: std::collections::HashSet<i64> = all.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 701);
    assert_eq!(p.count("SELECT count(*) FROM invoice_lines"), 1402);
}

fn the_facts_of_many_serials_at_once(b: Backend) {
    let Some(p) = place(b, "bulk_facts") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| {
        tx.check_key("S-1", &key(1), false, t(0))?;
        tx.record_licence(&licence("S-1", 1, t(0)))?;
        tx.record_licence(&licence("S-1", 2, t(1)))?;
        tx.record_invoice(&invoice("S-1", "R-1", "2026-01", "alice", t(2)))?;
        tx.record_licence(&licence("S-2", 1, t(0)))
    })
    .expect("setup");
    let facts = l
        .transaction(|tx| tx.serial_facts(&["S-1", "S-2", "S-3", "S-1"]))
        .expect("facts");
    assert_eq!(facts.len(), 3);
    let s1 = &facts["S-1"];
    assert_eq!(s1.current_key, Some((key(1), key_id(1))));
    assert_eq!(
        s1.licences.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(s1.reports.len(), 1);
    assert!(s1.reports[0].invoice.is_some());
    assert_eq!(facts["S-2"].current_key, None);
    assert_eq!(facts["S-2"].licences.len(), 1);
    assert_eq!(facts["S-3"], ledger::SerialFacts::default());

    // First keys in bulk; a serial that has one already is a conflict, and
    // the transaction leaves nothing.
    l.transaction(|tx| tx.take_first_keys(&[("S-2", key(2)), ("S-3", key(3))], t(3)))
        .expect("first keys");
    let e = l
        .transaction(|tx| tx.take_first_keys(&[("S-4", key(4)), ("S-1", key(9))], t(4)))
        .expect_err("S-1 has a key");
    assert_eq!(e.code(), "conflict");
    let facts = l
        .transaction(|tx| tx.serial_facts(&["S-1", "S-3", "S-4"]))
        .expect("facts");
    assert_eq!(facts["S-1"].current_key, Some((key(1), key_id(1))));
    assert_eq!(facts["S-3"].current_key, Some((key(3), key_id(3))));
    assert_eq!(facts["S-4"].current_key, None);
}
