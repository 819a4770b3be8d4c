//! `tessera vendor keygen --out PREFIX`

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::util::{self, Failure};

/// Arguments of `vendor keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Path prefix: writes PREFIX.key and PREFIX.pub; neither may exist yet.
    #[arg(long, value_name = "PREFIX")]
    out: PathBuf,
}

/// Makes the key pair and prints its key id.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let key_path = with_suffix(&args.out, "key");
    let pub_path = with_suffix(&args.out, "pub");
    // Both targets are checked before either is written, and a link counts
    // as there even when it leads nowhere (`exists` would follow it).
    for p in [&key_path, &pub_path] {
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(Failure::refused(format!(
                "{} already exists; keys are never overwritten (choose another --out)",
                p.display()
            )));
        }
    }
    let key = licfile::SecretKey::generate().map_err(|e| Failure::refused(e.to_string()))?;
    let secret = key.to_pem().map_err(|e| Failure::refused(e.to_string()))?;
    let public = key
        .public()
        .to_pem()
        .map_err(|e| Failure::refused(e.to_string()))?;
    util::write_secret(&key_path, &secret)?;
    if let Err(e) = util::write_new(&pub_path, public.as_bytes(), false) {
        // A pair or nothing: no secret key is left behind without its public half.
        let _ = std::fs::remove_file(&key_path);
        return Err(e);
    }
    util::print(&format!(
        "key id {}\nsecret key {} (mode 0600: keep it offline and backed up)\npublic key {}\n",
        key.public().id(),
        key_path.display(),
        pub_path.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn with_suffix(prefix: &std::path::Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}
