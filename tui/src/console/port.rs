//! The store as the console sees it: the few calls it makes, as a trait.
//!
//! The real one is [`Real`], over any [`store::Api`] (the store opened
//! directly, or the service's client); the tests put a fake in its place, so
//! key handling and the performer are tested without sled.

use licfile::{ModuleKind, SeatAction};
use store::detail::UserDetail;
use store::gate::ContractsZip;
use store::history::History;
use store::purchases::{Quote, RequestOutcome};
use store::views::{LicenceView, StatusView, UserQuery, UsersPage};
use store::{
    ApiExt as _, Event, ImportOutcome, Installation, NewUser, StoreError, User, UserChange,
};

/// What the console asks of the store.
pub trait ConsoleStore: Send + Sync {
    /// Who the calls are made as.
    fn operator(&self) -> String;
    /// Whether this goes through `tessera serve`.
    fn is_remote(&self) -> bool;
    /// The installation record.
    fn installation(&self) -> Result<Installation, StoreError>;
    /// The Status screen's facts (pools, metered services, the contract).
    fn status(&self) -> Result<StatusView, StoreError>;
    /// The licences in force, the vendor's first.
    fn licences(&self) -> Result<Vec<LicenceView>, StoreError>;
    /// A page of users.
    fn users_page(&self, query: UserQuery) -> Result<UsersPage, StoreError>;
    /// Makes ready what a search of users reads (when a search starts).
    fn prepare_user_search(&self) -> Result<(), StoreError>;
    /// One user.
    fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// The history the charts draw: 12 months, and `days` days of the daily
    /// pools.
    fn history(&self, days: u32) -> Result<History, StoreError>;
    /// One user's detail: what they were charged this month.
    fn user_detail(&self, name: &str) -> Result<UserDetail, StoreError>;
    /// Events newest first, before sequence `before`.
    fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>, StoreError>;
    /// Who holds an add-on module.
    fn add_on_holders(&self, module: &str) -> Result<Vec<String>, StoreError>;
    /// Prices a seat request without recording it.
    fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError>;
    /// Records and signs a seat request.
    fn request_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError>;
    /// Prices an add-on or integration request without recording it.
    fn quote_modules(
        &self,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError>;
    /// Records and signs an add-on or integration request.
    fn request_modules(
        &self,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError>;
    /// Imports a licence file's text.
    fn import(&self, text: String) -> Result<ImportOutcome, StoreError>;
    /// The zip of every imported licence.
    fn export_contracts(&self) -> Result<ContractsZip, StoreError>;
    /// Adds a user.
    fn add_user(&self, new: NewUser) -> Result<User, StoreError>;
    /// Changes a user.
    fn set_user(&self, name: &str, change: UserChange) -> Result<User, StoreError>;
    /// Deactivates a user.
    fn deactivate(&self, name: &str) -> Result<User, StoreError>;
    /// Activates a user.
    fn activate(&self, name: &str) -> Result<User, StoreError>;
    /// Deletes a user (the name stays reserved).
    fn delete_user(&self, name: &str) -> Result<(), StoreError>;
}

/// Whether `e` says the store's owner went away rather than refusing: the
/// console then shows itself disconnected and reconnects, instead of taking
/// a broken pipe for a missing permission.
pub fn is_disconnect(e: &StoreError) -> bool {
    match e {
        StoreError::Service(_) => true,
        StoreError::Io { source, .. } => matches!(
            source.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::NotConnected
                | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// No store: the console gave the store up to a service that asked for it
/// and has not reached that service yet. Every call says so as a lost
/// connection ([`is_disconnect`]), so the console shows itself disconnected
/// and never takes it for a refusal.
pub struct Gone {
    /// Who the calls were made as, still shown in the title.
    pub operator: String,
    /// Why there is no store.
    pub why: String,
}

impl Gone {
    fn err<T>(&self) -> Result<T, StoreError> {
        Err(StoreError::Service(self.why.clone()))
    }
}

impl ConsoleStore for Gone {
    fn operator(&self) -> String {
        self.operator.clone()
    }
    fn is_remote(&self) -> bool {
        false
    }
    fn installation(&self) -> Result<Installation, StoreError> {
        self.err()
    }
    fn status(&self) -> Result<StatusView, StoreError> {
        self.err()
    }
    fn licences(&self) -> Result<Vec<LicenceView>, StoreError> {
        self.err()
    }
    fn users_page(&self, _query: UserQuery) -> Result<UsersPage, StoreError> {
        self.err()
    }
    fn prepare_user_search(&self) -> Result<(), StoreError> {
        self.err()
    }
    fn user(&self, _name: &str) -> Result<Option<User>, StoreError> {
        self.err()
    }
    fn history(&self, _days: u32) -> Result<History, StoreError> {
        self.err()
    }
    fn user_detail(&self, _name: &str) -> Result<UserDetail, StoreError> {
        self.err()
    }
    fn events(&self, _limit: usize, _before: Option<u64>) -> Result<Vec<Event>, StoreError> {
        self.err()
    }
    fn add_on_holders(&self, _module: &str) -> Result<Vec<String>, StoreError> {
        self.err()
    }
    fn quote_seats(
        &self,
        _licence: &str,
        _term: &str,
        _action: SeatAction,
        _count: u32,
    ) -> Result<Quote, StoreError> {
        self.err()
    }
    fn request_seats(
        &self,
        _licence: &str,
        _term: &str,
        _action: SeatAction,
        _count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.err()
    }
    fn quote_modules(
        &self,
        _kind: ModuleKind,
        _name: &str,
        _action: SeatAction,
        _count: u32,
    ) -> Result<Quote, StoreError> {
        self.err()
    }
    fn request_modules(
        &self,
        _kind: ModuleKind,
        _name: &str,
        _action: SeatAction,
        _count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.err()
    }
    fn import(&self, _text: String) -> Result<ImportOutcome, StoreError> {
        self.err()
    }
    fn export_contracts(&self) -> Result<ContractsZip, StoreError> {
        self.err()
    }
    fn add_user(&self, _new: NewUser) -> Result<User, StoreError> {
        self.err()
    }
    fn set_user(&self, _name: &str, _change: UserChange) -> Result<User, StoreError> {
        self.err()
    }
    fn deactivate(&self, _name: &str) -> Result<User, StoreError> {
        self.err()
    }
    fn activate(&self, _name: &str) -> Result<User, StoreError> {
        self.err()
    }
    fn delete_user(&self, _name: &str) -> Result<(), StoreError> {
        self.err()
    }
}

/// The real store: directly or through the service.
pub struct Real(pub Box<dyn store::Api>);

impl ConsoleStore for Real {
    fn operator(&self) -> String {
        self.0.operator()
    }
    fn is_remote(&self) -> bool {
        self.0.is_remote()
    }
    fn installation(&self) -> Result<Installation, StoreError> {
        self.0.installation()
    }
    fn status(&self) -> Result<StatusView, StoreError> {
        self.0.status()
    }
    fn licences(&self) -> Result<Vec<LicenceView>, StoreError> {
        self.0.licences()
    }
    fn users_page(&self, query: UserQuery) -> Result<UsersPage, StoreError> {
        self.0.users_page(query)
    }
    fn prepare_user_search(&self) -> Result<(), StoreError> {
        self.0.prepare_user_search()
    }
    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.0.user(name)
    }
    fn user_detail(&self, name: &str) -> Result<UserDetail, StoreError> {
        self.0.user_detail(name)
    }
    fn history(&self, days: u32) -> Result<History, StoreError> {
        self.0.history(days)
    }
    fn events(&self, limit: usize, before: Option<u64>) -> Result<Vec<Event>, StoreError> {
        self.0.events(limit, before)
    }
    fn add_on_holders(&self, module: &str) -> Result<Vec<String>, StoreError> {
        self.0.add_on_holders(module)
    }
    fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError> {
        self.0.quote_seats(licence, term, action, count)
    }
    fn request_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.0.request_seats(licence, term, action, count, "")
    }
    fn quote_modules(
        &self,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote, StoreError> {
        self.0.quote_modules(kind, name, action, count)
    }
    fn request_modules(
        &self,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<RequestOutcome, StoreError> {
        self.0.request_modules(kind, name, action, count, "")
    }
    fn import(&self, text: String) -> Result<ImportOutcome, StoreError> {
        self.0.import(text)
    }
    fn export_contracts(&self) -> Result<ContractsZip, StoreError> {
        self.0.export_contracts()
    }
    fn add_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.0.add_user(new)
    }
    fn set_user(&self, name: &str, change: UserChange) -> Result<User, StoreError> {
        self.0.set_user(name, change)
    }
    fn deactivate(&self, name: &str) -> Result<User, StoreError> {
        self.0.deactivate(name)
    }
    fn activate(&self, name: &str) -> Result<User, StoreError> {
        self.0.activate(name)
    }
    fn delete_user(&self, name: &str) -> Result<(), StoreError> {
        self.0.delete_user(name)
    }
}
