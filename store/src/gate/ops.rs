//! The one table of operations: for each, its typed request, its result,
//! who may ask for it, and how the service answers it.
//!
//! Everything a client can ask of the store is a line of [`operations!`]
//! below. The macro makes the [`Request`] the wire carries, the [`Op`] it is
//! authorised as, the [`Reply`] it gives, and a typed method of [`ApiExt`],
//! so adding an operation is its line here and its rule in
//! [`crate::gate`]'s dispatch: the client, the service and the direct
//! interface follow from them.

use chrono::NaiveDate;
use licfile::{ModuleKind, SeatAction, UsageReport, YearMonth};
use serde::{Deserialize, Serialize};

use crate::audit::AuditReport;
use crate::correction::ClockOutcome;
use crate::detail::UserDetail;
use crate::error::Result;
use crate::history::History;
use crate::lease::LeaseOutcome;
use crate::licences::ImportOutcome;
use crate::metrics::Metrics;
use crate::model::{Event, Installation, User};
use crate::notifications::{NotificationQuery, NotificationsPage};
use crate::outbox::OutboxEntry;
use crate::purchases::{Quote, RequestOutcome};
use crate::rules::permit::Permit;
use crate::tick::TickReport;
use crate::usage::{UsageKind, UsageOutcome};
use crate::users::{CheckResult, NewUser, UserChange};
use crate::views::{LicenceView, StatusView, UserQuery, UsersPage};

/// How the service answers an operation: the choice of what is answered on the
/// worker that read the request and what goes to the pool, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answered by reading, at once, on the worker: cheap and never waits.
    AtOnce,
    /// May take a while (a large view, a report, an audit): the pool.
    Slow,
    /// A change: waits for its sync, in the pool.
    Write,
    /// A usage record: at once when it writes nothing (a day already
    /// charged, a user not on a daily seat, a refusal), else a write.
    AtOnceUnlessNew,
    /// Handled by the connection itself (a subscription).
    Connection,
}

/// The contracts zip as it travels: base64 on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractsZip {
    /// How many licences it holds.
    pub count: usize,
    /// The zip's bytes.
    pub zip: Vec<u8>,
}

impl Serialize for ContractsZip {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.zip);
        (self.count, b64).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ContractsZip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use base64::Engine as _;
        let (count, b64): (usize, String) = Deserialize::deserialize(d)?;
        let zip = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("the zip did not arrive intact: {e}")))?;
        Ok(ContractsZip { count, zip })
    }
}

/// An argument of a typed call: the value itself, a borrowed one (cloned), or
/// a `&str` for a `String`, so that callers write `api.check("alice")`.
pub trait Arg<T> {
    /// The value the request carries.
    fn arg(self) -> T;
}

impl<T> Arg<T> for T {
    fn arg(self) -> T {
        self
    }
}

impl<T: Clone> Arg<T> for &T {
    fn arg(self) -> T {
        self.clone()
    }
}

impl Arg<String> for &str {
    fn arg(self) -> String {
        self.to_string()
    }
}

/// Defines the operations. Each line:
/// `Name { fields } => method -> Output, Permit, Mode;`
macro_rules! operations {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident $({ $( $(#[$fattr:meta])* $field:ident : $fty:ty ),* $(,)? })?
            => $method:ident -> $out:ty, $permit:ident, $mode:ident;
    )*) => {
        /// Every operation, with its arguments: what a client sends.
        ///
        /// On the wire: `{"op":"check","args":{"user":"alice"}}`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "op", content = "args", rename_all = "snake_case")]
        pub enum Request {
            $(
                $(#[doc = $doc])*
                $name $({ $( $(#[$fattr])* #[allow(missing_docs)] $field: $fty ),* })?,
            )*
        }

        /// An operation without its arguments: what is authorised.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Op {
            $( $(#[doc = $doc])* $name, )*
        }

        /// The result of an operation. On the wire it is the result itself.
        #[derive(Debug, Clone, Serialize)]
        #[serde(untagged)]
        pub enum Reply {
            $( $(#[doc = $doc])* $name($out), )*
        }

        impl Op {
            /// Every operation.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// Who may ask for it: the one table.
            pub fn permit(self) -> Permit {
                match self { $(Op::$name => Permit::$permit,)* }
            }

            /// How the service answers it.
            pub fn mode(self) -> Mode {
                match self { $(Op::$name => Mode::$mode,)* }
            }

            /// Its name on the wire.
            pub fn name(self) -> &'static str {
                match self { $(Op::$name => stringify!($method),)* }
            }
        }

        impl Request {
            /// The operation asked for.
            pub fn op(&self) -> Op {
                match self { $(Request::$name { .. } => Op::$name,)* }
            }
        }

        impl Reply {
            /// Reads the result of `op` as it came over the wire.
            pub fn decode(op: Op, value: serde_json::Value) -> serde_json::Result<Reply> {
                match op {
                    $(Op::$name => serde_json::from_value(value).map(Reply::$name),)*
                }
            }
        }

        /// The typed calls of every operation, for any [`crate::Api`].
        pub trait ApiExt: crate::Api {
            $(
                $(#[doc = $doc])*
                fn $method(&self $($(, $field: impl Arg<$fty>)*)?) -> Result<$out> {
                    match self.execute(Request::$name $({ $($field: $field.arg()),* })?)? {
                        Reply::$name(v) => Ok(v),
                        other => Err(crate::error::StoreError::Service(format!(
                            "the answer to {} was {:?}",
                            Op::$name.name(),
                            other.op()
                        ))),
                    }
                }
            )*
        }

        impl<T: crate::Api + ?Sized> ApiExt for T {}

        impl Reply {
            /// The operation this answers.
            pub fn op(&self) -> Op {
                match self { $(Reply::$name(_) => Op::$name,)* }
            }
        }
    };
}

operations! {
    /// The installation record.
    Installation => installation -> Installation, Connected, AtOnce;
    /// Refuses unless the caller may see licences.
    RequireLicenceReader => require_licence_reader -> (), Readers, AtOnce;
    /// The Status screen.
    Status => status -> StatusView, Readers, Slow;
    /// Every licence in force, the vendor's first.
    Licences => licences -> Vec<LicenceView>, Readers, Slow;
    /// A page of users.
    UsersPage { #[serde(flatten)] query: UserQuery } => users_page -> UsersPage, Readers, Slow;
    /// Makes ready what a search of users reads (a moment on a large
    /// store), so that the first keystroke of a search does not wait for it.
    PrepareUserSearch => prepare_user_search -> (), Readers, Slow;
    /// One user: the caller's own record, or anyone's for those who see users.
    User { name: String } => user -> Option<User>, ReadersOrSelf, AtOnce;
    /// One user's detail (e-mail, role, licence and term, add-ons, state,
    /// activation, over-allocation deadline, days charged this month): the
    /// caller's own, or anyone's for those who see users.
    UserDetail { name: String } => user_detail -> UserDetail, ReadersOrSelf, AtOnce;
    /// Adds a user.
    AddUser { #[serde(flatten)] new: NewUser } => add_user -> User, Owner, Write;
    /// Changes a user's role, licence, e-mail or add-ons.
    SetUser { name: String, change: UserChange } => set_user -> User, Owner, Write;
    /// Deactivates a user.
    Deactivate { name: String } => deactivate -> User, Owner, Write;
    /// Activates a user.
    Activate { name: String } => activate -> User, Owner, Write;
    /// Deletes a user (the name stays reserved).
    DeleteUser { name: String } => delete_user -> (), Owner, Write;
    /// Holders of an add-on module.
    AddOnHolders { module: String } => add_on_holders -> Vec<String>, Readers, Slow;
    /// May this user work now?
    Check { user: String } => check -> CheckResult, CheckersOrSelf, AtOnce;
    /// May this user work now, and if so a lease signed by the installation key.
    Lease { user: String } => lease -> LeaseOutcome, CheckersOrSelf, AtOnce;
    /// The installation's public key (SPKI PEM), which checks its leases.
    InstallationKey => installation_public_key_pem -> String, Connected, AtOnce;
    /// Sets the lifetime of the leases the store signs (hours); answers the hours before.
    SetLeaseHours { hours: u32 } => set_lease_hours -> u32, Owner, Write;
    /// A user worked on a day (default today).
    RecordUsage {
        user: String,
        kind: UsageKind,
        #[serde(default)] day: Option<NaiveDate>,
    } => record_usage -> UsageOutcome, Recorders, AtOnceUnlessNew;
    /// Storage in use now; answers the pooled allowance in GB.
    RecordStorage { bytes: u64 } => record_storage -> u64, Recorders, Write;
    /// Uses of a metered service; answers the month's total.
    RecordMetered { service: String, count: u64 } => record_metered -> u64, Recorders, Write;
    /// Imports a licence file (its text).
    Import { licence: String } => import -> ImportOutcome, Readers, Write;
    /// Signs a clock request (the high-water mark and a nonce) for the vendor.
    RequestClock => request_clock -> String, Readers, Write;
    /// Imports the vendor's clock correction (its text): the mark becomes the vendor's time.
    ImportClock { correction: String } => import_clock -> ClockOutcome, Readers, Write;
    /// Applies what time has made due.
    Tick => tick -> TickReport, StoreUser, Write;
    /// The latest events, newest first.
    Events {
        limit: usize,
        #[serde(default)] before: Option<u64>,
    } => events -> Vec<Event>, Readers, Slow;
    /// A page of the Status screen's notifications, newest first, from any
    /// position (an offset or a cursor), with the total: every one reachable.
    Notifications { #[serde(flatten)] query: NotificationQuery } => notifications -> NotificationsPage, Readers, Slow;
    /// The history the console's charts draw: seats per pool month by month,
    /// charged user-days of the daily pools over the last `days` days (1 to
    /// 366), storage against the allowance, metered services and this
    /// month's overage.
    History { days: u32 } => history -> History, Readers, Slow;
    /// Checks the action log's chain and rebuilds the counters from the store.
    AuditVerify => audit_verify -> AuditReport, Readers, Slow;
    /// Checks and prices a seat request without recording it.
    QuoteSeats {
        licence: String,
        term: String,
        action: SeatAction,
        count: u32,
    } => quote_seats -> Quote, Readers, Slow;
    /// Buys or gives back seats: records them and signs the request.
    RequestSeats {
        licence: String,
        term: String,
        action: SeatAction,
        count: u32,
        #[serde(default)] note: String,
    } => request_seats -> RequestOutcome, Readers, Write;
    /// Checks and prices an add-on or integration request without recording it.
    QuoteModules {
        kind: ModuleKind,
        name: String,
        action: SeatAction,
        count: u32,
    } => quote_modules -> Quote, Readers, Slow;
    /// Buys or gives back add-on or integration licences: records them and
    /// signs the request (format 2).
    RequestModules {
        kind: ModuleKind,
        name: String,
        action: SeatAction,
        count: u32,
        #[serde(default)] note: String,
    } => request_modules -> RequestOutcome, Readers, Write;
    /// Makes and signs the usage report of a month.
    UsageReport { month: YearMonth } => usage_report -> Vec<(UsageReport, String)>, Readers, Write;
    /// The confirmation e-mails.
    Outbox => outbox -> Vec<OutboxEntry>, Readers, Slow;
    /// The contracts zip.
    ExportContracts => export_contracts -> ContractsZip, Readers, Slow;
    /// The metrics: the store's facts (seats, licences, metered use, the
    /// clock), and the service's counters when the service answers.
    Metrics => metrics -> Metrics, Monitors, Slow;
    /// Sends every event after `after` and every new one, as they happen.
    Subscribe { #[serde(default)] after: Option<u64> } => subscribe -> (), Readers, Connection;
}
