//! One interface to the store for the CLI, the console and the licensed
//! product, whether the store is opened directly or owned by `tessera serve`.
//!
//! [`Local`] works on an open [`Store`] as a given operator; the service's
//! client (`crate::client::Remote`) speaks the same calls over the socket, where
//! the operator is whoever the kernel says connected.

use chrono::NaiveDate;
use licfile::{SeatAction, UsageReport, YearMonth};

use crate::Store;
use crate::audit::AuditReport;
use crate::error::Result;
use crate::licences::ImportOutcome;
use crate::model::{Event, Installation, User};
use crate::outbox::OutboxEntry;
use crate::purchases::{Quote, RequestOutcome};
use crate::tick::TickReport;
use crate::usage::{UsageKind, UsageOutcome};
use crate::users::{CheckResult, NewUser, UserChange};
use crate::views::{LicenceView, StatusView, UserQuery, UsersPage};

/// Everything a client can ask of the store.
pub trait Api: Send + Sync {
    /// Who the calls are made as.
    fn operator(&self) -> String;
    /// Whether this goes through `tessera serve`.
    fn is_remote(&self) -> bool;
    /// The installation record.
    fn installation(&self) -> Result<Installation>;
    /// Refuses unless the operator may see licences.
    fn require_licence_reader(&self) -> Result<()>;
    /// The Status screen.
    fn status(&self) -> Result<StatusView>;
    /// Every licence in force, the vendor's first.
    fn licences(&self) -> Result<Vec<LicenceView>>;
    /// A page of users.
    fn users_page(&self, q: &UserQuery) -> Result<UsersPage>;
    /// One user.
    fn user(&self, name: &str) -> Result<Option<User>>;
    /// Adds a user.
    fn add_user(&self, new: &NewUser) -> Result<User>;
    /// Changes a user.
    fn set_user(&self, name: &str, change: &UserChange) -> Result<User>;
    /// Deactivates a user.
    fn deactivate(&self, name: &str) -> Result<User>;
    /// Activates a user.
    fn activate(&self, name: &str) -> Result<User>;
    /// Deletes a user.
    fn delete_user(&self, name: &str) -> Result<()>;
    /// Holders of an add-on module.
    fn add_on_holders(&self, module: &str) -> Result<Vec<String>>;
    /// May this user work now?
    fn check(&self, user: &str) -> Result<CheckResult>;
    /// A user worked on a day.
    fn record_usage(
        &self,
        user: &str,
        kind: UsageKind,
        day: Option<NaiveDate>,
    ) -> Result<UsageOutcome>;
    /// Storage in use; returns the pooled allowance in GB.
    fn record_storage(&self, bytes: u64) -> Result<u64>;
    /// Uses of a metered service; returns the month's total.
    fn record_metered(&self, service: &str, count: u64) -> Result<u64>;
    /// Imports a licence file.
    fn import(&self, licence: &[u8]) -> Result<ImportOutcome>;
    /// Applies what time has made due.
    fn tick(&self) -> Result<TickReport>;
    /// The latest events, newest first.
    fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>>;
    /// Checks the chain and the counters.
    fn audit_verify(&self) -> Result<AuditReport>;
    /// Checks and prices a seat request without recording it.
    fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote>;
    /// Buys or gives back seats.
    fn request_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
        note: &str,
    ) -> Result<RequestOutcome>;
    /// Makes the signed usage report of a month.
    fn usage_report(&self, month: YearMonth) -> Result<Vec<(UsageReport, String)>>;
    /// The confirmation e-mails.
    fn outbox(&self) -> Result<Vec<OutboxEntry>>;
    /// The contracts zip: how many licences it holds, and its bytes.
    fn export_contracts(&self) -> Result<(usize, Vec<u8>)>;
}

/// The store opened directly, used as `operator`.
pub struct Local<S: std::ops::Deref<Target = Store> + Send + Sync> {
    /// The store.
    pub store: S,
    /// The login user the calls are made as.
    pub operator: String,
}

impl<S: std::ops::Deref<Target = Store> + Send + Sync> Api for Local<S> {
    fn operator(&self) -> String {
        self.operator.clone()
    }
    fn is_remote(&self) -> bool {
        false
    }
    fn installation(&self) -> Result<Installation> {
        self.store.installation()
    }
    fn require_licence_reader(&self) -> Result<()> {
        self.store
            .require_licence_reader(&self.operator)
            .map(|_| ())
    }
    fn status(&self) -> Result<StatusView> {
        self.require_licence_reader()?;
        self.store.status()
    }
    fn licences(&self) -> Result<Vec<LicenceView>> {
        self.require_licence_reader()?;
        self.store.licence_views()
    }
    fn users_page(&self, q: &UserQuery) -> Result<UsersPage> {
        self.require_licence_reader()?;
        self.store.users_page(q)
    }
    fn user(&self, name: &str) -> Result<Option<User>> {
        self.store.user(name)
    }
    fn add_user(&self, new: &NewUser) -> Result<User> {
        self.store.add_user(&self.operator, new)
    }
    fn set_user(&self, name: &str, change: &UserChange) -> Result<User> {
        self.store.set_user(&self.operator, name, change)
    }
    fn deactivate(&self, name: &str) -> Result<User> {
        self.store.deactivate(&self.operator, name)
    }
    fn activate(&self, name: &str) -> Result<User> {
        self.store.activate(&self.operator, name)
    }
    fn delete_user(&self, name: &str) -> Result<()> {
        self.store.delete_user(&self.operator, name)
    }
    fn add_on_holders(&self, module: &str) -> Result<Vec<String>> {
        self.require_licence_reader()?;
        self.store.add_on_holders(module)
    }
    fn check(&self, user: &str) -> Result<CheckResult> {
        self.store.check(user)
    }
    fn record_usage(
        &self,
        user: &str,
        kind: UsageKind,
        day: Option<NaiveDate>,
    ) -> Result<UsageOutcome> {
        self.store.record_usage(user, kind, day)
    }
    fn record_storage(&self, bytes: u64) -> Result<u64> {
        self.store.record_storage(bytes)?;
        Ok(self.store.storage_allowance_gb())
    }
    fn record_metered(&self, service: &str, count: u64) -> Result<u64> {
        self.store.record_metered(service, count)
    }
    fn import(&self, licence: &[u8]) -> Result<ImportOutcome> {
        self.store.import(&self.operator, licence)
    }
    fn tick(&self) -> Result<TickReport> {
        self.store.tick()
    }
    fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>> {
        self.require_licence_reader()?;
        self.store.events(limit, before)
    }
    fn audit_verify(&self) -> Result<AuditReport> {
        self.require_licence_reader()?;
        self.store.audit_verify()
    }
    fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote> {
        self.store
            .quote_seats(&self.operator, licence, term, action, count)
    }
    fn request_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
        note: &str,
    ) -> Result<RequestOutcome> {
        self.store
            .request_seats(&self.operator, licence, term, action, count, note)
    }
    fn usage_report(&self, month: YearMonth) -> Result<Vec<(UsageReport, String)>> {
        self.store.usage_report(&self.operator, month)
    }
    fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.require_licence_reader()?;
        crate::outbox::list(self.store.layout())
    }
    fn export_contracts(&self) -> Result<(usize, Vec<u8>)> {
        self.require_licence_reader()?;
        self.store.contracts_zip()
    }
}
