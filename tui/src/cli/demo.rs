//! `tessera demo [--users N] [--no-console]`

use std::process::ExitCode;
use std::sync::Arc;

use super::site;
use super::util::{self, Failure};

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many users to make (up to 200,000), besides the owner and a few new starters.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=200_000))]
    users: u32,
    /// Months of history to simulate (1 to 12).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=12))]
    months: u32,
    /// Make the store and stop (the console does not exist yet, so this is what happens anyway).
    #[arg(long)]
    no_console: bool,
}

/// Makes a demo store at the store location.
pub fn run(store_arg: Option<&std::path::Path>, args: Args) -> Result<ExitCode, Failure> {
    let dir = site::store_dir(store_arg);
    let _ = args.no_console;
    let store = store::demo::create_demo(
        &dir,
        args.users as usize,
        args.months,
        &site::operator(),
        Arc::new(store::SystemClock),
    )
    .map_err(site::refused)?;
    let status = store.status().map_err(site::refused)?;
    util::print(&format!(
        "created DEMO store {} for {} ({} users); `tessera --store {} status` shows it\nto start a real store: tessera init --licence FILE [--store DIR]\n",
        dir.display(),
        status.licensee,
        status.users.total,
        dir.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
