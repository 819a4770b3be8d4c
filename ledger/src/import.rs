//! Taking an `installations.json` (the registry the vendor commands kept
//! before the ledger) into the ledger.

use std::collections::BTreeMap;

use licfile::KeyId;
use licfile::registry::Registry;

use crate::error::LedgerError;
use crate::model::ImportCounts;
use crate::{Ledger, Tx};

/// Who the ledger says fulfilled and invoiced what it imported: the file
/// kept no names and no times.
pub const IMPORT_ACTOR: &str = "import of installations.json";

/// A report id as the registry kept a report in parts ("ID part K of N"):
/// the report's id and its number of parts.
fn split_part(id: &str) -> (&str, Option<u32>) {
    if let Some(i) = id.rfind(" part ")
        && let Some((k, n)) = id[i + " part ".len()..].split_once(" of ")
        && k.parse::<u32>().is_ok()
        && let Ok(n) = n.parse::<u32>()
    {
        return (&id[..i], Some(n));
    }
    (id, None)
}

/// The month a site's report id names: sites write `SERIAL-UYYYYMM-N`.
fn month_of_id(serial: &str, id: &str) -> Option<String> {
    let rest = id.strip_prefix(serial)?.strip_prefix("-U")?;
    let (ym, n) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if ym.len() != 6 || !digits(ym) || !digits(n) {
        return None;
    }
    licfile::YearMonth::new(ym[..4].parse().ok()?, ym[4..].parse().ok()?).map(|m| m.to_string())
}

impl Ledger {
    /// Reads an `installations.json` (installations with their key, first
    /// sight, requests fulfilled, reports and months invoiced) into the
    /// ledger in one transaction, and says what it took. Importing the same
    /// file again changes nothing. A file that disagrees with the ledger (a
    /// serial with another current key, a month invoiced from another report)
    /// is refused whole.
    pub fn import_registry(&mut self, json: &[u8], now: i64) -> Result<ImportCounts, LedgerError> {
        let registry: Registry = serde_json::from_slice(json).map_err(|e| LedgerError::Import {
            what: "the registry".into(),
            detail: format!("not a Tessera registry (installations.json): {e}"),
        })?;
        self.transaction(|tx| import(tx, &registry, now))
    }
}

fn refuse(detail: String) -> LedgerError {
    LedgerError::Import {
        what: "the registry".into(),
        detail,
    }
}

fn import(tx: &mut Tx<'_>, registry: &Registry, now: i64) -> Result<ImportCounts, LedgerError> {
    let mut counts = ImportCounts::default();
    for (serial, known) in &registry.installations {
        let first_seen = known.first_seen.0;
        if tx.ensure_installation(serial, first_seen)? {
            counts.installations += 1;
        }
        // The file remembers earlier than the ledger when the ledger heard of
        // the serial only since (a licence issued after the file's last use).
        tx.db.execute(
            "UPDATE installations SET first_seen = $2 WHERE serial = $1 AND first_seen > $2",
            &[serial.into(), first_seen.into()],
        )?;

        let key = known.installation_key.0;
        let row = tx.installation(serial)?;
        let keys = row.as_ref().map(|r| r.keys.as_slice()).unwrap_or_default();
        if keys.iter().any(|k| k.key == key) {
            counts.already_there += 1;
        } else if let Some(current) = keys.iter().find(|k| k.retired_at.is_none()) {
            return Err(refuse(format!(
                "serial {serial} has installation key {} in the file, but {} in the ledger; check which is right (the file may be older than the ledger, or from elsewhere)",
                KeyId::of(&key),
                current.key_id
            )));
        } else if tx.add_key(serial, &key, first_seen)? {
            counts.keys += 1;
        } else {
            return Err(LedgerError::Conflict { attempts: 1 });
        }

        for request in &known.requests {
            tx.db.execute(
                "INSERT INTO requests (serial, request_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[serial.into(), request.into()],
            )?;
            let n = tx.db.execute(
                "INSERT INTO fulfilments (serial, request_id, actor, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[serial.into(), request.into(), IMPORT_ACTOR.into(), now.into()],
            )?;
            if n == 1 {
                counts.requests += 1;
            } else {
                counts.already_there += 1;
            }
        }

        // The reports, each once with its number of parts, in the file's order.
        let mut reports: Vec<(String, u32)> = Vec::new();
        let ids = known
            .reports
            .iter()
            .map(String::as_str)
            .chain(known.invoiced.iter().map(|(_, id)| id.as_str()));
        for id in ids {
            let (base, parts) = split_part(id);
            match reports.iter_mut().find(|(r, _)| r == base) {
                Some((_, p)) => *p = (*p).max(parts.unwrap_or(1)),
                None => reports.push((base.to_string(), parts.unwrap_or(1))),
            }
        }
        let months: BTreeMap<&str, &str> = known
            .invoiced
            .iter()
            .rev()
            .map(|(m, id)| (id.as_str(), m.as_str()))
            .collect();
        for (report, parts) in &reports {
            let month = match months.get(report.as_str()) {
                Some(m) => Some(
                    m.parse::<licfile::YearMonth>()
                        .map_err(|e| refuse(format!("serial {serial}, report {report}: {e}")))?
                        .to_string(),
                ),
                None => month_of_id(serial, report),
            };
            let added = tx
                .add_report(
                    serial,
                    report,
                    month.as_deref(),
                    *parts,
                    (None, None, None),
                    IMPORT_ACTOR,
                    now,
                )
                .map_err(|e| match e {
                    LedgerError::AlreadyInvoiced {
                        month, report: other, ..
                    } => refuse(format!(
                        "serial {serial}: the file has {month} invoiced from report {report}, but the ledger has it invoiced from report {other}"
                    )),
                    other => other,
                })?;
            if added {
                counts.reports += 1;
                if month.is_none() {
                    counts.reports_without_month += 1;
                }
            } else {
                counts.already_there += 1;
            }
        }
    }
    Ok(counts)
}
