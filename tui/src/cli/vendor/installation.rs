//! Reading what installations send (requests and reports signed by their
//! installation keys) and checking who sent them against the vendor's ledger.

use std::path::Path;

use ::ledger::{LedgerError, Standing, Tx, TxError};
use licfile::{Document, DocumentKind, Roots, SignedDocument};

use super::ledger::{LedgerArgs, failure};
use crate::cli::util::{self, Failure};

/// The ledger options of a command that reads a document an installation signed.
#[derive(Debug, Clone, clap::Args)]
pub struct SiteArgs {
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// Accept a different installation key for a known serial (a reinstalled
    /// site): the ledger keeps the old key, retired now, and takes this one.
    #[arg(long)]
    pub accept_new_key: bool,
}

/// Why a command that works in a ledger transaction stopped: the ledger's
/// refusal, or the command's own. Either rolls the transaction back.
#[derive(Debug)]
pub enum Refusal {
    /// The ledger refused or failed.
    Ledger(LedgerError),
    /// The command refused (a bad file, a request that cannot be granted…).
    Command(Failure),
}

impl From<LedgerError> for Refusal {
    fn from(e: LedgerError) -> Self {
        Refusal::Ledger(e)
    }
}

impl From<Failure> for Refusal {
    fn from(e: Failure) -> Self {
        Refusal::Command(e)
    }
}

impl TxError for Refusal {
    fn is_conflict(&self) -> bool {
        matches!(self, Refusal::Ledger(e) if e.is_conflict())
    }
}

impl Refusal {
    /// As the command line reports it; a ledger's refusal names the ledger `at`.
    pub fn into_failure(self, at: &str) -> Failure {
        match self {
            Refusal::Ledger(e) => failure(e, Some(at)),
            Refusal::Command(f) => f,
        }
    }

    /// The message alone (for a line of a batch's summary).
    pub fn message(&self) -> String {
        match self {
            Refusal::Ledger(e) => e.to_string(),
            Refusal::Command(f) => f.message(),
        }
    }

    /// The stable code, for `--json`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Ledger(e) => e.code(),
            Refusal::Command(f) => f.code(),
        }
    }
}

/// Reads and verifies a document an installation signed, of the kind expected.
pub fn read(path: &Path, expected: DocumentKind) -> Result<SignedDocument, Failure> {
    let bytes = util::read_limited(
        path,
        licfile::constants::MAX_FILE_BYTES,
        expected.describe(),
    )?;
    let (doc, _) = licfile::verify::read_verified(&bytes, expected, &Roots::new())
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    Ok(doc)
}

/// The serial a document from an installation is from, and the installation
/// key that signed it.
pub fn sender(doc: &Document) -> Option<(&str, [u8; 32])> {
    match doc {
        Document::Request(r) => Some((&r.serial, r.installation_key.0)),
        Document::UsageReport(r) => Some((&r.serial, r.installation_key.0)),
        Document::ClockRequest(r) => Some((&r.serial, r.installation_key.0)),
        _ => None,
    }
}

/// Checks the installation key of `doc` against the one the ledger knows
/// for its serial (taken on first sight; another refused unless `accept_new`).
pub fn check_key(
    tx: &mut Tx<'_>,
    doc: &Document,
    accept_new: bool,
    now: i64,
) -> Result<Standing, Refusal> {
    let (serial, key) = sender(doc).ok_or_else(|| {
        Failure::refused(format!(
            "a {} is not signed by an installation",
            doc.kind().describe()
        ))
    })?;
    Ok(tx.check_key(serial, &key, accept_new, now)?)
}

/// A line for people about the ledger's verdict on the installation key.
pub fn standing_note(s: Standing) -> &'static str {
    match s {
        Standing::FirstSight => {
            "first file from this serial: its installation key is now remembered in the ledger"
        }
        Standing::KnownKey => "installation key matches the one the ledger knows for this serial",
        Standing::KeyReplaced => {
            "installation key REPLACED in the ledger, as asked (the old one is kept, retired)"
        }
    }
}

/// Who is running this command, as the ledger records it.
pub fn actor() -> String {
    store::identity::login_name()
}

/// Now, as the ledger records it (seconds since 1970, UTC).
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The files a ledger transaction writes, as its last step before it
/// commits: if it does not commit (a refusal, a failed commit, or another
/// attempt after a conflict), they are removed again, so that no file is
/// left that the ledger does not record.
#[derive(Debug, Default)]
pub struct Written(Vec<std::path::PathBuf>);

impl Written {
    /// Writes a new file (never overwriting one) and remembers it.
    pub fn write(&mut self, path: &Path, contents: &[u8]) -> Result<(), Failure> {
        util::write_new(path, contents, false)?;
        self.0.push(path.to_path_buf());
        Ok(())
    }

    /// Removes what was written: at the start of every attempt, and after a
    /// transaction that failed.
    pub fn undo(&mut self) {
        for path in self.0.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// How many files were written.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}
