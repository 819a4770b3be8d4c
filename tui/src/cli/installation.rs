//! `tessera installation key [--out FILE]` and `tessera installation lease-hours [HOURS]`:
//! what a licensed product needs to check this installation's leases offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// The installation's subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The installation's public key (SPKI PEM): a product trusts it to check leases offline.
    Key(KeyArgs),
    /// The lifetime of the leases `check --lease` signs, in hours; with HOURS, set it (Owner/manager).
    LeaseHours(LeaseHoursArgs),
}

/// Arguments of `installation key`.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// Write the key here (never overwritten) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Arguments of `installation lease-hours`.
#[derive(Debug, clap::Args)]
pub struct LeaseHoursArgs {
    /// The new lifetime, from 1 to 168 hours.
    #[arg(value_name = "HOURS")]
    hours: Option<u32>,
}

/// Runs an installation subcommand.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    match cmd {
        Cmd::Key(args) => {
            let pem = store.installation_public_key_pem().map_err(site::refused)?;
            match args.out {
                Some(path) => {
                    util::write_new(&path, pem.as_bytes(), false)?;
                    util::print(&format!(
                        "the installation's public key written to {}: give it to the licensed product (tessera verify LEASE --trust {})\n",
                        path.display(),
                        path.display()
                    ))?;
                }
                None => util::print(&pem)?,
            }
        }
        Cmd::LeaseHours(LeaseHoursArgs { hours: None }) => {
            let status = store.status().map_err(site::refused)?;
            util::print(&format!(
                "leases last {} hours (renewed at half-life)\n",
                status.lease_hours
            ))?;
        }
        Cmd::LeaseHours(LeaseHoursArgs { hours: Some(hours) }) => {
            let before = store.set_lease_hours(hours).map_err(site::refused)?;
            util::print(&format!(
                "leases last {hours} hours (they lasted {before}); leases already signed keep their own end\n"
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
