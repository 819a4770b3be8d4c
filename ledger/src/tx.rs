//! What a transaction on the ledger can read and record.
//!
//! Exactly once is the database's doing, not a read followed by a write: each
//! record that must happen once is an INSERT that a primary key or UNIQUE
//! constraint admits once (`ON CONFLICT DO NOTHING`, then the rows it
//! inserted are counted). Only when the database turned it away is the
//! existing row read, to say who did it and when. Under PostgreSQL's
//! SERIALIZABLE isolation a concurrent insert of the same key makes one of
//! the two transactions fail with a serialization error; it is tried again
//! ([`crate::Ledger::transaction`]) and then finds the row.

use chrono::NaiveDate;
use licfile::KeyId;
use licfile::registry::Standing;

use crate::db::{Row, TxConn, Val};
use crate::error::LedgerError;
use crate::model::{
    ClockCorrectionRow, EndorsementRow, InstallationKey, InstallationRow, InstallationSummary,
    InvoiceLineRow, InvoiceRecord, InvoiceRow, IssuedLicence, ReportRow,
};

/// One transaction on the ledger (see [`crate::Ledger::transaction`]).
pub struct Tx<'c> {
    pub(crate) db: TxConn<'c>,
    /// Savepoints open now (nested [`Tx::savepoint`] calls).
    pub(crate) savepoints: u32,
}

/// A number the ledger keeps as a signed 64-bit integer.
pub(crate) fn int(v: u64, what: &str) -> Result<i64, LedgerError> {
    i64::try_from(v).map_err(|_| {
        LedgerError::invalid(format!(
            "{what} {v} is larger than the ledger keeps (at most {})",
            i64::MAX
        ))
    })
}

pub(crate) fn month_checked(month: &str) -> Result<String, LedgerError> {
    month
        .parse::<licfile::YearMonth>()
        .map(|m| m.to_string())
        .map_err(LedgerError::invalid)
}

pub(crate) fn date(row: &Row, i: usize) -> Result<NaiveDate, LedgerError> {
    let s = row.text(i)?;
    s.parse()
        .map_err(|_| LedgerError::corrupt(format!("{s:?} is not a date (YYYY-MM-DD)")))
}

/// A report as [`Tx::reports`] selects it, from column `at` on: report_id,
/// month, parts, audit_seq, audit_head, previous_report, seen_at, actor, invoice id.
pub(crate) fn report_row(r: &Row, at: usize) -> Result<ReportRow, LedgerError> {
    Ok(ReportRow {
        report_id: r.text(at)?,
        month: r.opt_text(at + 1)?,
        parts: r.u32(at + 2)?,
        audit_seq: r.opt_u64(at + 3)?,
        audit_head: r.opt_key(at + 4)?,
        previous_report: r.opt_text(at + 5)?,
        seen_at: r.i64(at + 6)?,
        actor: r.text(at + 7)?,
        invoice: r.opt_i64(at + 8)?,
    })
}

/// A licence of `serial` as [`Tx::licences`] selects it, from column `at`
/// on: sequence, licence_id, issued_at, expiry, signer_key_id, signed.
pub(crate) fn licence_row(serial: &str, r: &Row, at: usize) -> Result<IssuedLicence, LedgerError> {
    Ok(IssuedLicence {
        serial: serial.to_string(),
        sequence: r.u64(at)?,
        licence_id: r.text(at + 1)?,
        issued_at: r.i64(at + 2)?,
        expiry: r.opt_text(at + 3)?.map(|_| date(r, at + 3)).transpose()?,
        signer_key_id: r.text(at + 4)?,
        signed: r.text(at + 5)?,
    })
}

pub(crate) fn strings(json: &str) -> Result<Vec<String>, LedgerError> {
    serde_json::from_str(json)
        .map_err(|_| LedgerError::corrupt(format!("{json:?} is not a JSON list of strings")))
}

pub(crate) fn json_strings(list: &[String]) -> Result<String, LedgerError> {
    serde_json::to_string(list).map_err(|e| LedgerError::invalid(e.to_string()))
}

impl Tx<'_> {
    /// Runs `f` inside a savepoint of this transaction: if `f` fails, what it
    /// did is undone and the rest of the transaction goes on, so that one
    /// refused item of a batch leaves the others' work in place. A conflict
    /// ([`TxError::is_conflict`]) is passed up untouched: the whole
    /// transaction is run again.
    pub fn savepoint<T, E: crate::TxError>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let name = format!("item_{}", self.savepoints);
        self.db.batch(&format!("SAVEPOINT {name}"))?;
        self.savepoints += 1;
        let result = f(self);
        self.savepoints -= 1;
        match result {
            Ok(v) => {
                self.db.batch(&format!("RELEASE SAVEPOINT {name}"))?;
                Ok(v)
            }
            Err(e) if e.is_conflict() => Err(e),
            Err(e) => {
                self.db.batch(&format!(
                    "ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
                ))?;
                Err(e)
            }
        }
    }

    /// Records the serial on first hearing of it (at `now`); nothing if known.
    pub(crate) fn ensure_installation(
        &mut self,
        serial: &str,
        now: i64,
    ) -> Result<bool, LedgerError> {
        let n = self.db.execute(
            "INSERT INTO installations (serial, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[serial.into(), now.into()],
        )?;
        Ok(n == 1)
    }

    /// The installation, with its keys over time, if the ledger knows the serial.
    pub fn installation(&mut self, serial: &str) -> Result<Option<InstallationRow>, LedgerError> {
        let Some(row) = self.db.query_opt(
            "SELECT first_seen FROM installations WHERE serial = $1",
            &[serial.into()],
        )?
        else {
            return Ok(None);
        };
        let first_seen = row.i64(0)?;
        let keys = self
            .db
            .query(
                "SELECT public_key, key_id, since, retired_at FROM installation_keys WHERE serial = $1 ORDER BY id",
                &[serial.into()],
            )?
            .iter()
            .map(|r| {
                Ok(InstallationKey {
                    key: r.key(0)?,
                    key_id: r.text(1)?,
                    since: r.i64(2)?,
                    retired_at: r.opt_i64(3)?,
                })
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        Ok(Some(InstallationRow {
            serial: serial.to_string(),
            first_seen,
            keys,
        }))
    }

    /// The current key of `serial`, if any: (its row id, the key, its key id).
    fn current_key(
        &mut self,
        serial: &str,
    ) -> Result<Option<(i64, [u8; 32], String)>, LedgerError> {
        self.db
            .query_opt(
                "SELECT id, public_key, key_id FROM installation_keys WHERE serial = $1 AND retired_at IS NULL",
                &[serial.into()],
            )?
            .map(|r| Ok((r.i64(0)?, r.key(1)?, r.text(2)?)))
            .transpose()
    }

    /// Takes `key` as the current key of `serial`, if it has none: whether it did.
    pub(crate) fn add_key(
        &mut self,
        serial: &str,
        key: &[u8; 32],
        since: i64,
    ) -> Result<bool, LedgerError> {
        // The partial unique index admits one current key a serial.
        let n = self.db.execute(
            "INSERT INTO installation_keys (serial, public_key, key_id, since) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[
                serial.into(),
                Val::from(&key[..]),
                KeyId::of(key).to_string().into(),
                since.into(),
            ],
        )?;
        Ok(n == 1)
    }

    /// The key a document from `serial` carries: first sight records it; the
    /// known key → [`Standing::KnownKey`]; another key →
    /// [`LedgerError::KeyChanged`] unless `accept_new` (then the new key is
    /// current and the old one kept, retired at `now`).
    pub fn check_key(
        &mut self,
        serial: &str,
        key: &[u8; 32],
        accept_new: bool,
        now: i64,
    ) -> Result<Standing, LedgerError> {
        self.ensure_installation(serial, now)?;
        match self.current_key(serial)? {
            None => {
                if self.add_key(serial, key, now)? {
                    return Ok(Standing::FirstSight);
                }
                // Taken meanwhile by another transaction (SQLite never gets
                // here: its transactions run one at a time).
                Err(LedgerError::Conflict { attempts: 1 })
            }
            Some((_, known, _)) if known == *key => Ok(Standing::KnownKey),
            Some((_, _, known)) if !accept_new => Err(LedgerError::KeyChanged {
                serial: serial.to_string(),
                known,
                presented: KeyId::of(key).to_string(),
            }),
            Some((id, _, _)) => {
                self.db.execute(
                    "UPDATE installation_keys SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL",
                    &[id.into(), now.into()],
                )?;
                if self.add_key(serial, key, now)? {
                    Ok(Standing::KeyReplaced)
                } else {
                    Err(LedgerError::Conflict { attempts: 1 })
                }
            }
        }
    }

    /// The next sequence for `serial`: 1 + the highest issued (1 for a serial with none).
    pub fn next_sequence(&mut self, serial: &str) -> Result<u64, LedgerError> {
        let row = self.db.query_opt(
            "SELECT max(sequence) FROM licences WHERE serial = $1",
            &[serial.into()],
        )?;
        match row.map(|r| r.opt_u64(0)).transpose()?.flatten() {
            None => Ok(1),
            Some(n) => n.checked_add(1).ok_or_else(|| {
                LedgerError::invalid(format!("serial {serial} has used every sequence"))
            }),
        }
    }

    /// Records a signed licence; a sequence already issued for that serial →
    /// [`LedgerError::SequenceTaken`] naming the licence that has it.
    pub fn record_licence(&mut self, l: &IssuedLicence) -> Result<(), LedgerError> {
        match self.record_licences(std::slice::from_ref(l))?.pop() {
            None => Ok(()),
            Some(taken) => Err(taken),
        }
    }

    /// The licences issued for `serial`, by sequence.
    pub fn licences(&mut self, serial: &str) -> Result<Vec<IssuedLicence>, LedgerError> {
        self.db
            .query(
                "SELECT sequence, licence_id, issued_at, expiry, signer_key_id, signed FROM licences \
                 WHERE serial = $1 ORDER BY sequence",
                &[serial.into()],
            )?
            .iter()
            .map(|r| licence_row(serial, r, 0))
            .collect()
    }

    /// A licence request (or a clock request, id `clock <nonce hex>`) seen
    /// from `serial`, whose key was checked first ([`Tx::check_key`]); with
    /// `fulfil` (actor, at), marked fulfilled: the second fulfilment of the
    /// same (serial, request id) → [`LedgerError::AlreadyDone`] naming the first.
    pub fn note_request(
        &mut self,
        serial: &str,
        request_id: &str,
        fulfil: Option<(&str, i64)>,
    ) -> Result<(), LedgerError> {
        if self.installation(serial)?.is_none() {
            return Err(LedgerError::invalid(format!(
                "serial {serial} is not in the ledger: check the request's installation key first"
            )));
        }
        self.db.execute(
            "INSERT INTO requests (serial, request_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[serial.into(), request_id.into()],
        )?;
        let Some((actor, at)) = fulfil else {
            return Ok(());
        };
        let n = self.db.execute(
            "INSERT INTO fulfilments (serial, request_id, actor, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[serial.into(), request_id.into(), actor.into(), at.into()],
        )?;
        if n == 1 {
            return Ok(());
        }
        let row = self
            .db
            .query_opt(
                "SELECT actor, at FROM fulfilments WHERE serial = $1 AND request_id = $2",
                &[serial.into(), request_id.into()],
            )?
            .ok_or(LedgerError::Conflict { attempts: 1 })?;
        Err(LedgerError::AlreadyDone {
            what: format!("request {request_id} of serial {serial}"),
            by: row.text(0)?,
            at: row.i64(1)?,
        })
    }

    /// Who fulfilled the request and when, if it was.
    pub fn fulfilment(
        &mut self,
        serial: &str,
        request_id: &str,
    ) -> Result<Option<(String, i64)>, LedgerError> {
        self.db
            .query_opt(
                "SELECT actor, at FROM fulfilments WHERE serial = $1 AND request_id = $2",
                &[serial.into(), request_id.into()],
            )?
            .map(|r| Ok((r.text(0)?, r.i64(1)?)))
            .transpose()
    }

    /// Every report recorded for `serial`, in the order seen.
    pub fn reports(&mut self, serial: &str) -> Result<Vec<ReportRow>, LedgerError> {
        self.db
            .query(
                "SELECT r.report_id, r.month, r.parts, r.audit_seq, r.audit_head, r.previous_report, \
                 r.seen_at, r.actor, i.id FROM reports r \
                 LEFT JOIN invoices i ON i.serial = r.serial AND i.report_id = r.report_id \
                 WHERE r.serial = $1 ORDER BY r.id",
                &[serial.into()],
            )?
            .iter()
            .map(|r| report_row(r, 0))
            .collect()
    }

    /// Records a report as seen: whether it was new. `Ok(false)` when this
    /// report was recorded before; [`LedgerError::AlreadyInvoiced`] when
    /// another report took its month.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_report(
        &mut self,
        serial: &str,
        report_id: &str,
        month: Option<&str>,
        parts: u32,
        chain: (Option<u64>, Option<[u8; 32]>, Option<&str>),
        actor: &str,
        at: i64,
    ) -> Result<bool, LedgerError> {
        let (audit_seq, audit_head, previous) = chain;
        let audit_seq = audit_seq.map(|s| int(s, "audit sequence")).transpose()?;
        let n = self.db.execute(
            "INSERT INTO reports (serial, report_id, month, parts, audit_seq, audit_head, previous_report, actor, seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                serial.into(),
                report_id.into(),
                month.into(),
                i64::from(parts).into(),
                audit_seq.into(),
                audit_head.as_ref().map(|h| &h[..]).into(),
                previous.into(),
                actor.into(),
                at.into(),
            ],
        )?;
        if n == 1 {
            return Ok(true);
        }
        if self
            .db
            .query_opt(
                "SELECT 1 FROM reports WHERE serial = $1 AND report_id = $2",
                &[serial.into(), report_id.into()],
            )?
            .is_some()
        {
            return Ok(false);
        }
        let row = match month {
            Some(m) => self.db.query_opt(
                "SELECT report_id, actor, seen_at FROM reports WHERE serial = $1 AND month = $2",
                &[serial.into(), m.into()],
            )?,
            None => None,
        }
        .ok_or(LedgerError::Conflict { attempts: 1 })?;
        Err(LedgerError::AlreadyInvoiced {
            serial: serial.to_string(),
            month: month.unwrap_or_default().to_string(),
            report: row.text(0)?,
            by: row.text(1)?,
            at: row.i64(2)?,
        })
    }

    /// Records a report (all its parts) and its invoice in one go: once per
    /// (serial, report id) → else [`LedgerError::AlreadyDone`]; and one
    /// invoice per (serial, month) → else [`LedgerError::AlreadyInvoiced`].
    /// Returns the invoice id.
    pub fn record_invoice(&mut self, inv: &InvoiceRecord) -> Result<i64, LedgerError> {
        self.record_invoices(std::slice::from_ref(inv))?
            .pop()
            .unwrap_or_else(|| {
                Err(LedgerError::Database {
                    detail: "an invoice was neither recorded nor refused".into(),
                })
            })
    }

    /// The invoices, of one month (YYYY-MM) or all, with their lines: by
    /// month, then serial, then id.
    pub fn invoices(&mut self, month: Option<&str>) -> Result<Vec<InvoiceRow>, LedgerError> {
        const COLUMNS: &str = "SELECT i.id, i.serial, i.report_id, r.month, r.parts, r.audit_seq, \
             r.audit_head, r.previous_report, i.total, i.currency, i.findings, i.actor, i.at \
             FROM invoices i JOIN reports r ON r.serial = i.serial AND r.report_id = i.report_id";
        const LINES: &str = "SELECT l.invoice_id, l.description, l.quantity, l.unit_price, l.amount \
             FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id \
             JOIN reports r ON r.serial = i.serial AND r.report_id = i.report_id";
        let (heads, lines) = match month {
            Some(m) => {
                let m = month_checked(m)?;
                (
                    self.db.query(
                        &format!("{COLUMNS} WHERE r.month = $1 ORDER BY r.month, i.serial, i.id"),
                        &[(&m).into()],
                    )?,
                    self.db.query(
                        &format!("{LINES} WHERE r.month = $1 ORDER BY l.invoice_id, l.position"),
                        &[m.into()],
                    )?,
                )
            }
            None => (
                self.db
                    .query(&format!("{COLUMNS} ORDER BY r.month, i.serial, i.id"), &[])?,
                self.db
                    .query(&format!("{LINES} ORDER BY l.invoice_id, l.position"), &[])?,
            ),
        };
        let mut by_invoice: std::collections::HashMap<i64, Vec<InvoiceLineRow>> =
            std::collections::HashMap::new();
        for r in &lines {
            by_invoice
                .entry(r.i64(0)?)
                .or_default()
                .push(InvoiceLineRow {
                    description: r.text(1)?,
                    quantity: r.u64(2)?,
                    unit_price: r.dec(3)?,
                    amount: r.dec(4)?,
                });
        }
        heads
            .iter()
            .map(|r| {
                let id = r.i64(0)?;
                Ok(InvoiceRow {
                    id,
                    record: InvoiceRecord {
                        serial: r.text(1)?,
                        report_id: r.text(2)?,
                        month: r.text(3)?,
                        parts: r.u32(4)?,
                        audit_seq: r.opt_u64(5)?,
                        audit_head: r.opt_key(6)?,
                        previous_report: r.opt_text(7)?,
                        lines: by_invoice.remove(&id).unwrap_or_default(),
                        total: r.dec(8)?,
                        currency: r.text(9)?,
                        findings: strings(&r.text(10)?)?,
                        actor: r.text(11)?,
                        at: r.i64(12)?,
                    },
                })
            })
            .collect()
    }

    /// Records a clock correction signed: one per (serial, nonce) → else
    /// [`LedgerError::AlreadyDone`] naming the first.
    pub fn record_clock_correction(&mut self, c: &ClockCorrectionRow) -> Result<(), LedgerError> {
        if c.nonce_hex.len() != 32 || !c.nonce_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LedgerError::invalid(format!(
                "{:?} is not a clock request's nonce (32 hex digits)",
                c.nonce_hex
            )));
        }
        let nonce = c.nonce_hex.to_ascii_lowercase();
        self.ensure_installation(&c.serial, c.at)?;
        let n = self.db.execute(
            "INSERT INTO clock_corrections (serial, nonce, vendor_time, valid_until, corrected_mark, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                (&c.serial).into(),
                (&nonce).into(),
                c.time.into(),
                c.valid_until.into(),
                c.corrected_mark.into(),
                (&c.actor).into(),
                c.at.into(),
            ],
        )?;
        if n == 1 {
            return Ok(());
        }
        let row = self
            .db
            .query_opt(
                "SELECT actor, at FROM clock_corrections WHERE serial = $1 AND nonce = $2",
                &[(&c.serial).into(), nonce.into()],
            )?
            .ok_or(LedgerError::Conflict { attempts: 1 })?;
        Err(LedgerError::AlreadyDone {
            what: format!(
                "the clock correction of serial {} for nonce {}",
                c.serial, c.nonce_hex
            ),
            by: row.text(0)?,
            at: row.i64(1)?,
        })
    }

    /// The clock corrections signed for `serial`, in the order signed.
    pub fn clock_corrections(
        &mut self,
        serial: &str,
    ) -> Result<Vec<ClockCorrectionRow>, LedgerError> {
        self.db
            .query(
                "SELECT nonce, vendor_time, valid_until, corrected_mark, actor, at FROM clock_corrections \
                 WHERE serial = $1 ORDER BY at, nonce",
                &[serial.into()],
            )?
            .iter()
            .map(|r| {
                Ok(ClockCorrectionRow {
                    serial: serial.to_string(),
                    nonce_hex: r.text(0)?,
                    time: r.i64(1)?,
                    valid_until: r.i64(2)?,
                    corrected_mark: r.i64(3)?,
                    actor: r.text(4)?,
                    at: r.i64(5)?,
                })
            })
            .collect()
    }

    /// Records an issuer endorsement signed.
    pub fn record_endorsement(&mut self, e: &EndorsementRow) -> Result<(), LedgerError> {
        self.db.execute(
            "INSERT INTO endorsements (issuer, issuer_key_id, products, until, signed, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                (&e.issuer).into(),
                (&e.issuer_key_id).into(),
                json_strings(&e.products)?.into(),
                e.until.to_string().into(),
                (&e.signed).into(),
                e.at.into(),
            ],
        )?;
        Ok(())
    }

    /// The endorsements signed, in the order signed.
    pub fn endorsements(&mut self) -> Result<Vec<EndorsementRow>, LedgerError> {
        self.db
            .query(
                "SELECT issuer, issuer_key_id, products, until, signed, at FROM endorsements ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(EndorsementRow {
                    issuer: r.text(0)?,
                    issuer_key_id: r.text(1)?,
                    products: strings(&r.text(2)?)?,
                    until: date(r, 3)?,
                    signed: r.text(4)?,
                    at: r.i64(5)?,
                })
            })
            .collect()
    }

    /// Every installation, by serial: its current key id, when first seen,
    /// licences issued and the latest sequence, reports and invoices.
    pub fn installations(&mut self) -> Result<Vec<InstallationSummary>, LedgerError> {
        self.db
            .query(
                "SELECT i.serial, i.first_seen, \
                 (SELECT k.key_id FROM installation_keys k WHERE k.serial = i.serial AND k.retired_at IS NULL), \
                 (SELECT count(*) FROM licences l WHERE l.serial = i.serial), \
                 (SELECT max(l.sequence) FROM licences l WHERE l.serial = i.serial), \
                 (SELECT count(*) FROM reports r WHERE r.serial = i.serial), \
                 (SELECT count(*) FROM invoices v WHERE v.serial = i.serial) \
                 FROM installations i ORDER BY i.serial",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(InstallationSummary {
                    serial: r.text(0)?,
                    first_seen: r.i64(1)?,
                    key_id: r.opt_text(2)?,
                    licences: r.u64(3)?,
                    latest_sequence: r.opt_u64(4)?,
                    reports: r.u64(5)?,
                    invoices: r.u64(6)?,
                })
            })
            .collect()
    }
}
