//! Where the ledger is: a SQLite file, or a PostgreSQL database.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::LedgerError;

/// Where a ledger is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (made on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (`postgresql://USER:PASSWORD@HOST:PORT/DATABASE`).
    Postgres(String),
}

/// The directory under the user's data directory that holds the default
/// ledger. Not `tessera` itself: that is where a site's store is made by
/// default, and a store is made only in an empty directory, and a demo store
/// is removed whole when the real one replaces it.
pub const DATA_DIR_NAME: &str = "tessera-vendor";

/// The default ledger's file name in [`DATA_DIR_NAME`].
pub const FILE_NAME: &str = "ledger.sqlite";

impl Location {
    /// `postgresql://…` or `postgres://…` → [`Location::Postgres`], anything
    /// else a file path.
    pub fn parse(arg: &str) -> Location {
        let lower = arg.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgresql://") || lower.starts_with("postgres://") {
            Location::Postgres(arg.trim().to_string())
        } else {
            Location::Sqlite(PathBuf::from(arg))
        }
    }

    /// `--ledger` if given, else `$TESSERA_LEDGER`, else
    /// `<data dir>/tessera-vendor/ledger.sqlite`, where the data dir is
    /// `$XDG_DATA_HOME` or `~/.local/share`; that directory is made (mode
    /// 0700) when missing.
    pub fn resolve(arg: Option<&str>) -> Result<Location, LedgerError> {
        Self::resolve_with(arg, |name| std::env::var_os(name))
    }

    /// [`Location::resolve`] with the environment read through `var`.
    pub fn resolve_with(
        arg: Option<&str>,
        var: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Location, LedgerError> {
        if let Some(arg) = arg {
            if arg.trim().is_empty() {
                return Err(LedgerError::invalid(
                    "--ledger is empty: give a file path or a postgresql:// URL",
                ));
            }
            return Ok(Self::parse(arg));
        }
        if let Some(v) = var("TESSERA_LEDGER").filter(|v| !v.is_empty()) {
            return Ok(match v.to_str() {
                Some(s) => Self::parse(s),
                // Not UTF-8: no URL, so a path.
                None => Location::Sqlite(PathBuf::from(v)),
            });
        }
        let base = match var("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
            // The XDG spec: a relative value is invalid and ignored.
            Some(x) if PathBuf::from(&x).is_absolute() => PathBuf::from(x),
            _ => match var("HOME").filter(|h| !h.is_empty()) {
                Some(h) => PathBuf::from(h).join(".local/share"),
                None => {
                    return Err(LedgerError::Unreachable {
                        what: "the default ledger".into(),
                        detail: "neither $XDG_DATA_HOME nor $HOME is set, so there is no data directory: give --ledger PATH or set $TESSERA_LEDGER".into(),
                    });
                }
            },
        };
        let dir = base.join(DATA_DIR_NAME);
        if !dir.is_dir() {
            use std::os::unix::fs::DirBuilderExt as _;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| LedgerError::Unreachable {
                    what: dir.join(FILE_NAME).display().to_string(),
                    detail: format!(
                        "cannot make the directory {}: {e}; give --ledger PATH or set $TESSERA_LEDGER",
                        dir.display()
                    ),
                })?;
        }
        Ok(Location::Sqlite(dir.join(FILE_NAME)))
    }
}

impl std::fmt::Display for Location {
    /// The path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// The URL with any password replaced by `***`: messages name the ledger
/// without giving its password away.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (head, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // The user information ends at the last '@' before the query, so that a
    // password with an unescaped '/' or '@' is still hidden whole.
    let head = match head.rfind('@') {
        Some(at) => match head[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***{}", &head[at..]),
            None => head.to_string(),
        },
        None => head.to_string(),
    };
    let query = query
        .split_inclusive('&')
        .map(|p| {
            let lower = p.trim_start_matches('?').to_ascii_lowercase();
            if lower.starts_with("password=") {
                let lead = if p.starts_with('?') { "?" } else { "" };
                let end = if p.ends_with('&') { "&" } else { "" };
                format!("{lead}password=***{end}")
            } else {
                p.to_string()
            }
        })
        .collect::<String>();
    format!("{scheme}://{head}{query}")
}
