//! Exactly once under concurrency: two connections (as two processes would
//! have) do the same thing at the same moment, many times over; each time
//! exactly one succeeds and the other is told who did it and when.

use std::sync::{Arc, Barrier};

use ledger::{ClockCorrectionRow, Ledger, LedgerError, Location, Standing};

use crate::harness::{Backend, key, key_id, place, t};
use crate::records::{invoice, licence};

crate::on_both!(of_two_at_once_exactly_one_succeeds);

/// Rounds of the race; each round races six kinds of record.
pub const ROUNDS: usize = 150;

fn month(r: usize) -> String {
    format!("{:04}-{:02}", 2000 + r / 12, r % 12 + 1)
}

/// What one side got in one race, in a form both sides can be compared by.
type Outcome = Result<String, LedgerError>;

/// One side of the race: `me` is "A" or "B"; before each record both sides
/// wait for each other at the barrier, so that their transactions overlap.
fn side(loc: &Location, me: &'static str, barrier: &Barrier) -> Vec<Outcome> {
    let mut l = Ledger::open(loc).unwrap_or_else(|e| panic!("{me} opens: {e}"));
    let key_of_me = if me == "A" { key(1) } else { key(2) };
    let mut out = Vec::new();
    for r in 0..ROUNDS {
        let at = t(r as i64);
        // A new serial's first key: one is taken, the other is another key.
        barrier.wait();
        out.push(
            l.transaction(|tx| tx.check_key(&format!("K-{r}"), &key_of_me, false, at))
                .map(|s| format!("{s:?}")),
        );
        // A request fulfilled.
        barrier.wait();
        out.push(
            l.transaction(|tx| tx.note_request("S", &format!("R-{r}"), Some((me, at))))
                .map(|()| me.to_string()),
        );
        // A report invoiced.
        barrier.wait();
        out.push(
            l.transaction(|tx| {
                tx.record_invoice(&invoice("S", &format!("REP-{r}"), &month(r), me, at))
            })
            .map(|_| me.to_string()),
        );
        // A month invoiced, from two different reports.
        barrier.wait();
        out.push(
            l.transaction(|tx| {
                tx.record_invoice(&invoice("S2", &format!("X-{r}-{me}"), &month(r), me, at))
            })
            .map(|_| me.to_string()),
        );
        // A licence sequence issued.
        barrier.wait();
        let mut lic = licence("S", r as u64 + 1, at);
        lic.licence_id = format!("{me}-{r}");
        out.push(
            l.transaction(|tx| tx.record_licence(&lic))
                .map(|()| me.to_string()),
        );
        // A clock request answered.
        barrier.wait();
        let c = ClockCorrectionRow {
            serial: "S".into(),
            nonce_hex: format!("{r:032x}"),
            time: at,
            valid_until: at + 3600,
            corrected_mark: at,
            actor: me.into(),
            at,
        };
        out.push(
            l.transaction(|tx| tx.record_clock_correction(&c))
                .map(|()| me.to_string()),
        );
    }
    out
}

fn of_two_at_once_exactly_one_succeeds(b: Backend) {
    let Some(p) = place(b, "race") else {
        return;
    };
    // Made first, so that the race is over the records, not the schema.
    let mut l = p.open();
    l.transaction(|tx| {
        tx.check_key("S", &key(9), false, t(0))?;
        tx.check_key("S2", &key(8), false, t(0))
    })
    .expect("serials");
    drop(l);

    let barrier = Arc::new(Barrier::new(2));
    let spawn = |me: &'static str| {
        let loc = p.loc.clone();
        let barrier = Arc::clone(&barrier);
        std::thread::spawn(move || side(&loc, me, &barrier))
    };
    let (a, b_side) = (spawn("A"), spawn("B"));
    let a = a.join().expect("A ran");
    let bb = b_side.join().expect("B ran");
    assert_eq!(a.len(), bb.len());

    for (i, (x, y)) in a.iter().zip(&bb).enumerate() {
        let (r, kind) = (i / 6, i % 6);
        let at = t(r as i64);
        let (winner, loser) = match (x, y) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w.clone(), l.clone()),
            _ => panic!("round {r}, race {kind}: exactly one must succeed: A {x:?}, B {y:?}"),
        };
        let expected = match kind {
            0 => {
                assert_eq!(winner, format!("{:?}", Standing::FirstSight));
                // The winner's key is the one known; the loser's the one presented.
                let (known, presented) = if x.is_ok() { (1, 2) } else { (2, 1) };
                LedgerError::KeyChanged {
                    serial: format!("K-{r}"),
                    known: key_id(known),
                    presented: key_id(presented),
                }
            }
            1 => LedgerError::AlreadyDone {
                what: format!("request R-{r} of serial S"),
                by: winner.clone(),
                at,
            },
            2 => LedgerError::AlreadyDone {
                what: format!("invoice of report REP-{r} of serial S"),
                by: winner.clone(),
                at,
            },
            3 => LedgerError::AlreadyInvoiced {
                serial: "S2".into(),
                month: month(r),
                report: format!("X-{r}-{winner}"),
                by: winner.clone(),
                at,
            },
            4 => LedgerError::SequenceTaken {
                serial: "S".into(),
                sequence: r as u64 + 1,
                licence_id: format!("{winner}-{r}"),
                issued_at: at,
            },
            _ => LedgerError::AlreadyDone {
                what: format!("the clock correction of serial S for nonce {r:032x}"),
                by: winner.clone(),
                at,
            },
        };
        assert_eq!(loser, expected, "round {r}, race {kind}");
    }

    // What the ledger holds: one of each, no more.
    let n = ROUNDS as i64;
    assert_eq!(p.count("SELECT count(*) FROM fulfilments"), n);
    assert_eq!(
        p.count("SELECT count(*) FROM reports WHERE serial = 'S'"),
        n
    );
    assert_eq!(
        p.count("SELECT count(*) FROM reports WHERE serial = 'S2'"),
        n
    );
    assert_eq!(p.count("SELECT count(*) FROM invoices"), 2 * n);
    assert_eq!(p.count("SELECT count(*) FROM invoice_lines"), 4 * n);
    assert_eq!(p.count("SELECT count(*) FROM licences"), n);
    assert_eq!(p.count("SELECT count(*) FROM clock_corrections"), n);
    assert_eq!(
        p.count("SELECT count(*) FROM installation_keys WHERE serial LIKE 'K-%'"),
        n
    );
    // Both sides won some races, or they did not really race.
    let wins_a = a.iter().filter(|o| o.is_ok()).count();
    let wins_b = bb.iter().filter(|o| o.is_ok()).count();
    assert!(wins_a > 0 && wins_b > 0, "A won {wins_a}, B won {wins_b}");
}
