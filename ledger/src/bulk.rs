//! Many rows in few statements, for the batches a vendor runs: a year's
//! licences issued at once, a month's reports from every site invoiced at
//! once. A statement per row would cost a round trip per row to a
//! PostgreSQL server; here a statement carries up to [`CHUNK_ROWS`] rows.
//!
//! Exactly once stays the database's doing: every insert that must happen
//! once is `ON CONFLICT DO NOTHING … RETURNING` the rows it took, and what
//! it did not take is refused item by item, naming who did it first.

use std::collections::{HashMap, HashSet};

use licfile::KeyId;

use crate::db::Val;
use crate::error::LedgerError;
use crate::model::{InvoiceRecord, IssuedLicence, ReportRow};
use crate::tx::{Tx, int, json_strings, licence_row, month_checked, report_row};

/// Rows a statement carries at most: well inside both databases' limits on
/// parameters (SQLite 32,766, PostgreSQL 65,535) for the widest table here.
const CHUNK_ROWS: usize = 500;

/// `($1, $2, $3), ($4, $5, $6)`: `rows` groups of `cols` numbered placeholders.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// `$1, $2, …, $n`, for an `IN (…)` list.
fn list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each distinct value of `items` once, in first-seen order.
fn distinct<'a>(items: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|s| seen.insert(*s)).collect()
}

/// What the ledger holds of one serial, for deciding on its reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SerialFacts {
    /// Its current installation key and that key's id, if any document from it was seen.
    pub current_key: Option<([u8; 32], String)>,
    /// The licences issued for it, by sequence.
    pub licences: Vec<IssuedLicence>,
    /// The reports recorded from it, in the order seen.
    pub reports: Vec<ReportRow>,
}

impl Tx<'_> {
    /// Makes every serial of `serials` known, first heard of at `now`, where it is not yet.
    pub(crate) fn ensure_installations(
        &mut self,
        serials: &[&str],
        now: i64,
    ) -> Result<(), LedgerError> {
        for chunk in serials.chunks(CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO installations (serial, first_seen) VALUES {} ON CONFLICT DO NOTHING",
                placeholders(chunk.len(), 2)
            );
            let params: Vec<Val> = chunk
                .iter()
                .flat_map(|s| [Val::from(*s), Val::from(now)])
                .collect();
            self.db.execute(&sql, &params)?;
        }
        Ok(())
    }

    /// The next sequence of each serial of `serials`: 1 + the highest issued,
    /// 1 for a serial with none.
    pub fn next_sequences(
        &mut self,
        serials: &[&str],
    ) -> Result<HashMap<String, u64>, LedgerError> {
        let serials = distinct(serials.iter().copied());
        let mut next: HashMap<String, u64> = serials.iter().map(|s| (s.to_string(), 1)).collect();
        for chunk in serials.chunks(CHUNK_ROWS) {
            let sql = format!(
                "SELECT serial, max(sequence) FROM licences WHERE serial IN ({}) GROUP BY serial",
                list(chunk.len())
            );
            let params: Vec<Val> = chunk.iter().map(|s| Val::from(*s)).collect();
            for row in self.db.query(&sql, &params)? {
                let serial = row.text(0)?;
                let n = row.u64(1)?.checked_add(1).ok_or_else(|| {
                    LedgerError::invalid(format!("serial {serial} has used every sequence"))
                })?;
                next.insert(serial, n);
            }
        }
        Ok(next)
    }

    /// Records licences. Each one whose (serial, sequence) was issued before
    /// (or earlier in `ls`) is not recorded and comes back as
    /// [`LedgerError::SequenceTaken`], naming the licence that has it; the
    /// others are recorded. The caller decides whether to keep them.
    pub fn record_licences(
        &mut self,
        ls: &[IssuedLicence],
    ) -> Result<Vec<LedgerError>, LedgerError> {
        let sequences = ls
            .iter()
            .map(|l| int(l.sequence, "licence sequence"))
            .collect::<Result<Vec<_>, _>>()?;
        for chunk in ls.chunks(CHUNK_ROWS) {
            let serials = distinct(chunk.iter().map(|l| l.serial.as_str()));
            // A serial first heard of now, at the licence's own issue time.
            let first = chunk.iter().map(|l| l.issued_at).min().unwrap_or_default();
            self.ensure_installations(&serials, first)?;
        }
        let mut taken = Vec::new();
        for (chunk, seqs) in ls.chunks(CHUNK_ROWS).zip(sequences.chunks(CHUNK_ROWS)) {
            let sql = format!(
                "INSERT INTO licences (serial, sequence, licence_id, issued_at, expiry, signer_key_id, signed) \
                 VALUES {} ON CONFLICT DO NOTHING RETURNING serial, sequence",
                placeholders(chunk.len(), 7)
            );
            let mut params = Vec::with_capacity(chunk.len() * 7);
            for (l, seq) in chunk.iter().zip(seqs) {
                params.extend([
                    Val::from(&l.serial),
                    Val::from(*seq),
                    Val::from(&l.licence_id),
                    Val::from(l.issued_at),
                    Val::from(l.expiry.map(|d| d.to_string())),
                    Val::from(&l.signer_key_id),
                    Val::from(&l.signed),
                ]);
            }
            let mut inserted = HashSet::new();
            for row in self.db.query(&sql, &params)? {
                inserted.insert((row.text(0)?, row.i64(1)?));
            }
            // Those not taken: each already issued. Which licence has it is
            // read only for these (rare) ones.
            let mut claimed = HashSet::new();
            for (l, seq) in chunk.iter().zip(seqs) {
                let key = (l.serial.clone(), *seq);
                if inserted.contains(&key) && claimed.insert(key) {
                    continue;
                }
                let row = self
                    .db
                    .query_opt(
                        "SELECT licence_id, issued_at FROM licences WHERE serial = $1 AND sequence = $2",
                        &[(&l.serial).into(), (*seq).into()],
                    )?
                    // Not visible, yet not taken: another transaction holds it (PostgreSQL).
                    .ok_or(LedgerError::Conflict { attempts: 1 })?;
                taken.push(LedgerError::SequenceTaken {
                    serial: l.serial.clone(),
                    sequence: l.sequence,
                    licence_id: row.text(0)?,
                    issued_at: row.i64(1)?,
                });
            }
        }
        Ok(taken)
    }

    /// What the ledger holds of each serial of `serials` for deciding on
    /// its reports: its current key, its licences, its reports. A serial the
    /// ledger does not know has empty facts.
    pub fn serial_facts(
        &mut self,
        serials: &[&str],
    ) -> Result<HashMap<String, SerialFacts>, LedgerError> {
        let serials = distinct(serials.iter().copied());
        let mut facts: HashMap<String, SerialFacts> = serials
            .iter()
            .map(|s| (s.to_string(), SerialFacts::default()))
            .collect();
        for chunk in serials.chunks(CHUNK_ROWS) {
            let params: Vec<Val> = chunk.iter().map(|s| Val::from(*s)).collect();
            let within = list(chunk.len());
            let keys = self.db.query(
                &format!(
                    "SELECT serial, public_key, key_id FROM installation_keys \
                     WHERE retired_at IS NULL AND serial IN ({within})"
                ),
                &params,
            )?;
            for row in keys {
                if let Some(f) = facts.get_mut(&row.text(0)?) {
                    f.current_key = Some((row.key(1)?, row.text(2)?));
                }
            }
            let licences = self.db.query(
                &format!(
                    "SELECT serial, sequence, licence_id, issued_at, expiry, signer_key_id, signed \
                     FROM licences WHERE serial IN ({within}) ORDER BY serial, sequence"
                ),
                &params,
            )?;
            for row in licences {
                let serial = row.text(0)?;
                let l = licence_row(&serial, &row, 1)?;
                if let Some(f) = facts.get_mut(&serial) {
                    f.licences.push(l);
                }
            }
            let reports = self.db.query(
                &format!(
                    "SELECT r.serial, r.report_id, r.month, r.parts, r.audit_seq, r.audit_head, \
                     r.previous_report, r.seen_at, r.actor, i.id FROM reports r \
                     LEFT JOIN invoices i ON i.serial = r.serial AND i.report_id = r.report_id \
                     WHERE r.serial IN ({within}) ORDER BY r.id"
                ),
                &params,
            )?;
            for row in reports {
                let serial = row.text(0)?;
                let r = report_row(&row, 1)?;
                if let Some(f) = facts.get_mut(&serial) {
                    f.reports.push(r);
                }
            }
        }
        Ok(facts)
    }

    /// Takes each (serial, key) as the first installation key of a serial
    /// that has none, at `now`. A serial that has a key meanwhile (another
    /// process took one) makes the transaction a [`LedgerError::Conflict`],
    /// to be run again on what is there now.
    pub fn take_first_keys(
        &mut self,
        keys: &[(&str, [u8; 32])],
        now: i64,
    ) -> Result<(), LedgerError> {
        let serials = distinct(keys.iter().map(|(s, _)| *s));
        self.ensure_installations(&serials, now)?;
        for chunk in keys.chunks(CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO installation_keys (serial, public_key, key_id, since) VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING serial",
                placeholders(chunk.len(), 4)
            );
            let mut params = Vec::with_capacity(chunk.len() * 4);
            for (serial, key) in chunk {
                params.extend([
                    Val::from(*serial),
                    Val::from(&key[..]),
                    Val::from(KeyId::of(key).to_string()),
                    Val::from(now),
                ]);
            }
            let taken = self.db.query(&sql, &params)?.len();
            if taken != chunk.len() {
                return Err(LedgerError::Conflict { attempts: 1 });
            }
        }
        Ok(())
    }

    /// Records invoices, each with its report (all its parts), item by item
    /// in the order given: the invoice id, or why that one was refused. A
    /// report is invoiced once (else [`LedgerError::AlreadyDone`]) and a
    /// month of a serial once (else [`LedgerError::AlreadyInvoiced`]), also
    /// within `invs`; an item the ledger cannot take as given is
    /// [`LedgerError::Invalid`]. Refused items leave nothing; the others are
    /// recorded.
    pub fn record_invoices(
        &mut self,
        invs: &[InvoiceRecord],
    ) -> Result<Vec<Result<i64, LedgerError>>, LedgerError> {
        struct Checked {
            month: String,
            quantities: Vec<i64>,
            audit_seq: Option<i64>,
        }
        let mut out: Vec<Option<Result<i64, LedgerError>>> = vec![None; invs.len()];
        let mut ok = Vec::new();
        for (i, inv) in invs.iter().enumerate() {
            let checked = (|| {
                let month = month_checked(&inv.month)?;
                if inv.parts == 0 {
                    return Err(LedgerError::invalid("a report has at least one part"));
                }
                let quantities = inv
                    .lines
                    .iter()
                    .map(|l| int(l.quantity, "quantity"))
                    .collect::<Result<Vec<_>, _>>()?;
                let audit_seq = inv
                    .audit_seq
                    .map(|s| int(s, "audit sequence"))
                    .transpose()?;
                Ok(Checked {
                    month,
                    quantities,
                    audit_seq,
                })
            })();
            match checked {
                Ok(c) => ok.push((i, c)),
                Err(e) => out[i] = Some(Err(e)),
            }
        }
        let serials = distinct(ok.iter().map(|(i, _)| invs[*i].serial.as_str()));
        let first = invs.iter().map(|i| i.at).min().unwrap_or_default();
        self.ensure_installations(&serials, first)?;

        // The reports: what the database takes is taken once.
        let mut reported: Vec<(usize, &Checked)> = Vec::new();
        for chunk in ok.chunks(CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO reports (serial, report_id, month, parts, audit_seq, audit_head, previous_report, actor, seen_at) \
                 VALUES {} ON CONFLICT DO NOTHING RETURNING serial, report_id",
                placeholders(chunk.len(), 9)
            );
            let mut params = Vec::with_capacity(chunk.len() * 9);
            for (i, c) in chunk {
                let inv = &invs[*i];
                params.extend([
                    Val::from(&inv.serial),
                    Val::from(&inv.report_id),
                    Val::from(c.month.as_str()),
                    Val::from(i64::from(inv.parts)),
                    Val::from(c.audit_seq),
                    Val::from(inv.audit_head.as_ref().map(|h| &h[..])),
                    Val::from(inv.previous_report.as_deref()),
                    Val::from(&inv.actor),
                    Val::from(inv.at),
                ]);
            }
            let mut inserted = HashSet::new();
            for row in self.db.query(&sql, &params)? {
                inserted.insert((row.text(0)?, row.text(1)?));
            }
            for (i, c) in chunk {
                let inv = &invs[*i];
                if inserted.remove(&(inv.serial.clone(), inv.report_id.clone())) {
                    reported.push((*i, c));
                } else {
                    out[*i] = Some(Err(self.why_not_taken(inv, &c.month)?));
                }
            }
        }

        // Their invoices, and the invoices' lines.
        let mut ids: HashMap<(String, String), i64> = HashMap::new();
        for chunk in reported.chunks(CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO invoices (serial, report_id, total, currency, findings, actor, at) \
                 VALUES {} RETURNING id, serial, report_id",
                placeholders(chunk.len(), 7)
            );
            let mut params = Vec::with_capacity(chunk.len() * 7);
            for (i, _) in chunk {
                let inv = &invs[*i];
                params.extend([
                    Val::from(&inv.serial),
                    Val::from(&inv.report_id),
                    Val::from(inv.total),
                    Val::from(&inv.currency),
                    Val::from(json_strings(&inv.findings)?),
                    Val::from(&inv.actor),
                    Val::from(inv.at),
                ]);
            }
            for row in self.db.query(&sql, &params)? {
                ids.insert((row.text(1)?, row.text(2)?), row.i64(0)?);
            }
        }
        let mut lines: Vec<[Val; 6]> = Vec::new();
        for (i, c) in &reported {
            let inv = &invs[*i];
            let id = *ids
                .get(&(inv.serial.clone(), inv.report_id.clone()))
                .ok_or_else(|| LedgerError::Database {
                    detail: "an invoice was inserted but no id came back".into(),
                })?;
            for (pos, (line, quantity)) in inv.lines.iter().zip(&c.quantities).enumerate() {
                lines.push([
                    Val::from(id),
                    Val::from(pos as i64),
                    Val::from(&line.description),
                    Val::from(*quantity),
                    Val::from(line.unit_price),
                    Val::from(line.amount),
                ]);
            }
            out[*i] = Some(Ok(id));
        }
        for chunk in lines.chunks(CHUNK_ROWS) {
            let sql = format!(
                "INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_price, amount) VALUES {}",
                placeholders(chunk.len(), 6)
            );
            let params: Vec<Val> = chunk.iter().flat_map(|l| l.iter().cloned()).collect();
            self.db.execute(&sql, &params)?;
        }
        out.into_iter()
            .map(|o| {
                o.ok_or_else(|| LedgerError::Database {
                    detail: "an invoice was neither recorded nor refused".into(),
                })
            })
            .collect()
    }

    /// Why the reports table did not take `inv`'s report: it has that report
    /// ([`LedgerError::AlreadyDone`]) or another report of its month
    /// ([`LedgerError::AlreadyInvoiced`]), each naming who and when.
    fn why_not_taken(
        &mut self,
        inv: &InvoiceRecord,
        month: &str,
    ) -> Result<LedgerError, LedgerError> {
        if let Some(row) = self.db.query_opt(
            "SELECT actor, seen_at FROM reports WHERE serial = $1 AND report_id = $2",
            &[(&inv.serial).into(), (&inv.report_id).into()],
        )? {
            return Ok(LedgerError::AlreadyDone {
                what: format!(
                    "invoice of report {} of serial {}",
                    inv.report_id, inv.serial
                ),
                by: row.text(0)?,
                at: row.i64(1)?,
            });
        }
        let row = self
            .db
            .query_opt(
                "SELECT report_id, actor, seen_at FROM reports WHERE serial = $1 AND month = $2",
                &[(&inv.serial).into(), month.into()],
            )?
            // Not visible, yet not taken: another transaction holds it (PostgreSQL).
            .ok_or(LedgerError::Conflict { attempts: 1 })?;
        Ok(LedgerError::AlreadyInvoiced {
            serial: inv.serial.clone(),
            month: month.to_string(),
            report: row.text(0)?,
            by: row.text(1)?,
            at: row.i64(2)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_row_and_column() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list(3), "$1, $2, $3");
        assert_eq!(distinct(["a", "b", "a", "c", "b"]), ["a", "b", "c"]);
    }
}
