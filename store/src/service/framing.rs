//! Lines in, lines out: reading a connection's bytes without blocking, taking
//! whole lines from them (at most [`MAX_FRAME`] bytes each), reading a line as
//! a [`Frame`] (or answering that it is not one), and writing response lines.

use std::io::{ErrorKind as IoKind, Read, Write};

use serde::Serialize;

use super::reactor::Conn;
use crate::error::{Code, StoreError};
use crate::protocol::{ErrorKind, Frame, MAX_FRAME, Response, VERSION, WireError};

// ---------------------------------------------------------------------------
// Input

/// Reads what is there without blocking, through the worker's `chunk`; false
/// when the connection broke.
pub(super) fn read_some(conn: &mut Conn, chunk: &mut [u8]) -> bool {
    loop {
        match conn.stream.read(chunk) {
            Ok(0) => {
                conn.eof = true;
                return true;
            }
            Ok(n) => {
                conn.input.extend_from_slice(&chunk[..n]);
                conn.last_input = std::time::Instant::now();
                // Level-triggered: what is left is read on the next turn.
                return true;
            }
            Err(e) if e.kind() == IoKind::WouldBlock => return true,
            Err(e) if e.kind() == IoKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The next complete line in the input as a range (newline included), or
/// `Err` when more than [`MAX_FRAME`] bytes hold no newline.
pub(super) fn next_line(conn: &mut Conn) -> Option<std::result::Result<(usize, usize), ()>> {
    let from = conn.scanned.max(conn.taken);
    match conn.input[from..].iter().position(|b| *b == b'\n') {
        Some(i) => {
            let (start, end) = (conn.taken, from + i + 1);
            conn.taken = end;
            conn.scanned = end;
            Some(Ok((start, end)))
        }
        None => {
            // Not scanned again when more arrives.
            conn.scanned = conn.input.len();
            (conn.input.len() - conn.taken > MAX_FRAME).then_some(Err(()))
        }
    }
}

/// Whether a whole line is waiting in the input.
pub(super) fn has_line(conn: &mut Conn) -> bool {
    let from = conn.scanned.max(conn.taken);
    if conn.input[from..].contains(&b'\n') {
        return true;
    }
    conn.scanned = conn.input.len();
    false
}

/// Drops the lines taken from the front of the input.
pub(super) fn compact(conn: &mut Conn) {
    if conn.taken > 0 {
        conn.input.drain(..conn.taken);
        conn.scanned -= conn.taken;
        conn.taken = 0;
    }
}

/// Answers a line longer than [`MAX_FRAME`] and marks the connection to close.
pub(super) fn refuse_oversized(conn: &mut Conn) {
    // The rest of the line cannot be told from the next request: answer, and
    // hang up once that is written.
    error_line(
        &mut conn.output,
        0,
        ErrorKind::BadRequest,
        Code::BadRequest,
        format!("request line longer than {MAX_FRAME} bytes; the connection is closed"),
    );
    conn.closing = true;
    conn.input.clear();
    conn.taken = 0;
    conn.scanned = 0;
}

/// The frame one request line holds. `None` for a blank line, and for a line
/// that is not a request this service speaks, whose bad-request answer this
/// appends to `out`.
pub(super) fn parse(bytes: &[u8], out: &mut Vec<u8>) -> Option<Frame> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let frame: Frame = match serde_json::from_slice(bytes) {
        Ok(f) => f,
        // Read as before this service had workers: bytes that are not
        // UTF-8 become U+FFFD, and the errors are those of that text.
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            match serde_json::from_str(&text) {
                Ok(f) => f,
                Err(e) => {
                    let id = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("id").and_then(|i| i.as_u64()))
                        .unwrap_or(0);
                    error_line(
                        out,
                        id,
                        ErrorKind::BadRequest,
                        Code::BadRequest,
                        format!("not a request: {e}"),
                    );
                    return None;
                }
            }
        }
    };
    if frame.v != VERSION {
        error_line(
            out,
            frame.id,
            ErrorKind::BadRequest,
            Code::BadRequest,
            format!(
                "protocol version {} is not spoken here; this service speaks {VERSION}",
                frame.v
            ),
        );
        return None;
    }
    Some(frame)
}

// ---------------------------------------------------------------------------
// Replies

/// Appends `{"id":…,"ok":true,"result":…}` and a newline. The result is
/// written straight from its type, not through a `serde_json::Value`.
pub(super) fn ok_line<T: Serialize + ?Sized>(out: &mut Vec<u8>, id: u64, result: &T) {
    let start = out.len();
    // `write!` to a Vec cannot fail.
    let _ = write!(out, "{{\"id\":{id},\"ok\":true,\"result\":");
    match serde_json::to_writer(&mut *out, result) {
        Ok(()) => out.extend_from_slice(b"}\n"),
        Err(e) => {
            out.truncate(start);
            error_line(
                out,
                id,
                ErrorKind::Internal,
                Code::Unknown,
                format!("cannot encode the result: {e}"),
            );
        }
    }
}

/// Appends an error response and a newline.
pub(super) fn error_line(out: &mut Vec<u8>, id: u64, kind: ErrorKind, code: Code, message: String) {
    let response = Response {
        id,
        ok: false,
        result: None,
        error: Some(WireError {
            kind,
            code,
            message,
        }),
    };
    // Strings and numbers always encode.
    let _ = serde_json::to_writer(&mut *out, &response);
    out.push(b'\n');
}

/// Appends the error response for a request that failed or was refused.
pub(super) fn failed(out: &mut Vec<u8>, id: u64, e: &StoreError) {
    let kind = if e.is_refusal() {
        ErrorKind::Refused
    } else {
        ErrorKind::Internal
    };
    error_line(out, id, kind, e.code(), e.to_string());
}
