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
    /// Make the store and stop, instead of opening the console on it.
    #[arg(long)]
    no_console: bool,
}

/// Makes a demo store at the store location.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let store_arg = ctx.store.as_deref();
    let dir = site::store_dir(store_arg);
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
    if args.no_console || !crate::cli::console_possible() {
        return Ok(ExitCode::SUCCESS);
    }
    // The console opens the store itself: this process lets go of it first.
    drop(store);
    let ctx = site::Ctx {
        store: Some(dir),
        socket: ctx.socket.clone(),
        connect: None,
    };
    crate::console::run(&ctx)
}
