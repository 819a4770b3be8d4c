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

/// Opens the store on the machine's clock.
pub fn open(arg: Option<&Path>) -> Result<Store, Failure> {
    let dir = store_dir(arg);
    Store::open(&dir, Arc::new(SystemClock)).map_err(refused)
}

/// The operator: the store user named like the login user.
pub fn operator() -> String {
    store::identity::login_name()
}

/// A store error as a refusal (exit 1).
pub fn refused(e: StoreError) -> Failure {
    Failure::Refused(e.to_string())
}
