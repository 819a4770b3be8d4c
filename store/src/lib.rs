//! The installation's state: licences in force, users, seats, usage and the
//! action log, over sled 0.34.7. Every business rule lives here, whatever calls
//! it: the CLI, the console, the licensed product through `tessera check` and
//! `tessera usage`, or this crate's API.
//!
//! Time is passed in as a [`Clock`]; one change is one atomic batch that also
//! appends its events to a hash chain, synced to disk before it is reported.
//!
//! ```
//! use std::sync::Arc;
//! use store::{ApiExt, FixedClock, InstallationKind, NewUser, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let clock = Arc::new(FixedClock::new("2026-03-02T09:00:00Z".parse()?));
//! let licence = store::demo::demo_licence_text("NW-000123")?;
//! let store = Store::create(dir.path(), licence.as_bytes(), InstallationKind::Central, "alice", clock)?;
//! // Every operation goes through the one gate, as a login user.
//! let alice = store.as_user("alice");
//! alice.add_user(NewUser {
//!     name: "bob".into(), role: "engineer".into(),
//!     licence: Some("Jobs User".into()), term: Some("monthly".into()), email: None,
//! })?;
//! assert!(alice.check("bob")?.allowed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod audit;
pub mod client;
pub mod clock;
pub mod correction;

mod db;
pub mod demo;
pub mod detail;
pub mod error;
pub mod events;
pub mod export;
pub mod gate;
pub mod handover;
pub mod history;
pub mod identity;
mod keys;
pub mod lease;
pub mod licences;
pub mod metrics;
mod migrations;
pub mod model;
pub mod modules;
pub mod notifications;
pub mod outbox;
pub mod pdf;
pub mod protocol;
pub mod purchases;
pub mod report;
pub mod roles;
pub mod rules;
mod search;
pub mod service;
pub mod tick;
pub mod tls;
pub mod trust;
pub mod usage;
pub mod users;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;

pub use api::{Api, Local};
pub use clock::{Clock, FixedClock, SystemClock};
pub use db::Layout;
pub use error::{Code, Holder, Result, StoreError};
pub use gate::{ApiExt, Op, Reply, Request};
pub use licences::{ImportOutcome, InForce};
pub use model::{
    Event, EventKind, EventStatus, Installation, InstallationKind, PoolKey, User, UserState,
};
pub use roles::Role;
/// The purchase quote: what seats cost, from the rules.
pub use rules::costs;
pub use users::{CheckCode, CheckResult, NewUser, UserChange, UserCounts};

use db::Db;
use keys::names;

/// An open store. One process holds it at a time (a lock file names the holder).
pub struct Store {
    db: Db,
    in_force: RwLock<Arc<Vec<InForce>>>,
    /// The facts the metrics last read, reused for a moment.
    metrics_cache: metrics::FactsCache,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.db.layout.dir)
            .finish()
    }
}

/// A path beside `dir` named `.NAME.WHAT-PID-RANDOM`: where a store is built
/// before it is renamed into place, or set aside while it is removed. The
/// random part makes it unpredictable, so that nobody can plant something
/// there first (the parent may be shared); the pid lets a later run clear
/// what a killed one left.
fn beside(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    let mut random = [0u8; 8];
    // Without randomness the pid alone still names it; creation below is
    // exclusive either way.
    let _ = getrandom::fill(&mut random);
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    parent_of(dir).join(format!(".{name}.{what}-{}-{random}", std::process::id()))
}

/// The directory `dir` is in (`.` for a bare name).
fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes what killed processes left beside `dir`: stores half built
/// (`.NAME.creating-PID`) or half removed (`.NAME.removing-PID`) by a process
/// that no longer runs. One whose process still runs is left alone: it may be
/// another `init` at work.
pub fn remove_leftovers(dir: &Path) {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent_of(dir)) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest
            .strip_prefix("creating-")
            .or_else(|| rest.strip_prefix("removing-"))
            .and_then(|p| p.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes the store at `dir` (a demo store giving way to a real one): first
/// renamed aside, so that a process killed half-way leaves `dir` free and
/// nothing half-removed where a store is looked for.
pub fn remove_store(dir: &Path) -> Result<()> {
    let aside = beside(dir, "removing");
    std::fs::rename(dir, &aside).map_err(|e| StoreError::io(dir, e))?;
    std::fs::remove_dir_all(&aside).map_err(|e| StoreError::io(&aside, e))
}

impl Store {
    /// Opens the store at `dir`.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Store> {
        let db = Db::open(
            Layout {
                dir: dir.to_path_buf(),
            },
            clock,
            false,
        )?;
        migrations::bring_up_to_date(&db)?;
        let store = Store {
            db,
            in_force: RwLock::new(Arc::new(Vec::new())),
            metrics_cache: metrics::FactsCache::default(),
        };
        store.installation()?;
        store.reload_in_force()?;
        // E-mails of changes committed by a process killed before it could
        // write them.
        let _ = store.materialise_outbox();
        Ok(store)
    }

    /// Creates a store at `dir` from the vendor's licence; `owner` (the login user)
    /// becomes its Owner/manager. A licence signed by the demo root makes a demo store.
    pub fn create(
        dir: &Path,
        licence: &[u8],
        kind: InstallationKind,
        owner: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Store> {
        if !rules::names::valid_username(owner) {
            return Err(StoreError::BadUsername(owner.to_string()));
        }
        let today = clock.now().date_naive();
        let v = licences::verify(licence, &licences::roots_for(true), None, today)?;
        if !v.issuer.is_empty() {
            return Err(StoreError::LicenceRefused(format!(
                "this licence is from issuer {}; a store starts from the vendor's own licence",
                v.issuer
            )));
        }
        let demo = v.issuer_label == trust::DEMO_ROOT_NAME;
        let layout = Layout {
            dir: dir.to_path_buf(),
        };
        if layout.exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(StoreError::Rule(format!(
                "{} exists and is not empty; a store is made in a new or empty directory",
                dir.display()
            )));
        }
        // Built beside its place and renamed into it once complete and synced:
        // a creation killed half-way leaves no half-made store where one is looked for.
        let tmp = Layout {
            dir: beside(dir, "creating"),
        };
        remove_leftovers(dir);
        // Made here, exclusively (a link or anything else already there is
        // refused, never followed), private from the start.
        {
            use std::os::unix::fs::DirBuilderExt as _;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&tmp.dir)
                .map_err(|e| StoreError::io(&tmp.dir, e))?;
        }
        let built = Db::open(tmp.clone(), clock.clone(), true)
            .and_then(|db| Self::initialise(db, &tmp, &v, kind, owner, demo));
        match built {
            Ok(store) => drop(store),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp.dir);
                return Err(e);
            }
        }
        if let Err(e) = std::fs::rename(&tmp.dir, dir) {
            let _ = std::fs::remove_dir_all(&tmp.dir);
            return Err(StoreError::io(dir, e));
        }
        if let Ok(d) = std::fs::File::open(parent_of(dir)) {
            let _ = d.sync_all();
        }
        Store::open(dir, clock)
    }

    fn initialise(
        db: Db,
        layout: &Layout,
        v: &licences::Verified,
        kind: InstallationKind,
        owner: &str,
        demo: bool,
    ) -> Result<Store> {
        let key = licfile::SecretKey::generate()?;
        db::write_installation_key(&layout.installation_key(), &key)?;
        let installation = Installation {
            serial: v.licence.serial.clone(),
            created_at: db.clock.now().timestamp(),
            kind,
            demo,
            installation_key_id: key.public().id().to_string(),
            owner: owner.to_string(),
        };
        db.write(owner, |tx| {
            tx.put_rec(&keys::meta(names::INSTALLATION), &installation)?;
            tx.put_rec(&keys::meta(names::SCHEMA), &migrations::CURRENT)?;
            tx.user_event(events::Action::StoreCreated {
                kind,
                serial: installation.serial.clone(),
                company: v.licence.licensee.company.clone(),
                demo,
                key_id: installation.installation_key_id.clone(),
            });
            users::add_user_in(tx, owner, Role::OwnerManager, None, String::new(), &[])?;
            licences::import_in(tx, v, &[])
        })?;
        let store = Store {
            db,
            in_force: RwLock::new(Arc::new(Vec::new())),
            metrics_cache: metrics::FactsCache::default(),
        };
        store.reload_in_force()?;
        Ok(store)
    }

    /// Flushes and syncs everything written so far.
    pub fn sync(&self) -> Result<()> {
        self.db.sync()
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.db.layout.dir
    }

    /// The store's file layout.
    pub fn layout(&self) -> &Layout {
        &self.db.layout
    }

    /// The schema version of the store's records (see the migrations).
    pub fn schema_version(&self) -> Result<u32> {
        migrations::version(&self.db)
    }

    /// The installation record.
    pub fn installation(&self) -> Result<Installation> {
        let cached = self.db.installation.read().ok().and_then(|g| g.clone());
        cached.ok_or_else(|| {
            StoreError::Corrupt("no installation record: the store was never finished".into())
        })
    }

    /// Now, by the rules: the clock, or the latest time seen if the clock is behind it.
    pub fn now(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        self.db.effective_now()
    }

    /// Today (UTC), by the rules.
    pub fn today(&self) -> Result<NaiveDate> {
        Ok(self.now()?.date_naive())
    }

    /// Hours the machine's clock is behind the latest time the store has seen, when over a day.
    pub fn clock_behind_hours(&self) -> Result<Option<i64>> {
        Ok(self.db.clock_behind()?.map(|s| s / 3600))
    }

    /// A warning when the installation key can be read by the group or by
    /// others (it signs the site's requests and reports: mode 0600 is the rule).
    pub fn installation_key_warning(&self) -> Option<String> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.db.layout.installation_key();
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "the installation key {} can be read by other users (mode {:o}); make it readable by its owner only (mode 600)",
                path.display(),
                mode & 0o777
            )
        })
    }

    /// The installation's secret key (for signing requests and reports).
    pub fn installation_key(&self) -> Result<licfile::SecretKey> {
        let path = self.db.layout.installation_key();
        let pem = std::fs::read_to_string(&path).map_err(|e| StoreError::io(&path, e))?;
        Ok(licfile::SecretKey::from_pem(&pem)?)
    }
}

/// Where the store lives when neither `--store` nor `TESSERA_STORE` says:
/// `/var/lib/tessera` when that directory exists (a system install), else the
/// per-user data directory (`$XDG_DATA_HOME/tessera` or `~/.local/share/tessera`).
pub fn default_dir() -> PathBuf {
    let system = PathBuf::from("/var/lib/tessera");
    if system.is_dir() {
        return system;
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("tessera");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h).join(".local/share/tessera"),
        None => PathBuf::from(".tessera"),
    }
}
