//! `tessera init --licence FILE [--central|--satellite]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use store::{InstallationKind, Store, SystemClock};

use super::site;
use super::util::{self, Failure};

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The vendor's licence for this installation; its serial becomes the installation's.
    #[arg(long, value_name = "FILE")]
    licence: PathBuf,
    /// This is the central database (the default).
    #[arg(long, conflicts_with = "satellite")]
    central: bool,
    /// This is a satellite of a central database.
    #[arg(long)]
    satellite: bool,
    /// The login name of the Owner/manager (default: you). Use it when the store is
    /// made as the service's user for an administrator.
    #[arg(long, value_name = "NAME")]
    owner: Option<String>,
}

/// Creates the store; the login user becomes its Owner/manager.
pub fn run(store_arg: Option<&std::path::Path>, args: Args) -> Result<ExitCode, Failure> {
    let dir = site::store_dir(store_arg);
    let bytes = util::read_limited(
        &args.licence,
        licfile::constants::MAX_FILE_BYTES,
        "licence file",
    )?;
    let layout = store::Layout { dir: dir.clone() };
    if layout.exists() {
        // A demo store made by a first `tessera` gives way to the real one; a real one never does.
        let existing = Store::open(&dir, Arc::new(SystemClock)).map_err(site::refused)?;
        if !existing.installation().map_err(site::refused)?.demo {
            return Err(Failure::refused(format!(
                "a store already exists at {}; it is never overwritten (use --store DIR for another)",
                dir.display()
            )));
        }
        drop(existing);
        store::remove_store(&dir).map_err(|e| {
            Failure::refused(format!(
                "cannot remove the demo store at {}: {e}",
                dir.display()
            ))
        })?;
    }
    let kind = if args.satellite {
        InstallationKind::Satellite
    } else {
        InstallationKind::Central
    };
    let owner = args.owner.clone().unwrap_or_else(site::operator);
    let store =
        Store::create(&dir, &bytes, kind, &owner, Arc::new(SystemClock)).map_err(site::refused)?;
    let inst = store.installation().map_err(site::refused)?;
    util::print(&format!(
        "created {} store {} for serial {}{}\n{owner} is its Owner/manager; installation key {}\n",
        kind.word(),
        dir.display(),
        inst.serial,
        if inst.demo { " (DEMO)" } else { "" },
        inst.installation_key_id
    ))?;
    Ok(ExitCode::SUCCESS)
}
