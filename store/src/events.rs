//! The action log's events: typed, versioned records.
//!
//! Every change appends [`Action`]s to the hash chain. An action is the fact
//! that happened, with the values it happened with (the user, the seat, the
//! counts); the sentence an administrator reads is its `Display` (one line),
//! [`Action::name`] and [`Action::description`], rendered when the event is
//! read. Because the facts are typed, [`Counters::replay`] can rebuild the
//! store's counters from the log alone, which is what `audit verify` does.
//!
//! ## Record format
//!
//! - **Version 1** (stores made before schema 3): the bincode encoding of the
//!   event with its text (name, message, description) and no action. Still
//!   read, never written. Its first byte is the varint of its sequence number,
//!   which is never `0xFF`.
//! - **Version 2**: the byte `0xFF`, the byte `2`, then the bincode encoding of
//!   [`EventV2`]. The hash covers the two bytes and the encoding with the hash
//!   field zeroed. The variants of [`Action`] are encoded by their position:
//!   new ones are added at the end and none is ever removed or reordered.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::model::{self, Event, EventKind, EventStatus, InstallationKind, ModuleKey, PoolKey};
use crate::roles::Role;
use crate::rules::check::fmt_minute;
use crate::users::UserCounts;

/// The record format events are written in.
pub const EVENT_FORMAT: u8 = 2;

/// The first byte of a typed record: never the first byte of a version 1 one.
const TYPED: u8 = 0xFF;

/// A seat count that changed with an imported licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolChange {
    /// The pool.
    pub pool: PoolKey,
    /// Seats before the import.
    pub from: u32,
    /// Seats after it (0 when the pool is no longer licensed).
    pub to: u32,
    /// The new licence no longer has the pool.
    pub dropped: bool,
}

impl fmt::Display for PoolChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} -> {} seats",
            self.pool.label(),
            self.from,
            self.to
        )?;
        if self.dropped {
            f.write_str(" (no longer licensed)")?;
        }
        Ok(())
    }
}

/// One part of a change to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEdit {
    /// The role changed.
    Role {
        /// Before.
        from: Role,
        /// After.
        to: Role,
    },
    /// The seat's licence changed.
    Seat {
        /// Before.
        from: Option<PoolKey>,
        /// After.
        to: Option<PoolKey>,
        /// The user was active, so a seat in use moved.
        active: bool,
        /// The user was over-allocated in the old pool (the mark went with the seat).
        was_over_allocated: bool,
    },
    /// The e-mail address changed.
    Email {
        /// Before (empty for none).
        from: String,
        /// After.
        to: String,
    },
    /// An add-on licence was given.
    AddOnGiven(String),
    /// An add-on licence was taken away.
    AddOnTaken(String),
}

impl fmt::Display for UserEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pool = |p: &Option<PoolKey>| p.as_ref().map_or_else(|| "none".into(), PoolKey::label);
        match self {
            UserEdit::Role { from, to } => write!(f, "role {} -> {}", from.name(), to.name()),
            UserEdit::Seat { from, to, .. } => write!(f, "licence {} -> {}", pool(from), pool(to)),
            UserEdit::Email { from, to } => {
                let from = if from.is_empty() { "none" } else { from };
                write!(f, "e-mail {from} -> {to}")
            }
            UserEdit::AddOnGiven(m) => write!(f, "add-on {m} given"),
            UserEdit::AddOnTaken(m) => write!(f, "add-on {m} taken away"),
        }
    }
}

/// Why a user was deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Deactivation {
    /// The operator (the event's author) deactivated them.
    ByOperator,
    /// Over-allocated past the grace (seed 003): the rule deactivated them.
    GraceEnded {
        /// Seats of the pool.
        total: u64,
        /// Seats in use before.
        in_use: u64,
        /// The grace in days.
        grace_days: u32,
    },
}

/// What happened: one event of the action log.
///
/// The order of the variants is the record format (see the module): add new
/// ones at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// The store was created.
    StoreCreated {
        /// Central or satellite.
        kind: InstallationKind,
        /// The installation's serial number.
        serial: String,
        /// The licensee.
        company: String,
        /// A demonstration store.
        demo: bool,
        /// The installation key's id.
        key_id: String,
    },
    /// A licence was imported and is in force.
    LicenceImported {
        /// Its id.
        licence_id: String,
        /// Its sequence.
        sequence: u64,
        /// Its issuer: empty for the vendor.
        issuer: String,
        /// The licensee.
        company: String,
        /// The plan's name.
        plan: String,
        /// The expiry day and grace days, if time-limited.
        expiry: Option<(NaiveDate, u32)>,
        /// Seat counts that changed.
        changes: Vec<PoolChange>,
    },
    /// A licence expires soon.
    LicenceExpiring {
        /// Which licence (none: the one just imported).
        licence_id: Option<String>,
        /// Its last day.
        expires: NaiveDate,
        /// Days left.
        days_left: i64,
    },
    /// A licence expired and works in its grace.
    LicenceInGrace {
        /// Which licence.
        licence_id: String,
        /// The day it expired.
        expired: NaiveDate,
        /// The first day of termination.
        terminates: NaiveDate,
    },
    /// A licence's grace ended.
    LicenceTerminated {
        /// Which licence.
        licence_id: String,
        /// The first day of termination.
        since: NaiveDate,
    },
    /// A user was added (active).
    UserAdded {
        /// The username.
        user: String,
        /// The role.
        role: Role,
        /// The seat, if any.
        seat: Option<PoolKey>,
    },
    /// Users were added in bulk (active), from the HR system or the demo.
    UsersImported {
        /// How many.
        count: u64,
        /// The first username.
        first: String,
        /// The last username.
        last: String,
        /// Seats taken, per pool.
        seats: Vec<(PoolKey, u64)>,
    },
    /// A user's role, seat, e-mail or add-ons changed.
    UserChanged {
        /// The username.
        user: String,
        /// What changed.
        changes: Vec<UserEdit>,
    },
    /// A user was deactivated.
    UserDeactivated {
        /// The username.
        user: String,
        /// The seat they held, now free.
        seat: Option<PoolKey>,
        /// They were over-allocated (the mark went with them).
        was_over_allocated: bool,
        /// Why.
        cause: Deactivation,
    },
    /// A user was activated.
    UserActivated {
        /// The username.
        user: String,
        /// The seat they take, if any.
        seat: Option<PoolKey>,
    },
    /// A user was deleted; the name stays reserved.
    UserDeleted {
        /// The username.
        user: String,
        /// They were active (and were deactivated with this).
        was_active: bool,
        /// The seat they held.
        seat: Option<PoolKey>,
        /// They were over-allocated.
        was_over_allocated: bool,
        /// The add-ons they held, now free.
        add_ons: Vec<String>,
    },
    /// An over-allocated user got a seat.
    OverAllocationResolved {
        /// The username.
        user: String,
        /// The pool.
        pool: PoolKey,
        /// Its seats.
        total: u64,
        /// Seats in use.
        in_use: u64,
    },
    /// An active user has no free seat (seed 003).
    UserOverAllocated {
        /// The username.
        user: String,
        /// The pool.
        pool: PoolKey,
        /// Its seats.
        total: u64,
        /// Seats in use.
        in_use: u64,
        /// The grace in days.
        grace_days: i64,
        /// When they are deactivated unless seats are bought (seconds).
        deadline: i64,
    },
    /// Seats were asked of the vendor.
    SeatsRequested {
        /// The request id.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats asked for.
        count: u32,
        /// What is charged now, in `currency`.
        charged_now: String,
        /// Currency.
        currency: String,
        /// The day they lapse if no licence grants them.
        lapses: NaiveDate,
        /// The confirmation e-mail's file.
        email_file: String,
        /// Its address.
        email_to: String,
    },
    /// Seats were given back, from a day.
    SeatReductionScheduled {
        /// The request id.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats given back.
        count: u32,
        /// Seats before.
        from: u32,
        /// Seats after.
        to: u32,
        /// From when.
        effective: NaiveDate,
        /// The confirmation e-mail's file.
        email_file: String,
        /// Its address.
        email_to: String,
    },
    /// A purchase cancelled a reduction not yet applied.
    SeatReductionCancelled {
        /// The purchase.
        request_id: String,
        /// The reduction cancelled.
        reduction: String,
        /// The pool.
        pool: PoolKey,
        /// Seats it gave back.
        count: u32,
        /// When it would have applied.
        effective: NaiveDate,
    },
    /// An imported licence grants seats that were pending.
    PurchaseFulfilled {
        /// The request.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats asked.
        count: u32,
        /// Seats before the request.
        base_total: u32,
        /// Seats the licence grants.
        granted: u32,
        /// The licence's id.
        licence_id: String,
        /// Its sequence.
        sequence: u64,
    },
    /// An imported licence reflects a reduction.
    SeatReductionLicensed {
        /// The request.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats the licence grants.
        granted: u32,
        /// Its sequence.
        sequence: u64,
    },
    /// Pending seats lapsed.
    PurchaseExpired {
        /// The request.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats that were pending.
        count: u32,
        /// Days they waited.
        days: i64,
    },
    /// A reduction took effect.
    SeatReductionApplied {
        /// The request.
        request_id: String,
        /// The pool.
        pool: PoolKey,
        /// Seats given back.
        count: u32,
        /// The day it took effect.
        effective: NaiveDate,
        /// Seats now.
        target: u32,
    },
    /// Storage passed the pooled allowance this month.
    StorageOverAllowance {
        /// Bytes used.
        bytes: u64,
        /// The allowance in GB.
        allowance_gb: u64,
    },
    /// A metered service passed its free threshold this month.
    MeteredOverThreshold {
        /// The service.
        service: String,
        /// Its unit.
        unit: String,
        /// Used this month.
        used: u64,
        /// The threshold.
        threshold: u64,
        /// Base allowance.
        base: u64,
        /// Allowance per user.
        per_user: u64,
        /// Users counted.
        users: u64,
        /// The month.
        month: String,
        /// Price of a further unit.
        price: String,
    },
    /// A usage report was made.
    UsageReported {
        /// The report id.
        report_id: String,
        /// The month.
        month: String,
        /// Parts it was signed in.
        parts: u32,
        /// Pools with peak seats.
        pools: u64,
        /// Charged user-days.
        days: u64,
        /// Daily users.
        daily_users: u64,
        /// Metered services.
        metered: u64,
        /// Storage used, bytes.
        storage_bytes: u64,
        /// Storage allowance, GB.
        allowance_gb: u64,
    },
    /// The store was migrated to a newer schema.
    StoreMigrated {
        /// Schema before.
        from: u32,
        /// Schema after.
        to: u32,
        /// What the step does.
        what: String,
        /// The counters when typed events began, recounted from the records:
        /// where a replay of the log starts for a store whose earlier events
        /// are version 1 (text only).
        checkpoint: Option<Counters>,
    },
    /// The clock is behind the latest time the store has seen.
    ClockMovedBackwards {
        /// What the clock said (seconds).
        clock: i64,
        /// The latest time seen (seconds).
        high_water: i64,
    },
    /// A change was made at a time far past the latest the store had seen:
    /// the mark moves with it, and a wrong clock is seen here.
    ClockMovedForward {
        /// The mark before (seconds).
        from: i64,
        /// The time of the change (seconds).
        to: i64,
    },
    /// A clock correction was asked of the vendor.
    ClockRequested {
        /// The request's nonce, in hex.
        nonce: String,
        /// The mark it reports (seconds).
        high_water: i64,
    },
    /// The vendor's clock correction set the mark to the vendor's time.
    ClockCorrected {
        /// The mark before (seconds).
        from: i64,
        /// The vendor's time, the mark now (seconds).
        to: i64,
        /// The request's nonce, in hex.
        nonce: String,
    },
    /// The lifetime of the leases the store signs was changed.
    LeaseHoursSet {
        /// Hours before.
        from: u32,
        /// Hours now.
        to: u32,
    },
    /// Add-on or integration licences were asked of the vendor.
    ModulesRequested {
        /// The request id.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences asked for.
        count: u32,
        /// What is charged now, in `currency`.
        charged_now: String,
        /// Currency.
        currency: String,
        /// The day they lapse if no licence grants them.
        lapses: NaiveDate,
        /// The confirmation e-mail's file.
        email_file: String,
        /// Its address.
        email_to: String,
    },
    /// Add-on or integration licences were given back, from a day.
    ModuleReductionScheduled {
        /// The request id.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences given back.
        count: u32,
        /// Licences before.
        from: u32,
        /// Licences after.
        to: u32,
        /// From when.
        effective: NaiveDate,
        /// The confirmation e-mail's file.
        email_file: String,
        /// Its address.
        email_to: String,
    },
    /// A purchase cancelled a module reduction not yet applied.
    ModuleReductionCancelled {
        /// The purchase.
        request_id: String,
        /// The reduction cancelled.
        reduction: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences it gave back.
        count: u32,
        /// When it would have applied.
        effective: NaiveDate,
    },
    /// An imported licence grants add-on or integration licences that were pending.
    ModulePurchaseFulfilled {
        /// The request.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences asked.
        count: u32,
        /// Licences the licence grants.
        granted: u32,
        /// The licence's id.
        licence_id: String,
        /// Its sequence.
        sequence: u64,
    },
    /// An imported licence reflects a module reduction.
    ModuleReductionLicensed {
        /// The request.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences the licence grants.
        granted: u32,
        /// Its sequence.
        sequence: u64,
    },
    /// Pending add-on or integration licences lapsed.
    ModulePurchaseExpired {
        /// The request.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences that were pending.
        count: u32,
        /// Days they waited.
        days: i64,
    },
    /// A module reduction took effect.
    ModuleReductionApplied {
        /// The request.
        request_id: String,
        /// The add-on or integration.
        module: ModuleKey,
        /// Licences given back.
        count: u32,
        /// The day it took effect.
        effective: NaiveDate,
        /// Licences now.
        target: u32,
    },
}

fn parts_suffix(parts: u32) -> String {
    if parts <= 1 {
        String::new()
    } else {
        format!(" in {parts} parts")
    }
}

fn gb(bytes: u64) -> f64 {
    bytes as f64 / 1e9
}

/// An add-on's word or an integration's, for events about either.
fn by_kind(
    kind: licfile::ModuleKind,
    add_on: &'static str,
    integration: &'static str,
) -> &'static str {
    match kind {
        licfile::ModuleKind::AddOn => add_on,
        licfile::ModuleKind::Integration => integration,
    }
}

impl Action {
    /// The short name shown in the log: "Licence imported", "User added", ….
    pub fn name(&self) -> &'static str {
        match self {
            Action::StoreCreated { .. } => "Store created",
            Action::LicenceImported { .. } => "Licence imported",
            Action::LicenceExpiring { .. } => "Licence expiring",
            Action::LicenceInGrace { .. } => "Licence in grace",
            Action::LicenceTerminated { .. } => "Licence terminated",
            Action::UserAdded { .. } => "User added",
            Action::UsersImported { .. } => "Users imported",
            Action::UserChanged { .. } => "User changed",
            Action::UserDeactivated { .. } => "User deactivated",
            Action::UserActivated { .. } => "User activated",
            Action::UserDeleted { .. } => "User deleted",
            Action::OverAllocationResolved { .. } => "Over-allocation resolved",
            Action::UserOverAllocated { .. } => "User over-allocated",
            Action::SeatsRequested { .. } => "Seats requested",
            Action::SeatReductionScheduled { .. } => "Seat reduction scheduled",
            Action::SeatReductionCancelled { .. } => "Seat reduction cancelled",
            Action::PurchaseFulfilled { .. } => "Purchase fulfilled",
            Action::SeatReductionLicensed { .. } => "Seat reduction licensed",
            Action::PurchaseExpired { .. } => "Purchase expired",
            Action::SeatReductionApplied { .. } => "Seat reduction applied",
            Action::StorageOverAllowance { .. } => "Storage over allowance",
            Action::MeteredOverThreshold { .. } => "Metered service over threshold",
            Action::UsageReported { .. } => "Usage report",
            Action::StoreMigrated { .. } => "Store migrated",
            Action::ClockMovedBackwards { .. } => "Clock moved backwards",
            Action::ClockMovedForward { .. } => "Clock moved forward",
            Action::ClockRequested { .. } => "Clock correction requested",
            Action::ClockCorrected { .. } => "Clock corrected",
            Action::LeaseHoursSet { .. } => "Lease lifetime set",
            // Named for what they are about, so the log reads right for both.
            Action::ModulesRequested { module, .. } => by_kind(
                module.kind,
                "Add-on licences requested",
                "Integration licences requested",
            ),
            Action::ModuleReductionScheduled { module, .. } => by_kind(
                module.kind,
                "Add-on reduction scheduled",
                "Integration reduction scheduled",
            ),
            Action::ModuleReductionCancelled { module, .. } => by_kind(
                module.kind,
                "Add-on reduction cancelled",
                "Integration reduction cancelled",
            ),
            Action::ModulePurchaseFulfilled { module, .. } => by_kind(
                module.kind,
                "Add-on purchase fulfilled",
                "Integration purchase fulfilled",
            ),
            Action::ModuleReductionLicensed { module, .. } => by_kind(
                module.kind,
                "Add-on reduction licensed",
                "Integration reduction licensed",
            ),
            Action::ModulePurchaseExpired { module, .. } => by_kind(
                module.kind,
                "Add-on purchase expired",
                "Integration purchase expired",
            ),
            Action::ModuleReductionApplied { module, .. } => by_kind(
                module.kind,
                "Add-on reduction applied",
                "Integration reduction applied",
            ),
        }
    }

    /// How it stands, as the log shows it.
    pub fn status(&self) -> EventStatus {
        match self {
            Action::LicenceExpiring { .. }
            | Action::LicenceInGrace { .. }
            | Action::UserOverAllocated { .. }
            | Action::PurchaseExpired { .. }
            | Action::ModulePurchaseExpired { .. }
            | Action::StorageOverAllowance { .. }
            | Action::MeteredOverThreshold { .. }
            | Action::ClockMovedBackwards { .. }
            | Action::ClockMovedForward { .. } => EventStatus::Warning,
            Action::UserDeactivated {
                cause: Deactivation::GraceEnded { .. },
                ..
            } => EventStatus::Warning,
            Action::LicenceTerminated { .. } => EventStatus::Failed,
            Action::SeatsRequested { .. } | Action::ModulesRequested { .. } => EventStatus::Pending,
            _ => EventStatus::Completed,
        }
    }

    /// The full description shown below the list; `by` is who made the change.
    pub fn description(&self, by: &str) -> String {
        match self {
            Action::StoreCreated {
                kind,
                serial,
                key_id,
                ..
            } => format!(
                "{by} created this {} store for serial {serial}. Installation key {key_id}.",
                kind.word()
            ),
            Action::LicenceImported {
                licence_id,
                sequence,
                company,
                plan,
                expiry,
                changes,
                ..
            } => {
                let expiry = match expiry {
                    Some((date, grace)) => format!("expires {date} ({grace} days' grace)"),
                    None => "not time-limited".to_string(),
                };
                let changes = if changes.is_empty() {
                    "Seat counts unchanged.".to_string()
                } else {
                    changes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                format!(
                    "Licence {licence_id} (sequence {sequence}) for {company} on the {plan} plan, {expiry}, imported by {by}.\n{changes}"
                )
            }
            Action::LicenceExpiring {
                licence_id: None, ..
            } => {
                "Ask the vendor for a renewed licence and import it before the expiry date.".into()
            }
            Action::LicenceExpiring { .. }
            | Action::LicenceInGrace { .. }
            | Action::LicenceTerminated { .. } => {
                format!("{self}. Ask the vendor for a renewed licence and import it.")
            }
            Action::UserAdded { user, role, seat } => format!(
                "{by} added {user} as {}{}.",
                role.name(),
                seat.as_ref()
                    .map(|s| format!(" with a seat in {}", s.label()))
                    .unwrap_or_else(|| " without a seat".into())
            ),
            Action::UsersImported {
                count, first, last, ..
            } => format!(
                "{by} imported {count} users ({first} to {last}) with their roles and seats."
            ),
            Action::UserChanged { user, changes } => format!(
                "{by} changed user {user}: {}.",
                changes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Action::UserDeactivated {
                user,
                seat,
                cause:
                    Deactivation::GraceEnded {
                        total,
                        in_use,
                        grace_days,
                    },
                ..
            } => format!(
                "{user} was active without a free seat in {} ({total} seats, {in_use} in use) for longer than the grace of {grace_days} days, and was the most recently activated over-allocated user. Buy seats and activate {user} again.",
                seat.as_ref().map(PoolKey::label).unwrap_or_default()
            ),
            Action::UserDeactivated { user, .. } => {
                format!("{by} deactivated {user}; their seat is free.")
            }
            Action::UserActivated { user, .. } => format!("{by} activated {user}."),
            Action::UserDeleted { user, .. } => {
                format!("{by} deleted {user}; the username stays reserved.")
            }
            Action::OverAllocationResolved {
                user,
                pool,
                total,
                in_use,
            } => format!(
                "{} has {total} seats and {in_use} in use; {user} is no longer over-allocated.",
                pool.label()
            ),
            Action::UserOverAllocated {
                user,
                pool,
                total,
                in_use,
                grace_days,
                deadline,
            } => format!(
                "{user} is active in {}, which has {total} seats and {in_use} in use. Buy seats or free one within {grace_days} days, or {user} (the most recently activated) is deactivated on {}.",
                pool.label(),
                crate::rules::check::fmt_day(*deadline)
            ),
            Action::SeatsRequested {
                request_id,
                pool,
                count,
                lapses,
                email_file,
                email_to,
                ..
            } => format!(
                "{by} asked the vendor for {count} {} seats (request {request_id}). They are pending until the licence granting them is imported, and lapse on {lapses}. Confirmation e-mail {email_file} to {email_to}.",
                pool.label()
            ),
            Action::SeatReductionScheduled {
                request_id,
                pool,
                count,
                effective,
                email_file,
                email_to,
                ..
            } => format!(
                "{by} gave back {count} {} seats (request {request_id}), effective {effective}. Confirmation e-mail {email_file} to {email_to}.",
                pool.label()
            ),
            Action::SeatReductionCancelled { reduction, .. } => format!(
                "A purchase after a scheduled reduction resets the next period to the purchased count. Request {reduction} no longer applies; give seats back again if still wanted."
            ),
            Action::PurchaseFulfilled {
                pool,
                count,
                base_total,
                granted,
                licence_id,
                sequence,
                ..
            } => format!(
                "Licence {licence_id} sequence {sequence} grants {granted} {} seats ({base_total} before the request, {count} asked): the pending seats are usable.",
                pool.label()
            ),
            Action::SeatReductionLicensed { request_id, .. } => {
                format!("The vendor's licence now reflects the reduction of request {request_id}.")
            }
            Action::PurchaseExpired {
                request_id,
                pool,
                count,
                days,
            } => format!(
                "No licence granting the {count} {} seats of request {request_id} was imported within {days} days, so they are no longer pending and were never charged. Request them again if they are still needed.",
                pool.label()
            ),
            Action::SeatReductionApplied {
                request_id,
                effective,
                ..
            } => format!(
                "The reduction of request {request_id} took effect on {effective}. Users beyond the seats are over-allocated, and the most recently activated are deactivated after the grace."
            ),
            Action::StorageOverAllowance {
                bytes,
                allowance_gb,
            } => format!(
                "Data usage {:.1} GB is over the pooled allowance of {allowance_gb} GB (contracted and monthly seats x GB per seat). Buy seats or reduce data.",
                gb(*bytes)
            ),
            Action::MeteredOverThreshold {
                service,
                unit,
                threshold,
                base,
                per_user,
                users,
                month,
                price,
                ..
            } => format!(
                "{service} passed its free threshold of {threshold} {unit} ({base} + {per_user} per user x {users} users) for {month}; each further unit costs {price} on the next invoice."
            ),
            Action::UsageReported {
                report_id,
                month,
                parts,
                pools,
                days,
                daily_users,
                metered,
                storage_bytes,
                allowance_gb,
            } => format!(
                "{by} made the usage report {report_id} for {month}{}: peak seats of {pools} pools, {days} charged user-days of {daily_users} daily users, {metered} metered services, {:.1} GB of {allowance_gb} GB storage.",
                parts_suffix(*parts),
                gb(*storage_bytes)
            ),
            Action::StoreMigrated { from, to, what, .. } => format!(
                "The store was made by an earlier Tessera (schema {from}); this one {what} and now writes schema {to}."
            ),
            Action::ClockMovedBackwards { clock, high_water } => format!(
                "The machine's clock is {} hours behind the latest time this store has seen. Licence dates are judged by the later time, {}. Correct the clock (NTP) if it is wrong; if it was the later time that was wrong, ask the vendor for a clock correction (tessera request clock).",
                (high_water - clock) / 3600,
                fmt_minute(*high_water)
            ),
            Action::ClockMovedForward { from, to } => format!(
                "This change was made at {}, {} days after the latest time the store had seen ({}). The store never goes back on a time it has seen (that is what defeats winding the clock back), so licence dates are judged by {} from now on. If the clock was wrong, set it right and ask the vendor for a clock correction: tessera request clock --out FILE, send FILE to the vendor, then tessera import the answer.",
                fmt_minute(*to),
                (to - from) / 86_400,
                fmt_minute(*from),
                fmt_minute(*to)
            ),
            Action::ClockRequested { nonce, high_water } => format!(
                "{by} asked the vendor for its time (request {nonce}), reporting the latest time seen, {}. The vendor's answer can be imported once, within 48 hours of its making.",
                fmt_minute(*high_water)
            ),
            Action::ClockCorrected { from, to, nonce } => format!(
                "{by} imported the vendor's clock correction for request {nonce}: the latest time the store has seen was {} and is now the vendor's time, {}. Licence dates are judged by it (or by the machine's clock once that is later).",
                fmt_minute(*from),
                fmt_minute(*to)
            ),
            Action::LeaseHoursSet { from, to } => format!(
                "{by} set the lifetime of the leases this store signs from {from} to {to} hours. A user deactivated while the service cannot be reached keeps working until their lease runs out: at most {to} hours from its signing."
            ),
            Action::ModulesRequested {
                request_id,
                module,
                count,
                lapses,
                email_file,
                email_to,
                ..
            } => format!(
                "{by} asked the vendor for {count} {} licences (request {request_id}). They are pending until the licence granting them is imported, and lapse on {lapses}. Confirmation e-mail {email_file} to {email_to}.",
                module.label()
            ),
            Action::ModuleReductionScheduled {
                request_id,
                module,
                count,
                effective,
                email_file,
                email_to,
                ..
            } => format!(
                "{by} gave back {count} {} licences (request {request_id}), effective {effective}. Confirmation e-mail {email_file} to {email_to}.",
                module.label()
            ),
            Action::ModuleReductionCancelled { reduction, .. } => format!(
                "A purchase after a scheduled reduction resets the next period to the purchased count. Request {reduction} no longer applies; give licences back again if still wanted."
            ),
            Action::ModulePurchaseFulfilled {
                module,
                count,
                granted,
                licence_id,
                sequence,
                ..
            } => format!(
                "Licence {licence_id} sequence {sequence} grants {granted} {} licences ({count} asked): the pending licences can be assigned.",
                module.label()
            ),
            Action::ModuleReductionLicensed { request_id, .. } => {
                format!("The vendor's licence now reflects the reduction of request {request_id}.")
            }
            Action::ModulePurchaseExpired {
                request_id,
                module,
                count,
                days,
            } => format!(
                "No licence granting the {count} {} licences of request {request_id} was imported within {days} days, so they are no longer pending and were never charged. Request them again if they are still needed.",
                module.label()
            ),
            Action::ModuleReductionApplied {
                request_id,
                effective,
                module,
                ..
            } => format!(
                "The reduction of request {request_id} took effect on {effective}. Users who hold the {} keep it; no more can be given it than the licences now allow.",
                module.label()
            ),
        }
    }
}

/// The one-line message.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::StoreCreated {
                kind,
                serial,
                company,
                demo,
                ..
            } => write!(
                f,
                "{} installation {serial} for {company}{}",
                kind.word(),
                if *demo { " (DEMO)" } else { "" }
            ),
            Action::LicenceImported {
                licence_id,
                sequence,
                issuer,
                ..
            } => {
                write!(f, "licence {licence_id} sequence {sequence} from ")?;
                if issuer.is_empty() {
                    f.write_str("the vendor")
                } else {
                    write!(f, "issuer {issuer}")
                }
            }
            Action::LicenceExpiring {
                licence_id,
                expires,
                days_left,
            } => match licence_id {
                Some(id) => write!(f, "licence {id} expires {expires}, in {days_left} days"),
                None => write!(f, "the licence expires {expires}, in {days_left} days"),
            },
            Action::LicenceInGrace {
                licence_id,
                expired,
                terminates,
            } => write!(
                f,
                "licence {licence_id} expired {expired}; terminated from {terminates}"
            ),
            Action::LicenceTerminated { licence_id, since } => write!(
                f,
                "licence {licence_id} terminated since {since}; only the Owner/manager can work"
            ),
            Action::UserAdded { user, role, .. } => write!(f, "{user} added as {}", role.name()),
            Action::UsersImported { count, .. } => {
                write!(f, "{count} users imported from the HR system")
            }
            Action::UserChanged { user, changes } => write!(
                f,
                "{user}: {}",
                changes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::UserDeactivated {
                user,
                cause: Deactivation::GraceEnded { .. },
                ..
            } => write!(f, "{user} deactivated: over-allocation grace ended"),
            Action::UserDeactivated { user, .. } => write!(f, "{user} deactivated"),
            Action::UserActivated { user, .. } => write!(f, "{user} activated"),
            Action::UserDeleted { user, .. } => write!(f, "{user} deleted"),
            Action::OverAllocationResolved { user, pool, .. } => {
                write!(f, "{user} now has a seat in {}", pool.label())
            }
            Action::UserOverAllocated {
                user,
                pool,
                deadline,
                ..
            } => write!(
                f,
                "{user} has no free seat in {}; deactivated on {} unless seats are bought",
                pool.label(),
                crate::rules::check::fmt_day(*deadline)
            ),
            Action::SeatsRequested {
                request_id,
                pool,
                count,
                charged_now,
                currency,
                ..
            } => write!(
                f,
                "{request_id}: {count} {} seats pending, {charged_now} {currency} now",
                pool.label()
            ),
            Action::SeatReductionScheduled {
                request_id,
                pool,
                from,
                to,
                effective,
                ..
            } => write!(
                f,
                "{request_id}: {} from {from} to {to} seats from {effective}",
                pool.label()
            ),
            Action::SeatReductionCancelled {
                request_id,
                pool,
                count,
                effective,
                ..
            } => write!(
                f,
                "{}: the reduction by {count} seats from {effective} is cancelled by purchase {request_id}",
                pool.label()
            ),
            Action::PurchaseFulfilled {
                request_id,
                pool,
                count,
                ..
            } => write!(
                f,
                "{}: {count} seats of request {request_id} are now licensed",
                pool.label()
            ),
            Action::SeatReductionLicensed {
                request_id,
                pool,
                granted,
                sequence,
            } => write!(
                f,
                "{}: licence sequence {sequence} grants {granted} seats, as request {request_id} asked",
                pool.label()
            ),
            Action::PurchaseExpired {
                request_id,
                pool,
                count,
                days,
            } => write!(
                f,
                "request {request_id}: {count} {} seats lapsed unfulfilled after {days} days",
                pool.label()
            ),
            Action::SeatReductionApplied {
                request_id,
                pool,
                count,
                effective,
                target,
            } => write!(
                f,
                "{}: {count} seats given back from {effective} (request {request_id}); {target} seats now",
                pool.label()
            ),
            Action::StorageOverAllowance {
                bytes,
                allowance_gb,
            } => write!(f, "{:.1} GB used of {allowance_gb} GB", gb(*bytes)),
            Action::MeteredOverThreshold {
                service,
                unit,
                used,
                threshold,
                ..
            } => write!(f, "{service}: {used} of {threshold} free {unit} this month"),
            Action::UsageReported {
                report_id,
                month,
                parts,
                days,
                ..
            } => write!(
                f,
                "report {report_id} for {month}{}: {days} daily user-days",
                parts_suffix(*parts)
            ),
            Action::StoreMigrated { from, to, .. } => write!(f, "schema {from} -> {to}"),
            Action::ClockMovedBackwards { clock, high_water } => write!(
                f,
                "the clock says {} but the store has seen {}",
                fmt_minute(*clock),
                fmt_minute(*high_water)
            ),
            Action::ClockMovedForward { from, to } => write!(
                f,
                "the clock jumped from {} to {}",
                fmt_minute(*from),
                fmt_minute(*to)
            ),
            Action::ClockRequested { nonce, .. } => {
                write!(f, "clock correction {nonce} asked of the vendor")
            }
            Action::ClockCorrected { from, to, .. } => write!(
                f,
                "latest time seen set from {} to the vendor's {}",
                fmt_minute(*from),
                fmt_minute(*to)
            ),
            Action::LeaseHoursSet { from, to } => {
                write!(f, "lease lifetime {from} h -> {to} h")
            }
            Action::ModulesRequested {
                request_id,
                module,
                count,
                charged_now,
                currency,
                ..
            } => write!(
                f,
                "{request_id}: {count} {} licences pending, {charged_now} {currency} now",
                module.label()
            ),
            Action::ModuleReductionScheduled {
                request_id,
                module,
                from,
                to,
                effective,
                ..
            } => write!(
                f,
                "{request_id}: {} from {from} to {to} licences from {effective}",
                module.label()
            ),
            Action::ModuleReductionCancelled {
                request_id,
                module,
                count,
                effective,
                ..
            } => write!(
                f,
                "{}: the reduction by {count} licences from {effective} is cancelled by purchase {request_id}",
                module.label()
            ),
            Action::ModulePurchaseFulfilled {
                request_id,
                module,
                count,
                ..
            } => write!(
                f,
                "{}: {count} licences of request {request_id} are now licensed",
                module.label()
            ),
            Action::ModuleReductionLicensed {
                request_id,
                module,
                granted,
                sequence,
            } => write!(
                f,
                "{}: licence sequence {sequence} grants {granted} licences, as request {request_id} asked",
                module.label()
            ),
            Action::ModulePurchaseExpired {
                request_id,
                module,
                count,
                days,
            } => write!(
                f,
                "request {request_id}: {count} {} licences lapsed unfulfilled after {days} days",
                module.label()
            ),
            Action::ModuleReductionApplied {
                request_id,
                module,
                count,
                effective,
                target,
            } => write!(
                f,
                "{}: {count} licences given back from {effective} (request {request_id}); {target} licences now",
                module.label()
            ),
        }
    }
}

/// The counters the store keeps so that no view scans every user, as a
/// replay of the log finds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Users, active users, over-allocated users.
    pub users: UserCounts,
    /// Seats in use, by pool identity (the pool's normalised key, as text).
    pub seats: BTreeMap<String, u64>,
    /// Holders of each add-on, by lower-case module name.
    pub add_ons: BTreeMap<String, u64>,
}

/// The text form of a pool's identity, as [`Counters::seats`] keys it.
pub fn pool_id_text(pool: &PoolKey) -> String {
    String::from_utf8_lossy(&crate::keys::pool(pool)).into_owned()
}

impl Counters {
    fn seat(&mut self, pool: &Option<PoolKey>, delta: i64) {
        if let Some(pool) = pool {
            let n = self.seats.entry(pool_id_text(pool)).or_default();
            *n = n.saturating_add_signed(delta);
        }
    }

    fn add_on(&mut self, module: &str, delta: i64) {
        let n = self.add_ons.entry(module.to_lowercase()).or_default();
        *n = n.saturating_add_signed(delta);
    }

    fn leave(&mut self, seat: &Option<PoolKey>, was_over_allocated: bool) {
        self.users.active = self.users.active.saturating_sub(1);
        self.seat(seat, -1);
        if was_over_allocated && seat.is_some() {
            self.users.over_allocated = self.users.over_allocated.saturating_sub(1);
        }
    }

    /// Applies one action's effect on the counters.
    pub fn apply(&mut self, action: &Action) {
        match action {
            Action::StoreCreated { .. } => *self = Counters::default(),
            Action::StoreMigrated {
                checkpoint: Some(c),
                ..
            } => *self = c.clone(),
            Action::UserAdded { seat, .. } => {
                self.users.total += 1;
                self.users.active += 1;
                self.seat(seat, 1);
            }
            Action::UsersImported { count, seats, .. } => {
                self.users.total += count;
                self.users.active += count;
                for (pool, n) in seats {
                    *self.seats.entry(pool_id_text(pool)).or_default() += n;
                }
            }
            Action::UserChanged { changes, .. } => {
                for c in changes {
                    match c {
                        UserEdit::Seat {
                            from,
                            to,
                            active: true,
                            was_over_allocated,
                        } => {
                            self.seat(from, -1);
                            if *was_over_allocated && from.is_some() {
                                self.users.over_allocated =
                                    self.users.over_allocated.saturating_sub(1);
                            }
                            self.seat(to, 1);
                        }
                        UserEdit::AddOnGiven(m) => self.add_on(m, 1),
                        UserEdit::AddOnTaken(m) => self.add_on(m, -1),
                        _ => {}
                    }
                }
            }
            Action::UserDeactivated {
                seat,
                was_over_allocated,
                ..
            } => self.leave(seat, *was_over_allocated),
            Action::UserActivated { seat, .. } => {
                self.users.active += 1;
                self.seat(seat, 1);
            }
            Action::UserDeleted {
                was_active,
                seat,
                was_over_allocated,
                add_ons,
                ..
            } => {
                if *was_active {
                    self.leave(seat, *was_over_allocated);
                }
                self.users.total = self.users.total.saturating_sub(1);
                for m in add_ons {
                    self.add_on(m, -1);
                }
            }
            Action::OverAllocationResolved { .. } => {
                self.users.over_allocated = self.users.over_allocated.saturating_sub(1);
            }
            Action::UserOverAllocated { .. } => self.users.over_allocated += 1,
            _ => {}
        }
    }

    /// Drops the zero entries, so that two counters compare by what they count.
    pub fn trimmed(mut self) -> Counters {
        self.seats.retain(|_, n| *n > 0);
        self.add_ons.retain(|_, n| *n > 0);
        self
    }
}

/// A version 1 record: the event with its text and no action.
#[derive(Serialize, Deserialize)]
struct EventV1 {
    seq: u64,
    name: String,
    status: EventStatus,
    message: String,
    description: String,
    activated_at: i64,
    activated_by: String,
    finished_at: Option<i64>,
    kind: EventKind,
    prev_hash: [u8; 32],
    hash: [u8; 32],
}

/// A version 2 record: the typed action and who, when, and the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventV2 {
    /// Position in the log, from 1.
    pub seq: u64,
    /// What happened.
    pub action: Action,
    /// When it started (seconds).
    pub activated_at: i64,
    /// Who started it: a username, or "system".
    pub activated_by: String,
    /// When it finished or is expected to (seconds).
    pub finished_at: Option<i64>,
    /// System or user.
    pub kind: EventKind,
    /// Hash of the previous event.
    pub prev_hash: [u8; 32],
    /// SHA-256 over the record with this field zeroed.
    pub hash: [u8; 32],
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(bytes));
    out
}

impl EventV2 {
    /// The record's bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = vec![TYPED, EVENT_FORMAT];
        out.extend(model::encode(self)?);
        Ok(out)
    }

    /// The hash the record must carry.
    pub fn compute_hash(&self) -> Result<[u8; 32]> {
        let mut e = self.clone();
        e.hash = [0; 32];
        Ok(digest(&e.encode()?))
    }

    /// The event as the log shows it.
    pub fn to_event(&self) -> Event {
        Event {
            seq: self.seq,
            name: self.action.name().to_string(),
            status: self.action.status(),
            message: self.action.to_string(),
            description: self.action.description(&self.activated_by),
            activated_at: self.activated_at,
            activated_by: self.activated_by.clone(),
            finished_at: self.finished_at,
            kind: self.kind,
            prev_hash: self.prev_hash,
            hash: self.hash,
            version: EVENT_FORMAT,
            action: Some(self.action.clone()),
        }
    }
}

/// An event read back: shown as an [`Event`], and checked by its hash.
pub struct Decoded {
    /// The event as the log shows it.
    pub event: Event,
    /// The hash its content gives: equal to `event.hash` unless it was altered.
    pub content_hash: [u8; 32],
}

/// Reads a record of either version.
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    match bytes {
        [TYPED, EVENT_FORMAT, rest @ ..] => {
            let e: EventV2 = model::decode(rest, "event")?;
            Ok(Decoded {
                content_hash: e.compute_hash()?,
                event: e.to_event(),
            })
        }
        [TYPED, v, ..] => Err(StoreError::Corrupt(format!(
            "event: record format {v} is newer than this Tessera reads ({EVENT_FORMAT})"
        ))),
        _ => {
            let mut e: EventV1 = model::decode(bytes, "event")?;
            let hash = e.hash;
            e.hash = [0; 32];
            let content_hash = digest(&model::encode(&e)?);
            Ok(Decoded {
                event: Event {
                    seq: e.seq,
                    name: e.name,
                    status: e.status,
                    message: e.message,
                    description: e.description,
                    activated_at: e.activated_at,
                    activated_by: e.activated_by,
                    finished_at: e.finished_at,
                    kind: e.kind,
                    prev_hash: e.prev_hash,
                    hash,
                    version: 1,
                    action: None,
                },
                content_hash,
            })
        }
    }
}

/// Reads a record of either version, as the log shows it.
pub fn decode_event(bytes: &[u8]) -> Result<Event> {
    decode(bytes).map(|d| d.event)
}

impl Counters {
    /// Rebuilds the counters from the log, in order. `None` when the log has
    /// no point to start from (neither the store's creation nor a checkpoint).
    pub fn replay<'a>(actions: impl IntoIterator<Item = &'a Action>) -> Option<Counters> {
        let mut counters = None;
        for a in actions {
            Counters::replay_step(&mut counters, a);
        }
        counters.map(Counters::trimmed)
    }

    /// One step of [`Counters::replay`]: the store's creation and a
    /// checkpoint start the counters; other actions apply once started.
    pub fn replay_step(counters: &mut Option<Counters>, action: &Action) {
        match (action, counters.as_mut()) {
            (Action::StoreCreated { .. }, _)
            | (
                Action::StoreMigrated {
                    checkpoint: Some(_),
                    ..
                },
                _,
            ) => {
                let mut c = Counters::default();
                c.apply(action);
                *counters = Some(c);
            }
            (_, Some(c)) => c.apply(action),
            (_, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str) -> PoolKey {
        PoolKey {
            issuer: String::new(),
            area: "Jobs".into(),
            licence: name.into(),
            term: licfile::document::Term::Monthly,
        }
    }

    #[test]
    fn a_typed_record_reads_back_with_its_text_and_hash() {
        let mut e = EventV2 {
            seq: 7,
            action: Action::UserAdded {
                user: "bob".into(),
                role: Role::Engineer,
                seat: Some(pool("User")),
            },
            activated_at: 1_772_442_000,
            activated_by: "alice".into(),
            finished_at: Some(1_772_442_000),
            kind: EventKind::User,
            prev_hash: [3; 32],
            hash: [0; 32],
        };
        e.hash = e.compute_hash().expect("hash");
        let bytes = e.encode().expect("encode");
        assert_eq!(&bytes[..2], &[0xFF, 2]);
        let d = decode(&bytes).expect("decode");
        assert_eq!(d.content_hash, e.hash);
        assert_eq!(d.event.name, "User added");
        assert_eq!(d.event.message, "bob added as Engineer");
        assert_eq!(
            d.event.description,
            "alice added bob as Engineer with a seat in Jobs User (monthly)."
        );
        assert_eq!(d.event.version, 2);
        // One changed byte in the action changes the content hash.
        let mut altered = bytes.clone();
        let at = altered.iter().position(|b| *b == b'b').expect("the name");
        altered[at] = b'c';
        let d = decode(&altered).expect("still decodes");
        assert_ne!(d.content_hash, e.hash);
    }

    #[test]
    fn a_record_of_a_newer_format_is_refused_by_version() {
        let err = decode(&[0xFF, 9, 0, 0]).err().expect("refused");
        assert!(err.to_string().contains("format 9"), "{err}");
    }

    #[test]
    fn replay_follows_users_seats_marks_and_add_ons() {
        let jobs = Some(pool("User"));
        let log = [
            Action::StoreCreated {
                kind: InstallationKind::Central,
                serial: "NW-1".into(),
                company: "Northwind".into(),
                demo: false,
                key_id: "k".into(),
            },
            Action::UserAdded {
                user: "a".into(),
                role: Role::OwnerManager,
                seat: None,
            },
            Action::UserAdded {
                user: "b".into(),
                role: Role::Engineer,
                seat: jobs.clone(),
            },
            Action::UserOverAllocated {
                user: "b".into(),
                pool: pool("User"),
                total: 0,
                in_use: 1,
                grace_days: 7,
                deadline: 0,
            },
            Action::UserChanged {
                user: "b".into(),
                changes: vec![
                    UserEdit::AddOnGiven("Maps".into()),
                    UserEdit::Seat {
                        from: jobs.clone(),
                        to: Some(pool("Office")),
                        active: true,
                        was_over_allocated: true,
                    },
                ],
            },
            Action::UserDeactivated {
                user: "b".into(),
                seat: Some(pool("Office")),
                was_over_allocated: false,
                cause: Deactivation::ByOperator,
            },
        ];
        let c = Counters::replay(&log).expect("a start");
        assert_eq!(
            c.users,
            UserCounts {
                total: 2,
                active: 1,
                over_allocated: 0
            }
        );
        assert!(c.seats.is_empty(), "{:?}", c.seats);
        assert_eq!(c.add_ons.get("maps"), Some(&1));
        assert!(Counters::replay(&log[1..]).is_none(), "no starting point");
    }
}
