//! Why the ledger refuses or fails, each with a stable code.

/// A moment for people: `2026-11-22 09:30:00 UTC` (the bare seconds when out of range).
pub(crate) fn when(at: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp(at, 0) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{at} seconds after 1970"),
    }
}

/// Why the ledger refused something or could not do it. Every refusal leaves
/// the ledger as it was: the transaction it happened in is rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The ledger cannot be opened: no such directory, not a database, the
    /// server down, a wrong password.
    #[error("cannot use the ledger {what}: {detail}")]
    Unreachable {
        /// The ledger (a path, or a PostgreSQL URL without its password).
        what: String,
        /// What went wrong, and what to do about it.
        detail: String,
    },
    /// A newer Tessera made (or migrated) the ledger: this one does not know its schema.
    #[error(
        "the ledger's schema is version {found}, newer than this Tessera knows (version {known}): a newer Tessera has used it; use that version (or a later one) with it. Nothing was changed"
    )]
    Newer {
        /// The ledger's schema version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
    /// A migration to a newer schema failed; the ledger stays at the version before it.
    #[error(
        "could not bring the ledger's schema from version {from} to {to}: {detail}; it is left at version {from}, unchanged by this step"
    )]
    Migration {
        /// The version the ledger stays at.
        from: u32,
        /// The version the failed step leads to.
        to: u32,
        /// The database's complaint.
        detail: String,
    },
    /// A document signed by another installation key than the one the ledger knows for its serial.
    #[error(
        "serial {serial} is known with installation key {known}, but this document is signed by key {presented}: it comes from another installation, or the site was reinstalled (then accept the new key explicitly)"
    )]
    KeyChanged {
        /// The serial.
        serial: String,
        /// The id of the key the ledger holds.
        known: String,
        /// The id of the key presented.
        presented: String,
    },
    /// The licence sequence was already issued for the serial.
    #[error(
        "licence sequence {sequence} of serial {serial} was already issued, as {licence_id} on {when}: a site takes each sequence once; issue the next sequence instead",
        when = when(*issued_at)
    )]
    SequenceTaken {
        /// The serial.
        serial: String,
        /// The sequence.
        sequence: u64,
        /// The licence issued with it.
        licence_id: String,
        /// When that licence was issued.
        issued_at: i64,
    },
    /// Something done once (a request fulfilled, a report invoiced, a clock request answered) asked again.
    #[error(
        "{what} was already done, by {by} on {when}: it is done once; this is a replay or a duplicate",
        when = when(*at)
    )]
    AlreadyDone {
        /// What was done.
        what: String,
        /// Who did it.
        by: String,
        /// When.
        at: i64,
    },
    /// The month was already invoiced for the serial, from another report.
    #[error(
        "{month} of serial {serial} was already invoiced, from report {report}, by {by} on {when}: a month is invoiced once",
        when = when(*at)
    )]
    AlreadyInvoiced {
        /// The serial.
        serial: String,
        /// The month (YYYY-MM).
        month: String,
        /// The report it was invoiced from.
        report: String,
        /// Who invoiced it.
        by: String,
        /// When.
        at: i64,
    },
    /// A value the ledger does not take (a month not written YYYY-MM, a number past its range).
    #[error("{detail}")]
    Invalid {
        /// What is wrong with it.
        detail: String,
    },
    /// An `installations.json` that cannot be imported.
    #[error("cannot import {what}: {detail}; nothing was imported")]
    Import {
        /// The file.
        what: String,
        /// Why.
        detail: String,
    },
    /// Another process held the ledger (SQLite) for longer than the wait.
    #[error(
        "the ledger is busy: another process has held it for more than {seconds} seconds; nothing was recorded: try again when it is done"
    )]
    Busy {
        /// How long this one waited.
        seconds: u64,
    },
    /// Other transactions changed what this one read, every time it was tried (PostgreSQL).
    #[error(
        "the ledger was changed by other processes at the same moment, {attempts} times in a row; nothing was recorded: run the command again"
    )]
    Conflict {
        /// How many times the transaction was tried.
        attempts: u32,
    },
    /// The ledger holds something this build cannot read back.
    #[error(
        "the ledger holds something Tessera cannot read ({detail}): it was changed outside Tessera; restore it from a backup, or correct it by hand"
    )]
    Corrupt {
        /// What and where.
        detail: String,
    },
    /// Any other failure of the database.
    #[error("the ledger's database failed: {detail}; nothing was recorded")]
    Database {
        /// The database's complaint.
        detail: String,
    },
}

impl LedgerError {
    /// A stable, snake_case code for programs: never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::Unreachable { .. } => "unreachable",
            LedgerError::Newer { .. } => "newer_ledger",
            LedgerError::Migration { .. } => "migration_failed",
            LedgerError::KeyChanged { .. } => "key_changed",
            LedgerError::SequenceTaken { .. } => "sequence_taken",
            LedgerError::AlreadyDone { .. } => "already_done",
            LedgerError::AlreadyInvoiced { .. } => "already_invoiced",
            LedgerError::Invalid { .. } => "invalid",
            LedgerError::Import { .. } => "import_refused",
            LedgerError::Busy { .. } => "busy",
            LedgerError::Conflict { .. } => "conflict",
            LedgerError::Corrupt { .. } => "corrupt_ledger",
            LedgerError::Database { .. } => "database",
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        LedgerError::Invalid {
            detail: detail.into(),
        }
    }

    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        LedgerError::Corrupt {
            detail: detail.into(),
        }
    }
}
