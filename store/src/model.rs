//! The records the store keeps, and their encoding.
//!
//! Records are bincode (standard configuration) of serde structs. Keys are
//! built in `crate::keys` so that sled's byte order is the order we want.

use licfile::Term;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::roles::Role;

/// Encodes a record.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

/// Decodes a record.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(v, _)| v)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A pool of seats: one issuer's licence name and term in a product area.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PoolKey {
    /// The issuer: empty for the vendor (root-signed licences), else the endorsed issuer's name.
    pub issuer: String,
    /// Product area, as the licence writes it.
    pub area: String,
    /// Licence name, as the licence writes it.
    pub licence: String,
    /// Term.
    pub term: Term,
}

/// An add-on module or an integration with a count of its own: what a
/// module purchase or reduction is about (seed 003).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModuleKey {
    /// Add-on or integration.
    pub kind: licfile::ModuleKind,
    /// Its name as the licence writes it.
    pub name: String,
}

impl ModuleKey {
    /// "Outlook connector add-on", "Visma Admin integration".
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.kind)
    }
}

/// A pool's identity: its key normalised once (issuer, area and licence
/// without case, and the term). Two `PoolKey`s name the same pool exactly
/// when their ids are equal: a licence may change a name's capitalisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolId(Vec<u8>);

impl PoolKey {
    /// The pool's identity.
    pub fn id(&self) -> PoolId {
        PoolId(crate::keys::pool(self))
    }

    /// "Jobs User (monthly)", or with the issuer for third-party pools.
    pub fn label(&self) -> String {
        if self.issuer.is_empty() {
            format!("{} ({})", self.licence_label(), self.term)
        } else {
            format!("{}: {} ({})", self.issuer, self.licence_label(), self.term)
        }
    }

    /// The licence without the term: "Jobs User", "Sales Support" (the area is
    /// not repeated when the licence name already starts with it).
    pub fn licence_label(&self) -> String {
        licence_label(&self.area, &self.licence)
    }
}

pub use licfile::document::licence_label;

/// Central or satellite installation (seed 004, Status tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstallationKind {
    /// The central database.
    Central,
    /// A satellite of a central database.
    Satellite,
}

impl InstallationKind {
    /// "central" or "satellite".
    pub fn word(self) -> &'static str {
        match self {
            InstallationKind::Central => "central",
            InstallationKind::Satellite => "satellite",
        }
    }
}

/// What the store knows about its installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// The serial every licence must carry.
    pub serial: String,
    /// When the store was made (seconds).
    pub created_at: i64,
    /// Central or satellite.
    pub kind: InstallationKind,
    /// Whether the store was made from a demo licence.
    pub demo: bool,
    /// Key id of the installation key that signs requests and reports.
    pub installation_key_id: String,
    /// The Owner/manager who created the store.
    pub owner: String,
}

/// A licence file as imported, kept as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLicence {
    /// Import number, from 1.
    pub id: u64,
    /// Issuer: empty for the vendor, else the endorsed issuer's name.
    pub issuer: String,
    /// Key id of the signing key.
    pub key_id: String,
    /// The licence's sequence.
    pub sequence: u64,
    /// The licence's id.
    pub licence_id: String,
    /// When it was imported (seconds).
    pub imported_at: i64,
    /// Who imported it.
    pub imported_by: String,
    /// The file as it was read.
    pub armored: String,
}

/// A user's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserState {
    /// May work, if they hold a seat.
    Active,
    /// Deactivated: holds no seat in use.
    Inactive,
    /// Deleted: the name stays reserved.
    Deleted,
}

impl UserState {
    /// "active", "inactive" or "deleted".
    pub fn word(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
            UserState::Deleted => "deleted",
        }
    }
}

/// A store user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Username, as first written.
    pub name: String,
    /// E-mail address (may be empty).
    pub email: String,
    /// Role level.
    pub role: Role,
    /// The seat's pool, if a seat is assigned.
    pub seat: Option<PoolKey>,
    /// Add-on modules held (names as the licence writes them).
    pub add_ons: Vec<String>,
    /// Active, inactive or deleted.
    pub state: UserState,
    /// When the user was made (seconds).
    pub created_at: i64,
    /// When the user was last activated (seconds).
    pub activated_at: i64,
    /// Store-wide activation number: orders "most recently activated" even
    /// within one second.
    pub activation: u64,
    /// When the user became over-allocated (seconds), if they are.
    pub over_allocated_since: Option<i64>,
    /// Why the user was last deactivated, if they were.
    pub deactivated_reason: String,
}

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A rule or the clock (seed 004: applies to the whole system).
    System,
    /// A user's action.
    User,
}

impl EventKind {
    /// "system" or "user".
    pub fn word(self) -> &'static str {
        match self {
            EventKind::System => "system",
            EventKind::User => "user",
        }
    }
}

/// How an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventStatus {
    /// Done.
    Completed,
    /// Needs attention (expiring licence, over-allocation, clock moved back).
    Warning,
    /// Something failed or was terminated.
    Failed,
    /// Waiting (pending purchases).
    Pending,
}

impl EventStatus {
    /// "completed", "warning", "failed", "pending".
    pub fn word(self) -> &'static str {
        match self {
            EventStatus::Completed => "completed",
            EventStatus::Warning => "warning",
            EventStatus::Failed => "failed",
            EventStatus::Pending => "pending",
        }
    }
}

/// An entry of the action log: one link of the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Short name, e.g. "Licence imported".
    pub name: String,
    /// How it stands.
    pub status: EventStatus,
    /// One line.
    pub message: String,
    /// The full description shown below the list.
    pub description: String,
    /// When it started (seconds).
    pub activated_at: i64,
    /// Who started it: a username, or "system".
    pub activated_by: String,
    /// When it finished or is expected to (seconds).
    pub finished_at: Option<i64>,
    /// System or user.
    pub kind: EventKind,
    /// Hash of the previous event (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over `prev_hash` and this event's other fields.
    pub hash: [u8; 32],
    /// The record format it was read from: 1 (text only) or 2 (typed).
    #[serde(default)]
    pub version: u8,
    /// What happened, typed; `None` for a version 1 event.
    #[serde(default)]
    pub action: Option<crate::events::Action>,
}
