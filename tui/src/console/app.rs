//! The console's state and what each key does to it, without a terminal:
//! key handling is tested on this state alone, and drawing only reads it.

use std::path::{Path, PathBuf};
use store::ApiExt as _;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use licfile::{SeatAction, Term};
use store::views::{LicenceView, PoolView, StatusView, UserQuery, UserRow};
use store::{Api, Event, Installation, NewUser, UserChange};

use super::theme::Theme;

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

/// What a form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Buy seats.
    Buy,
    /// Remove seats.
    Remove,
    /// Import a licence file.
    Import,
    /// Export the contracts zip.
    Export,
    /// Add a user.
    AddUser,
    /// Change a user's role, licence and term.
    EditUser(String),
    /// Search users.
    Search,
}

/// A field of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its label.
    pub label: &'static str,
    /// What is typed.
    pub value: String,
    /// Values Tab... no: values Up/Down cycle through, when it has a fixed set.
    pub choices: Vec<String>,
}

impl Field {
    fn text(label: &'static str, value: impl Into<String>) -> Field {
        Field {
            label,
            value: value.into(),
            choices: Vec::new(),
        }
    }
    fn choice(label: &'static str, value: impl Into<String>, choices: Vec<String>) -> Field {
        Field {
            label,
            value: value.into(),
            choices,
        }
    }
}

/// A form being filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Title.
    pub title: String,
    /// Fields.
    pub fields: Vec<Field>,
    /// The field with the cursor.
    pub focus: usize,
    /// What Enter does.
    pub purpose: Purpose,
    /// What was wrong with the last Enter.
    pub error: Option<String>,
}

/// What a confirmation confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// Record a seat request.
    Seats {
        /// Licence.
        licence: String,
        /// Term.
        term: String,
        /// Add or remove.
        action: SeatAction,
        /// How many.
        count: u32,
    },
    /// Deactivate a user.
    Deactivate(String),
}

/// A window over the tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    /// A form.
    Form(Form),
    /// A question with the facts above it.
    Confirm {
        /// Title.
        title: String,
        /// The facts (a cost breakdown).
        lines: Vec<String>,
        /// What `y` does.
        action: Confirmed,
    },
    /// Text to read.
    Details {
        /// Title.
        title: String,
        /// Lines.
        lines: Vec<String>,
    },
    /// The full help.
    Help,
}

/// The console.
pub struct App {
    /// The store, directly or through the service.
    pub api: Box<dyn Api>,
    /// Colours and line drawing.
    pub theme: Theme,
    /// The tab shown.
    pub tab: Tab,
    /// The installation.
    pub installation: Option<Installation>,
    /// The operator's name.
    pub operator: String,
    /// The status, when the operator may see it.
    pub status: Option<StatusView>,
    /// The licences in force, when the operator may see them.
    pub licences: Vec<LicenceView>,
    /// Why licence data is not shown, when it is not.
    pub denied: Option<String>,
    /// Which issuer's licences the Licences tab shows.
    pub issuer: usize,
    /// The selected pool of that issuer.
    pub pool_sel: usize,
    /// The page of users shown.
    pub users: Vec<UserRow>,
    /// Users matching the query, when known.
    pub users_total: Option<u64>,
    /// Where the next page starts.
    pub users_next: Option<String>,
    /// Where each earlier page started (for going back).
    pub page_starts: Vec<Option<String>>,
    /// Where the current page starts.
    pub page_start: Option<String>,
    /// The selected user on the page.
    pub user_sel: usize,
    /// The first user row shown: kept between frames so that the selection
    /// moves within the window instead of dragging the window with it.
    pub user_offset: std::cell::Cell<usize>,
    /// The users query (search, licence filter).
    pub query: UserQuery,
    /// The licence filter: 0 all, else an index into the filters.
    pub filter: usize,
    /// The latest events, newest first.
    pub events: Vec<Event>,
    /// The selected event.
    pub event_sel: usize,
    /// The first event row shown (as `user_offset`).
    pub event_offset: std::cell::Cell<usize>,
    /// The open popup.
    pub popup: Option<Popup>,
    /// A line for the footer: text, and whether it is an error.
    pub message: Option<(String, bool)>,
    /// Set when the console should end.
    pub quit: bool,
    /// Rows of the users table that fit on screen (for page moves).
    pub page_rows: usize,
}

/// Rows fetched per page of users: a few screens, never all of them.
const PAGE: usize = 200;

impl App {
    /// A console on `api`, loaded.
    pub fn new(api: Box<dyn Api>, theme: Theme) -> App {
        let operator = api.operator();
        let mut app = App {
            api,
            theme,
            tab: Tab::Licences,
            installation: None,
            operator,
            status: None,
            licences: Vec::new(),
            denied: None,
            issuer: 0,
            pool_sel: 0,
            users: Vec::new(),
            users_total: None,
            users_next: None,
            page_starts: Vec::new(),
            page_start: None,
            user_sel: 0,
            user_offset: std::cell::Cell::new(0),
            query: UserQuery {
                limit: PAGE,
                ..Default::default()
            },
            filter: 0,
            events: Vec::new(),
            event_sel: 0,
            event_offset: std::cell::Cell::new(0),
            popup: None,
            message: None,
            quit: false,
            page_rows: 15,
        };
        app.reload();
        app
    }

    /// Reads everything shown again (after a change here or elsewhere).
    pub fn reload(&mut self) {
        self.installation = self.api.installation().ok();
        match self.api.status() {
            Ok(s) => {
                self.status = Some(s);
                self.denied = None;
            }
            Err(e) => {
                self.status = None;
                self.denied = Some(e.to_string());
            }
        }
        self.licences = self.api.licences().unwrap_or_default();
        self.events = self.api.events(200usize, None).unwrap_or_default();
        self.event_sel = self.event_sel.min(self.events.len().saturating_sub(1));
        self.load_users(self.page_start.clone());
        self.issuer = self.issuer.min(self.issuers().len().saturating_sub(1));
        self.pool_sel = self
            .pool_sel
            .min(self.issuer_pools().len().saturating_sub(1));
    }

    fn load_users(&mut self, after: Option<String>) {
        let q = UserQuery {
            after: after.clone(),
            limit: PAGE,
            ..self.query.clone()
        };
        match self.api.users_page(q.clone()) {
            Ok(page) => {
                self.users = page.users;
                self.users_next = page.next;
                if after.is_none() {
                    self.users_total = page.total;
                }
                if self.page_start != after {
                    // Another page: its rows start at the top.
                    self.user_offset.set(0);
                }
                self.page_start = after;
                self.user_sel = self.user_sel.min(self.users.len().saturating_sub(1));
            }
            Err(e) => {
                self.users.clear();
                self.users_next = None;
                self.message = Some((e.to_string(), true));
            }
        }
    }

    /// The issuers with licences in force ("" is the vendor), in order.
    pub fn issuers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in &self.licences {
            if !out.contains(&l.issuer) {
                out.push(l.issuer.clone());
            }
        }
        if out.is_empty() {
            out.push(String::new());
        }
        out
    }

    /// The pools of the issuer shown.
    pub fn issuer_pools(&self) -> Vec<&PoolView> {
        let issuers = self.issuers();
        let issuer = issuers.get(self.issuer).cloned().unwrap_or_default();
        self.status
            .as_ref()
            .map(|s| s.pools.iter().filter(|p| p.issuer == issuer).collect())
            .unwrap_or_default()
    }

    /// The licence of the issuer shown.
    pub fn issuer_licence(&self) -> Option<&LicenceView> {
        let issuers = self.issuers();
        let issuer = issuers.get(self.issuer)?;
        self.licences.iter().find(|l| &l.issuer == issuer)
    }

    /// The licence filters of the Users tab: (label, licence, term).
    pub fn filters(&self) -> Vec<(String, String, Term)> {
        self.status
            .as_ref()
            .map(|s| {
                s.pools
                    .iter()
                    .filter(|p| p.issuer.is_empty())
                    .map(|p| {
                        (
                            format!("{} ({})", p.licence, p.term),
                            p.licence.clone(),
                            p.term,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The selected user, if any.
    pub fn selected_user(&self) -> Option<&UserRow> {
        self.users.get(self.user_sel)
    }

    fn say(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), false));
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return;
        }
        if let Some(popup) = self.popup.take() {
            self.on_popup_key(popup, key);
            return;
        }
        self.message = None;
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            KeyCode::Char('1') => self.tab = Tab::Licences,
            KeyCode::Char('2') => self.tab = Tab::Status,
            KeyCode::Char('3') => self.tab = Tab::Users,
            KeyCode::Tab => {
                self.tab = match self.tab {
                    Tab::Licences => Tab::Status,
                    Tab::Status => Tab::Users,
                    Tab::Users => Tab::Licences,
                }
            }
            KeyCode::BackTab => {
                self.tab = match self.tab {
                    Tab::Licences => Tab::Users,
                    Tab::Status => Tab::Licences,
                    Tab::Users => Tab::Status,
                }
            }
            KeyCode::Char('r') if self.tab == Tab::Status => {
                self.reload();
                self.say("refreshed");
            }
            _ => match self.tab {
                Tab::Licences => self.on_licences_key(key),
                Tab::Status => self.on_status_key(key),
                Tab::Users => self.on_users_key(key),
            },
        }
    }

    fn on_licences_key(&mut self, key: KeyEvent) {
        if let Some(why) = &self.denied {
            if matches!(
                key.code,
                KeyCode::Char('b' | 'x' | 'i' | 'e') | KeyCode::Enter
            ) {
                self.message = Some((why.clone(), true));
            }
            return;
        }
        let n = self.issuer_pools().len();
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.pool_sel = (self.pool_sel + 1).min(n.saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => self.pool_sel = self.pool_sel.saturating_sub(1),
            KeyCode::Char(']') => {
                self.issuer = (self.issuer + 1) % self.issuers().len().max(1);
                self.pool_sel = 0;
            }
            KeyCode::Char('[') => {
                let k = self.issuers().len().max(1);
                self.issuer = (self.issuer + k - 1) % k;
                self.pool_sel = 0;
            }
            KeyCode::Enter => {
                if let Some(p) = self.issuer_pools().get(self.pool_sel) {
                    let mut lines = vec![
                        format!("Licence        {}", p.licence),
                        format!("Term           {}", p.term),
                        format!(
                            "Seats          {} licensed, {} in force",
                            p.licensed, p.total
                        ),
                        format!("In use         {}", p.in_use),
                        format!("Available      {}", p.available),
                        format!(
                            "Pending        {} (bought, not yet granted by a licence)",
                            p.pending
                        ),
                        format!("Over-allocated {}", p.over_allocated),
                        format!(
                            "Storage        {} GB a seat{}",
                            p.storage_gb_per_seat,
                            if p.term == Term::Daily {
                                " (daily seats bring none)"
                            } else {
                                ""
                            }
                        ),
                        format!(
                            "Price          {} {}",
                            p.price,
                            if p.term == Term::Daily {
                                "a user-day"
                            } else {
                                "a month"
                            }
                        ),
                    ];
                    if let Some(s) = &p.scheduled {
                        lines.push(format!("Scheduled      {} seats from {}", s.seats, s.from));
                    }
                    if let Some(l) = self.issuer_licence() {
                        lines.push(String::new());
                        lines.push(format!(
                            "From licence {} (sequence {}), issuer {}",
                            l.licence_id, l.sequence, l.issuer_label
                        ));
                    }
                    self.popup = Some(Popup::Details {
                        title: format!("{} ({})", p.licence, p.term),
                        lines,
                    });
                }
            }
            KeyCode::Char('b') | KeyCode::Char('x') => {
                let buy = key.code == KeyCode::Char('b');
                let (licence, term) = self
                    .issuer_pools()
                    .get(self.pool_sel)
                    .map(|p| (p.licence.clone(), p.term.as_str().to_string()))
                    .unwrap_or_default();
                let terms = vec![
                    "contracted".to_string(),
                    "monthly".to_string(),
                    "daily".to_string(),
                ];
                self.popup = Some(Popup::Form(Form {
                    title: if buy {
                        "Buy seats".into()
                    } else {
                        "Remove seats".into()
                    },
                    fields: vec![
                        Field::text("Licence", licence),
                        Field::choice("Term", term, terms),
                        Field::text("Seats", "1"),
                    ],
                    focus: 2,
                    purpose: if buy { Purpose::Buy } else { Purpose::Remove },
                    error: None,
                }));
            }
            KeyCode::Char('i') => {
                self.popup = Some(Popup::Form(Form {
                    title: "Import a licence file".into(),
                    fields: vec![Field::text("Path", "")],
                    focus: 0,
                    purpose: Purpose::Import,
                    error: None,
                }))
            }
            KeyCode::Char('e') => {
                let day = self
                    .status
                    .as_ref()
                    .map(|s| s.today.format("%Y%m%d").to_string())
                    .unwrap_or_default();
                self.popup = Some(Popup::Form(Form {
                    title: "Export the signed contracts".into(),
                    fields: vec![Field::text("Path", format!("contracts-{day}.zip"))],
                    focus: 0,
                    purpose: Purpose::Export,
                    error: None,
                }))
            }
            _ => {}
        }
    }

    fn on_status_key(&mut self, key: KeyEvent) {
        let n = self.events.len();
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => {
                self.event_sel = (self.event_sel + 1).min(n.saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => self.event_sel = self.event_sel.saturating_sub(1),
            KeyCode::PageDown => self.event_sel = (self.event_sel + 10).min(n.saturating_sub(1)),
            KeyCode::PageUp => self.event_sel = self.event_sel.saturating_sub(10),
            KeyCode::Home => self.event_sel = 0,
            KeyCode::End => self.event_sel = n.saturating_sub(1),
            _ => {}
        }
    }

    /// Moves the user selection by `delta` rows, fetching the next or previous page at the edges.
    pub fn move_users(&mut self, delta: isize) {
        if self.users.is_empty() {
            return;
        }
        let target = self.user_sel as isize + delta;
        if target >= self.users.len() as isize {
            if let Some(next) = self.users_next.clone() {
                let overflow = target - self.users.len() as isize;
                self.page_starts.push(self.page_start.clone());
                self.load_users(Some(next));
                self.user_sel = (overflow.max(0) as usize).min(self.users.len().saturating_sub(1));
            } else {
                self.user_sel = self.users.len() - 1;
            }
        } else if target < 0 {
            if let Some(prev) = self.page_starts.pop() {
                self.load_users(prev);
                self.user_sel = (self.users.len() as isize + target).max(0) as usize;
            } else {
                self.user_sel = 0;
            }
        } else {
            self.user_sel = target as usize;
        }
    }

    fn restart_users(&mut self) {
        self.page_starts.clear();
        self.user_sel = 0;
        self.load_users(None);
    }

    fn on_users_key(&mut self, key: KeyEvent) {
        if let Some(why) = &self.denied {
            self.message = Some((why.clone(), true));
            return;
        }
        let page = self.page_rows.max(1) as isize;
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => self.move_users(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_users(-1),
            KeyCode::PageDown => self.move_users(page),
            KeyCode::PageUp => self.move_users(-page),
            KeyCode::Home => self.restart_users(),
            KeyCode::End => {
                while self.users_next.is_some() {
                    let next = self.users_next.clone();
                    self.page_starts.push(self.page_start.clone());
                    self.load_users(next);
                }
                self.user_sel = self.users.len().saturating_sub(1);
            }
            KeyCode::Char('/') => {
                self.popup = Some(Popup::Form(Form {
                    title: "Search users".into(),
                    fields: vec![Field::text(
                        "Search",
                        self.query.search.clone().unwrap_or_default(),
                    )],
                    focus: 0,
                    purpose: Purpose::Search,
                    error: None,
                }))
            }
            KeyCode::Esc if self.query.search.is_some() || self.filter != 0 => {
                self.query.search = None;
                self.query.licence = None;
                self.query.term = None;
                self.filter = 0;
                self.restart_users();
                self.say("showing all users");
            }
            KeyCode::Char('f') => {
                let filters = self.filters();
                self.filter = (self.filter + 1) % (filters.len() + 1);
                match filters.get(self.filter.wrapping_sub(1)) {
                    Some((label, licence, term)) if self.filter > 0 => {
                        self.query.licence = Some(licence.clone());
                        self.query.term = Some(*term);
                        self.say(format!("showing holders of {label}"));
                    }
                    _ => {
                        self.query.licence = None;
                        self.query.term = None;
                        self.say("showing all licences");
                    }
                }
                self.restart_users();
            }
            KeyCode::Char('n') => {
                self.popup = Some(Popup::Form(Form {
                    title: "New user".into(),
                    fields: vec![
                        Field::text("Username", ""),
                        Field::choice(
                            "Role",
                            "Engineer",
                            store::Role::ALL
                                .iter()
                                .map(|r| r.name().to_string())
                                .collect(),
                        ),
                        Field::choice("Licence", "", self.licence_names()),
                        Field::choice(
                            "Term",
                            "",
                            vec![
                                "".into(),
                                "contracted".into(),
                                "monthly".into(),
                                "daily".into(),
                            ],
                        ),
                        Field::text("E-mail", ""),
                    ],
                    focus: 0,
                    purpose: Purpose::AddUser,
                    error: None,
                }))
            }
            KeyCode::Char('e') => {
                if let Some(u) = self.selected_user().cloned() {
                    let (licence, term) = match (&u.licence, u.term) {
                        (Some(l), Some(t)) => (
                            l.trim_end_matches(&format!(" ({t})")).to_string(),
                            t.as_str().to_string(),
                        ),
                        _ => (String::new(), String::new()),
                    };
                    let mut names = self.licence_names();
                    names.push("none".into());
                    self.popup = Some(Popup::Form(Form {
                        title: format!("Edit {}", u.name),
                        fields: vec![
                            Field::choice(
                                "Role",
                                u.role.clone(),
                                store::Role::ALL
                                    .iter()
                                    .map(|r| r.name().to_string())
                                    .collect(),
                            ),
                            Field::choice("Licence", licence, names),
                            Field::choice(
                                "Term",
                                term,
                                vec!["contracted".into(), "monthly".into(), "daily".into()],
                            ),
                        ],
                        focus: 0,
                        purpose: Purpose::EditUser(u.name.clone()),
                        error: None,
                    }));
                }
            }
            KeyCode::Char('d') => {
                if let Some(u) = self.selected_user() {
                    let name = u.name.clone();
                    self.popup = Some(Popup::Confirm {
                        title: format!("Deactivate {name}?"),
                        lines: vec![
                            format!("{name} will no longer be able to work; their seat is freed."),
                            format!(
                                "Seat: {}",
                                u.licence.clone().unwrap_or_else(|| "none".into())
                            ),
                        ],
                        action: Confirmed::Deactivate(name),
                    });
                }
            }
            KeyCode::Char('a') => {
                if let Some(name) = self.selected_user().map(|u| u.name.clone()) {
                    match self.api.activate(&name) {
                        Ok(u) if u.over_allocated_since.is_some() => {
                            self.reload();
                            self.fail(format!("{name} activated, but no seat is free: over-allocated; buy seats before the grace ends"));
                        }
                        Ok(_) => {
                            self.reload();
                            self.say(format!("{name} activated"));
                        }
                        Err(e) => self.fail(e.to_string()),
                    }
                }
            }
            KeyCode::Char('m') => {
                let mut lines = Vec::new();
                for l in &self.licences {
                    for a in &l.add_ons {
                        let holders = self.api.add_on_holders(&a.name).unwrap_or_default();
                        lines.push(format!(
                            "{}  {} of {} assigned",
                            a.name, a.assigned, a.count
                        ));
                        if holders.is_empty() {
                            lines.push("    (nobody)".into());
                        }
                        for chunk in holders.chunks(4) {
                            lines.push(format!("    {}", chunk.join(", ")));
                        }
                    }
                }
                if lines.is_empty() {
                    lines.push("The licences in force have no add-on modules.".into());
                }
                self.popup = Some(Popup::Details {
                    title: "Add-on module licences".into(),
                    lines,
                });
            }
            _ => {}
        }
    }

    fn licence_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if let Some(s) = &self.status {
            for p in &s.pools {
                let name = if p.issuer.is_empty() {
                    p.licence.clone()
                } else {
                    format!("{}: {}", p.issuer, p.licence)
                };
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    fn on_popup_key(&mut self, popup: Popup, key: KeyEvent) {
        match popup {
            Popup::Help | Popup::Details { .. } => {
                if !matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('?')
                ) {
                    self.popup = Some(popup);
                }
            }
            Popup::Confirm {
                title,
                lines,
                action,
            } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => self.confirm(action),
                KeyCode::Char('n') | KeyCode::Esc => self.say("cancelled; nothing was changed"),
                _ => {
                    self.popup = Some(Popup::Confirm {
                        title,
                        lines,
                        action,
                    })
                }
            },
            Popup::Form(mut form) => match key.code {
                KeyCode::Esc => self.say("cancelled; nothing was changed"),
                KeyCode::Tab | KeyCode::Down
                    if form.purpose == Purpose::Import && key.code == KeyCode::Tab =>
                {
                    let v = &mut form.fields[0].value;
                    *v = complete_path(v);
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::Tab | KeyCode::Down => {
                    form.focus = (form.focus + 1) % form.fields.len();
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::BackTab | KeyCode::Up => {
                    form.focus = (form.focus + form.fields.len() - 1) % form.fields.len();
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::Left | KeyCode::Right => {
                    let f = &mut form.fields[form.focus];
                    if !f.choices.is_empty() {
                        let i = f
                            .choices
                            .iter()
                            .position(|c| c.eq_ignore_ascii_case(&f.value));
                        let n = f.choices.len();
                        // From a value that is not one of the choices (an empty
                        // licence), Right starts at the first choice and Left at the last.
                        let j = match (i, key.code == KeyCode::Right) {
                            (Some(i), true) => (i + 1) % n,
                            (Some(i), false) => (i + n - 1) % n,
                            (None, true) => 0,
                            (None, false) => n - 1,
                        };
                        f.value = f.choices[j].clone();
                    }
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::Backspace => {
                    form.fields[form.focus].value.pop();
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::Char(c) => {
                    if form.fields[form.focus].value.chars().count() < 200 {
                        form.fields[form.focus].value.push(c);
                    }
                    self.popup = Some(Popup::Form(form));
                }
                KeyCode::Enter => self.submit(form),
                _ => self.popup = Some(Popup::Form(form)),
            },
        }
    }

    fn submit(&mut self, mut form: Form) {
        let value = |i: usize| {
            form.fields
                .get(i)
                .map(|f| f.value.trim().to_string())
                .unwrap_or_default()
        };
        let result: Result<(), String> = match form.purpose.clone() {
            Purpose::Search => {
                let s = value(0);
                self.query.search = (!s.is_empty()).then_some(s.clone());
                self.restart_users();
                self.say(if s.is_empty() {
                    "showing all users".to_string()
                } else {
                    format!("users matching {s:?}: Esc shows all")
                });
                Ok(())
            }
            Purpose::Buy | Purpose::Remove => {
                let action = if form.purpose == Purpose::Buy {
                    SeatAction::Add
                } else {
                    SeatAction::Remove
                };
                match value(2).parse::<u32>() {
                    Err(_) => Err(format!("{:?} is not a number of seats", value(2))),
                    Ok(count) => match self.api.quote_seats(value(0), value(1), action, count) {
                        Err(e) => Err(e.to_string()),
                        Ok(q) => {
                            let mut lines = vec![
                                format!(
                                    "{} {} {} seats, effective {}",
                                    if action == SeatAction::Add {
                                        "Buy"
                                    } else {
                                        "Remove"
                                    },
                                    q.count,
                                    q.pool,
                                    q.effective
                                ),
                                String::new(),
                                format!("Cost breakdown ({})", q.breakdown.currency),
                            ];
                            for l in &q.breakdown.lines {
                                let amount = store::costs::round(l.amount);
                                lines.push(if l.in_total {
                                    format!("  {}  {amount}", l.description)
                                } else {
                                    format!("  (later) {}", l.description)
                                });
                            }
                            lines.push(format!(
                                "  Total now: {} {}",
                                q.breakdown.total, q.breakdown.currency
                            ));
                            for n in &q.notes {
                                lines.push(format!("Note: {n}"));
                            }
                            lines.push(String::new());
                            lines.push("Saving records the request, signs it for the vendor and e-mails the licensee.".into());
                            self.popup = Some(Popup::Confirm {
                                title: "Save this request?".into(),
                                lines,
                                action: Confirmed::Seats {
                                    licence: value(0),
                                    term: value(1),
                                    action,
                                    count,
                                },
                            });
                            return;
                        }
                    },
                }
            }
            Purpose::Import => {
                let path = PathBuf::from(value(0));
                match read_licence(&path) {
                    Err(e) => Err(e),
                    Ok(bytes) => {
                        match store::licences::licence_text(&bytes).and_then(|t| self.api.import(t))
                        {
                            Ok(store::ImportOutcome::AlreadyImported { sequence }) => {
                                self.say(format!("already imported: sequence {sequence} is in force; nothing changed"));
                                Ok(())
                            }
                            Ok(store::ImportOutcome::Imported { sequence, .. }) => {
                                self.reload();
                                self.say(format!("imported licence sequence {sequence}"));
                                Ok(())
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                }
            }
            Purpose::Export => {
                let path = PathBuf::from(value(0));
                match self
                    .api
                    .export_contracts()
                    .and_then(|z| store::export::write_new_file(&path, &z.zip).map(|_| z.count))
                {
                    Ok(n) => {
                        self.say(format!("wrote {n} signed licences to {}", path.display()));
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Purpose::AddUser => {
                let licence = value(2);
                let term = value(3);
                let new = NewUser {
                    name: value(0),
                    role: value(1),
                    licence: (!licence.is_empty()).then_some(licence),
                    term: (!term.is_empty()).then_some(term),
                    email: Some(value(4)).filter(|e| !e.is_empty()),
                };
                match self.api.add_user(new.clone()) {
                    Ok(u) => {
                        self.reload();
                        if u.over_allocated_since.is_some() {
                            self.fail(format!("{} added, but no seat is free: over-allocated; buy seats before the grace ends", u.name));
                        } else {
                            self.say(format!("{} added", u.name));
                        }
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Purpose::EditUser(name) => {
                let current = self.users.iter().find(|u| u.name == name).cloned();
                let role = value(0);
                let licence = value(1);
                let term = value(2);
                let mut change = UserChange::default();
                if current
                    .as_ref()
                    .is_none_or(|u| !u.role.eq_ignore_ascii_case(&role))
                {
                    change.role = Some(role);
                }
                let current_seat = current
                    .as_ref()
                    .and_then(|u| u.licence.clone())
                    .unwrap_or_default();
                let wanted_seat = if licence.eq_ignore_ascii_case("none") || licence.is_empty() {
                    String::new()
                } else {
                    format!("{licence} ({term})")
                };
                if !current_seat.eq_ignore_ascii_case(&wanted_seat) {
                    change.licence = Some(if wanted_seat.is_empty() {
                        "none".into()
                    } else {
                        licence
                    });
                    change.term = (!wanted_seat.is_empty()).then_some(term);
                }
                match self.api.set_user(name.clone(), change.clone()) {
                    Ok(_) => {
                        self.reload();
                        self.say(format!("{name} changed"));
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        if let Err(e) = result {
            form.error = Some(e);
            self.popup = Some(Popup::Form(form));
        }
    }

    fn confirm(&mut self, action: Confirmed) {
        match action {
            Confirmed::Seats {
                licence,
                term,
                action,
                count,
            } => match self.api.request_seats(&licence, &term, action, count, "") {
                Ok(r) => {
                    self.reload();
                    self.say(format!(
                        "request {} saved; the signed request for the vendor is in the confirmation e-mail {}",
                        r.request_id,
                        r.email.unwrap_or_default()
                    ));
                }
                Err(e) => self.fail(e.to_string()),
            },
            Confirmed::Deactivate(name) => match self.api.deactivate(&name) {
                Ok(_) => {
                    self.reload();
                    self.say(format!("{name} deactivated"));
                }
                Err(e) => self.fail(e.to_string()),
            },
        }
    }
}

/// Reads a licence file given in the console, refusing anything too large to be one.
fn read_licence(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{} is a directory", path.display()));
    }
    if meta.len() > licfile::constants::MAX_FILE_BYTES as u64 {
        return Err(format!(
            "{} is larger than any licence file; it was not read",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Completes a path as a shell would: to the longest common prefix of the entries that match.
pub fn complete_path(typed: &str) -> String {
    let (dir, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let read_from = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = std::fs::read_dir(read_from) else {
        return typed.to_string();
    };
    let mut matches: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            Some(if e.path().is_dir() {
                format!("{name}/")
            } else {
                name
            })
        })
        .collect();
    matches.sort();
    let Some(first) = matches.first() else {
        return typed.to_string();
    };
    let mut common = first.clone();
    for m in &matches[1..] {
        while !m.starts_with(&common) {
            common.pop();
        }
    }
    format!("{dir}{common}")
}
