//! The store on disk: one sled tree, a lock file naming its holder, and the
//! write path every change goes through.
//!
//! Every change is planned under one writer lock against the tree plus an
//! overlay of the change's own writes, then applied atomically (one sled batch
//! that also appends its events to the hash chain; a change of a single key is
//! one insert), then flushed and `fdatasync`ed before the caller is told it
//! succeeded. A change that turns out to write nothing is not applied and not
//! synced.
//!
//! Why a single key is not a batch: sled applies a batch under its global
//! concurrency-control write lock, and its flush holds the read side for the
//! whole device write, so a batch that arrives during a flush stops every
//! reader in the process until the flush ends. A single insert takes only the
//! read side. The usage the product records (one user-day charge) is such a
//! change, which keeps `check` answering while charges are synced; and a batch
//! is never applied while sled flushes (`flush_gate`), so that it waits for the
//! flush on its own instead of with every reader behind it.
//!
//! Reads may see a change that is applied but not yet synced. Where an answer
//! must not promise more than the disk holds, [`Db::get_durable`] waits for
//! (or [`Db::get_unless_pending`] reports) the sync of the change that wrote
//! the key.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::error::{Holder, Result, StoreError};
use crate::events::{Action, EventV2};
use crate::keys::{self, names};
use crate::model::{self, EventKind, Installation};

/// How far behind the high-water mark the clock may be before it is reported.
pub const CLOCK_TOLERANCE_SECS: i64 = 24 * 3600;

/// How far past the high-water mark a change may be made before the jump is
/// reported: a week. Stores change every working day (the product records
/// usage), so a longer gap is a holiday at most; a clock years ahead (the
/// case that matters: it moves the mark for good) is far past it.
pub const CLOCK_JUMP_SECS: i64 = 7 * 24 * 3600;

/// The room a store keeps for itself on its file system: a file of this size
/// (`space.reserve`) that is given up when the disk is full.
///
/// sled writes a snapshot whenever it opens a database whose log has moved
/// on, so on a full disk a store could not even be opened to answer `check`.
/// With the reserve given up, it opens and answers reads; changes are refused
/// (nothing changed) until there is room for the reserve again, and then go
/// on by themselves. A snapshot of a 104,000-user store is far smaller than
/// this; 8 MiB is nothing on any disk that holds an installation.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// Whether an error is the file system being full (or the user's quota used up).
fn is_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28) | Some(122))
}

/// An I/O error in words, without the debugging dump some layers wrap it in.
fn describe_io(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None if is_full(e) => "no space left on device".into(),
        None => e.kind().to_string(),
    }
}

/// The I/O error inside a store error, if that is what it is.
fn io_cause(e: &StoreError) -> Option<&std::io::Error> {
    match e {
        StoreError::Db(sled::Error::Io(io)) => Some(io),
        StoreError::Io { source, .. } => Some(source),
        _ => None,
    }
}

/// Makes the reserve file, its blocks allocated, unless it is there whole.
fn make_reserve(path: &Path) -> std::io::Result<()> {
    if fs::metadata(path)
        .is_ok_and(|m| m.len() >= RESERVE_BYTES && m.blocks() * 512 >= RESERVE_BYTES)
    {
        return Ok(());
    }
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let made =
        match rustix::fs::fallocate(&f, rustix::fs::FallocateFlags::empty(), 0, RESERVE_BYTES) {
            Ok(()) => Ok(()),
            // A file system without fallocate: zeros take the room as well.
            Err(rustix::io::Errno::OPNOTSUPP) => {
                let zeros = vec![0u8; 1 << 20];
                let mut w = &f;
                (0..RESERVE_BYTES / (1 << 20)).try_for_each(|_| w.write_all(&zeros))
            }
            Err(e) => Err(e.into()),
        };
    let made = made.and_then(|()| f.sync_all());
    if made.is_err() {
        // Half a reserve is none: leave no partial file taking the last room.
        drop(f);
        let _ = fs::remove_file(path);
    }
    made
}

/// The files of a store directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The store directory.
    pub dir: PathBuf,
}

impl Layout {
    /// The sled database directory.
    pub fn db(&self) -> PathBuf {
        self.dir.join("db")
    }
    /// The lock file.
    pub fn lock(&self) -> PathBuf {
        self.dir.join("tessera.lock")
    }
    /// The installation's secret key.
    pub fn installation_key(&self) -> PathBuf {
        self.dir.join("installation.key")
    }
    /// Where confirmation e-mails are written.
    pub fn outbox(&self) -> PathBuf {
        self.dir.join("outbox")
    }
    /// Room kept on the store's file system for the day it fills up (see
    /// [`RESERVE_BYTES`]).
    pub fn reserve(&self) -> PathBuf {
        self.dir.join("space.reserve")
    }
    /// Whether a store exists here.
    pub fn exists(&self) -> bool {
        self.db().join("conf").exists()
    }
}

/// Holds the store for as long as it is open: an exclusive `flock` on the
/// store directory itself, and the holder's name written to the lock file.
///
/// The lock is on the directory, not on the lock file: a lock file removed
/// while the store is held would let the next opener lock a new file and
/// take the store. The lock file only names the holder; when it is missing
/// or names a process that is gone, the holder is found from the kernel's
/// table of locks (`/proc/locks`).
#[derive(Debug)]
pub(crate) struct Lock {
    _dir: File,
}

impl Lock {
    pub(crate) fn acquire(layout: &Layout, now: DateTime<Utc>) -> Result<Lock> {
        let dir = File::open(&layout.dir).map_err(|e| StoreError::io(&layout.dir, e))?;
        match dir.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Busy {
                    path: layout.dir.clone(),
                    holder: holder_of(layout, &dir),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::io(&layout.dir, e)),
        }
        let command: String = std::env::args()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(200)
            .collect();
        let info = format!(
            "pid={}\nuser={}\ncommand={}\nsince={}\n",
            std::process::id(),
            crate::identity::login_name(),
            command.replace('\n', " "),
            now.format("%Y-%m-%dT%H:%M:%SZ")
        );
        // Best effort: the lock is the flock, the text only names its holder.
        let path = layout.lock();
        if let Ok(mut file) = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
        {
            let _ = file.write_all(info.as_bytes());
        }
        Ok(Lock { _dir: dir })
    }
}

/// Who holds the store: the lock file's words when they name the process
/// that holds the lock, else that process as the kernel knows it.
fn holder_of(layout: &Layout, dir: &File) -> Holder {
    let text = fs::read_to_string(layout.lock()).unwrap_or_default();
    let written = parse_holder(&text);
    let Some(pid) = dir.metadata().ok().and_then(|m| locker(m.dev(), m.ino())) else {
        return written;
    };
    if written.pid == pid {
        return written;
    }
    let user = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|u| u.split_whitespace().next()?.parse::<u32>().ok())
        })
        .and_then(crate::identity::name_of_uid)
        .unwrap_or_else(|| "unknown".into());
    let command = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .split('\0')
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(200)
                .collect()
        })
        .unwrap_or_else(|_| "unknown".into());
    Holder {
        pid,
        user,
        command,
        since: "unknown".into(),
    }
}

/// The process holding a `flock` on the file (device, inode), from `/proc/locks`.
fn locker(dev: u64, ino: u64) -> Option<u32> {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let locks = fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 532 fe:00:10158161 0 EOF"; a waiter's line has "->".
        if f.get(1) != Some(&"FLOCK") {
            return None;
        }
        let pid: u32 = f.get(4)?.parse().ok()?;
        let mut id = f.get(5)?.split(':');
        let ma = u64::from_str_radix(id.next()?, 16).ok()?;
        let mi = u64::from_str_radix(id.next()?, 16).ok()?;
        let i: u64 = id.next()?.parse().ok()?;
        (ma == major && mi == minor && i == ino).then_some(pid)
    })
}

fn parse_holder(text: &str) -> Holder {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or("unknown")
            .to_string()
    };
    Holder {
        pid: field("pid").parse().unwrap_or(0),
        user: field("user"),
        command: field("command"),
        since: field("since"),
    }
}

/// Where group commit stands.
#[derive(Debug, Default)]
struct Durability {
    /// Changes applied to the tree.
    applied: u64,
    /// Changes known to be on disk.
    synced: u64,
    /// Whether a thread is syncing now.
    syncing: bool,
    /// The keys written by changes applied but not yet synced, with the ticket
    /// of the latest change that wrote each: what a durable read must wait for.
    pending: HashMap<Vec<u8>, u64>,
    /// Changes applied and then lost when writing failed and the tree was
    /// reloaded from disk ([`Db::recover`]): tickets in `(from, to]`, and why.
    lost: Vec<(u64, u64, Lost)>,
    /// A reload from disk is under way: whoever waits for a sync waits for it.
    recovering: bool,
    /// Changes a sync made durable since the store was opened (those lost
    /// to a failed write are not among them): for the service's metrics.
    synced_changes: u64,
    /// Syncs that succeeded since the store was opened.
    syncs: u64,
}

/// Why changes were lost: what the system said.
#[derive(Debug, Clone)]
struct Lost {
    cause: String,
    full: bool,
}

/// An event to append; the sequence and hashes are filled in at commit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// What happened.
    pub action: Action,
    /// Finished at (seconds), if it has an end.
    pub finished_at: Option<i64>,
    /// System or user.
    pub kind: EventKind,
    /// Who: a username or "system".
    pub by: String,
}

/// The open database and everything that must change with it.
pub(crate) struct Db {
    pub(crate) layout: Layout,
    /// The open tree. Replaced only by [`Db::recover`], after a failed write,
    /// with the tree as the disk holds it; `None` if that reopening failed.
    tree: RwLock<Option<Arc<sled::Db>>>,
    /// How the tree is opened, for reopening it.
    config: sled::Config,
    /// The reserve ([`RESERVE_BYTES`]) was given up or could not be made:
    /// a change must first make room for it.
    short_of_space: std::sync::atomic::AtomicBool,
    /// How many times the tree was reopened: watchers of the old one follow.
    generation: std::sync::atomic::AtomicU64,
    /// The users in memory for searching, kept current by [`Db::commit`].
    pub(crate) users: crate::search::Users,
    pub(crate) clock: Arc<dyn Clock>,
    writer: Mutex<()>,
    data_file: Option<File>,
    /// While set, changes are flushed but not synced: for building a demo store,
    /// where nothing is acknowledged to anyone until the end.
    pub(crate) bulk: std::sync::atomic::AtomicBool,
    /// Group commit: changes applied, changes synced, and whether a sync runs.
    durability: Mutex<Durability>,
    synced: std::sync::Condvar,
    /// Held while sled flushes and while a batch is applied, so that the two
    /// never overlap: a batch waiting for sled's write lock behind a flush
    /// (which holds the read side) would stop every reader until the flush ended.
    flush_gate: Mutex<()>,
    _lock: Lock,
    pub(crate) installation: RwLock<Option<Installation>>,
    /// The latest time a change was made at (seconds): the clock high-water
    /// mark, kept here so that reads need not ask sled for it.
    high_water: AtomicI64,
    /// The high-water mark as last written to the tree.
    high_water_saved: AtomicI64,
    /// Set when a committed change queued e-mails for the outbox.
    pub(crate) outbox_waiting: std::sync::atomic::AtomicBool,
}

/// Removes the snapshot files a killed process was writing.
///
/// sled 0.34.7 writes a snapshot as `snap.LSN.generating` and renames it to
/// `snap.LSN` once whole, but when it opens it takes the highest `snap.`
/// file whatever its suffix: a `.generating` file left by a process killed
/// at that moment (an `init`, or any command as it closed the store) is read,
/// found short, and the store refuses to open with "Read corrupted data",
/// although nothing in it is damaged. Such a file is never finished by anyone
/// (this runs under the store's lock), so it is removed; sled then recovers
/// from the previous snapshot and its log, as after any crash.
fn remove_interrupted_snapshots(db: &Path) -> Result<()> {
    let entries = match fs::read_dir(db) {
        Ok(entries) => entries,
        // A store being created has no database directory yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(db, e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
    }
    Ok(())
}

impl Db {
    /// Opens (or creates, when `create`) the database under the lock.
    pub(crate) fn open(layout: Layout, clock: Arc<dyn Clock>, create: bool) -> Result<Db> {
        if create {
            if layout.exists() {
                return Err(StoreError::AlreadyExists(layout.dir.clone()));
            }
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&layout.dir)
                .map_err(|e| StoreError::io(&layout.dir, e))?;
        } else if !layout.exists() {
            return Err(StoreError::NoStore(layout.dir.clone()));
        }
        let lock = Lock::acquire(&layout, clock.now())?;
        remove_interrupted_snapshots(&layout.db())?;
        let config = sled::Config::new()
            .path(layout.db())
            // A bounded cache keeps a 100,000-user store under 150 MB.
            .cache_capacity(48 * 1024 * 1024)
            // Every write is flushed and synced by the write path itself.
            .flush_every_ms(None);
        let (tree, short) = open_with_room(&layout, &config)?;
        let data_file = File::open(layout.db().join("db")).ok();
        let db = Db {
            layout,
            tree: RwLock::new(Some(Arc::new(tree))),
            config,
            short_of_space: std::sync::atomic::AtomicBool::new(short),
            generation: std::sync::atomic::AtomicU64::new(0),
            users: crate::search::Users::default(),
            clock,
            writer: Mutex::new(()),
            data_file,
            bulk: std::sync::atomic::AtomicBool::new(false),
            durability: Mutex::new(Durability::default()),
            synced: std::sync::Condvar::new(),
            flush_gate: Mutex::new(()),
            _lock: lock,
            installation: RwLock::new(None),
            high_water: AtomicI64::new(i64::MIN),
            high_water_saved: AtomicI64::new(i64::MIN),
            outbox_waiting: std::sync::atomic::AtomicBool::new(true),
        };
        let hw = db
            .get_rec::<i64>(&keys::meta(names::HIGH_WATER), "clock")?
            .unwrap_or(i64::MIN);
        db.high_water.store(hw, Ordering::Relaxed);
        db.high_water_saved.store(hw, Ordering::Relaxed);
        let inst = db.get_rec::<Installation>(&keys::meta(names::INSTALLATION), "installation")?;
        if let Ok(mut g) = db.installation.write() {
            *g = inst;
        }
        Ok(db)
    }

    /// How many times the tree was reopened after a failed write.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The open tree.
    pub(crate) fn tree(&self) -> Result<Arc<sled::Db>> {
        let g = self.tree.read().unwrap_or_else(|p| p.into_inner());
        g.clone().ok_or_else(|| {
            StoreError::Service(format!(
                "the store at {} could not be reopened after a failed write; restart Tessera",
                self.layout.dir.display()
            ))
        })
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<sled::IVec>> {
        Ok(self.tree()?.get(key)?)
    }

    pub(crate) fn get_rec<T: DeserializeOwned>(&self, key: &[u8], what: &str) -> Result<Option<T>> {
        match self.tree()?.get(key)? {
            Some(v) => Ok(Some(model::decode(&v, what)?)),
            None => Ok(None),
        }
    }

    /// The latest time the store has seen (seconds).
    pub(crate) fn high_water(&self) -> Result<i64> {
        Ok(self.high_water.load(Ordering::Acquire))
    }

    /// Reads `key`, and if a change that is applied but not yet on disk wrote
    /// it, waits until that change is synced: for answers that promise the
    /// value is kept ("already charged").
    #[cfg(test)]
    pub(crate) fn get_durable(&self, key: &[u8]) -> Result<Option<sled::IVec>> {
        let value = self.tree()?.get(key)?;
        if let Some(ticket) = self.pending_ticket(key) {
            self.durable(ticket)?;
        }
        Ok(value)
    }

    /// Reads `key` without waiting: `None` when a change that is applied but not
    /// yet on disk wrote it (the caller then takes a path that may wait).
    pub(crate) fn get_unless_pending(&self, key: &[u8]) -> Result<Option<Option<sled::IVec>>> {
        // Read first: a change registers its keys before it applies them, so a
        // value read here that is not yet synced is still listed below.
        let value = self.tree()?.get(key)?;
        Ok(match self.pending_ticket(key) {
            Some(_) => None,
            None => Some(value),
        })
    }

    fn pending_ticket(&self, key: &[u8]) -> Option<u64> {
        let d = self.durability.lock().unwrap_or_else(|p| p.into_inner());
        if d.pending.is_empty() {
            return None;
        }
        d.pending.get(key).copied().filter(|t| *t > d.synced)
    }

    /// Now for the rules: the clock, or the high-water mark if the clock is behind it.
    pub(crate) fn effective_now(&self) -> Result<DateTime<Utc>> {
        let now = self.clock.now();
        let hw = self.high_water()?;
        Ok(if now.timestamp() < hw {
            DateTime::<Utc>::from_timestamp(hw, 0).unwrap_or(now)
        } else {
            now
        })
    }

    /// How many seconds the clock is behind the high-water mark (0 when it is not).
    pub(crate) fn clock_behind_by(&self) -> Result<i64> {
        Ok(self
            .high_water()?
            .saturating_sub(self.clock.now().timestamp())
            .max(0))
    }

    /// Changes applied since the store was opened: a cache of what was read
    /// is stale once this moves.
    pub(crate) fn applied_changes(&self) -> u64 {
        self.lock_durability().applied
    }

    /// Changes made durable since the store was opened, and the syncs that did it.
    pub(crate) fn durability_counts(&self) -> (u64, u64) {
        let d = self.lock_durability();
        (d.synced_changes, d.syncs)
    }

    /// How many seconds the clock is behind the high-water mark, when more than the tolerance.
    pub(crate) fn clock_behind(&self) -> Result<Option<i64>> {
        let behind = self
            .high_water()?
            .saturating_sub(self.clock.now().timestamp());
        Ok((behind > CLOCK_TOLERANCE_SECS).then_some(behind))
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        match self.writer.lock() {
            Ok(g) => g,
            // A panicking writer applied nothing (batches are atomic): go on.
            Err(p) => p.into_inner(),
        }
    }

    /// Runs `f` as one change: everything it writes, and its events, land
    /// together or not at all, and are on disk before this returns Ok.
    pub(crate) fn write<R>(
        &self,
        operator: &str,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        self.write_then(operator, f, |_| Ok(()))
    }

    /// [`Db::write`], then `then` while the writer lock is still held, once
    /// the change is applied: for caches derived from what the change wrote,
    /// so that the next change never plans against a stale one.
    pub(crate) fn write_then<R>(
        &self,
        operator: &str,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
        then: impl FnOnce(&R) -> Result<()>,
    ) -> Result<R> {
        let bulk = self.bulk.load(Ordering::Relaxed);
        let (out, installation_changed, ticket, probe) = {
            let _guard = self.lock_writer();
            if self.short_of_space.load(Ordering::Acquire) {
                self.make_room()?;
            }
            let now = self.effective_now()?;
            let mut tx = Tx {
                db: self,
                overlay: BTreeMap::new(),
                events: Vec::new(),
                now,
                operator: operator.to_string(),
                reset_mark: None,
            };
            tx.note_clock()?;
            let out = f(&mut tx)?;
            let installation_changed = tx.overlay.contains_key(&keys::meta(names::INSTALLATION));
            // One record of the change, to tell afterwards whether the disk
            // holds it if writing fails.
            let probe = tx
                .overlay
                .iter()
                .next()
                .map(|(k, v)| (k.clone(), v.clone()));
            let ticket = match self.commit(tx, bulk) {
                Ok(Some(ticket)) => ticket,
                // Nothing written; but what the change read may be applied and
                // not yet synced, and its answer may rest on it: it waits for
                // everything applied so far (at once, when that is on disk).
                Ok(None) => self.lock_durability().applied,
                Err(e) => return Err(self.failed_write(e, probe.as_ref())),
            };
            then(&out)?;
            (out, installation_changed, ticket, probe)
        };
        // Outside the writer lock: others apply their changes while this one
        // waits, and one sync covers them all.
        if !bulk && let Err(e) = self.durable(ticket) {
            return Err(self.failed_write(e, probe.as_ref()));
        }
        if installation_changed {
            let inst =
                self.get_rec::<Installation>(&keys::meta(names::INSTALLATION), "installation")?;
            if let Ok(mut g) = self.installation.write() {
                *g = inst;
            }
        }
        Ok(out)
    }

    fn lock_durability(&self) -> MutexGuard<'_, Durability> {
        self.durability.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once change `ticket` is on disk, syncing if no one else is.
    /// If writing fails, the tree is reloaded from the disk ([`Db::recover`])
    /// and every change not yet synced is lost: each of their writers is told.
    fn durable(&self, ticket: u64) -> Result<()> {
        let mut d = self.lock_durability();
        loop {
            if let Some((_, _, lost)) = d.lost.iter().find(|(a, b, _)| ticket > *a && ticket <= *b)
            {
                if !d.recovering {
                    return Err(StoreError::WriteFailed {
                        path: self.layout.dir.clone(),
                        cause: lost.cause.clone(),
                        outcome: String::new(),
                        full: lost.full,
                    });
                }
            } else if d.synced >= ticket {
                return Ok(());
            } else if !d.syncing {
                d.syncing = true;
                let target = d.applied;
                drop(d);
                let result = self.sync();
                d = self.lock_durability();
                d.syncing = false;
                match result {
                    Ok(()) => {
                        d.synced_changes += target.saturating_sub(d.synced);
                        d.syncs += 1;
                        d.synced = d.synced.max(target);
                        let synced = d.synced;
                        d.pending.retain(|_, t| *t > synced);
                        self.synced.notify_all();
                        continue;
                    }
                    Err(e) => {
                        // What is applied and not synced may be in memory
                        // only, and sled refuses to write again: every such
                        // change is lost with the reload.
                        let lost = Lost {
                            cause: io_cause(&e).map_or_else(|| e.to_string(), describe_io),
                            full: io_cause(&e).is_some_and(is_full),
                        };
                        let (from, to) = (d.synced, d.applied);
                        d.lost.push((from, to, lost));
                        d.recovering = true;
                        drop(d);
                        let reopened = {
                            let _writer = self.lock_writer();
                            self.recover()
                        };
                        reopened?;
                        d = self.lock_durability();
                        continue;
                    }
                }
            }
            d = self.synced.wait(d).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// After writing failed: the tree in memory may hold changes the disk
    /// does not, and sled refuses every write from then on. Reopens the
    /// tree from the disk, so that what the store answers is what it keeps,
    /// and gives up the reserve so that sled has room to open. The caller
    /// holds the writer lock and has recorded what was lost.
    fn recover(&self) -> Result<()> {
        let _ = fs::remove_file(self.layout.reserve());
        self.short_of_space.store(true, Ordering::Release);
        let reopened = {
            let mut g = self.tree.write().unwrap_or_else(|p| p.into_inner());
            // Dropped before reopening: sled's file lock goes with the last
            // handle (readers in flight hold theirs for a moment; `open_tree`
            // waits for them).
            drop(g.take());
            let t = remove_interrupted_snapshots(&self.layout.db())
                .and_then(|()| open_tree(&self.config));
            if let Ok(t) = &t {
                *g = Some(Arc::new(t.clone()));
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
            t
        };
        let result = reopened.and_then(|_| {
            let hw = self
                .get_rec::<i64>(&keys::meta(names::HIGH_WATER), "clock")?
                .unwrap_or(i64::MIN);
            self.high_water.store(hw, Ordering::Release);
            self.high_water_saved.store(hw, Ordering::Release);
            let inst =
                self.get_rec::<Installation>(&keys::meta(names::INSTALLATION), "installation")?;
            if let Ok(mut g) = self.installation.write() {
                *g = inst;
            }
            Ok(())
        });
        let mut d = self.lock_durability();
        d.synced = d.synced.max(d.applied);
        d.pending.clear();
        d.recovering = false;
        self.synced.notify_all();
        result
    }

    /// The error a writer whose change failed is given: whether the disk
    /// holds the change, read back through `probe` (one of its records).
    fn failed_write(
        &self,
        e: StoreError,
        probe: Option<&(Vec<u8>, Option<Vec<u8>>)>,
    ) -> StoreError {
        let (cause, full) = match &e {
            StoreError::WriteFailed { cause, full, .. } => (cause.clone(), *full),
            other => match io_cause(other) {
                Some(io) if self.tree.read().is_ok_and(|g| g.is_some()) => {
                    (describe_io(io), is_full(io))
                }
                _ => return e,
            },
        };
        let kept =
            probe.and_then(|(k, v)| self.get(k).ok().map(|now| now.as_deref() == v.as_deref()));
        match kept {
            Some(false) if full => StoreError::DiskFull {
                path: self.layout.dir.clone(),
                detail: cause,
            },
            Some(true) => StoreError::WriteFailed {
                path: self.layout.dir.clone(),
                cause,
                outcome: "the change was read back from the disk and stands, but the disk reported an error: check the disk".into(),
                full,
            },
            Some(false) => StoreError::WriteFailed {
                path: self.layout.dir.clone(),
                cause,
                outcome: "the change was not made: the store was reloaded from the disk and is as it was".into(),
                full,
            },
            None => StoreError::WriteFailed {
                path: self.layout.dir.clone(),
                cause,
                outcome: "the store was reloaded from the disk; see whether the change is there before making it again".into(),
                full,
            },
        }
    }

    /// With the reserve given up: makes it again before a change, or refuses
    /// the change (nothing is changed) while there is no room for it.
    fn make_room(&self) -> Result<()> {
        match make_reserve(&self.layout.reserve()) {
            Ok(()) => {
                self.short_of_space.store(false, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                let free = rustix::fs::statvfs(&self.layout.dir)
                    .map(|v| v.f_bavail.saturating_mul(v.f_frsize))
                    .unwrap_or(0);
                Err(StoreError::DiskFull {
                    path: self.layout.dir.clone(),
                    detail: format!(
                        "{}; {} free, and a change needs room for the store's {} MiB reserve first",
                        describe_io(&e),
                        human_bytes(free),
                        RESERVE_BYTES >> 20
                    ),
                })
            }
        }
    }

    /// Applies a planned change; returns its ticket for [`Db::durable`], or
    /// `None` when it writes nothing (then nothing is applied, not even the
    /// clock's high-water mark: a no-op costs no write and no sync).
    /// Called under the writer lock.
    fn commit(&self, mut tx: Tx<'_>, bulk: bool) -> Result<Option<u64>> {
        let now = tx.now.timestamp();
        // A new month starts every pool's peak at its seats in use, so that a
        // month in which nobody was activated still reports them.
        let month = licfile::YearMonth::of(tx.now.date_naive());
        let last: Option<String> = tx.get_rec(&keys::meta(names::MONTH), "month")?;
        if last.as_deref() != Some(month.to_string().as_str()) {
            tx.put_rec(&keys::meta(names::MONTH), &month.to_string())?;
            crate::users::start_month(&mut tx, month)?;
            for (k, v) in tx.scan(keys::COUNTERS)? {
                let peak = keys::peak_raw(month, keys::decode::counter(&k).unwrap_or_default());
                if tx.get(&peak)?.is_none() {
                    tx.put(peak, v);
                }
            }
        }
        // Only the changes made count as time seen; a change that writes
        // nothing leaves the mark where it was.
        if tx.overlay.is_empty() && tx.events.is_empty() {
            return Ok(None);
        }
        if tx
            .overlay
            .range(keys::OUTBOX.to_vec()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(keys::OUTBOX))
        {
            self.outbox_waiting.store(true, Ordering::Release);
        }
        let high_water = match tx.reset_mark {
            // A clock correction: the one way the mark goes back.
            Some(mark) => mark,
            None => now.max(self.high_water.load(Ordering::Acquire)),
        };
        if !tx.events.is_empty() {
            // The chain head moves only when events are appended.
            let (mut seq, mut prev) = self
                .get_rec::<(u64, [u8; 32])>(&keys::meta(names::CHAIN), "chain")?
                .unwrap_or((0, [0u8; 32]));
            for e in std::mem::take(&mut tx.events) {
                seq += 1;
                let mut event = EventV2 {
                    seq,
                    action: e.action,
                    activated_at: now,
                    activated_by: e.by,
                    finished_at: e.finished_at,
                    kind: e.kind,
                    prev_hash: prev,
                    hash: [0; 32],
                };
                event.hash = event.compute_hash()?;
                prev = event.hash;
                tx.put(keys::event(seq), event.encode()?);
            }
            tx.put_rec(&keys::meta(names::CHAIN), &(seq, prev))?;
        }
        let save_high_water =
            tx.reset_mark.is_some() || high_water > self.high_water_saved.load(Ordering::Acquire);
        let single = tx.overlay.len() == 1;
        if save_high_water && !single {
            // Rides along in the batch.
            tx.put_rec(&keys::meta(names::HIGH_WATER), &high_water)?;
        }
        crate::outbox::crash_point("TESSERA_CRASH_BEFORE_COMMIT");
        // Listed before they are applied, so that a reader who sees a value
        // of this change also sees that it is not yet synced.
        let ticket = {
            let mut d = self.lock_durability();
            let ticket = d.applied + 1;
            if !bulk {
                for k in tx.overlay.keys() {
                    d.pending.insert(k.clone(), ticket);
                }
            }
            ticket
        };
        // The user records written, for the search index: copied before the
        // batch takes them (a change of many users just marks it stale).
        let user_writes = {
            let mut touched = tx
                .overlay
                .range(keys::USERS.to_vec()..)
                .take_while(|(k, _)| k.starts_with(keys::USERS))
                .peekable();
            touched.peek().is_some().then(|| {
                let w: Vec<_> = touched
                    .by_ref()
                    .take(crate::search::MOST_UPDATED + 1)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (w.len() <= crate::search::MOST_UPDATED).then_some(w)
            })
        };
        let tree = self.tree()?;
        let applied = if single {
            // One key: atomic on its own, and without the batch's global lock.
            match tx.overlay.pop_first() {
                Some((k, Some(v))) => tree.insert(k, v).map(|_| ()),
                Some((k, None)) => tree.remove(k).map(|_| ()),
                None => Ok(()),
            }
        } else {
            let mut batch = sled::Batch::default();
            for (k, v) in tx.overlay {
                match v {
                    Some(v) => batch.insert(k, v),
                    None => batch.remove(k),
                }
            }
            let _gate = self.flush_gate.lock().unwrap_or_else(|p| p.into_inner());
            tree.apply_batch(batch)
        };
        let mut d = self.lock_durability();
        if let Err(e) = applied {
            d.pending.retain(|_, t| *t != ticket);
            if let sled::Error::Io(io) = &e {
                // sled may hold part of it in memory, and refuses every
                // write from now on: reload the tree from the disk.
                let lost = Lost {
                    cause: describe_io(io),
                    full: is_full(io),
                };
                let from = d.synced;
                d.applied = ticket;
                d.lost.push((from, ticket, lost));
                d.recovering = true;
                drop(d);
                drop(tree);
                self.recover()?;
            }
            return Err(e.into());
        }
        d.applied = ticket;
        drop(d);
        if let Some(writes) = user_writes {
            self.users.changed(writes, self.generation());
        }
        self.high_water.store(high_water, Ordering::Release);
        if save_high_water && single {
            // A separate insert after the change: the mark only moves forward
            // and means nothing together with the change, and the sync that
            // makes the change durable covers it. If it fails, the mark is
            // written again with the next change (and the sync reports the disk).
            if model::encode(&high_water)
                .ok()
                .and_then(|b| tree.insert(keys::meta(names::HIGH_WATER), b).ok())
                .is_some()
            {
                self.high_water_saved.store(high_water, Ordering::Release);
            }
        } else if save_high_water {
            self.high_water_saved.store(high_water, Ordering::Release);
        }
        Ok(Some(ticket))
    }

    /// Flushes sled and syncs its data file: sled's flush alone survives a
    /// killed process but not a power cut.
    pub(crate) fn sync(&self) -> Result<()> {
        {
            let tree = self.tree()?;
            let _gate = self.flush_gate.lock().unwrap_or_else(|p| p.into_inner());
            tree.flush()?;
        }
        if let Some(f) = &self.data_file {
            f.sync_data()
                .map_err(|e| StoreError::io(self.layout.db(), e))?;
        }
        Ok(())
    }
}

/// "3.2 MB": a size for people.
fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// Opens the tree, giving up the reserve if the disk is too full for sled to
/// open it (it writes a snapshot); returns it and whether the store is now
/// short of space (no reserve).
fn open_with_room(layout: &Layout, config: &sled::Config) -> Result<(sled::Db, bool)> {
    match open_tree(config) {
        Ok(tree) => {
            let short = make_reserve(&layout.reserve()).is_err();
            Ok((tree, short))
        }
        Err(e) if io_cause(&e).is_some_and(is_full) => {
            if fs::remove_file(layout.reserve()).is_ok() {
                // The snapshot sled could not finish is left behind empty.
                remove_interrupted_snapshots(&layout.db())?;
                Ok((open_tree(config)?, true))
            } else {
                Err(StoreError::DiskFull {
                    path: layout.dir.clone(),
                    detail: format!(
                        "{}; the store's reserve is used up, so it cannot even be opened to read",
                        io_cause(&e).map_or_else(|| e.to_string(), describe_io)
                    ),
                })
            }
        }
        Err(e) => Err(e),
    }
}

/// Opens sled, waiting a moment for its file lock if this process still holds it.
///
/// sled releases that lock from a background thread some time after the last
/// handle is dropped (spacejam/sled#1234), so a store closed and reopened in one
/// process (`Store::create` does) can find it still held. The caller holds the
/// store's own lock, so no other Tessera process can be the holder: wait.
fn open_tree(config: &sled::Config) -> Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return Ok(other?),
        }
    }
}

/// One change being planned: reads see the change's own writes.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    events: Vec<NewEvent>,
    /// The time the change happens at (effective: never behind the high-water mark).
    pub now: DateTime<Utc>,
    /// Who makes the change.
    pub operator: String,
    /// A high-water mark to set instead of moving it forward: the vendor's
    /// time, from a clock correction.
    reset_mark: Option<i64>,
}

impl Tx<'_> {
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => Ok(self.db.tree()?.get(key)?.map(|v| v.to_vec())),
        }
    }

    pub(crate) fn get_rec<T: DeserializeOwned>(&self, key: &[u8], what: &str) -> Result<Option<T>> {
        match self.get(key)? {
            Some(v) => Ok(Some(model::decode(&v, what)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.overlay.insert(key, Some(value));
    }

    pub(crate) fn put_rec<T: Serialize>(&mut self, key: &[u8], value: &T) -> Result<()> {
        let bytes = model::encode(value)?;
        self.put(key.to_vec(), bytes);
        Ok(())
    }

    pub(crate) fn del(&mut self, key: Vec<u8>) {
        self.overlay.insert(key, None);
    }

    /// Every key under `prefix`, with this change's writes applied, in order.
    pub(crate) fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for kv in self.db.tree()?.scan_prefix(prefix) {
            let (k, v) = kv?;
            merged.insert(k.to_vec(), v.to_vec());
        }
        for (k, v) in self.overlay.range(prefix.to_vec()..) {
            if !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Visits the keys under `prefix` from the last, with this change's writes
    /// applied, until `f` returns false. Reads only as far as it goes.
    pub(crate) fn scan_rev(
        &self,
        prefix: &[u8],
        mut f: impl FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        let mut tree = self
            .db
            .tree()?
            .range(prefix.to_vec()..)
            .rev()
            .filter_map(|kv| match kv {
                Ok((k, _)) if k.starts_with(prefix) => Some(Ok(k.to_vec())),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            });
        let mut overlay = self
            .overlay
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .peekable();
        let mut next_tree = tree.next().transpose()?;
        loop {
            let from_overlay = match (overlay.peek(), &next_tree) {
                (None, None) => return Ok(()),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((ok, _)), Some(tk)) => ok.as_slice() >= tk.as_slice(),
            };
            let key = if from_overlay {
                let (k, v) = overlay
                    .next()
                    .map(|(k, v)| (k.clone(), v.is_some()))
                    .unwrap_or_default();
                if next_tree.as_deref() == Some(k.as_slice()) {
                    next_tree = tree.next().transpose()?;
                }
                if !v {
                    continue;
                }
                k
            } else {
                let k = next_tree.take().unwrap_or_default();
                next_tree = tree.next().transpose()?;
                k
            };
            if !f(&key)? {
                return Ok(());
            }
        }
    }

    /// Queues a confirmation e-mail with this change: it is committed with
    /// the change's records, and written to the outbox only after the commit
    /// (so a crash can neither lose it nor leave one for a change that never
    /// happened). Returns its file name, for the action log.
    pub(crate) fn queue_email(&mut self, email: &crate::outbox::Email, tag: &str) -> String {
        let (name, bytes) = crate::outbox::render(email, self.now, tag);
        self.put(keys::outbox(&name), bytes);
        name
    }

    /// A counter stored as a u64.
    pub(crate) fn counter(&self, key: &[u8]) -> Result<u64> {
        Ok(self.get_rec::<u64>(key, "counter")?.unwrap_or(0))
    }

    pub(crate) fn add_counter(&mut self, key: &[u8], delta: i64) -> Result<u64> {
        let v = (self.counter(key)? as i64 + delta).max(0) as u64;
        self.put_rec(key, &v)?;
        Ok(v)
    }

    /// Sets the high-water mark to `mark` when this change commits, even
    /// below where it is (a vendor's clock correction), and dates the
    /// change by the corrected time.
    pub(crate) fn reset_high_water(&mut self, mark: i64) {
        self.reset_mark = Some(mark);
        let real = self.db.clock.now();
        self.now = DateTime::<Utc>::from_timestamp(mark, 0)
            .filter(|m| *m > real)
            .unwrap_or(real);
    }

    /// Appends an event caused by the operator.
    pub(crate) fn user_event(&mut self, action: Action) {
        let by = self.operator.clone();
        self.events.push(NewEvent {
            action,
            finished_at: Some(self.now.timestamp()),
            kind: EventKind::User,
            by,
        });
    }

    /// Appends an event of the system (a rule or the clock).
    pub(crate) fn system_event(&mut self, action: Action, finished_at: Option<i64>) {
        self.events.push(NewEvent {
            action,
            finished_at,
            kind: EventKind::System,
            by: "system".into(),
        });
    }

    /// Reports a clock more than a day behind the high-water mark, once per
    /// mark, and a change made more than [`CLOCK_JUMP_SECS`] past it.
    fn note_clock(&mut self) -> Result<()> {
        let real = self.db.clock.now().timestamp();
        let hw = self.db.high_water()?;
        if hw != i64::MIN && real.saturating_sub(hw) > CLOCK_JUMP_SECS {
            self.system_event(Action::ClockMovedForward { from: hw, to: real }, None);
        }
        if hw.saturating_sub(real) <= CLOCK_TOLERANCE_SECS {
            return Ok(());
        }
        let warned: Option<i64> =
            self.get_rec(&keys::meta(names::CLOCK_WARNED), "clock warning")?;
        if warned == Some(hw) {
            return Ok(());
        }
        self.put_rec(&keys::meta(names::CLOCK_WARNED), &hw)?;
        self.system_event(
            Action::ClockMovedBackwards {
                clock: real,
                high_water: hw,
            },
            None,
        );
        Ok(())
    }
}

/// Creates the installation key file (0600, never overwritten).
pub(crate) fn write_installation_key(path: &Path, key: &licfile::SecretKey) -> Result<()> {
    let pem = key.to_pem()?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    f.write_all(pem.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn open(dir: &Path) -> (Db, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(
            "2026-03-02T09:00:00Z".parse().expect("a time"),
        ));
        let db = Db::open(
            Layout {
                dir: dir.join("st"),
            },
            clock.clone(),
            true,
        )
        .expect("open");
        (db, clock)
    }

    fn saved_high_water(db: &Db) -> Option<i64> {
        db.get_rec(&keys::meta(names::HIGH_WATER), "clock")
            .expect("read")
    }

    #[test]
    fn a_snapshot_left_half_written_by_a_killed_process_does_not_stop_the_store_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, clock) = open(dir.path());
        db.write("t", |tx| {
            tx.put(b"k".to_vec(), b"v".to_vec());
            Ok(())
        })
        .expect("write");
        let layout = db.layout.clone();
        drop(db);
        // What a process killed while sled wrote its snapshot leaves: the
        // highest `snap.` file, empty.
        let stray = layout.db().join("snap.00000000FFFFFFFF.generating");
        File::create(&stray).expect("stray snapshot");
        // sled 0.34.7 alone refuses it.
        let refused = sled::Config::new().path(layout.db()).open();
        assert!(
            refused.is_err(),
            "sled opens it by itself now: drop the workaround"
        );
        let db = Db::open(layout, clock, false).expect("the store opens");
        assert_eq!(
            db.get(b"k").expect("read").as_deref(),
            Some(b"v".as_slice()),
            "nothing was lost"
        );
        assert!(!stray.exists());
    }

    #[test]
    fn a_change_that_writes_nothing_is_not_applied_and_moves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, clock) = open(dir.path());
        db.write("t", |tx| {
            tx.put(b"k".to_vec(), b"v".to_vec());
            Ok(())
        })
        .expect("write");
        let applied = db.lock_durability().applied;
        let saved = saved_high_water(&db);
        assert_eq!(saved, Some(clock.now().timestamp()));
        assert!(db.get(&keys::meta(names::CHAIN)).expect("read").is_none());
        let keys_before = db.tree().expect("tree").len();

        clock.advance(chrono::Duration::hours(1));
        let seen = db
            .write("t", |tx| tx.get(b"k"))
            .expect("a write that reads only");
        assert_eq!(seen.as_deref(), Some(&b"v"[..]));
        assert_eq!(db.lock_durability().applied, applied, "nothing applied");
        assert_eq!(
            saved_high_water(&db),
            saved,
            "the clock mark is not written"
        );
        assert!(
            db.get(&keys::meta(names::CHAIN)).expect("read").is_none(),
            "no chain head without events"
        );
        assert_eq!(db.tree().expect("tree").len(), keys_before);
    }

    #[test]
    fn a_one_key_change_saves_the_clock_and_an_event_moves_the_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, clock) = open(dir.path());
        db.write("t", |tx| {
            tx.put(b"a".to_vec(), b"1".to_vec());
            Ok(())
        })
        .expect("write");
        clock.advance(chrono::Duration::minutes(5));
        db.write("t", |tx| {
            tx.put(b"b".to_vec(), b"2".to_vec());
            Ok(())
        })
        .expect("a one-key write");
        assert_eq!(saved_high_water(&db), Some(clock.now().timestamp()));
        assert_eq!(db.high_water().expect("mark"), clock.now().timestamp());
        assert!(db.get(&keys::meta(names::CHAIN)).expect("read").is_none());

        db.write("t", |tx| {
            tx.user_event(Action::UserActivated {
                user: "t".into(),
                seat: None,
            });
            Ok(())
        })
        .expect("an event");
        let head: Option<(u64, [u8; 32])> = db
            .get_rec(&keys::meta(names::CHAIN), "chain")
            .expect("read");
        assert_eq!(head.map(|h| h.0), Some(1));
        assert!(db.lock_durability().pending.is_empty(), "all synced");
    }

    #[test]
    fn a_read_of_a_change_not_yet_synced_waits_for_its_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, _clock) = open(dir.path());
        // Applied and not synced: as a change is between its apply and its sync.
        db.bulk.store(true, Ordering::Relaxed);
        db.write("t", |tx| {
            tx.put(b"k".to_vec(), b"v".to_vec());
            Ok(())
        })
        .expect("write");
        db.bulk.store(false, Ordering::Relaxed);
        {
            let mut d = db.lock_durability();
            let applied = d.applied;
            d.pending.insert(b"k".to_vec(), applied);
        }
        assert_eq!(
            db.get_unless_pending(b"k").expect("read"),
            None,
            "not answered at once"
        );
        assert_eq!(
            db.get_unless_pending(b"other").expect("read"),
            Some(None),
            "another key is"
        );
        let v = db.get_durable(b"k").expect("read");
        assert_eq!(v.as_deref(), Some(&b"v"[..]));
        let d = db.lock_durability();
        assert_eq!(d.synced, d.applied, "the read synced it");
        assert!(d.pending.is_empty());
    }
}
