//! `tessera`: the licence console of an on-premise installation, and the
//! command line of its signed licence files.

#![forbid(unsafe_code)]

mod cli;
mod console;
mod spec;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
