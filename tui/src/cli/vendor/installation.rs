//! Reading what installations send: requests and reports signed by their
//! installation keys, checked against the vendor's registry.

use std::path::{Path, PathBuf};

use licfile::registry::{Registry, Standing};
use licfile::{Document, DocumentKind, Roots, SignedDocument};

use crate::cli::util::{self, Failure};

/// Registry options shared by the vendor commands.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// The vendor's registry of installation keys (JSON; made on first use).
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Accept a different installation key for a known serial (a reinstalled site).
    #[arg(long, requires = "registry")]
    pub accept_new_key: bool,
}

/// The largest registry read.
const MAX_REGISTRY_BYTES: usize = 256 * 1024 * 1024;

/// Reads the registry, or an empty one if the file does not exist yet.
pub fn load(path: &Path) -> Result<Registry, Failure> {
    if !path.exists() {
        return Ok(Registry::default());
    }
    let text = util::read_text(path, MAX_REGISTRY_BYTES, "registry (JSON)")?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::refused(format!("{}: not a Tessera registry: {e}", path.display())))
}

/// Writes the registry atomically (a new file renamed over the old).
pub fn save(path: &Path, registry: &Registry) -> Result<(), Failure> {
    let text =
        serde_json::to_string_pretty(registry).map_err(|e| Failure::refused(e.to_string()))?;
    // Beside the registry under an unpredictable name, created exclusively
    // (never a file or link someone planted), synced, renamed over it, and
    // the directory synced.
    let cannot =
        |e: std::io::Error| Failure::refused(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".registry.")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(cannot)?;
    use std::io::Write as _;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads and verifies a document an installation signed, of the kind expected.
pub fn read(path: &Path, expected: DocumentKind) -> Result<SignedDocument, Failure> {
    let bytes = util::read_limited(
        path,
        licfile::constants::MAX_FILE_BYTES,
        expected.describe(),
    )?;
    let (doc, _) = licfile::verify::read_verified(&bytes, expected, &Roots::new())
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))?;
    Ok(doc)
}

/// Checks the document against the registry and remembers its key; with
/// `acted`, remembers its id too (the request was fulfilled, the report invoiced).
pub fn register(
    args: &RegistryArgs,
    doc: &Document,
    acted: bool,
) -> Result<Option<Standing>, Failure> {
    register_all(args, &[doc], acted)
}

/// [`register`] for several documents at once (the parts of one report):
/// all are taken or, if one is refused, none is and the registry is unchanged.
pub fn register_all(
    args: &RegistryArgs,
    docs: &[&Document],
    acted: bool,
) -> Result<Option<Standing>, Failure> {
    let Some(path) = &args.registry else {
        return Ok(None);
    };
    let mut reg = load(path)?;
    let now = licfile::Timestamp::from(chrono::Utc::now());
    let mut first = None;
    for doc in docs {
        let standing = if acted {
            reg.record(doc, now, args.accept_new_key)
        } else {
            reg.remember_key(doc, now, args.accept_new_key)
        }
        .map_err(|e| Failure::refused(e.to_string()))?;
        first.get_or_insert(standing);
    }
    save(path, &reg)?;
    Ok(first)
}

/// A line for people about the registry's verdict.
pub fn standing_note(s: Option<Standing>) -> &'static str {
    match s {
        None => "installation key not checked (no --registry): anyone could have made this file",
        Some(Standing::FirstSight) => {
            "first file from this serial: its installation key is now remembered"
        }
        Some(Standing::KnownKey) => "installation key matches the one remembered for this serial",
        Some(Standing::KeyReplaced) => "installation key REPLACED in the registry, as asked",
    }
}
