//! `tessera generate man [--dir DIR]|completions SHELL`: the man pages and shell
//! completions, from the command-line definition itself (the packaged copies in
//! `packaging/` are checked against these by a test).
//!
//! The man pages are named the way git names its own: `tessera.1` for the
//! command, `tessera-users.1` for a subcommand, `tessera-users-add.1` for a
//! subcommand's subcommand, so that `man tessera-users-add` finds the page of
//! what one types as `tessera users add`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Subcommand};
use clap_complete::Shell;

use super::Cli;
use super::util::{self, Failure};

/// What to generate.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The man pages (roff), for man(1): tessera.1 on standard output, or every page into a directory.
    Man {
        /// Write every page into DIR (tessera.1, then tessera-SUB.1 and
        /// tessera-SUB-SUBSUB.1 for each subcommand), printing each file's path.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Shell completions.
    Completions {
        /// bash, zsh or fish.
        shell: Shell,
    },
}

/// One man page.
#[derive(Debug)]
pub struct Page {
    /// The file name, `tessera-users-add.1`.
    pub file: String,
    /// The page in roff.
    pub text: Vec<u8>,
}

/// Every man page, `tessera.1` first, then the subcommands' in the order the
/// command line declares them (each before its own subcommands). Hidden
/// subcommands (`generate`) and clap's `help` subcommand get no page.
pub fn man_pages() -> Result<Vec<Page>, Failure> {
    // Without the help subcommand: it has no page of its own to point to.
    let mut top = Cli::command().disable_help_subcommand(true);
    // Building gives each subcommand its display name (`tessera-users-add`),
    // which names its page and the pages its SUBCOMMANDS section lists.
    top.build();
    let mut commands = Vec::new();
    collect(&top, &mut Vec::new(), &mut commands);
    let every: Vec<String> = commands.iter().map(|(c, _)| display_name(c)).collect();
    // Every page says it is part of this version of tessera, as the top page does.
    let source = format!("tessera {}", env!("CARGO_PKG_VERSION"));
    commands
        .into_iter()
        .map(|(cmd, ancestors)| {
            let name = display_name(&cmd);
            // The top page points to every other page; a subcommand's page to
            // the pages above it, nearest first.
            let see_also: Vec<&str> = if ancestors.is_empty() {
                every[1..].iter().map(String::as_str).collect()
            } else {
                ancestors.iter().rev().map(String::as_str).collect()
            };
            let mut text = Vec::new();
            clap_mangen::Man::new(cmd)
                .source(source.as_str())
                .render(&mut text)
                .and_then(|()| write_see_also(&mut text, &see_also))
                .map_err(|e| Failure::refused(format!("cannot render the man page {name}: {e}")))?;
            Ok(Page {
                file: format!("{name}.1"),
                text,
            })
        })
        .collect()
}

/// The page's name: `tessera`, `tessera-users`, `tessera-users-add`.
fn display_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

/// `cmd` and its visible subcommands, depth first, each with the names of the
/// commands above it (outermost first).
fn collect(
    cmd: &clap::Command,
    above: &mut Vec<String>,
    out: &mut Vec<(clap::Command, Vec<String>)>,
) {
    out.push((cmd.clone(), above.clone()));
    above.push(display_name(cmd));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, above, out);
    }
    above.pop();
}

/// Appends a SEE ALSO section naming `pages` in section 1 (nothing when there
/// are none).
fn write_see_also(out: &mut Vec<u8>, pages: &[&str]) -> std::io::Result<()> {
    if pages.is_empty() {
        return Ok(());
    }
    let refs: Vec<String> = pages
        .iter()
        .map(|p| format!("\\fB{}\\fR(1)", roff_escape(p)))
        .collect();
    writeln!(out, ".SH \"SEE ALSO\"")?;
    writeln!(out, "{}", refs.join(",\n"))
}

/// A name as roff text: a backslash starts an escape, and `-` must be `\-` to
/// stay a hyphen-minus that can be searched for and copied.
fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

/// The top-level man page's text (`tessera.1`).
pub fn man() -> Result<Vec<u8>, Failure> {
    let mut pages = man_pages()?;
    Ok(pages.swap_remove(0).text)
}

/// Writes every man page into `dir` (created if missing) and prints the paths.
fn write_man_pages(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::refused(format!("cannot create {}: {e}", dir.display())))?;
    let mut written = String::new();
    for page in man_pages()? {
        let path = dir.join(&page.file);
        util::write_new(&path, &page.text, true)?;
        written.push_str(&format!("{}\n", path.display()));
    }
    util::print(&written)
}

/// The completions of a shell.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tessera", &mut out);
    out
}

/// Prints or writes what was asked for.
pub fn run(cmd: Cmd) -> Result<ExitCode, Failure> {
    let bytes = match cmd {
        Cmd::Man { dir: Some(dir) } => {
            write_man_pages(&dir)?;
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Man { dir: None } => man()?,
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
    fn the_packaged_completions_match_the_command_line() {
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

    /// packaging/man/ holds exactly the pages the command line makes, each as
    /// generated: a page missing, out of date, or left over from a subcommand
    /// that went away fails, naming it.
    #[test]
    fn the_packaged_man_pages_match_the_command_line() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/man");
        let mut packaged: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let mut problems = Vec::new();
        for page in man_pages().unwrap() {
            match std::fs::read(dir.join(&page.file)) {
                Ok(bytes) if bytes == page.text => {}
                Ok(_) => problems.push(format!("{} is out of date", page.file)),
                Err(e) => problems.push(format!("{} is missing ({e})", page.file)),
            }
            packaged.retain(|f| *f != page.file);
        }
        for left in packaged {
            problems.push(format!("{left} is no page of the command line"));
        }
        assert!(
            problems.is_empty(),
            "packaging/man/ does not match the command line: {}; run packaging/regenerate.sh",
            problems.join("; ")
        );
    }

    #[test]
    fn there_is_a_page_per_subcommand_named_as_git_names_its_own() {
        let pages = man_pages().unwrap();
        let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files[0], "tessera.1");
        for nested in [
            "tessera-vendor.1",
            "tessera-vendor-keygen.1",
            "tessera-vendor-verify-request.1",
            "tessera-users-add.1",
            "tessera-report-usage.1",
            "tessera-serve.1",
        ] {
            assert!(files.contains(&nested), "no {nested} in {files:?}");
        }
        // clap's help subcommand and the hidden `generate` have no page.
        assert!(!files.iter().any(|f| f.contains("help")), "{files:?}");
        assert!(!files.iter().any(|f| f.contains("generate")), "{files:?}");

        // The top page's SEE ALSO names every other page; a nested page names
        // the pages above it.
        let text = |file: &str| {
            let page = pages.iter().find(|p| p.file == file).unwrap();
            String::from_utf8(page.text.clone()).unwrap()
        };
        let top = text("tessera.1");
        let see_also = &top[top.find(".SH \"SEE ALSO\"").expect("a SEE ALSO section")..];
        for file in &files[1..] {
            let name = file.trim_end_matches(".1").replace('-', "\\-");
            assert!(
                see_also.contains(&format!("\\fB{name}\\fR(1)")),
                "tessera.1's SEE ALSO does not name {file}"
            );
        }
        let keygen = text("tessera-vendor-keygen.1");
        assert!(
            keygen
                .ends_with(".SH \"SEE ALSO\"\n\\fBtessera\\-vendor\\fR(1),\n\\fBtessera\\fR(1)\n"),
            "{keygen}"
        );
        assert!(
            keygen.contains("tessera vendor keygen"),
            "the synopsis: {keygen}"
        );
    }
}
