//! `tessera inspect FILE [--json]`: what a document says, without trusting it.

use std::path::PathBuf;
use std::process::ExitCode;

use licfile::Inspected;

use super::describe;
use super::util::{self, Failure};

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The document: a licence, licence request, usage report or endorsement (`-` for standard input).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print JSON; for a licence this is a valid `vendor issue` spec.
    #[arg(long)]
    json: bool,
}

/// Prints the document.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let bytes = util::read_limited(
        &args.file,
        licfile::constants::MAX_FILE_BYTES,
        "Tessera document",
    )?;
    let shown = args.file.display();
    match licfile::signed::inspect(&bytes) {
        Err(e) => Err(Failure::refused(format!("{shown}: {e}"))),
        Ok(Inspected::UnknownVersion { kind, version }) => Err(Failure::refused(format!(
            "{shown}: a {} in format version {version}, which this version of Tessera cannot read; upgrade Tessera",
            kind.describe()
        ))),
        Ok(Inspected::Document(doc)) => {
            if args.json {
                util::print_json(&describe::json(&doc, false))?;
            } else {
                util::print(&format!(
                    "NOT VERIFIED: this is what the file says. Run `tessera verify {shown}` to check who signed it.\n\n{}",
                    describe::text(&doc)
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
