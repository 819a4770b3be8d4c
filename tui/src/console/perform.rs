//! The one place actions are carried out. Interface actions (tabs, popups,
//! the status line) change the console at once; store work is a [`Job`],
//! done by [`execute`] on the worker thread (or at once in tests) and its
//! [`Done`] applied back here. Files are read bounded and never block.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use licfile::{SeatAction, Term};
use store::history::History;
use store::purchases::Quote;
use store::views::{LicenceView, StatusView, UserQuery, UsersPage};
use store::{Event, ImportOutcome, Installation, StoreError, User};

use super::action::{Action, Job, Land, SeatRequest, UsersAt};
use super::app::App;
use super::components::Popup;
use super::components::charts::{Charts, DAILY_DAYS};
use super::components::confirm::Confirm;
use super::components::details::Details;
use super::components::form::expand_home;
use super::components::status::EVENTS_PAGE;
use super::components::user::UserView;
use super::port::{ConsoleStore, is_disconnect};

/// What a job brought back. Boxed where large, so a small one moves cheaply.
#[derive(Debug)]
pub enum Done {
    /// The facts every tab reads.
    Reloaded {
        /// The installation.
        installation: Result<Installation, StoreError>,
        /// The status.
        status: Box<Result<StatusView, StoreError>>,
        /// The licences.
        licences: Result<Vec<LicenceView>, StoreError>,
    },
    /// A page of users.
    Users {
        /// Which page.
        at: UsersAt,
        /// Where the selection lands.
        land: Land,
        /// The page.
        page: Result<UsersPage, StoreError>,
    },
    /// A window of notifications.
    Events {
        /// Its first index.
        start: usize,
        /// The index to select.
        select: usize,
        /// How many there are, and the window.
        got: Result<(u64, Vec<Event>), StoreError>,
    },
    /// A seat request priced.
    Quoted(SeatRequest, Result<Quote, StoreError>),
    /// A change made (or refused): what to say.
    Changed {
        /// The line to say and whether it is a warning, or why it failed.
        result: Result<(String, bool), String>,
        /// Whether the failure was the store's owner going away.
        lost: bool,
        /// The job, to know what it closes.
        job: Job,
    },
    /// The add-on modules and their holders.
    AddOns(Result<Vec<String>, StoreError>),
    /// A user's record.
    UserOpened(String, Result<Option<User>, StoreError>, Charged),
    /// A file is already at the path a job writes to: ask before replacing.
    Exists(Job),
    /// The history, for the charts.
    History(Box<Result<History, StoreError>>),
    /// A read made pointless by a later one.
    Skipped,
}

/// Runs jobs off the drawing thread, one after another.
pub struct Worker {
    jobs: mpsc::Sender<(Arc<dyn ConsoleStore>, Job)>,
    /// Finished jobs, to apply.
    pub done: mpsc::Receiver<Done>,
}

impl Worker {
    /// Starts the worker thread; it ends when the console drops the worker.
    pub fn start() -> Worker {
        let (jobs, rx) = mpsc::channel::<(Arc<dyn ConsoleStore>, Job)>();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut queue = vec![first];
                while let Ok(more) = rx.try_recv() {
                    queue.push(more);
                }
                for i in 0..queue.len() {
                    // Typing in the filter sends a read per key: only the last counts.
                    let superseded = matches!(queue[i].1, Job::Users { .. })
                        && queue[i + 1..]
                            .iter()
                            .any(|(_, j)| matches!(j, Job::Users { .. }));
                    let (store, job) = (queue[i].0.clone(), queue[i].1.clone());
                    let done = if superseded {
                        Done::Skipped
                    } else {
                        execute(store.as_ref(), job)
                    };
                    if tx.send(done).is_err() {
                        return;
                    }
                }
            }
        });
        Worker { jobs, done }
    }
}

/// What a job is doing, for the spinner.
fn doing(job: &Job) -> &'static str {
    match job {
        Job::Reload => "reading the store",
        Job::Users { .. } => "reading users",
        Job::Events { .. } => "reading notifications",
        Job::Quote(_) => "pricing",
        Job::Save(_) => "saving the request",
        Job::Import(_) => "importing",
        Job::Export(_) => "exporting",
        Job::ExportRoles { .. } => "writing the CSV",
        Job::AddUser(_) | Job::EditUser { .. } => "saving the user",
        Job::Deactivate(_) | Job::Activate(_) | Job::Delete(_) => "saving the user",
        Job::AddOns => "reading add-ons",
        Job::OpenUser(_) => "reading the user",
        Job::History => "reading the history",
        Job::PrepareSearch => "preparing the search",
    }
}

/// Does `job` against `store`. Never panics on what the store or a file says.
pub fn execute(store: &dyn ConsoleStore, job: Job) -> Done {
    let changed = |job: Job, r: Result<(String, bool), StoreError>| match r {
        Ok(said) => Done::Changed {
            result: Ok(said),
            lost: false,
            job,
        },
        Err(e) => Done::Changed {
            lost: is_disconnect(&e),
            result: Err(e.to_string()),
            job,
        },
    };
    match job {
        Job::Reload => Done::Reloaded {
            installation: store.installation(),
            status: Box::new(store.status()),
            licences: store.licences(),
        },
        Job::Users {
            query,
            at,
            land,
            descending,
        } => {
            // A reversed order is the store's order read from the other end.
            let (after, backward) = match (&at, descending) {
                (UsersAt::First, false) | (UsersAt::Last, true) => (None, false),
                (UsersAt::Last, false) | (UsersAt::First, true) => (None, true),
                (UsersAt::After(n, _) | UsersAt::From(n, _), false)
                | (UsersAt::Before(n, _), true) => (Some(n.clone()), false),
                (UsersAt::Before(n, _), false)
                | (UsersAt::After(n, _) | UsersAt::From(n, _), true) => (Some(n.clone()), true),
            };
            let q = UserQuery {
                after,
                backward,
                inclusive: matches!(at, UsersAt::From(..)),
                ..query
            };
            let page = store.users_page(q).map(|mut p| {
                if descending {
                    p.users.reverse();
                }
                p
            });
            Done::Users { at, land, page }
        }
        Job::Events {
            start,
            select,
            oldest_first,
        } => {
            let got = store.events(1, None).and_then(|newest| {
                let total = newest.first().map(|e| e.seq).unwrap_or(0);
                if oldest_first {
                    // Index i is sequence i + 1: the window ends at start + PAGE.
                    let before = start as u64 + EVENTS_PAGE as u64 + 1;
                    store.events(EVENTS_PAGE, Some(before)).map(|mut events| {
                        events.retain(|e| e.seq > start as u64);
                        events.reverse();
                        (total, events)
                    })
                } else {
                    let before = total.saturating_sub(start as u64) + 1;
                    store
                        .events(EVENTS_PAGE, Some(before))
                        .map(|events| (total, events))
                }
            });
            Done::Events { start, select, got }
        }
        Job::Quote(r) => {
            let q = match r.module {
                Some(kind) => store.quote_modules(kind, &r.licence, r.action, r.count),
                None => store.quote_seats(&r.licence, r.term.as_str(), r.action, r.count),
            };
            Done::Quoted(r, q)
        }
        Job::Save(ref r) => {
            let saved = match r.module {
                Some(kind) => store.request_modules(kind, &r.licence, r.action, r.count),
                None => store.request_seats(&r.licence, r.term.as_str(), r.action, r.count),
            };
            let res = saved.map(|o| {
                    (
                        format!(
                            "request {} saved; the signed request for the vendor is in the confirmation e-mail {}",
                            o.request_id,
                            o.email.unwrap_or_default()
                        ),
                        false,
                    )
                });
            changed(job, res)
        }
        Job::Import(ref path) => {
            match read_licence(&expand_home(path)) {
                Err(e) => Done::Changed {
                    result: Err(e),
                    lost: false,
                    job,
                },
                Ok(bytes) => {
                    let res = store::licences::licence_text(&bytes)
                    .and_then(|t| store.import(t))
                    .map(|o| match o {
                        ImportOutcome::AlreadyImported { sequence } => (
                            format!("already imported: sequence {sequence} is in force; nothing changed"),
                            false,
                        ),
                        ImportOutcome::Imported { sequence, .. } => {
                            (format!("imported licence sequence {sequence}"), false)
                        }
                    });
                    changed(job, res)
                }
            }
        }
        Job::Export(ref path) => {
            let out = PathBuf::from(expand_home(path));
            let res = store.export_contracts().and_then(|z| {
                store::export::write_new_file(&out, &z.zip).map(|_| {
                    (
                        format!("wrote {} signed licences to {}", z.count, out.display()),
                        false,
                    )
                })
            });
            changed(job, res)
        }
        Job::ExportRoles {
            ref path,
            overwrite,
        } => {
            let out = PathBuf::from(expand_home(path));
            if !overwrite && std::fs::symlink_metadata(&out).is_ok() {
                return Done::Exists(job);
            }
            let csv = store::roles::csv();
            let res = write_file(&out, csv.as_bytes(), overwrite).map(|_| {
                (
                    format!("wrote the roles' matrices to {}", out.display()),
                    false,
                )
            });
            changed(job, res)
        }
        Job::AddUser(ref new) => {
            let res = store.add_user(new.clone()).map(|u| {
                if u.over_allocated_since.is_some() {
                    (
                        format!("{} added, but no seat is free: over-allocated; buy seats before the grace ends", u.name),
                        true,
                    )
                } else {
                    (format!("{} added", u.name), false)
                }
            });
            changed(job, res)
        }
        Job::EditUser {
            ref name,
            ref change,
        } => {
            let res = store
                .set_user(name, change.clone())
                .map(|_| (format!("{name} changed"), false));
            changed(job, res)
        }
        Job::Deactivate(ref name) => {
            let res = store
                .deactivate(name)
                .map(|_| (format!("{name} deactivated"), false));
            changed(job, res)
        }
        Job::Activate(ref name) => {
            let res = store.activate(name).map(|u| {
                if u.over_allocated_since.is_some() {
                    (format!("{name} activated, but no seat is free: over-allocated; buy seats before the grace ends"), true)
                } else {
                    (format!("{name} activated"), false)
                }
            });
            changed(job, res)
        }
        Job::Delete(ref name) => {
            let res = store
                .delete_user(name)
                .map(|_| (format!("{name} deleted; the name stays reserved"), false));
            changed(job, res)
        }
        Job::AddOns => Done::AddOns(store.licences().and_then(|licences| {
            let mut lines = Vec::new();
            for l in &licences {
                for a in &l.add_ons {
                    let holders = store.add_on_holders(&a.name)?;
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
            Ok(lines)
        })),
        Job::OpenUser(name) => {
            let got = store.user(&name);
            // Read only for a user that is there; a refusal (an operator who
            // may see the user but not their charges) is shown in its place
            // rather than keeping the view closed.
            let charged = match &got {
                Ok(Some(_)) => store
                    .user_detail(&name)
                    .map(|d| d.charged_days)
                    .map_err(|e| e.to_string()),
                _ => Ok(vec![]),
            };
            Done::UserOpened(name, got, charged)
        }
        Job::History => Done::History(Box::new(store.history(DAILY_DAYS))),
        // Nothing to show: the search that follows finds it ready (or, if
        // this failed, reads and says why itself).
        Job::PrepareSearch => {
            let _ = store.prepare_user_search();
            Done::Skipped
        }
    }
}

/// Reads a licence file named in the console without ever blocking: its
/// metadata first (a directory, a device, a pipe or a socket is refused at
/// once, and so is anything larger than a licence file can be), then opened
/// non-blocking and checked again (the path may have been swapped), then
/// read no further than the limit.
pub fn read_licence(typed: &str) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
    let path = Path::new(typed);
    let max = licfile::constants::MAX_FILE_BYTES as u64;
    let kind = |t: std::fs::FileType| -> Option<&'static str> {
        if t.is_dir() {
            Some("a directory")
        } else if t.is_char_device() || t.is_block_device() {
            Some("a device")
        } else if t.is_fifo() {
            Some("a named pipe")
        } else if t.is_socket() {
            Some("a socket")
        } else if !t.is_file() {
            Some("not a regular file")
        } else {
            None
        }
    };
    let refuse = |what: &str| {
        format!(
            "{} is {what}, not a licence file; it was not read",
            path.display()
        )
    };
    let too_big = || {
        format!(
            "{} is larger than any licence file ({max} bytes); it was not read",
            path.display()
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(refuse(what));
    }
    if meta.len() > max {
        return Err(too_big());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(refuse(what));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

impl App {
    /// Carries out `action`.
    pub fn perform(&mut self, action: Action) {
        match action {
            Action::None | Action::Ignored => {}
            Action::Quit => self.quit = true,
            Action::Tab(t) => self.tab = t,
            Action::Open(p) => self.popups.push(p),
            Action::Close => {
                self.popups.pop();
            }
            Action::Cancel => {
                self.popups.pop();
                self.say("cancelled; nothing was changed");
            }
            Action::Say(m) => self.say(m),
            Action::Fail(m) => self.fail(m),
            Action::Job(job) => self.run(job),
            Action::Then(actions) => {
                for a in actions {
                    self.perform(a);
                }
            }
        }
    }

    /// A line for the status line.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), false));
    }

    /// An error for the status line.
    pub fn fail(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    /// Sends `job` to the worker, or does it at once when there is none.
    pub fn run(&mut self, job: Job) {
        match &self.worker {
            Some(w) => {
                self.busy += 1;
                self.busy_what = doing(&job).to_string();
                if w.jobs.send((self.store.clone(), job)).is_err() {
                    self.busy -= 1;
                    self.fail("the console's worker stopped; quit and start it again");
                }
            }
            None => {
                let done = execute(self.store.as_ref(), job);
                self.apply(done);
            }
        }
    }

    /// Applies what the worker finished (called by the event loop).
    pub fn poll_worker(&mut self) -> bool {
        let mut any = false;
        while let Some(done) = self.worker.as_ref().and_then(|w| w.done.try_recv().ok()) {
            self.busy = self.busy.saturating_sub(1);
            self.apply(done);
            any = true;
        }
        any
    }

    fn lost(&mut self, e: &StoreError) -> bool {
        if is_disconnect(e) {
            self.data.disconnected = Some(e.to_string());
            true
        } else {
            false
        }
    }

    /// Gives the store up (a service asked for it, [`store::handover`]): the
    /// console shows itself disconnected, keeps what it read on screen, and
    /// answers every action as disconnected until [`App::reconnected`].
    pub fn handed_over(&mut self, why: &str) {
        self.store = Arc::new(super::port::Gone {
            operator: self.data.operator.clone(),
            why: why.to_string(),
        });
        self.data.remote = false;
        self.data.disconnected = Some(why.to_string());
    }

    /// Takes a new connection after the old one was lost, and reads everything again.
    pub fn reconnected(&mut self, store: Arc<dyn ConsoleStore>) {
        self.data.operator = store.operator();
        self.data.remote = store.is_remote();
        self.store = store;
        self.data.disconnected = None;
        self.say("connected again");
        self.run(Job::Reload);
    }

    /// Applies a finished job.
    pub fn apply(&mut self, done: Done) {
        match done {
            Done::Reloaded {
                installation,
                status,
                licences,
            } => {
                match &installation {
                    Err(e) if self.lost(e) => return,
                    _ => {}
                }
                // Not `disconnected = None` here: a reload answered by the
                // old connection just before it went would hide the loss,
                // and the console would stop reconnecting. Only
                // `reconnected` ends a disconnection.
                self.data.installation = installation.ok();
                match *status {
                    Ok(s) => {
                        self.data.status = Some(s);
                        self.data.denied = None;
                    }
                    Err(e) => {
                        if self.lost(&e) {
                            return;
                        }
                        self.data.status = None;
                        self.data.denied = Some(e.to_string());
                    }
                }
                self.data.licences = licences.unwrap_or_default();
                self.licences.clamp(&self.data);
                let users = self.users.reload();
                let start = self.status.first;
                let select = self.status.sel;
                let oldest_first = self.status.oldest_first;
                self.run(users);
                self.run(Job::Events {
                    start,
                    select,
                    oldest_first,
                });
            }
            Done::Users { at, land, page } => match page {
                Ok(p) => self.users.loaded(&at, land, p),
                Err(e) => {
                    if !self.lost(&e) {
                        self.users.rows.clear();
                        if self.data.denied.is_none() {
                            self.fail(e.to_string());
                        }
                    }
                }
            },
            Done::Events { start, select, got } => match got {
                Ok((total, events)) => self.status.loaded(start, select, total, events),
                Err(e) => {
                    if !self.lost(&e) && self.data.denied.is_none() {
                        self.fail(e.to_string());
                    }
                }
            },
            Done::Quoted(r, q) => match q {
                Ok(q) => {
                    if matches!(self.popups.last(), Some(Popup::Form(_))) {
                        self.popups.pop();
                    }
                    let lines = self.quote_lines(&r, &q);
                    let title = match r.action {
                        SeatAction::Add => "Save this purchase?",
                        SeatAction::Remove => "Save this reduction?",
                    };
                    self.popups
                        .push(Popup::Confirm(Confirm::new(title, lines, Job::Save(r))));
                }
                Err(e) => {
                    self.lost(&e);
                    self.form_failed(e.to_string());
                }
            },
            Done::Changed { result, lost, job } => {
                if lost {
                    self.data.disconnected = Some("the store's owner went away".into());
                }
                match result {
                    Ok((said, warn)) => {
                        if matches!(self.popups.last(), Some(Popup::Form(_) | Popup::Confirm(_))) {
                            self.popups.pop();
                        }
                        if let Some(Popup::User(v)) = self.popups.last() {
                            let name = v.user.name.clone();
                            if matches!(job, Job::Delete(_)) {
                                self.popups.pop();
                            } else {
                                self.run(Job::OpenUser(name));
                            }
                        }
                        if warn {
                            self.fail(said);
                        } else {
                            self.say(said);
                        }
                        self.run(Job::Reload);
                    }
                    Err(e) => self.form_failed(e),
                }
            }
            Done::AddOns(r) => match r {
                Ok(lines) => self.popups.push(Popup::Details(Details::new(
                    "Add-on module licences",
                    lines,
                ))),
                Err(e) => {
                    if !self.lost(&e) {
                        self.fail(e.to_string());
                    }
                }
            },
            Done::Skipped => {}
            Done::Exists(job) => {
                let Job::ExportRoles { path, .. } = job else {
                    return;
                };
                if matches!(self.popups.last(), Some(Popup::Form(_))) {
                    self.popups.pop();
                }
                let shown = expand_home(&path);
                self.popups.push(Popup::Confirm(Confirm::new(
                    "Replace the file?",
                    vec![
                        format!("{shown} is already there."),
                        "y replaces it (the new file is written beside it first, then put in its place); n keeps it.".into(),
                    ],
                    Job::ExportRoles {
                        path,
                        overwrite: true,
                    },
                )));
            }
            Done::History(r) => match *r {
                Ok(history) => {
                    // A refresh keeps the chart and series being looked at.
                    if let Some(Popup::Charts(c)) = self.popups.last_mut() {
                        c.history = history;
                    } else {
                        self.popups
                            .push(Popup::Charts(Box::new(Charts::new(history))));
                    }
                }
                Err(e) => {
                    if !self.lost(&e) {
                        self.fail(e.to_string());
                    }
                }
            },
            Done::UserOpened(name, r, charged) => match r {
                Ok(Some(user)) => {
                    let row = self
                        .users
                        .rows
                        .iter()
                        .find(|u| u.name == user.name)
                        .cloned();
                    let view = Popup::User(Box::new(UserView { user, row, charged }));
                    if matches!(self.popups.last(), Some(Popup::User(_))) {
                        self.popups.pop();
                    }
                    self.popups.push(view);
                }
                Ok(None) => self.fail(format!("{name} is no longer a user")),
                Err(e) => {
                    if !self.lost(&e) {
                        self.fail(e.to_string());
                    }
                }
            },
        }
    }

    /// A failure of what the top form or question asked: the form keeps it
    /// (and its fields); a question closes and the status line says it.
    fn form_failed(&mut self, e: String) {
        match self.popups.last_mut() {
            Some(Popup::Form(f)) => {
                f.waiting = false;
                f.error = Some(e);
            }
            Some(Popup::Confirm(_)) => {
                self.popups.pop();
                self.fail(e);
            }
            _ => self.fail(e),
        }
    }

    /// The confirmation's facts for a priced request: the cost, what a
    /// commitment is, a scheduled reduction cancelled, where the e-mail goes.
    fn quote_lines(&self, r: &SeatRequest, q: &Quote) -> Vec<String> {
        let verb = match r.action {
            SeatAction::Add => "Buy",
            SeatAction::Remove => "Give back",
        };
        let mut lines = vec![
            format!(
                "{verb} {} of {}, effective {}",
                q.count, q.pool, q.effective
            ),
            String::new(),
            format!("Cost breakdown ({})", q.breakdown.currency),
        ];
        let b = &q.breakdown;
        let charged = b.lines.iter().filter(|l| l.in_total).count();
        let committed = b.months.iter().filter(|m| m.commitment).count();
        // Contracted seats are priced a line a month: the month table below
        // says the same with the commitment marked, so those lines are not
        // listed twice. A single line (this period of rolling seats) stays,
        // for its price and dates.
        let months_say_it = charged > 1 && charged == committed;
        for l in &b.lines {
            let amount = store::costs::round(l.amount);
            if l.in_total && !months_say_it {
                lines.push(format!("  {}  {amount}", l.description));
            } else if !l.in_total {
                lines.push(format!("  (later) {}", l.description));
            }
        }
        lines.push(format!(
            "  Total now: {} {}",
            q.breakdown.total, q.breakdown.currency
        ));
        lines.extend(month_lines(&q.breakdown));
        let status = self.data.status.as_ref();
        let pool = status.and_then(|s| {
            s.pools
                .iter()
                .find(|p| p.licence.eq_ignore_ascii_case(&r.licence) && p.term == r.term)
        });
        if r.module.is_some() && r.action == SeatAction::Add {
            // Add-ons and integrations are bought to the contract end, like contracted seats.
            let end = status
                .and_then(|s| s.contract_end)
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the contract's end".into());
            lines.push(format!(
                "This is a commitment: the licences are billed until {end}; fewer can be asked for from the next period."
            ));
        } else if r.term == Term::Contracted && r.action == SeatAction::Add {
            let end = status
                .and_then(|s| s.contract_end)
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the contract's end".into());
            lines.push(format!(
                "This is a commitment: the seats are billed until {end} and cannot be given back before the renewal window."
            ));
        }
        let module_scheduled = r.module.and_then(|kind| {
            let l = self.data.licences.iter();
            match kind {
                licfile::ModuleKind::AddOn => l
                    .flat_map(|l| &l.add_ons)
                    .find(|a| a.name.eq_ignore_ascii_case(&r.licence))
                    .and_then(|a| a.scheduled.as_ref()),
                licfile::ModuleKind::Integration => l
                    .flat_map(|l| &l.integrations)
                    .find(|i| i.name.eq_ignore_ascii_case(&r.licence))
                    .and_then(|i| i.scheduled.as_ref()),
            }
        });
        if r.action == SeatAction::Add
            && let Some(sch) = module_scheduled
        {
            lines.push(format!(
                "Buying cancels the reduction to {} licences scheduled from {}: the next period is billed for every licence bought.",
                sch.seats, sch.from
            ));
        }
        if r.action == SeatAction::Add
            && r.module.is_none()
            && let Some(sch) = pool.and_then(|p| p.scheduled.as_ref())
        {
            lines.push(format!(
                "Buying cancels the reduction to {} seats scheduled from {}: the next period is billed for every seat bought.",
                sch.seats, sch.from
            ));
        }
        for n in &q.notes {
            lines.push(format!("Note: {n}"));
        }
        lines.push(String::new());
        let email = status
            .map(|s| s.licensee_email.clone())
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "the licensee".into());
        lines.push(format!(
            "Saving records the request, signs it for the vendor and sends a confirmation to {email}."
        ));
        lines
    }
}

/// The days of this month a user was charged for, or why they are not known.
pub type Charged = Result<Vec<chrono::NaiveDate>, String>;

/// The contract month by month, to its end, beside the total: each month's
/// days held and amount, the committed ones marked (the words say it, not a
/// colour). Empty when the store gives no months (daily seats, removals).
pub fn month_lines(b: &store::costs::Breakdown) -> Vec<String> {
    if b.months.is_empty() {
        return vec![];
    }
    let amounts: Vec<String> = b
        .months
        .iter()
        .map(|m| store::costs::round(m.amount).to_string())
        .collect();
    let aw = amounts.iter().map(|a| a.len()).max().unwrap_or(0);
    let mut lines = vec![String::new(), "Contract month by month".to_string()];
    for (m, a) in b.months.iter().zip(&amounts) {
        let days = format!("{}/{} days", m.days, m.days_in_month);
        lines.push(format!(
            "  {}  {days:>10}  {a:>aw$}{}",
            m.month,
            if m.commitment { "  commitment" } else { "" }
        ));
    }
    let committed: rust_decimal::Decimal = b
        .months
        .iter()
        .filter(|m| m.commitment)
        .map(|m| m.amount)
        .sum();
    let all: rust_decimal::Decimal = b.months.iter().map(|m| m.amount).sum();
    lines.push(format!(
        "  Committed: {} {}",
        store::costs::round(committed),
        b.currency
    ));
    if all != committed {
        // Later months of rolling seats can still be given back: shown at
        // their price so the whole period's cost is known, not committed.
        lines.push(format!(
            "  To the contract end, if kept: {} {}",
            store::costs::round(all),
            b.currency
        ));
    }
    lines
}

/// Writes `bytes` to `out` whole or not at all. A new file never replaces
/// one (the store's own exclusive writer); with `overwrite` (the
/// administrator said yes), the bytes go to a temporary file beside `out`,
/// synced, then renamed over it, so a reader never sees half a file and a
/// failure leaves the old one as it was.
pub fn write_file(out: &Path, bytes: &[u8], overwrite: bool) -> Result<(), StoreError> {
    if !overwrite {
        return store::export::write_new_file(out, bytes);
    }
    // Named by the file asked for: the temporary name means nothing to the reader.
    let io = |source: std::io::Error| StoreError::Io {
        path: out.to_path_buf(),
        source,
    };
    if std::fs::metadata(out).is_ok_and(|m| m.is_dir()) {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "a directory",
        )));
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(&io)?;
    std::io::Write::write_all(&mut tmp, bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(&io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok(())
}
