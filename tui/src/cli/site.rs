//! What the site's commands share: finding and opening the store, and who the operator is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use store::{Store, StoreError, SystemClock};

use super::util::Failure;

/// The store directory: `--store`, `TESSERA_STORE`, or the default.
pub fn store_dir(arg: Option<&Path>) -> PathBuf {
    arg.map(Path::to_path_buf)
        .unwrap_or_else(store::default_dir)
}

/// A store opened for one command, never torn down.
///
/// Every change is flushed and synced before it is reported, so at the end of
/// a command there is nothing left to write; tearing down sled's in-memory page
/// table would cost a sixth of a short command's time, so the process exits
/// without it (the kernel releases the lock file).
pub type Opened = std::mem::ManuallyDrop<Store>;

/// Opens the store on the machine's clock.
pub fn open(arg: Option<&Path>) -> Result<Opened, Failure> {
    let dir = store_dir(arg);
    Store::open(&dir, Arc::new(SystemClock))
        .map(std::mem::ManuallyDrop::new)
        .map_err(refused)
}

/// The operator: the store user named like the login user.
pub fn operator() -> String {
    store::identity::login_name()
}

/// A store error as a refusal (exit 1).
pub fn refused(e: StoreError) -> Failure {
    Failure::Refused(e.to_string())
}
