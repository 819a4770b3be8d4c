//! The vendor's ledger: its own record of installations and their keys over
//! time, the licences it issued, the requests it fulfilled, the reports it
//! invoiced and their invoices, the clock corrections and endorsements it
//! signed.
//!
//! One schema ([`schema`]) on SQLite (a file, the default: nothing to
//! install) or PostgreSQL (a `postgresql://` URL), brought up to date step by
//! step when opened. Everything happens in [`Ledger::transaction`]: all of it
//! or none. What must happen once (a request fulfilled, a report invoiced, a
//! month invoiced, a licence sequence issued, a clock request answered) is
//! guarded by the database's own keys, so that of two processes at once one
//! succeeds and the other is told who did it and when ([`Tx`]).
//!
//! ```
//! use ledger::{Ledger, Location};
//!
//! let dir = tempfile::tempdir()?;
//! let mut ledger = Ledger::open(&Location::Sqlite(dir.path().join("ledger.sqlite")))?;
//! let key = [7u8; 32];
//! let standing = ledger.transaction(|tx| tx.check_key("NW-000123", &key, false, 1_790_000_000))?;
//! assert_eq!(standing, ledger::Standing::FirstSight);
//! ledger.transaction(|tx| tx.note_request("NW-000123", "R-1", Some(("alice", 1_790_000_100))))?;
//! let again = ledger.transaction(|tx| tx.note_request("NW-000123", "R-1", Some(("bob", 1_790_000_200))));
//! assert_eq!(again.unwrap_err().code(), "already_done");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Values in and out, and no printing: what to show is the caller's business.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bulk;
mod csv;
mod db;
mod error;
mod import;
mod location;
mod model;
pub mod schema;
mod tx;

use std::path::Path;
use std::time::Duration;

pub use bulk::SerialFacts;
pub use csv::{CSV_HEADER, csv_field, invoice_lines_csv};
pub use error::LedgerError;
pub use import::IMPORT_ACTOR;
pub use licfile::registry::Standing;
pub use location::{DATA_DIR_NAME, FILE_NAME, Location, redact};
pub use model::{
    ClockCorrectionRow, EndorsementRow, ImportCounts, InstallationKey, InstallationRow,
    InstallationSummary, InvoiceLineRow, InvoiceRecord, InvoiceRow, IssuedLicence, ReportRow, hex,
};
pub use schema::{Migration, SCHEMA_VERSION};
pub use tx::Tx;

use db::{Conn, pg_detail, sqlite_error};

/// How many times a PostgreSQL transaction that lost a race is tried in all.
const ATTEMPTS: u32 = 20;

/// How long connecting to PostgreSQL may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open ledger: one connection.
pub struct Ledger {
    conn: Conn,
    what: String,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("at", &self.what).finish()
    }
}

impl Ledger {
    /// Opens the ledger, creating the schema in a new one and migrating an
    /// older one step by step, each step in a transaction. A ledger whose
    /// schema is newer than this build knows is refused
    /// ([`LedgerError::Newer`]), one that cannot be reached says so
    /// ([`LedgerError::Unreachable`]); neither is written to.
    pub fn open(loc: &Location) -> Result<Ledger, LedgerError> {
        Self::open_with_migrations(loc, schema::MIGRATIONS)
    }

    /// [`Ledger::open`] with `migrations` in place of this build's: for
    /// testing the migration machinery (an older or a newer build).
    #[doc(hidden)]
    pub fn open_with_migrations(
        loc: &Location,
        migrations: &[Migration],
    ) -> Result<Ledger, LedgerError> {
        let what = loc.to_string();
        match loc {
            Location::Sqlite(path) => {
                let (mut conn, created) = open_sqlite(path, &what)?;
                match schema::migrate(&mut conn, migrations, &what) {
                    Ok(()) => Ok(Ledger { conn, what }),
                    Err(e) => {
                        drop(conn);
                        if created {
                            // Nothing of ours is in it: leave no empty ledger behind.
                            let _ = std::fs::remove_file(path);
                        }
                        Err(match e {
                            LedgerError::Corrupt { detail } => LedgerError::Unreachable {
                                what,
                                detail: not_a_ledger(path, &detail),
                            },
                            other => other,
                        })
                    }
                }
            }
            Location::Postgres(url) => {
                let mut conn = open_postgres(url, &what)?;
                schema::migrate(&mut conn, migrations, &what)?;
                Ok(Ledger { conn, what })
            }
        }
    }

    /// The ledger's location for messages (a PostgreSQL URL without its password).
    pub fn location(&self) -> &str {
        &self.what
    }

    /// Runs `f` in one serialisable transaction and commits what it did; if
    /// `f` fails, nothing of it is kept. SQLite: `BEGIN IMMEDIATE` (writers
    /// queue, waiting up to 30 seconds). PostgreSQL: `SERIALIZABLE`; a
    /// transaction that lost a race with another (a serialization failure) is
    /// run again, a few times, so `f` must do nothing outside the ledger that
    /// cannot be done twice.
    pub fn transaction<T>(
        &mut self,
        f: impl FnMut(&mut Tx<'_>) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        self.transaction_with(f)
    }

    /// [`Ledger::transaction`] for a caller whose own refusals travel beside
    /// the ledger's ([`TxError`]): a refusal of the caller's rolls the
    /// transaction back like one of the ledger's.
    pub fn transaction_with<T, E: TxError>(
        &mut self,
        mut f: impl FnMut(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 1;
        loop {
            match self.attempt(&mut f) {
                Err(e) if e.is_conflict() && attempt < ATTEMPTS => {
                    pause(attempt);
                    attempt += 1;
                }
                Err(e) if e.is_conflict() => {
                    return Err(E::from(LedgerError::Conflict { attempts: attempt }));
                }
                other => return other,
            }
        }
    }

    fn attempt<T, E: TxError>(
        &mut self,
        f: &mut impl FnMut(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut tx = Tx {
            db: self.conn.begin()?,
            savepoints: 0,
        };
        // On an error the transaction is dropped, which rolls it back.
        let value = f(&mut tx)?;
        tx.db.commit()?;
        Ok(value)
    }

    /// The schema version the ledger is at (0 for a database with no ledger in it).
    pub fn schema_version(&mut self) -> Result<u32, LedgerError> {
        self.transaction(|tx| schema::version(&mut tx.db))
    }
}

/// What a transaction's closure may fail with: the ledger's own
/// [`LedgerError`], or a caller's error that can carry one.
pub trait TxError: From<LedgerError> {
    /// Whether this is the ledger's [`LedgerError::Conflict`] (PostgreSQL's
    /// serialization failure): the whole transaction is then run again.
    fn is_conflict(&self) -> bool;
}

impl TxError for LedgerError {
    fn is_conflict(&self) -> bool {
        matches!(self, LedgerError::Conflict { .. })
    }
}

/// A short random wait before trying again, growing with the attempts, so
/// that two processes that collided do not collide again in step.
fn pause(attempt: u32) {
    let ceiling = 1u32 << attempt.min(6);
    let jitter = getrandom::u32().unwrap_or(attempt) % ceiling;
    std::thread::sleep(Duration::from_millis(u64::from(1 + jitter)));
}

/// Opens (or makes, private) the SQLite file; whether it was made now.
fn open_sqlite(path: &Path, what: &str) -> Result<(Conn, bool), LedgerError> {
    let unreachable = |detail: String| LedgerError::Unreachable {
        what: what.to_string(),
        detail,
    };
    if path.is_dir() {
        return Err(unreachable(format!(
            "it is a directory; give the path of a ledger file, such as {}",
            path.join(FILE_NAME).display()
        )));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(unreachable(format!(
            "the directory {} does not exist; create it first, or give another --ledger",
            parent.display()
        )));
    }
    // Made here, exclusively and private: invoices and installation keys are
    // the vendor's business. SQLite gives its journal the same mode.
    let created = {
        use std::os::unix::fs::OpenOptionsExt as _;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(unreachable(format!("cannot create it: {e}"))),
        }
    };
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = rusqlite::Connection::open_with_flags(path, flags).and_then(|c| {
        c.busy_timeout(db::BUSY_WAIT)?;
        // Off by default in SQLite; the schema's references are meant.
        c.execute_batch("PRAGMA foreign_keys = ON")?;
        Ok(c)
    });
    match opened {
        Ok(c) => Ok((Conn::Sqlite(c), created)),
        Err(e) => {
            if created {
                let _ = std::fs::remove_file(path);
            }
            Err(unreachable(not_a_ledger(
                path,
                &sqlite_error(e).to_string(),
            )))
        }
    }
}

/// Why a file cannot be a ledger, with a hint when it is plainly JSON
/// (an `installations.json` given where the ledger was meant).
fn not_a_ledger(path: &Path, detail: &str) -> String {
    let json = std::fs::read(path)
        .ok()
        .and_then(|b| b.iter().copied().find(|c| !c.is_ascii_whitespace()))
        == Some(b'{');
    if json {
        "a JSON file, not a ledger; to take an installations.json into the ledger: tessera vendor ledger import FILE".into()
    } else {
        format!("not a SQLite ledger, or a damaged one ({detail}); give another --ledger path")
    }
}

/// Connects to PostgreSQL, saying what to check when it cannot.
fn open_postgres(url: &str, what: &str) -> Result<Conn, LedgerError> {
    use postgres::error::SqlState;
    let unreachable = |detail: String| LedgerError::Unreachable {
        what: what.to_string(),
        detail,
    };
    let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
        unreachable(format!(
            "not a PostgreSQL URL ({}): write it as postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
            pg_detail(&e)
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("tessera ledger");
    }
    let mut client = config.connect(postgres::NoTls).map_err(|e| {
        let advice = match e.code() {
            Some(c)
                if *c == SqlState::INVALID_PASSWORD
                    || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                "check the user and password in the URL"
            }
            Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
                "create the database (createdb NAME) or correct the URL"
            }
            Some(_) => "check the URL and the server's settings",
            None => "is the server running, and listening at that host and port?",
        };
        unreachable(format!("{}; {advice}", pg_detail(&e)))
    })?;
    // A licence is kept as its signed text, a few kilobytes of base64, which
    // PostgreSQL compresses as it stores it: with its default (pglz), that
    // was half of the server's work in a batch of 10,000 licences. lz4 does
    // it several times faster. A server without it (before PostgreSQL 14, or
    // built without lz4) refuses the setting and keeps its default, which
    // reads and writes the same values.
    if let Err(e) = client.batch_execute("SET default_toast_compression = lz4")
        && e.code().is_none()
    {
        return Err(unreachable(pg_detail(&e)));
    }
    Ok(Conn::Postgres(Box::new(db::PgConn::new(client))))
}
