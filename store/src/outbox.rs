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

/// Writes an e-mail into the outbox, named by time and `tag`; never overwrites.
pub fn write(layout: &Layout, email: &Email, now: DateTime<Utc>, tag: &str) -> Result<Written> {
    let dir = layout.outbox();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&dir)
        .map_err(|e| StoreError::io(&dir, e))?;
    let host = hostname();
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
    let mut n = 0;
    let (path, file_name, mut file) = loop {
        let file_name = format!(
            "{}-{safe_tag}{}.eml",
            now.format("%Y%m%dT%H%M%SZ"),
            if n == 0 {
                String::new()
            } else {
                format!("-{n}")
            }
        );
        let path = dir.join(&file_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&path)
        {
            Ok(f) => break (path, file_name, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(StoreError::io(&path, e)),
        }
    };
    let text = format!(
        "From: Tessera licence console <tessera@{host}>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{safe_tag}.{}@{host}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        header_value(&email.to),
        header_value(&email.subject),
        now.to_rfc2822(),
        now.timestamp(),
        email.body.replace("\r\n", "\n").replace('\n', "\r\n")
    );
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| StoreError::io(&path, e))?;
    Ok(Written { path, file_name })
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
