//! Setup shared by the modules of this test binary: signing with the demo root,
//! instants, and a store on a temporary directory with an injected clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use licfile::{Document, Licence, SecretKey, SignedDocument};
use store::{FixedClock, InstallationKind, Store};

/// An instant in RFC 3339.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// `l` signed by `key`, carrying `endorsement` if the key is an issuer's.
pub fn sign_by(l: &Licence, key: &SecretKey, endorsement: Option<&SignedDocument>) -> String {
    licfile::signed::sign(&Document::Licence(l.clone()), key, endorsement).unwrap()
}

/// `l` signed by the demo root, which the store trusts.
pub fn sign(l: &Licence) -> String {
    sign_by(l, &store::trust::demo_secret().unwrap(), None)
}

/// A central store made from `licence` at `date`, owned by `owner`, on a clock
/// the test moves.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub clock: Arc<FixedClock>,
    pub store: Store,
}

pub fn site_with(date: &str, licence: &Licence) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at(date)));
    let store = Store::create(
        &dir.path().join("store"),
        sign(licence).as_bytes(),
        InstallationKind::Central,
        "owner",
        clock.clone(),
    )
    .unwrap();
    Site { dir, clock, store }
}

/// Opens a closed store's sled database directly, as something changing it
/// behind the store's back would. sled's I/O threads let go of its file lock
/// a moment after the store is dropped (under a loaded test run, tens of
/// milliseconds): waited for, up to five seconds.
pub fn open_sled(path: &std::path::Path) -> sled::Db {
    let start = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) if start.elapsed() < std::time::Duration::from_secs(5) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}
