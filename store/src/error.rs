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
    #[error("no store at {0}")]
    NoStore(PathBuf),
    /// A store already exists where one was to be created.
    #[error("a store already exists at {0}; it is never overwritten")]
    AlreadyExists(PathBuf),
    /// A file that would be overwritten.
    #[error("{0} already exists; it is never overwritten (choose another name)")]
    FileExists(PathBuf),
    /// Another process has the store open.
    #[error("the store at {path} is in use by {holder}")]
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
    #[error("no user named {0:?}")]
    UnknownUser(String),
    /// The username is taken, or was used before.
    #[error("username {name:?} {why}; usernames are unique and never reused, even after deletion")]
    UsernameTaken {
        /// The name.
        name: String,
        /// "is taken" or "belonged to a deleted user".
        why: String,
    },
    /// The username is not acceptable.
    #[error(
        "username {0:?} is not valid: use 1 to 32 ASCII letters, digits, '.', '_' or '-', not starting with '-'"
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
        "the store holds a damaged record ({0}); verify the action log and restore from backup if that fails"
    )]
    Corrupt(String),
    /// The service refused the request: its code and message, as the store said them.
    #[error("{message}")]
    Remote {
        /// The refusal's stable code.
        code: Code,
        /// For people.
        message: String,
    },
    /// A refusal with a stable code of its own (a bound, a sequence, a seat).
    #[error("{message}")]
    Refused {
        /// The stable code.
        code: Code,
        /// For people: what is wrong and what to do.
        message: String,
    },
    /// The store was made or last changed by a newer Tessera.
    #[error(
        "the store at {path} has schema version {found}, newer than this Tessera understands ({known}); use the Tessera that made it, or a newer one"
    )]
    NewerStore {
        /// The store.
        path: PathBuf,
        /// The version the store says.
        found: u32,
        /// The newest version this build reads.
        known: u32,
    },
    /// Talking to the service failed.
    #[error("the service failed: {0}")]
    Service(String),
    /// A key problem (the installation key).
    #[error("installation key: {0}")]
    Key(#[from] licfile::KeyError),
    /// The file system holding the store has no room for a change: nothing
    /// was changed. Reads go on answering.
    #[error(
        "the disk holding the store at {path} is full ({detail}): the change was not made and the store is as it was; free space on that file system and try again (reads go on working meanwhile)"
    )]
    DiskFull {
        /// The store.
        path: PathBuf,
        /// What the system said, and how much room there is.
        detail: String,
    },
    /// Writing a change failed part-way (the device refused it): the store
    /// was reloaded from what the disk holds, so what it answers is what is
    /// kept; `outcome` says whether the change is among it.
    #[error("writing the store at {path} failed ({cause}); {outcome}")]
    WriteFailed {
        /// The store.
        path: PathBuf,
        /// What the system said.
        cause: String,
        /// Whether the change is on disk, in words.
        outcome: String,
        /// Whether the cause was a full disk.
        full: bool,
    },
}

/// The stable code of a refusal or failure: what travels on the wire and in
/// every `--json`, so that a program can tell one case from another without
/// reading prose. Codes are never renamed; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// No store at the path.
    NoStore,
    /// A store already exists there.
    AlreadyExists,
    /// A file would be overwritten.
    FileExists,
    /// Another process holds the store.
    StoreBusy,
    /// The caller may not do this (role, or no store account).
    NotPermitted,
    /// A licence file was refused (signature, serial, issuer, format).
    LicenceRefused,
    /// A licence older than the one in force.
    SequenceOlder,
    /// A different licence with the sequence in force.
    SequenceConflict,
    /// No such user.
    UnknownUser,
    /// The username is taken, or was used before (in any case).
    UsernameTaken,
    /// The username is not in the portable set.
    BadUsername,
    /// Not an e-mail address.
    BadEmail,
    /// No such role.
    UnknownRole,
    /// No such licence in force.
    UnknownLicence,
    /// A licence name that matches several.
    AmbiguousLicence,
    /// A term the licence does not offer.
    TermNotOffered,
    /// No free seat where one is needed.
    NoFreeSeat,
    /// No such add-on module.
    UnknownAddOn,
    /// No such metered service.
    UnknownService,
    /// A number or a day outside what the rules accept.
    OutOfRange,
    /// The request contradicts a business rule.
    Rule,
    /// Reading or writing the store's files failed.
    Io,
    /// The store's database failed.
    Database,
    /// A damaged record.
    Corrupt,
    /// The store was made by a newer Tessera.
    NewerStore,
    /// The service could not be reached or broke off.
    Unreachable,
    /// The request could not be read.
    BadRequest,
    /// The login user holds the most connections to the service one user may.
    TooManyConnections,
    /// The installation key could not be used.
    Key,
    /// The disk holding the store is full: the change was not made.
    DiskFull,
    /// The machine's clock is set before 1970 or past 9999: nothing can be dated.
    Clock,
    /// A clock correction was refused (another serial, not asked for, used, expired).
    ClockRefused,
    /// A code this build does not know (from a newer service).
    #[serde(other)]
    Unknown,
}

impl Code {
    /// The code as it travels: `not_permitted`, `unknown_user`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NoStore => "no_store",
            Code::AlreadyExists => "already_exists",
            Code::FileExists => "file_exists",
            Code::StoreBusy => "store_busy",
            Code::NotPermitted => "not_permitted",
            Code::LicenceRefused => "licence_refused",
            Code::SequenceOlder => "sequence_older",
            Code::SequenceConflict => "sequence_conflict",
            Code::UnknownUser => "unknown_user",
            Code::UsernameTaken => "username_taken",
            Code::BadUsername => "bad_username",
            Code::BadEmail => "bad_email",
            Code::UnknownRole => "unknown_role",
            Code::UnknownLicence => "unknown_licence",
            Code::AmbiguousLicence => "ambiguous_licence",
            Code::TermNotOffered => "term_not_offered",
            Code::NoFreeSeat => "no_free_seat",
            Code::UnknownAddOn => "unknown_add_on",
            Code::UnknownService => "unknown_service",
            Code::OutOfRange => "out_of_range",
            Code::Rule => "rule",
            Code::Io => "io",
            Code::Database => "database",
            Code::Corrupt => "corrupt",
            Code::NewerStore => "newer_store",
            Code::Unreachable => "unreachable",
            Code::BadRequest => "bad_request",
            Code::TooManyConnections => "too_many_connections",
            Code::Key => "key",
            Code::DiskFull => "disk_full",
            Code::Clock => "clock",
            Code::ClockRefused => "clock_refused",
            Code::Unknown => "unknown",
        }
    }

    /// Whether this is a refusal (the store said no) rather than a failure to
    /// answer at all (no store, busy, unreachable, I/O, damage).
    pub fn is_refusal(self) -> bool {
        !matches!(
            self,
            Code::NoStore
                | Code::StoreBusy
                | Code::Io
                | Code::Database
                | Code::Corrupt
                | Code::NewerStore
                | Code::Unreachable
                | Code::Key
                | Code::DiskFull
                | Code::Clock
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl StoreError {
    /// A refusal with its own code.
    pub fn refused(code: Code, message: impl Into<String>) -> Self {
        StoreError::Refused {
            code,
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> Code {
        match self {
            StoreError::NoStore(_) => Code::NoStore,
            StoreError::AlreadyExists(_) => Code::AlreadyExists,
            StoreError::FileExists(_) => Code::FileExists,
            StoreError::Busy { .. } => Code::StoreBusy,
            StoreError::NotAllowed { .. } => Code::NotPermitted,
            StoreError::LicenceRefused(_) => Code::LicenceRefused,
            StoreError::UnknownUser(_) => Code::UnknownUser,
            StoreError::UsernameTaken { .. } => Code::UsernameTaken,
            StoreError::BadUsername(_) => Code::BadUsername,
            StoreError::BadEmail(_) => Code::BadEmail,
            StoreError::UnknownRole(_) => Code::UnknownRole,
            StoreError::UnknownLicence { .. } => Code::UnknownLicence,
            StoreError::AmbiguousLicence { .. } => Code::AmbiguousLicence,
            StoreError::TermNotOffered { .. } => Code::TermNotOffered,
            StoreError::Rule(_) => Code::Rule,
            StoreError::UnknownAddOn { .. } => Code::UnknownAddOn,
            StoreError::UnknownService { .. } => Code::UnknownService,
            StoreError::Io { .. } => Code::Io,
            StoreError::Db(_) => Code::Database,
            StoreError::Corrupt(_) => Code::Corrupt,
            StoreError::Remote { code, .. } | StoreError::Refused { code, .. } => *code,
            StoreError::NewerStore { .. } => Code::NewerStore,
            StoreError::Service(_) => Code::Unreachable,
            StoreError::Key(_) => Code::Key,
            StoreError::DiskFull { .. } => Code::DiskFull,
            StoreError::WriteFailed { full: true, .. } => Code::DiskFull,
            StoreError::WriteFailed { .. } => Code::Io,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the store refused the request (as opposed to failing to carry
    /// it out, or there being no store to ask).
    pub fn is_refusal(&self) -> bool {
        self.code().is_refusal()
    }
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
