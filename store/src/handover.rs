//! A service asking for the store that a console holds.
//!
//! sled lets one process open a store at a time, and when a service stops
//! under an open console, the console takes the store over so that the
//! administrator keeps working. But a service stopped to be restarted
//! (systemd's `Restart=`, an upgrade) is meant to own the store again: it is
//! what the licensed product reaches. So the service, finding the store held,
//! leaves a mark in the store directory ([`Wanted`]) and waits; a console
//! that holds the store looks for the mark ([`wanted`]), gives the store up
//! and reconnects through the service; and while the mark stands, no console
//! takes the store back.
//!
//! The mark is a file in the store directory: only who may write there (who
//! may open the store anyway) can ask for it. It names the waiting process,
//! and is ignored once that process is gone or the mark is older than any
//! wait, so a service killed while waiting does not keep consoles off the
//! store.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::db::Layout;
use crate::error::{Result, StoreError};

/// A mark older than this is stale, whoever it names: no service waits this
/// long for a store (and a process id may have been reused since).
const STALE: Duration = Duration::from_secs(60);

/// The mark's path in the store directory.
fn path(layout: &Layout) -> PathBuf {
    layout.dir.join("service.wanted")
}

/// A service's request for the store, standing until dropped.
#[derive(Debug)]
pub struct Wanted {
    path: PathBuf,
}

impl Wanted {
    /// Leaves the mark in `layout`'s directory, naming this process.
    pub fn mark(layout: &Layout) -> Result<Wanted> {
        let path = path(layout);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        file.write_all(format!("pid={}\n", std::process::id()).as_bytes())
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(Wanted { path })
    }
}

impl Drop for Wanted {
    fn drop(&mut self) {
        // Only our own mark: a later service's stands for itself.
        let ours =
            fs::read_to_string(&self.path).is_ok_and(|t| waiter(&t) == Some(std::process::id()));
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The process id a mark's text names.
fn waiter(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|l| l.strip_prefix("pid="))
        .and_then(|p| p.trim().parse().ok())
}

/// Whether a service (another process, still running) waits for the store
/// in `layout`'s directory.
pub fn wanted(layout: &Layout) -> bool {
    let path = path(layout);
    let Ok(meta) = fs::metadata(&path) else {
        return false;
    };
    let fresh = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age < STALE);
    if !fresh {
        return false;
    }
    let Some(pid) = fs::read_to_string(&path).ok().and_then(|t| waiter(&t)) else {
        return false;
    };
    pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_of_a_running_process_is_wanted_and_goes_with_its_guard() {
        let dir = tempfile::tempdir().expect("a directory");
        let layout = Layout {
            dir: dir.path().to_path_buf(),
        };
        assert!(!wanted(&layout));
        // Written as another running process would (pid 1 always runs).
        fs::write(path(&layout), "pid=1\n").expect("a mark");
        assert!(wanted(&layout));
        // Our own mark is not a request to ourselves, and our guard removes it.
        let guard = Wanted::mark(&layout).expect("marked");
        assert!(!wanted(&layout));
        drop(guard);
        assert!(!path(&layout).exists());
    }

    #[test]
    fn a_mark_of_a_process_that_is_gone_or_unreadable_is_ignored() {
        let dir = tempfile::tempdir().expect("a directory");
        let layout = Layout {
            dir: dir.path().to_path_buf(),
        };
        // Above the kernel's largest pid (2^22): never a running process.
        fs::write(path(&layout), "pid=4194305\n").expect("a mark");
        assert!(!wanted(&layout));
        fs::write(path(&layout), "garbage").expect("a mark");
        assert!(!wanted(&layout));
    }

    #[test]
    fn a_guard_leaves_a_later_services_mark_in_place() {
        let dir = tempfile::tempdir().expect("a directory");
        let layout = Layout {
            dir: dir.path().to_path_buf(),
        };
        let guard = Wanted::mark(&layout).expect("marked");
        fs::write(path(&layout), "pid=1\n").expect("another's mark");
        drop(guard);
        assert!(wanted(&layout));
    }
}
