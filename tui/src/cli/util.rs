//! What every subcommand needs: reading files from outside, writing secrets,
//! printing without failing on a closed pipe, and the error type.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chrono::NaiveDate;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// The input was refused or the operation failed (exit 1).
    Refused(String),
    /// The store refused or could not answer, with its stable code (exit 1).
    Store {
        /// The code, as on the wire.
        code: store::Code,
        /// The message, with the command line's hint.
        message: String,
    },
    /// Refused with a stable code of its own, such as the vendor's ledger gives (exit 1).
    Coded {
        /// The code, snake_case, never renamed.
        code: &'static str,
        /// The message.
        message: String,
    },
    /// Standard output was closed by the reader (`| head`): not an error.
    BrokenPipe,
}

impl Failure {
    /// A refusal with this message.
    pub fn refused(msg: impl Into<String>) -> Self {
        Failure::Refused(msg.into())
    }

    /// A usage error with this message.
    pub fn usage(msg: impl Into<String>) -> Self {
        Failure::Usage(msg.into())
    }

    /// The message, as the command line shows it.
    pub fn message(&self) -> String {
        match self {
            Failure::Usage(m) | Failure::Refused(m) => m.clone(),
            Failure::Store { message, .. } | Failure::Coded { message, .. } => message.clone(),
            Failure::BrokenPipe => "standard output was closed".into(),
        }
    }

    /// The stable code `--json` gives with it.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "usage",
            Failure::Refused(_) => "refused",
            Failure::Store { code, .. } => code.as_str(),
            Failure::Coded { code, .. } => code,
            Failure::BrokenPipe => "broken_pipe",
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Refused(e.to_string())
        }
    }
}

/// Writes to standard output.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints a value as pretty JSON followed by a newline.
pub fn print_json(value: &serde_json::Value) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::refused(format!("could not format JSON: {e}")))?;
    text.push('\n');
    print(&text)
}

/// Reads a file given on the command line, refusing anything larger than
/// `limit` bytes before reading it (`-` reads standard input, up to the limit).
pub fn read_limited(path: &Path, limit: usize, what: &str) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    if path == Path::new("-") {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::refused(format!("cannot read standard input: {e}")))?;
        if buf.len() > limit {
            return Err(too_large("standard input", limit, what));
        }
        return Ok(buf);
    }
    let file = File::open(path).map_err(|e| open_error(path, &e, what))?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::refused(format!("cannot read {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(Failure::refused(format!(
            "{shown} is a directory; give the path of the {what}"
        )));
    }
    if meta.len() > limit as u64 {
        return Err(too_large(&shown.to_string(), limit, what));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    // The length can change under us (a file still being copied): read at most limit + 1.
    file.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::refused(format!("cannot read {shown}: {e}")))?;
    if buf.len() > limit {
        return Err(too_large(&shown.to_string(), limit, what));
    }
    Ok(buf)
}

fn too_large(name: &str, limit: usize, what: &str) -> Failure {
    Failure::refused(format!(
        "{name} is larger than {limit} bytes, more than any {what}; it was not read (is it the right file?)"
    ))
}

fn open_error(path: &Path, e: &io::Error, what: &str) -> Failure {
    let shown = path.display();
    match e.kind() {
        io::ErrorKind::NotFound => {
            Failure::refused(format!("{shown}: no such file (expected a {what})"))
        }
        io::ErrorKind::PermissionDenied => Failure::refused(format!(
            "{shown}: permission denied; check the file's owner and mode"
        )),
        _ => Failure::refused(format!("cannot open {shown}: {e}")),
    }
}

/// Reads a text file (a key or a spec) of at most `limit` bytes.
pub fn read_text(path: &Path, limit: usize, what: &str) -> Result<String, Failure> {
    let bytes = read_limited(path, limit, what)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::refused(format!(
            "{} is not a text file (expected a {what})",
            path.display()
        ))
    })
}

/// Writes a secret to a new file with mode 0600. Never overwrites.
pub fn write_secret(path: &Path, contents: &str) -> Result<(), Failure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| create_error(path, &e))?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Failure::refused(format!("cannot write {}: {e}", path.display())))
}

/// Writes a new file, refusing to overwrite one that exists unless `overwrite`.
pub fn write_new(path: &Path, contents: &[u8], overwrite: bool) -> Result<(), Failure> {
    let mut opts = OpenOptions::new();
    opts.write(true).mode(0o644);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut file = opts.open(path).map_err(|e| create_error(path, &e))?;
    file.write_all(contents).map_err(|e| {
        // A new file cut short (a full disk) is ours to take away: never leave
        // half a licence or report where a whole one is expected.
        if !overwrite {
            let _ = fs::remove_file(path);
        }
        Failure::refused(format!("cannot write {}: {e}", path.display()))
    })
}

fn create_error(path: &Path, e: &io::Error) -> Failure {
    let shown = path.display();
    match e.kind() {
        io::ErrorKind::AlreadyExists => Failure::refused(format!(
            "{shown} already exists; it is never overwritten (move it away or choose another name)"
        )),
        io::ErrorKind::NotFound => Failure::refused(format!(
            "cannot create {shown}: its directory does not exist"
        )),
        io::ErrorKind::PermissionDenied => {
            Failure::refused(format!("cannot create {shown}: permission denied"))
        }
        _ => Failure::refused(format!("cannot create {shown}: {e}")),
    }
}

/// Reads a secret key file, warning when others can read it.
pub fn read_secret_key(path: &Path) -> Result<licfile::SecretKey, Failure> {
    let pem = read_text(path, 16 * 1024, "private key (PKCS#8 PEM)")?;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = writeln!(
            io::stderr(),
            "tessera: warning: {} can be read by other users; run: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    licfile::SecretKey::from_pem(&pem)
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))
}

/// Reads a public key file.
pub fn read_public_key(path: &Path) -> Result<licfile::PublicKey, Failure> {
    let pem = read_text(path, 16 * 1024, "public key (SPKI PEM)")?;
    licfile::PublicKey::from_pem(&pem)
        .map_err(|e| Failure::refused(format!("{}: {e}", path.display())))
}

/// Parses a `YYYY-MM-DD` date given on the command line.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date written YYYY-MM-DD, such as 2026-11-22"))
}

/// Today, by the machine's clock, in UTC.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `f` of each item, in the items' order, computed on every core: for the
/// batches a vendor runs (10,000 licences signed, 10,000 reports verified),
/// where each item is tens of microseconds of work on its own. The items are
/// cut into one contiguous share per core; a share's results are kept in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    // Below this, starting threads costs more than it saves.
    const MIN_PER_THREAD: usize = 64;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let share = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        // The first share on this thread, the others on their own.
        let mut shares = items.chunks(share);
        let first = shares.next().unwrap_or_default();
        let others: Vec<_> = shares
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for h in others {
            match h.join() {
                Ok(part) => out.extend(part),
                // A panic in `f` is a bug: carry it on as it would have gone.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order_of_the_items_at_every_size() {
        for n in [0, 1, 63, 64, 129, 1_000, 10_001] {
            let items: Vec<usize> = (0..n).collect();
            let out = parallel_map(&items, |i| i * 3);
            assert_eq!(out, items.iter().map(|i| i * 3).collect::<Vec<_>>(), "{n}");
        }
    }
}
