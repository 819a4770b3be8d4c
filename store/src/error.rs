//! What the store refuses, and why. Every message says what is wrong and what to do.

use std::path::PathBuf;

/// Who holds a store that is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Login user of that process.
    pub user: String,
    /// Its command line.
    pub command: String,
    /// Since when, RFC 3339.
    pub since: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "process {} of user {} ({}) since {}",
            self.pid, self.user, self.command, self.since
        )
    }
}

/// A store operation that did not happen. The store is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No store at the path.
    #[error("no store at {0}; create one with `tessera init --licence FILE` (or `tessera demo`)")]
    NoStore(PathBuf),
    /// A store already exists where one was to be created.
    #[error("a store already exists at {0}; it is never overwritten")]
    AlreadyExists(PathBuf),
    /// A file that would be overwritten.
    #[error("{0} already exists; it is never overwritten (choose another name)")]
    FileExists(PathBuf),
    /// Another process has the store open.
    #[error(
        "the store at {path} is in use by {holder}; wait for it to finish, or use `tessera serve` so that several clients can work at once"
    )]
    Busy {
        /// The store.
        path: PathBuf,
        /// Who holds it.
        holder: Holder,
    },
    /// The operator may not do this.
    #[error("{operator} may not {action}: {why}")]
    NotAllowed {
        /// Who asked.
        operator: String,
        /// What they asked for.
        action: String,
        /// Which role it takes.
        why: String,
    },
    /// A licence file was refused.
    #[error("licence refused: {0}")]
    LicenceRefused(String),
    /// No such user.
    #[error("no user named {0:?}; `tessera users list` shows who there is")]
    UnknownUser(String),
    /// The username is taken, or was used before.
    #[error("username {name:?} {why}; usernames are unique and never reused, even after deletion")]
    UsernameTaken {
        /// The name.
        name: String,
        /// "is taken" or "belonged to a deleted user".
        why: &'static str,
    },
    /// The username is not acceptable.
    #[error(
        "username {0:?} is not valid: use 1 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit"
    )]
    BadUsername(String),
    /// An e-mail address is not acceptable.
    #[error("e-mail {0:?} is not an e-mail address")]
    BadEmail(String),
    /// An unknown role name.
    #[error("unknown role {0:?}; roles are: {roles}", roles = crate::roles::Role::ALL.iter().map(|r| r.name()).collect::<Vec<_>>().join(", "))]
    UnknownRole(String),
    /// An unknown licence name.
    #[error("no licence {name:?} in the licences in force; there are: {known}")]
    UnknownLicence {
        /// What was asked for.
        name: String,
        /// What exists.
        known: String,
    },
    /// A licence name that matches several.
    #[error("licence {name:?} is ambiguous: {candidates}; write the area too, e.g. \"Jobs User\"")]
    AmbiguousLicence {
        /// What was asked for.
        name: String,
        /// What it matches.
        candidates: String,
    },
    /// A term the licence does not offer.
    #[error("{licence} is not offered on {term} terms by the licence in force{offered}")]
    TermNotOffered {
        /// The licence.
        licence: String,
        /// The term.
        term: String,
        /// What is offered, prefixed with "; offered: ".
        offered: String,
    },
    /// The request contradicts a rule.
    #[error("{0}")]
    Rule(String),
    /// An add-on module that does not exist.
    #[error("no add-on module {name:?} in the licences in force; there are: {known}")]
    UnknownAddOn {
        /// What was asked for.
        name: String,
        /// What exists.
        known: String,
    },
    /// A metered service that does not exist.
    #[error("no metered service {name:?} in the licence in force; there are: {known}")]
    UnknownService {
        /// What was asked for.
        name: String,
        /// What exists.
        known: String,
    },
    /// Reading or writing the store's files failed.
    #[error("store I/O at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// sled failed.
    #[error("the store's database failed: {0}; the store is unchanged")]
    Db(#[from] sled::Error),
    /// A record could not be decoded: the store was damaged or written by a newer Tessera.
    #[error(
        "the store holds a damaged record ({0}); run `tessera audit verify` and restore from backup if it fails"
    )]
    Corrupt(String),
    /// The service refused the request; its message, as the store said it.
    #[error("{0}")]
    Remote(String),
    /// Talking to the service failed.
    #[error("the service failed: {0}")]
    Service(String),
    /// A key problem (the installation key).
    #[error("installation key: {0}")]
    Key(#[from] licfile::KeyError),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the store refused the request (as opposed to failing to carry it out).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            StoreError::Io { .. }
                | StoreError::Db(_)
                | StoreError::Corrupt(_)
                | StoreError::Service(_)
        )
    }
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
