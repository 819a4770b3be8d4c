//! `tessera vendor …`: what a vendor runs on its build server or sales tooling.

mod clock;
mod endorse;
mod installation;
mod invoice;
mod issue;
mod keygen;
mod ledger;
mod verify_report;
mod verify_request;

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
    /// Check a site's licence request (signature, installation key) and show what it asks.
    VerifyRequest(verify_request::Args),
    /// Check a site's usage report (signature, installation key) and show what it reports.
    VerifyReport(verify_report::Args),
    /// The invoice lines of a usage report.
    Invoice(invoice::Args),
    /// Answer a site's clock request with the vendor's time, signed by a root key.
    Clock(clock::Args),
    /// The vendor's ledger: installations, licences issued, invoices (CSV too); import an installations.json.
    #[command(subcommand)]
    Ledger(ledger::Cmd),
}

/// Runs a vendor subcommand.
pub fn run(cmd: Cmd) -> Result<ExitCode, Failure> {
    match cmd {
        Cmd::Keygen(args) => keygen::run(args),
        Cmd::Issue(args) => issue::run(args),
        Cmd::Endorse(args) => endorse::run(args),
        Cmd::VerifyRequest(args) => verify_request::run(args),
        Cmd::VerifyReport(args) => verify_report::run(args),
        Cmd::Invoice(args) => invoice::run(args),
        Cmd::Clock(args) => clock::run(args),
        Cmd::Ledger(cmd) => ledger::run(cmd),
    }
}
