//! The service's wire protocol, version 1: newline-delimited JSON over a Unix
//! socket (docs/PROTOCOL.md). One request a line, answered by one response
//! line carrying the request's id; events pushed to subscribers carry no id.

use serde::{Deserialize, Serialize};

/// The protocol version this crate speaks.
pub const VERSION: u32 = 1;

/// The largest request line the service reads, in bytes (a licence file is at
/// most 64 KiB, which JSON escaping can grow).
pub const MAX_FRAME: usize = 256 * 1024;

/// A request line: `{"v":1,"id":7,"op":"check","args":{"user":"alice"}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Frame {
    /// Protocol version; 1.
    pub v: u32,
    /// Chosen by the client; echoed in the response.
    pub id: u64,
    /// The operation and its arguments.
    #[serde(flatten)]
    pub request: Request,
}

pub use crate::gate::Request;

/// The kind of a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The store refused (a rule, a permission, bad input): the CLI's exit 1.
    Refused,
    /// The request could not be read (malformed, too large, unknown operation).
    BadRequest,
    /// The service failed to carry it out.
    Internal,
}

/// An error in a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    /// What kind.
    pub kind: ErrorKind,
    /// The stable code (`not_permitted`, `unknown_user`, …): what a program
    /// tells cases apart by.
    #[serde(default = "unknown_code")]
    pub code: crate::error::Code,
    /// For people.
    pub message: String,
}

fn unknown_code() -> crate::error::Code {
    crate::error::Code::Unknown
}

/// A response line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    /// The request's id (0 when the request could not be read).
    pub id: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// The result, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// The error, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
}

/// The first line the service sends on a connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    /// "tessera".
    pub service: String,
    /// Protocol version.
    pub protocol: u32,
    /// Server version.
    pub version: String,
    /// The store user the connection acts as (from the kernel's peer credentials).
    pub user: String,
    /// The installation serial.
    pub serial: String,
}

/// A line pushed to subscribers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push {
    /// The new event.
    pub event: crate::model::Event,
}
