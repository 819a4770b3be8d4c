//! The service's wire protocol, version 1: newline-delimited JSON over a Unix
//! socket (docs/PROTOCOL.md). One request a line, answered by one response
//! line carrying the request's id; events pushed to subscribers carry no id.

use chrono::NaiveDate;
use licfile::{SeatAction, YearMonth};
use serde::{Deserialize, Serialize};

use crate::usage::UsageKind;
use crate::users::{NewUser, UserChange};
use crate::views::UserQuery;

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

/// Every operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", content = "args", rename_all = "snake_case")]
pub enum Request {
    /// The installation record.
    Installation,
    /// Refuses unless the caller may see licences.
    RequireLicenceReader,
    /// The Status screen.
    Status,
    /// Every licence in force.
    Licences,
    /// A page of users.
    UsersPage(UserQuery),
    /// One user.
    User {
        /// Username.
        name: String,
    },
    /// Adds a user.
    AddUser(NewUser),
    /// Changes a user.
    SetUser {
        /// Username.
        name: String,
        /// The changes.
        change: UserChange,
    },
    /// Deactivates a user.
    Deactivate {
        /// Username.
        name: String,
    },
    /// Activates a user.
    Activate {
        /// Username.
        name: String,
    },
    /// Deletes a user.
    DeleteUser {
        /// Username.
        name: String,
    },
    /// Holders of an add-on module.
    AddOnHolders {
        /// The module.
        module: String,
    },
    /// May this user work now?
    Check {
        /// Username.
        user: String,
    },
    /// A user worked on a day.
    RecordUsage {
        /// Username.
        user: String,
        /// What happened.
        kind: UsageKind,
        /// The day (default today).
        #[serde(default)]
        day: Option<NaiveDate>,
    },
    /// Storage in use.
    RecordStorage {
        /// Bytes.
        bytes: u64,
    },
    /// Uses of a metered service.
    RecordMetered {
        /// Service.
        service: String,
        /// Uses to add.
        count: u64,
    },
    /// Imports a licence file.
    Import {
        /// The file's text.
        licence: String,
    },
    /// Applies what time has made due.
    Tick,
    /// The latest events, newest first.
    Events {
        /// How many.
        limit: usize,
        /// Before this sequence number.
        #[serde(default)]
        before: Option<u64>,
    },
    /// Checks the chain and the counters.
    AuditVerify,
    /// Checks and prices a seat request without recording it.
    QuoteSeats {
        /// Licence.
        licence: String,
        /// Term.
        term: String,
        /// add or remove.
        action: SeatAction,
        /// Seats.
        count: u32,
    },
    /// Buys or gives back seats.
    RequestSeats {
        /// Licence.
        licence: String,
        /// Term.
        term: String,
        /// add or remove.
        action: SeatAction,
        /// Seats.
        count: u32,
        /// Note for the vendor.
        #[serde(default)]
        note: String,
    },
    /// Makes the signed usage report of a month.
    UsageReport {
        /// The month.
        month: YearMonth,
    },
    /// The confirmation e-mails.
    Outbox,
    /// The contracts zip, base64.
    ExportContracts,
    /// Sends every event after `after` (a sequence number) and every new one, as they happen.
    Subscribe {
        /// The last event the client has.
        #[serde(default)]
        after: Option<u64>,
    },
}

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
    /// For people.
    pub message: String,
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
