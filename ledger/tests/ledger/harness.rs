//! A fresh, private ledger for each test, on either database, and raw access
//! to it for looking behind the ledger's back.

use std::io::Write as _;
use std::path::PathBuf;

use ledger::{Ledger, Location};

/// The variable that names the PostgreSQL database the tests use.
pub const PG_VAR: &str = "TESSERA_TEST_POSTGRES";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where one test's ledger is; removed when dropped.
pub struct Place {
    pub loc: Location,
    /// SQLite: the directory holding the file.
    dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server's URL and the test's schema.
    pg: Option<(String, String)>,
}

/// The base PostgreSQL URL, when the tests are to use one. Without it:
/// under CI (`$CI` set, not "0" or "false") the test fails; elsewhere it says
/// that PostgreSQL was not tested and the test returns.
pub fn pg_url(test: &str) -> Option<String> {
    if let Some(url) = std::env::var(PG_VAR).ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{test} runs on PostgreSQL, and CI (CI={:?}) must test it, but {PG_VAR} is not set: \
         set it to postgresql://USER:PASSWORD@HOST:PORT/DATABASE (eval \"$(bash ledger/ci-postgres.sh)\" makes one)",
        std::env::var("CI").unwrap_or_default()
    );
    // Straight to standard error: the test harness captures print macros only.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {PG_VAR} is not set, so PostgreSQL was NOT tested \
         (eval \"$(bash ledger/ci-postgres.sh)\" as root makes a server and sets it; CI fails without it)"
    );
    None
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("random bytes");
    ledger::hex(&b)
}

/// `url` with `search_path` set to `schema`, so that everything the ledger
/// does happens in that schema.
pub fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// A new ledger place for `test` on `backend`, or `None` when PostgreSQL is
/// not configured outside CI (said on standard error).
pub fn place(backend: Backend, test: &str) -> Option<Place> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            Some(Place {
                loc: Location::Sqlite(dir.path().join("ledger.sqlite")),
                dir: Some(dir),
                pg: None,
            })
        }
        Backend::Postgres => {
            // The harness names each test's thread by the test's path.
            let name = std::thread::current()
                .name()
                .map_or_else(|| format!("postgres::{test}"), str::to_string);
            let url = pg_url(&name)?;
            // Its own schema: tests run in parallel, each on a fresh ledger.
            let schema = format!("t_{}_{}", test.to_ascii_lowercase(), random_hex(6));
            let schema: String = schema.chars().take(63).collect();
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
                panic!("connect to {PG_VAR} ({}): {e:?}", ledger::redact(&url))
            });
            admin
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("create the test's schema");
            Some(Place {
                loc: Location::Postgres(with_schema(&url, &schema)),
                dir: None,
                pg: Some((url, schema)),
            })
        }
    }
}

impl Place {
    /// Opens the ledger (made on first open).
    pub fn open(&self) -> Ledger {
        Ledger::open(&self.loc).unwrap_or_else(|e| panic!("open {}: {e}", self.loc))
    }

    /// The SQLite file (SQLite only).
    pub fn file(&self) -> PathBuf {
        match &self.loc {
            Location::Sqlite(p) => p.clone(),
            Location::Postgres(_) => panic!("not a SQLite ledger"),
        }
    }

    /// A directory for the test's files (any backend).
    pub fn scratch(&self) -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    /// Runs `sql` on the ledger behind its back, returning the first column
    /// of each row as text (`sqlite` for SQLite, `pg` for PostgreSQL).
    pub fn raw(&self, sqlite: &str, pg: &str) -> Vec<Option<String>> {
        match &self.loc {
            Location::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open the SQLite file");
                let mut st = c.prepare(sqlite).expect("prepare");
                let rows = st
                    .query_map([], |r| {
                        use rusqlite::types::ValueRef;
                        Ok(match r.get_ref(0)? {
                            ValueRef::Null => None,
                            ValueRef::Integer(i) => Some(i.to_string()),
                            ValueRef::Real(f) => Some(f.to_string()),
                            ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                            ValueRef::Blob(b) => Some(ledger::hex(b)),
                        })
                    })
                    .expect("query");
                rows.collect::<Result<_, _>>().expect("rows")
            }
            Location::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                if pg.trim_start().to_ascii_uppercase().starts_with("SELECT") {
                    c.query(pg, &[])
                        .expect("query")
                        .iter()
                        .map(|r| r.get::<_, Option<String>>(0))
                        .collect()
                } else {
                    c.batch_execute(pg).expect("statement");
                    Vec::new()
                }
            }
        }
    }

    /// Runs a statement behind the ledger's back (the same SQL on both).
    pub fn raw_exec(&self, sql: &str) {
        match &self.loc {
            Location::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).expect("open the SQLite file");
                c.execute_batch(sql).expect("statement");
            }
            Location::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                c.batch_execute(sql).expect("statement");
            }
        }
    }

    /// A count, behind the ledger's back (`SELECT count(*) …`, the same SQL on both).
    pub fn count(&self, sql: &str) -> i64 {
        let pg = sql.replacen("count(*)", "count(*)::text", 1);
        let v = self.raw(sql, &pg);
        v.first()
            .cloned()
            .flatten()
            .expect("a count")
            .parse()
            .expect("a number")
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg
            && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
        drop(self.dir.take());
    }
}

/// A day's moment: 2026-01-01 00:00 UTC plus `n` seconds.
pub fn t(n: i64) -> i64 {
    1_767_225_600 + n
}

/// A key of 32 bytes `b`.
pub fn key(b: u8) -> [u8; 32] {
    [b; 32]
}

/// Its key id as the ledger shows it.
pub fn key_id(b: u8) -> String {
    licfile::KeyId::of(&key(b)).to_string()
}
