//! `tessera export contracts --out FILE.zip`

use std::path::PathBuf;
use std::process::ExitCode;
use store::ApiExt as _;

use clap::Subcommand;

use super::site;
use super::util::{self, Failure};

/// What to export.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Every imported licence file as signed, with a readable summary of each
    /// beside it (text and PDF: serial, issuer, dates), in a zip.
    Contracts(ContractsArgs),
}

/// Arguments of `export contracts`.
#[derive(Debug, clap::Args)]
pub struct ContractsArgs {
    /// The zip to write (never overwritten).
    #[arg(long, value_name = "FILE.zip")]
    out: PathBuf,
}

/// Writes the export.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let Cmd::Contracts(a) = cmd;
    let store = site::connect(ctx)?;
    store.require_licence_reader().map_err(site::refused)?;
    let store::gate::ContractsZip { count: n, zip } =
        store.export_contracts().map_err(site::refused)?;
    store::export::write_new_file(&a.out, &zip).map_err(site::refused)?;
    util::print(&format!(
        "wrote {n} signed licences to {}\n",
        a.out.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
