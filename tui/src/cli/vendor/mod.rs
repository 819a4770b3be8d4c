//! `tessera vendor …`: what a vendor runs on its build server or sales tooling.

mod endorse;
mod issue;
mod keygen;

use std::process::ExitCode;

use clap::Subcommand;

use super::Failure;

/// The vendor's subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Make a key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub.
    Keygen(keygen::Args),
    /// Sign a licence from a TOML or JSON spec (or many, with --batch).
    Issue(issue::Args),
    /// Endorse an issuer key with a root key for named products until a date.
    Endorse(endorse::Args),
}

/// Runs a vendor subcommand.
pub fn run(cmd: Cmd) -> Result<ExitCode, Failure> {
    match cmd {
        Cmd::Keygen(args) => keygen::run(args),
        Cmd::Issue(args) => issue::run(args),
        Cmd::Endorse(args) => endorse::run(args),
    }
}
