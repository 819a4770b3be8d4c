//! `tessera generate man|completions SHELL`: the man page and shell completions,
//! from the command-line definition itself (the packaged copies in `packaging/`
//! are checked against these by a test).

use std::process::ExitCode;

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::Cli;
use super::util::{self, Failure};

/// What to generate.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The man page (roff), for man(1).
    Man,
    /// Shell completions.
    Completions {
        /// bash, zsh or fish.
        shell: Shell,
    },
}

/// The man page's text.
pub fn man() -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Failure::refused(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// The completions of a shell.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tessera", &mut out);
    out
}

/// Prints what was asked for.
pub fn run(cmd: Cmd) -> Result<ExitCode, Failure> {
    let bytes = match cmd {
        Cmd::Man => man()?,
        Cmd::Completions { shell } => completions(shell),
    };
    util::print(&String::from_utf8_lossy(&bytes))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(generated: &[u8], packaged: &str, file: &str, how: &str) {
        assert!(
            String::from_utf8_lossy(generated) == packaged,
            "packaging/{file} is out of date with the command line: run `{how} > packaging/{file}` (or packaging/regenerate.sh)"
        );
    }

    #[test]
    fn the_packaged_man_page_and_completions_match_the_command_line() {
        same(
            &man().unwrap(),
            include_str!("../../../packaging/tessera.1"),
            "tessera.1",
            "tessera generate man",
        );
        same(
            &completions(Shell::Bash),
            include_str!("../../../packaging/completions/tessera.bash"),
            "completions/tessera.bash",
            "tessera generate completions bash",
        );
        same(
            &completions(Shell::Zsh),
            include_str!("../../../packaging/completions/_tessera"),
            "completions/_tessera",
            "tessera generate completions zsh",
        );
        same(
            &completions(Shell::Fish),
            include_str!("../../../packaging/completions/tessera.fish"),
            "completions/tessera.fish",
            "tessera generate completions fish",
        );
    }
}
