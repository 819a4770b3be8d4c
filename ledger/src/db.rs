//! The two databases behind one small interface: statements written once
//! (PostgreSQL's `$1` placeholders; SQLite is given `?1`), values of four
//! kinds in and out, and each database's errors turned into [`LedgerError`].

use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::error::LedgerError;

/// How long a SQLite ledger waits for another process's transaction.
pub(crate) const BUSY_WAIT: Duration = Duration::from_secs(30);

/// Which database: where the SQL differs (types in the schema, a few catalog queries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    // Boxed: a client is much larger than a SQLite handle.
    Postgres(Box<PgConn>),
}

/// A PostgreSQL connection and the statements it has prepared: a statement
/// given as text is prepared on its first use and then only executed, one
/// round trip instead of two (SQLite's `prepare_cached` does the same).
pub(crate) struct PgConn {
    pub(crate) client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> Self {
        PgConn {
            client,
            statements: HashMap::new(),
        }
    }
}

/// A transaction on one of them.
pub(crate) enum TxConn<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres(
        postgres::Transaction<'c>,
        &'c mut HashMap<String, postgres::Statement>,
    ),
}

/// The prepared statement for `sql`, prepared now if it is new to the connection.
fn pg_statement(
    t: &mut postgres::Transaction<'_>,
    cache: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, LedgerError> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = t.prepare(sql).map_err(pg_error)?;
    cache.insert(sql.to_string(), st.clone());
    Ok(st)
}

/// A parameter. Each kind carries its own NULL, so that PostgreSQL is always
/// told the type it binds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    /// TEXT in SQLite (the exact decimal string), NUMERIC in PostgreSQL.
    Dec(Option<Decimal>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_string()))
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(Some(v.clone()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::Text(v.map(str::to_string))
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Self {
        Val::Bytes(Some(v.to_vec()))
    }
}
impl From<Option<&[u8]>> for Val {
    fn from(v: Option<&[u8]>) -> Self {
        Val::Bytes(v.map(<[u8]>::to_vec))
    }
}
impl From<Decimal> for Val {
    fn from(v: Decimal) -> Self {
        Val::Dec(Some(v))
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Val::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bytes(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            // The decimal's own string keeps its scale ("45.00" stays "45.00").
            Val::Dec(Some(v)) => ToSqlOutput::Owned(Value::Text(v.to_string())),
            Val::Int(None) | Val::Text(None) | Val::Bytes(None) | Val::Dec(None) => {
                ToSqlOutput::Borrowed(ValueRef::Null)
            }
        })
    }
}

fn pg_params(vals: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    vals.iter()
        .map(|v| -> &(dyn postgres::types::ToSql + Sync) {
            match v {
                Val::Int(v) => v,
                Val::Text(v) => v,
                Val::Bytes(v) => v,
                Val::Dec(v) => v,
            }
        })
        .collect()
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Dec(Decimal),
}

/// A row read back, its cells in the order of the SELECT.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, LedgerError> {
        self.0
            .get(i)
            .ok_or_else(|| LedgerError::corrupt(format!("a row has no column {i}")))
    }

    fn wrong(&self, i: usize, wanted: &str) -> LedgerError {
        LedgerError::corrupt(format!(
            "column {i} holds {:?} where {wanted} was expected",
            self.0.get(i)
        ))
    }

    pub(crate) fn opt_i64(&self, i: usize) -> Result<Option<i64>, LedgerError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            _ => Err(self.wrong(i, "an integer")),
        }
    }

    pub(crate) fn i64(&self, i: usize) -> Result<i64, LedgerError> {
        self.opt_i64(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    /// A non-negative integer kept as i64 (a sequence, a count).
    pub(crate) fn opt_u64(&self, i: usize) -> Result<Option<u64>, LedgerError> {
        self.opt_i64(i)?
            .map(|v| u64::try_from(v).map_err(|_| self.wrong(i, "a number of 0 or more")))
            .transpose()
    }

    pub(crate) fn u64(&self, i: usize) -> Result<u64, LedgerError> {
        self.opt_u64(i)?.ok_or_else(|| self.wrong(i, "an integer"))
    }

    pub(crate) fn u32(&self, i: usize) -> Result<u32, LedgerError> {
        u32::try_from(self.u64(i)?).map_err(|_| self.wrong(i, "a small number"))
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, LedgerError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "text")),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String, LedgerError> {
        self.opt_text(i)?.ok_or_else(|| self.wrong(i, "text"))
    }

    pub(crate) fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, LedgerError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Bytes(v) => Ok(Some(v.clone())),
            _ => Err(self.wrong(i, "bytes")),
        }
    }

    pub(crate) fn opt_key(&self, i: usize) -> Result<Option<[u8; 32]>, LedgerError> {
        self.opt_bytes(i)?
            .map(|b| <[u8; 32]>::try_from(b.as_slice()).map_err(|_| self.wrong(i, "32 bytes")))
            .transpose()
    }

    pub(crate) fn key(&self, i: usize) -> Result<[u8; 32], LedgerError> {
        self.opt_key(i)?.ok_or_else(|| self.wrong(i, "32 bytes"))
    }

    pub(crate) fn dec(&self, i: usize) -> Result<Decimal, LedgerError> {
        match self.cell(i)? {
            Cell::Dec(v) => Ok(*v),
            // SQLite keeps the decimal's exact string.
            Cell::Text(s) => s.parse().map_err(|_| self.wrong(i, "a decimal number")),
            _ => Err(self.wrong(i, "a decimal number")),
        }
    }
}

/// `$1` → `?1`: SQLite binds `?NNN` by number, whatever the order of use.
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_row(row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        cells.push(match row.get_ref(i)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(v) => Cell::Int(v),
            // The schema has no REAL column; one found was put there by hand.
            ValueRef::Real(v) => Cell::Text(v.to_string()),
            ValueRef::Text(v) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
            ValueRef::Blob(v) => Cell::Bytes(v.to_vec()),
        });
    }
    Ok(Row(cells))
}

fn pg_row(row: &postgres::Row) -> Result<Row, LedgerError> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let bad = |e: postgres::Error| {
            LedgerError::corrupt(format!("column {} ({ty}): {}", col.name(), pg_detail(&e)))
        };
        let cell = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)
                .map_err(bad)?
                .map(Cell::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map(|v| Cell::Int(v.into()))
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR || *ty == Type::NAME {
            row.try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map(Cell::Text)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map(Cell::Bytes)
        } else if *ty == Type::NUMERIC {
            row.try_get::<_, Option<Decimal>>(i)
                .map_err(bad)?
                .map(Cell::Dec)
        } else {
            return Err(LedgerError::corrupt(format!(
                "column {} is of type {ty}, which the ledger does not use",
                col.name()
            )));
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

/// What PostgreSQL said: its message, detail and hint for a server error;
/// the error and its causes otherwise ("error connecting to server: Connection refused").
pub(crate) fn pg_detail(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(": ");
            s.push_str(d);
        }
        if let Some(h) = db.hint() {
            s.push_str(" (");
            s.push_str(h);
            s.push(')');
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

/// A PostgreSQL error as the ledger reports it: a serialization failure or
/// deadlock is a [`LedgerError::Conflict`], which the transaction retries.
pub(crate) fn pg_error(e: postgres::Error) -> LedgerError {
    use postgres::error::SqlState;
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED =>
        {
            LedgerError::Conflict { attempts: 1 }
        }
        _ if e.is_closed() => LedgerError::Database {
            detail: format!(
                "the connection to PostgreSQL was lost ({}); check the server",
                pg_detail(&e)
            ),
        },
        _ => LedgerError::Database {
            detail: pg_detail(&e),
        },
    }
}

/// A SQLite error as the ledger reports it.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> LedgerError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => LedgerError::Busy {
            seconds: BUSY_WAIT.as_secs(),
        },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            LedgerError::corrupt(e.to_string())
        }
        Some(ErrorCode::DiskFull) => LedgerError::Database {
            detail: "the disk is full; make room and try again".into(),
        },
        Some(ErrorCode::ReadOnly) => LedgerError::Database {
            detail: "the ledger file is read-only for this user".into(),
        },
        _ => LedgerError::Database {
            detail: e.to_string(),
        },
    }
}

impl Conn {
    /// Begins a transaction: SQLite's BEGIN IMMEDIATE (the write lock first,
    /// so two writers queue instead of failing half-way), PostgreSQL's SERIALIZABLE.
    pub(crate) fn begin(&mut self) -> Result<TxConn<'_>, LedgerError> {
        match self {
            Conn::Sqlite(c) => c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map(TxConn::Sqlite)
                .map_err(sqlite_error),
            Conn::Postgres(c) => {
                let PgConn { client, statements } = &mut **c;
                client
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::Serializable)
                    .start()
                    .map(|t| TxConn::Postgres(t, statements))
                    .map_err(pg_error)
            }
        }
    }

    /// Begins a transaction for a schema migration (PostgreSQL: READ
    /// COMMITTED, made exclusive by an advisory lock the caller takes).
    pub(crate) fn begin_migration(&mut self) -> Result<TxConn<'_>, LedgerError> {
        match self {
            Conn::Sqlite(_) => self.begin(),
            Conn::Postgres(c) => {
                let PgConn { client, statements } = &mut **c;
                client
                    .transaction()
                    .map(|t| TxConn::Postgres(t, statements))
                    .map_err(pg_error)
            }
        }
    }
}

impl TxConn<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            TxConn::Sqlite(_) => Dialect::Sqlite,
            TxConn::Postgres(..) => Dialect::Postgres,
        }
    }

    /// Runs a statement; the rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, LedgerError> {
        match self {
            TxConn::Sqlite(t) => {
                let mut st = t.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_error)?;
                let n = st
                    .execute(rusqlite::params_from_iter(params.iter()))
                    .map_err(sqlite_error)?;
                Ok(n as u64)
            }
            TxConn::Postgres(t, cache) => {
                let st = pg_statement(t, cache, sql)?;
                t.execute(&st, &pg_params(params)).map_err(pg_error)
            }
        }
    }

    /// Runs a query; its rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, LedgerError> {
        match self {
            TxConn::Sqlite(t) => {
                let mut st = t.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_error)?;
                let n = st.column_count();
                let rows = st
                    .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                        sqlite_row(r, n)
                    })
                    .map_err(sqlite_error)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(sqlite_error)
            }
            TxConn::Postgres(t, cache) => {
                let st = pg_statement(t, cache, sql)?;
                t.query(&st, &pg_params(params))
                    .map_err(pg_error)?
                    .iter()
                    .map(pg_row)
                    .collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &[Val],
    ) -> Result<Option<Row>, LedgerError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs several statements without parameters (a migration).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), LedgerError> {
        match self {
            TxConn::Sqlite(t) => t.execute_batch(sql).map_err(sqlite_error),
            TxConn::Postgres(t, _) => t.batch_execute(sql).map_err(pg_error),
        }
    }

    /// Makes the transaction's changes permanent.
    pub(crate) fn commit(self) -> Result<(), LedgerError> {
        match self {
            TxConn::Sqlite(t) => t.commit().map_err(sqlite_error),
            TxConn::Postgres(t, _) => t.commit().map_err(pg_error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_question_marks_for_sqlite() {
        assert_eq!(
            sqlite_sql("SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '$'"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '$'"
        );
        assert_eq!(sqlite_sql("$10, $1"), "?10, ?1");
    }
}
