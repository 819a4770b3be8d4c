//! The ledger's one schema, as versioned migrations, and how a ledger is
//! brought up to date: each step in its own transaction, so that a ledger is
//! always at one version or the next, never between.
//!
//! The SQL is written once for both databases; the few words where they
//! differ are placeholders filled per dialect ([`render`]). Migrations are
//! only ever appended: a released step is never edited, since ledgers out
//! there have already run it.

use crate::db::{Conn, Dialect, TxConn, Val};
use crate::error::LedgerError;

/// One step of the schema, from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this step leads to (steps are numbered 1, 2, … without gaps).
    pub version: u32,
    /// What it does, for people.
    pub description: &'static str,
    /// Its statements, with the placeholders `{id}` (an increasing integer key),
    /// `{int}` (64-bit integer), `{bytes}`, `{decimal}` (exact) and `{strict}`.
    pub sql: &'static str,
}

/// This build's migrations.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "installations and their keys, licences, requests, reports and invoices, clock corrections, endorsements",
    sql: V1,
}];

/// The schema version this build writes: the last migration's.
pub const SCHEMA_VERSION: u32 = 1;

const V1: &str = r#"
-- Every serial the vendor has heard of: a licence issued for it, or a document from it.
CREATE TABLE installations (
    serial TEXT PRIMARY KEY,
    first_seen {int} NOT NULL
) {strict};

-- Installation keys over time. Trust on first use: the first key seen for a
-- serial is its key; another is taken only when the vendor says so, and the
-- old one is kept, retired. At most one current key a serial, by the index.
CREATE TABLE installation_keys (
    id {id},
    serial TEXT NOT NULL REFERENCES installations (serial),
    public_key {bytes} NOT NULL CHECK (length(public_key) = 32),
    key_id TEXT NOT NULL,
    since {int} NOT NULL,
    retired_at {int}
) {strict};
CREATE UNIQUE INDEX installation_keys_current ON installation_keys (serial) WHERE retired_at IS NULL;

-- Licences signed: one per (serial, sequence). The document is re-read from
-- `signed`; the other columns are there to be queried.
CREATE TABLE licences (
    serial TEXT NOT NULL REFERENCES installations (serial),
    sequence {int} NOT NULL CHECK (sequence >= 0),
    licence_id TEXT NOT NULL,
    issued_at {int} NOT NULL,
    expiry TEXT CHECK (expiry IS NULL OR length(expiry) = 10),
    signer_key_id TEXT NOT NULL,
    signed TEXT NOT NULL,
    PRIMARY KEY (serial, sequence)
) {strict};

-- Requests seen (licence requests; clock requests as "clock <nonce hex>"),
-- and the fulfilment of each: its primary key makes it once.
CREATE TABLE requests (
    serial TEXT NOT NULL REFERENCES installations (serial),
    request_id TEXT NOT NULL,
    PRIMARY KEY (serial, request_id)
) {strict};
CREATE TABLE fulfilments (
    serial TEXT NOT NULL,
    request_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    at {int} NOT NULL,
    PRIMARY KEY (serial, request_id),
    FOREIGN KEY (serial, request_id) REFERENCES requests (serial, request_id)
) {strict};

-- Reports invoiced, in the order seen (id). A report is invoiced once
-- (serial, report_id) and a month once (serial, month), whichever report of
-- it comes. A report imported from installations.json may lack its month.
CREATE TABLE reports (
    id {id},
    serial TEXT NOT NULL REFERENCES installations (serial),
    report_id TEXT NOT NULL,
    month TEXT CHECK (month IS NULL OR length(month) = 7),
    parts {int} NOT NULL CHECK (parts >= 1),
    audit_seq {int} CHECK (audit_seq IS NULL OR audit_seq >= 0),
    audit_head {bytes} CHECK (audit_head IS NULL OR length(audit_head) = 32),
    previous_report TEXT,
    actor TEXT NOT NULL,
    seen_at {int} NOT NULL,
    UNIQUE (serial, report_id),
    UNIQUE (serial, month)
) {strict};
CREATE INDEX reports_month ON reports (month);

-- The invoice of a report (none for a report imported from installations.json).
CREATE TABLE invoices (
    id {id},
    serial TEXT NOT NULL,
    report_id TEXT NOT NULL,
    total {decimal} NOT NULL,
    currency TEXT NOT NULL,
    findings TEXT NOT NULL,
    actor TEXT NOT NULL,
    at {int} NOT NULL,
    UNIQUE (serial, report_id),
    FOREIGN KEY (serial, report_id) REFERENCES reports (serial, report_id)
) {strict};
CREATE TABLE invoice_lines (
    invoice_id {int} NOT NULL REFERENCES invoices (id),
    position {int} NOT NULL,
    description TEXT NOT NULL,
    quantity {int} NOT NULL CHECK (quantity >= 0),
    unit_price {decimal} NOT NULL,
    amount {decimal} NOT NULL,
    PRIMARY KEY (invoice_id, position)
) {strict};

-- Clock corrections signed: one per (serial, nonce).
CREATE TABLE clock_corrections (
    serial TEXT NOT NULL REFERENCES installations (serial),
    nonce TEXT NOT NULL CHECK (length(nonce) = 32),
    vendor_time {int} NOT NULL,
    valid_until {int} NOT NULL,
    corrected_mark {int} NOT NULL,
    actor TEXT NOT NULL,
    at {int} NOT NULL,
    PRIMARY KEY (serial, nonce)
) {strict};

-- Issuer endorsements signed. `products` is a JSON array of names.
CREATE TABLE endorsements (
    id {id},
    issuer TEXT NOT NULL,
    issuer_key_id TEXT NOT NULL,
    products TEXT NOT NULL,
    until TEXT NOT NULL CHECK (length(until) = 10),
    signed TEXT NOT NULL,
    at {int} NOT NULL
) {strict};
"#;

/// The migration's SQL for `dialect`.
pub(crate) fn render(sql: &str, dialect: Dialect) -> String {
    let words: [(&str, &str); 5] = match dialect {
        // STRICT tables: SQLite then refuses a value of the wrong type, as
        // PostgreSQL does. AUTOINCREMENT: ids are never reused.
        Dialect::Sqlite => [
            ("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            ("{int}", "INTEGER"),
            ("{bytes}", "BLOB"),
            // The decimal's exact string: TEXT keeps "45.00" as written.
            ("{decimal}", "TEXT"),
            ("{strict}", "STRICT"),
        ],
        Dialect::Postgres => [
            ("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
            ("{int}", "BIGINT"),
            ("{bytes}", "BYTEA"),
            ("{decimal}", "NUMERIC"),
            ("{strict}", ""),
        ],
    };
    let mut out = sql.to_string();
    for (from, to) in words {
        out = out.replace(from, to);
    }
    out
}

/// The ledger's bookkeeping table: the schema version, and which Tessera last migrated it.
const META: &str =
    "CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// Whether the ledger_meta table exists (the database may be new).
fn has_meta(tx: &mut TxConn<'_>) -> Result<bool, LedgerError> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'"
        }
        // In the first schema of the search path: where the tables are made.
        Dialect::Postgres => {
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'ledger_meta'"
        }
    };
    let row = tx.query_opt(sql, &[])?;
    Ok(row.map(|r| r.i64(0)).transpose()?.unwrap_or(0) > 0)
}

/// The schema version the ledger is at (0: nothing yet).
pub(crate) fn version(tx: &mut TxConn<'_>) -> Result<u32, LedgerError> {
    if !has_meta(tx)? {
        return Ok(0);
    }
    let row = tx.query_opt(
        "SELECT value FROM ledger_meta WHERE name = 'schema_version'",
        &[],
    )?;
    match row {
        None => Ok(0),
        Some(r) => {
            let v = r.text(0)?;
            v.parse()
                .map_err(|_| LedgerError::corrupt(format!("schema version {v:?} is not a number")))
        }
    }
}

/// SQLite: a file that holds tables of something else is not taken for a
/// ledger (its tables would be mixed with ours).
fn foreign_sqlite_tables(tx: &mut TxConn<'_>) -> Result<Vec<String>, LedgerError> {
    if tx.dialect() != Dialect::Sqlite || has_meta(tx)? {
        return Ok(Vec::new());
    }
    tx.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        &[],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// Brings the ledger to the last of `migrations`, one step a transaction;
/// refuses a ledger newer than that. `what` names the ledger in messages.
pub(crate) fn migrate(
    conn: &mut Conn,
    migrations: &[Migration],
    what: &str,
) -> Result<(), LedgerError> {
    let known = migrations.last().map_or(0, |m| m.version);
    // A look first, so that a newer ledger is refused without writing anything.
    let mut tx = conn.begin_migration()?;
    let tables = foreign_sqlite_tables(&mut tx)?;
    if !tables.is_empty() {
        return Err(LedgerError::Unreachable {
            what: what.to_string(),
            detail: format!(
                "a SQLite database, but not a Tessera ledger (it has the tables {}); give another --ledger path",
                tables.join(", ")
            ),
        });
    }
    let found = version(&mut tx)?;
    drop(tx);
    if found > known {
        return Err(LedgerError::Newer { found, known });
    }
    for step in migrations.iter().filter(|m| m.version > found) {
        let mut tx = conn.begin_migration()?;
        if tx.dialect() == Dialect::Postgres {
            // Two processes opening a new ledger at once: the second waits
            // here, then finds the step done. Keyed by schema, so ledgers in
            // other schemas of the database do not wait for each other.
            tx.execute(
                "SELECT pg_advisory_xact_lock(7405, hashtext(current_schema()))",
                &[],
            )?;
        }
        tx.batch(META)?;
        let now = version(&mut tx)?;
        if now > known {
            return Err(LedgerError::Newer { found: now, known });
        }
        if now >= step.version {
            continue;
        }
        let from = step.version - 1;
        let fail = |e: LedgerError| LedgerError::Migration {
            from,
            to: step.version,
            detail: match e {
                LedgerError::Database { detail } => detail,
                other => other.to_string(),
            },
        };
        tx.batch(&render(step.sql, tx.dialect())).map_err(fail)?;
        for (name, value) in [
            ("schema_version", step.version.to_string()),
            (
                "migrated_by",
                format!("tessera {}", env!("CARGO_PKG_VERSION")),
            ),
        ] {
            tx.execute("DELETE FROM ledger_meta WHERE name = $1", &[name.into()])
                .map_err(fail)?;
            tx.execute(
                "INSERT INTO ledger_meta (name, value) VALUES ($1, $2)",
                &[name.into(), Val::from(value)],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
    }
    Ok(())
}
