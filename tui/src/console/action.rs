//! What a key asks for. Components return these; the performer
//! ([`super::perform`]) carries them out, the store's work through a [`Job`].

use licfile::{ModuleKind, SeatAction, Term};
use store::views::UserQuery;
use store::{NewUser, UserChange};

use super::components::Popup;

/// The three tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Contract, pools, system licences, add-ons, integrations.
    Licences,
    /// Database, metered services, storage, system notifications.
    Status,
    /// Users, their roles, seats and add-ons.
    Users,
}

impl Tab {
    /// The tab after this one.
    pub fn next(self) -> Tab {
        match self {
            Tab::Licences => Tab::Status,
            Tab::Status => Tab::Users,
            Tab::Users => Tab::Licences,
        }
    }
    /// The tab before this one.
    pub fn prev(self) -> Tab {
        self.next().next()
    }
}

/// What a key asks for.
#[derive(Debug)]
pub enum Action {
    /// The key was taken; nothing more to do.
    None,
    /// The key means nothing here: the console's global keys may take it.
    Ignored,
    /// End the console.
    Quit,
    /// Show a tab.
    Tab(Tab),
    /// Open a popup over the others.
    Open(Popup),
    /// Close the top popup.
    Close,
    /// Close the top popup, saying nothing was changed.
    Cancel,
    /// A line for the status line.
    Say(String),
    /// An error for the status line.
    Fail(String),
    /// Work on the store (or on files), perhaps slow: off the drawing thread.
    Job(Job),
    /// Several, in order (a read and what to say about it).
    Then(Vec<Action>),
}

/// Seats (or add-ons, integrations) to buy or give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRequest {
    /// The licence, pool, add-on or integration, as the store names it.
    pub licence: String,
    /// The term.
    pub term: Term,
    /// Buy or give back.
    pub action: SeatAction,
    /// How many.
    pub count: u32,
    /// `Some` for an add-on module or an integration named `licence`
    /// (bought to the contract end; `term` is then not asked), `None` for
    /// seats of `term`.
    pub module: Option<ModuleKind>,
}

/// Which page of users to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersAt {
    /// The first page.
    First,
    /// The page after this user, whose row is at this index of the list.
    After(String, usize),
    /// The page before this user, whose row is at this index.
    Before(String, usize),
    /// The page from this user on (the user included), whose row is at
    /// this index: the page shown, read again after a change.
    From(String, usize),
    /// The last page (read from the end, never paged through).
    Last,
}

/// Where the selection goes once a page of users is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Land {
    /// This row of the whole list (clamped to the page).
    Index(usize),
    /// The page's first row.
    Top,
    /// The page's last row.
    Bottom,
}

/// Work on the store. [`super::perform::execute`] does it, on the worker
/// thread or (in tests) at once.
#[derive(Debug, Clone)]
pub enum Job {
    /// Everything shown, read again.
    Reload,
    /// A page of users.
    Users {
        /// The query (search and filters).
        query: UserQuery,
        /// Which page.
        at: UsersAt,
        /// Where the selection lands.
        land: Land,
        /// The order reversed: the pages are read from the other end.
        descending: bool,
    },
    /// Make ready what a search reads (a search has started).
    PrepareSearch,
    /// Notifications from this index of the list (0 the first shown).
    Events {
        /// The index of the first one wanted.
        start: usize,
        /// The index to select.
        select: usize,
        /// Oldest first (else newest first, the log's own order read backwards).
        oldest_first: bool,
    },
    /// Price a seat request (and ask for confirmation).
    Quote(SeatRequest),
    /// Record a seat request.
    Save(SeatRequest),
    /// Import the licence file at this path (as typed: `~` expands).
    Import(String),
    /// Write the contracts zip to this path.
    Export(String),
    /// Write every ladder's permission matrix as CSV to this path (as
    /// typed: `~` expands).
    ExportRoles {
        /// The path.
        path: String,
        /// Replace a file already there (asked for after a confirmation).
        overwrite: bool,
    },
    /// Add a user.
    AddUser(NewUser),
    /// Change a user.
    EditUser {
        /// Who.
        name: String,
        /// What.
        change: UserChange,
    },
    /// Deactivate a user.
    Deactivate(String),
    /// Activate a user.
    Activate(String),
    /// Delete a user.
    Delete(String),
    /// Add-on modules and their holders.
    AddOns,
    /// A user's record, for the detail view.
    OpenUser(String),
    /// The history the charts draw.
    History,
}
