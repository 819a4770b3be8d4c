//! Confirmation e-mails, written as RFC 5322 files to the store's outbox for
//! the site's mail system (or a person) to send (seed 000: "License emails go
//! to the email address in your Company details").

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Layout;
use crate::error::{Result, StoreError};

/// An e-mail to write.
#[derive(Debug, Clone)]
pub struct Email {
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body, CRLF line ends.
    pub body: String,
}

impl Email {
    /// An e-mail to `to`.
    pub fn new(to: &str, subject: &str, body: &str) -> Self {
        Email {
            to: to.to_string(),
            subject: subject.to_string(),
            body: body.to_string(),
        }
    }
}

/// Where an e-mail was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file.
    pub path: PathBuf,
    /// Its name, for the action log.
    pub file_name: String,
}

/// One e-mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    /// File name.
    pub file: String,
    /// Date header.
    pub date: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_else(|| "localhost".into())
}

/// Header values never carry a line break (that would forge headers).
fn header_value(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The file name of an e-mail made at `now` for `tag`.
fn file_name(now: DateTime<Utc>, tag: &str) -> String {
    let safe_tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{safe_tag}.eml", now.format("%Y%m%dT%H%M%SZ"))
}

/// Renders an e-mail as the RFC 5322 file it becomes: its name and its bytes.
/// Pure but for the host name, so that it can be made inside a change and
/// written to the outbox only once the change is committed.
pub(crate) fn render(email: &Email, now: DateTime<Utc>, tag: &str) -> (String, Vec<u8>) {
    let host = hostname();
    let name = file_name(now, tag);
    let id = name.trim_end_matches(".eml");
    let text = format!(
        "From: Tessera licence console <tessera@{host}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{id}@{host}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        header_value(&email.to),
        header_value(&email.subject),
        now.to_rfc2822(),
        email.body.replace("\r\n", "\n").replace('\n', "\r\n")
    );
    (name, text.into_bytes())
}

/// Writes a committed e-mail into the outbox, idempotently: a file of that
/// name already there is this e-mail written before (by a process killed
/// before it could say so), and is left as it is. Written beside its place
/// under an unpredictable name, synced, then linked into place (never over
/// anything), and the directory synced.
pub(crate) fn materialise(layout: &Layout, name: &str, bytes: &[u8]) -> Result<Written> {
    let dir = layout.outbox();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&dir)
        .map_err(|e| StoreError::io(&dir, e))?;
    let path = dir.join(name);
    let written = Written {
        path: path.clone(),
        file_name: name.to_string(),
    };
    if fs::symlink_metadata(&path).is_ok() {
        return Ok(written);
    }
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce)
        .map_err(|e| StoreError::io(&dir, std::io::Error::other(e.to_string())))?;
    let tmp = dir.join(format!(
        ".{name}.{}",
        nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&tmp)
        .map_err(|e| StoreError::io(&tmp, e))?;
    let linked = file
        .write_all(bytes)
        .and_then(|_| file.sync_all())
        .and_then(|_| fs::hard_link(&tmp, &path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StoreError::io(&path, e)),
    }
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(written)
}

/// Every e-mail in the outbox, oldest first.
pub fn list(layout: &Layout) -> Result<Vec<OutboxEntry>> {
    let dir = layout.outbox();
    let Ok(read) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".eml") {
            continue;
        }
        let text = fs::read_to_string(entry.path()).unwrap_or_default();
        let header = |h: &str| {
            text.lines()
                .take_while(|l| !l.trim().is_empty())
                .find_map(|l| l.strip_prefix(h).and_then(|v| v.strip_prefix(": ")))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        out.push(OutboxEntry {
            date: header("Date"),
            to: header("To"),
            subject: header("Subject"),
            file: name,
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

impl crate::Store {
    /// Writes the e-mails committed changes queued into the outbox, and
    /// forgets them once written. Idempotent: run after every change that
    /// queued one, and when the store opens (for a process killed between a
    /// commit and its e-mail). A failure leaves them queued for the next time.
    pub(crate) fn materialise_outbox(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        if !self.db.outbox_waiting.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let mut done = Vec::new();
        let mut failed = None;
        for kv in self.db.tree()?.scan_prefix(crate::keys::OUTBOX) {
            let (k, v) = kv?;
            let name = crate::keys::decode::outbox(&k).unwrap_or_default();
            crash_point("TESSERA_CRASH_BEFORE_OUTBOX");
            match materialise(&self.db.layout, &name, &v) {
                Ok(_) => done.push(k.to_vec()),
                Err(e) => failed = Some(e),
            }
        }
        if !done.is_empty() {
            self.db.write("system", |tx| {
                for k in done {
                    tx.del(k);
                }
                Ok(())
            })?;
        }
        match failed {
            Some(e) => {
                self.db.outbox_waiting.store(true, Ordering::Release);
                Err(e)
            }
            None => Ok(()),
        }
    }
}

/// In debug builds, dies here when the variable is set: how the crash tests
/// kill a process at the one instant that matters. Release builds never do.
pub(crate) fn crash_point(var: &str) {
    #[cfg(debug_assertions)]
    if std::env::var_os(var).is_some() {
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = var;
}
