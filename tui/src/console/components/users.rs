//! The Users tab: users with role, licence, add-ons and state, a page at a
//! time from the store (never all of them), filtered as you type (`/`) and by
//! licence, "no licence" or state (`f`); forms to add and edit, deactivate,
//! activate and delete; Enter opens a user's detail view.

use crossterm::event::KeyEvent;
use licfile::Term;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use store::views::{UserQuery, UserRow, UserSort, UsersPage};

use super::super::action::{Action, Job, Land, UsersAt};
use super::super::forms::{Choice, EditUserForm, NONE, NewUserForm, terms};
use super::super::keys::Place;
use super::confirm::Confirm;
use super::form::FormPopup;
use super::grid::{Col, Grid, ListPos, Move, list_move};
use super::licences::denied;
use super::textinput::{Edit, TextInput};
use super::{Component, Cx, Data, Popup};

/// Users read at a time: a few screens, never all of them.
pub const PAGE: usize = 200;

/// A filter of the Users tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Holders of a pool (any issuer's).
    Pool {
        /// As shown.
        label: String,
        /// As the store resolves it.
        licence: String,
        /// The term.
        term: Term,
    },
    /// Users without a seat.
    NoLicence,
    /// Users in a state.
    State(&'static str),
}

impl Filter {
    /// As shown.
    pub fn label(&self) -> String {
        match self {
            Filter::Pool { label, .. } => label.clone(),
            Filter::NoLicence => "no licence".into(),
            Filter::State(s) => format!("{s} users"),
        }
    }
}

/// The filters `f` cycles through, after "all".
pub fn filters(data: &Data) -> Vec<Filter> {
    let mut out = Vec::new();
    if let Some(s) = &data.status {
        for p in &s.pools {
            let (label, licence) = if p.issuer.is_empty() {
                (format!("{} ({})", p.licence, p.term), p.licence.clone())
            } else {
                (
                    format!("{}: {} ({})", p.issuer, p.licence, p.term),
                    format!("{} {} {}", p.issuer, p.area, p.licence),
                )
            };
            out.push(Filter::Pool {
                label,
                licence,
                term: p.term,
            });
        }
    }
    out.push(Filter::NoLicence);
    out.push(Filter::State("active"));
    out.push(Filter::State("inactive"));
    out
}

/// The licence names a user's seat may be (any issuer's).
pub fn licence_names(data: &Data) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if let Some(s) = &data.status {
        for p in &s.pools {
            let name = if p.issuer.is_empty() {
                p.licence.clone()
            } else {
                format!("{} {} {}", p.issuer, p.area, p.licence)
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The roles, as the store names them.
pub fn roles() -> Vec<String> {
    store::Role::ALL
        .iter()
        .map(|r| r.name().to_string())
        .collect()
}

/// The Users tab.
#[derive(Debug, Default)]
pub struct Users {
    /// The page read.
    pub rows: Vec<UserRow>,
    /// The index of `rows[0]` in the whole (filtered) list.
    pub first: usize,
    /// How many users match, when known.
    pub total: Option<u64>,
    /// Whether there are users after the page.
    pub more_after: Option<String>,
    /// The selected user, as an index of the whole list.
    pub sel: usize,
    /// The page's scrolling.
    pub pos: ListPos,
    /// The filter shown, if any.
    pub filter: Option<Filter>,
    /// The search, as typed.
    pub search: TextInput,
    /// Whether keys go into the search field.
    pub searching: bool,
    /// Rows of the table on screen, for page moves.
    pub page: std::cell::Cell<usize>,
    /// The column the list is sorted by.
    pub sort: UserSort,
    /// The order reversed (names Z to A).
    pub descending: bool,
}

impl Users {
    /// The query the tab shows (without the page).
    pub fn query(&self) -> UserQuery {
        let search = self.search.text().trim().to_string();
        let mut q = UserQuery {
            search: (!search.is_empty()).then_some(search),
            limit: PAGE,
            sort: self.sort,
            ..Default::default()
        };
        match &self.filter {
            Some(Filter::Pool { licence, term, .. }) => {
                q.licence = Some(licence.clone());
                q.term = Some(*term);
            }
            Some(Filter::NoLicence) => q.no_licence = true,
            Some(Filter::State(s)) => q.state = Some(s.to_string()),
            None => {}
        }
        q
    }

    /// The job that reads the first page again.
    pub fn restart(&self) -> Action {
        Action::Job(Job::Users {
            query: self.query(),
            at: UsersAt::First,
            land: Land::Top,
            descending: self.descending,
        })
    }

    /// The job that reads the page the tab shows again (after a change).
    pub fn reload(&self) -> Job {
        let at = match self.rows.first() {
            Some(_) if self.first == 0 => UsersAt::First,
            // The page again, from its first row.
            Some(r) => UsersAt::From(r.name.clone(), self.first),
            None => UsersAt::First,
        };
        Job::Users {
            query: self.query(),
            at,
            land: Land::Index(self.sel),
            descending: self.descending,
        }
    }

    /// The order, in words: "name, A to Z", "role, last first".
    pub fn order(&self) -> String {
        let way = match (self.sort, self.descending) {
            (UserSort::Name, false) => "A to Z",
            (UserSort::Name, true) => "Z to A",
            (UserSort::Role, false) => "the ladder's order",
            (UserSort::Licence, false) => "A to Z, no licence last",
            (UserSort::State, false) => "active first",
            (_, true) => "reversed",
        };
        format!("{}, {way}", self.sort.word())
    }

    /// What the tab shows, said in words.
    pub fn describe(&self) -> String {
        let search = self.search.text();
        match (&self.filter, search.trim().is_empty()) {
            (None, true) => "showing all users".into(),
            (None, false) => format!("users matching {:?}: Esc shows all", search.trim()),
            (Some(f), true) => format!("showing {}", f.label()),
            (Some(f), false) => format!("{} matching {:?}", f.label(), search.trim()),
        }
    }

    /// The selected user, when read.
    pub fn selected(&self) -> Option<&UserRow> {
        self.sel
            .checked_sub(self.first)
            .and_then(|i| self.rows.get(i))
    }

    /// Takes a page read from the store.
    pub fn loaded(&mut self, at: &UsersAt, land: Land, page: UsersPage) {
        let len = page.users.len();
        // A page's count is the list's as it is now; a service of an older
        // version may give none, and then the count is not known (never the
        // count of another filter).
        let total = match at {
            UsersAt::First | UsersAt::Last => page.total,
            _ => page.total.or(self.total),
        };
        let first = match at {
            UsersAt::First => 0,
            UsersAt::After(_, index) | UsersAt::From(_, index) => *index,
            UsersAt::Before(_, index) => index.saturating_sub(len),
            UsersAt::Last => total.map(|t| (t as usize).saturating_sub(len)).unwrap_or(0),
        };
        self.more_after = match at {
            // A backward read's `next` points backwards; after the last page there is nothing.
            UsersAt::Last | UsersAt::Before(..) => None,
            _ => page.next.clone(),
        };
        if first != self.first || matches!(at, UsersAt::First | UsersAt::Last) {
            self.pos.offset.set(0);
        }
        self.first = first;
        self.total = total;
        self.rows = page.users;
        // Going back a page does not know if more follow: the row after it does.
        if matches!(at, UsersAt::Before(..)) {
            self.more_after = Some(String::new());
        }
        let last = (first + self.rows.len()).saturating_sub(1);
        self.sel = match land {
            Land::Index(i) => i.clamp(first, last.max(first)),
            Land::Top => first,
            Land::Bottom => last,
        };
        if let Some(t) = self.total
            && (t as usize) < first + self.rows.len()
        {
            self.total = Some((first + self.rows.len()) as u64);
        }
        if let Some(rel) = self.sel.checked_sub(first) {
            let visible = self.page.get().max(1);
            let off = self.pos.offset.get();
            if rel < off || rel >= off + visible {
                self.pos.offset.set(rel.saturating_sub(visible / 2));
            }
        }
    }

    fn go(&mut self, m: Move) -> Action {
        let query = self.query();
        let len = self.rows.len();
        match m {
            Move::Home => Action::Job(Job::Users {
                query,
                at: UsersAt::First,
                land: Land::Top,
                descending: self.descending,
            }),
            Move::End => {
                if self.more_after.is_none() && self.rows.len() as u64 == self.total.unwrap_or(0) {
                    self.sel = (self.first + len).saturating_sub(1);
                    return Action::None;
                }
                Action::Job(Job::Users {
                    query,
                    at: UsersAt::Last,
                    land: Land::Bottom,
                    descending: self.descending,
                })
            }
            Move::To(target) => {
                if len == 0 {
                    return Action::None;
                }
                let end = self.first + len;
                if target >= self.first && target < end {
                    self.sel = target;
                    Action::None
                } else if target >= end {
                    match (&self.more_after, self.rows.last()) {
                        (Some(_), Some(last)) => Action::Job(Job::Users {
                            query,
                            at: UsersAt::After(last.name.clone(), end),
                            land: Land::Index(target),
                            descending: self.descending,
                        }),
                        _ => {
                            self.sel = end - 1;
                            Action::None
                        }
                    }
                } else if self.first == 0 {
                    self.sel = 0;
                    Action::None
                } else {
                    Action::Job(Job::Users {
                        query,
                        at: UsersAt::Before(self.rows[0].name.clone(), self.first),
                        land: Land::Index(target),
                        descending: self.descending,
                    })
                }
            }
        }
    }

    fn new_user(&self, cx: &Cx) -> Popup {
        let mut names = licence_names(cx.data);
        names.push(NONE.into());
        Popup::Form(FormPopup::new(Box::new(NewUserForm {
            name: TextInput::new(""),
            role: Choice::new(roles(), "Engineer"),
            licence: Choice::new(names, NONE),
            term: Choice::new(terms(), "monthly"),
            email: TextInput::new(""),
        })))
    }

    fn edit_user(&self, cx: &Cx, u: &UserRow) -> Popup {
        let seat = match (&u.licence, u.term) {
            (Some(l), Some(t)) => Some((
                l.trim_end_matches(&format!(" ({t})")).to_string(),
                t.as_str().to_string(),
            )),
            _ => None,
        };
        let mut names = licence_names(cx.data);
        names.push(NONE.into());
        Popup::Form(FormPopup::new(Box::new(EditUserForm {
            name: u.name.clone(),
            was_role: u.role.clone(),
            was_seat: seat.clone(),
            role: Choice::new(roles(), &u.role),
            licence: Choice::new(names, seat.as_ref().map(|s| s.0.as_str()).unwrap_or(NONE)),
            term: Choice::new(
                terms(),
                seat.as_ref().map(|s| s.1.as_str()).unwrap_or("monthly"),
            ),
        })))
    }

    /// The confirmation before a user is deleted.
    pub fn confirm_delete(name: &str) -> Popup {
        Popup::Confirm(Confirm::new(
            format!("Delete {name}?"),
            vec![
                format!("{name} is deleted: their seat and add-ons are freed."),
                "The name stays reserved: no new user can take it.".into(),
            ],
            Job::Delete(name.to_string()),
        ))
    }
}

impl Component for Users {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if let Some(why) = &cx.data.denied {
            // The tab's own commands say why; tabs, help and quit still work.
            let command = [
                &k.filter,
                &k.cycle_filter,
                &k.new_user,
                &k.edit,
                &k.deactivate,
                &k.activate,
                &k.delete,
                &k.add_ons,
                &k.open,
            ]
            .iter()
            .any(|b| b.matches(key));
            return if command {
                Action::Fail(why.clone())
            } else {
                Action::Ignored
            };
        }
        if self.searching {
            if k.close.matches(key) {
                self.searching = false;
                self.search.set("");
                return Action::Then(vec![self.restart(), Action::Say(self.describe())]);
            }
            if k.submit.matches(key) || k.up.keys[0].matches(key) || k.down.keys[0].matches(key) {
                self.searching = false;
                return Action::Say(self.describe());
            }
            return match self.search.on_key(key) {
                Edit::Changed => self.restart(),
                Edit::Moved => Action::None,
                // Tab, a function key: still typing; Ctrl-letters are not text.
                Edit::Ignored => Action::None,
            };
        }
        if let Some(m) = list_move(
            k,
            key,
            self.sel,
            self.page.get().max(super::grid::PAGE_BEFORE_DRAWN),
        ) {
            return self.go(m);
        }
        if k.filter.matches(key) {
            self.searching = true;
            // Made ready while the first letter is typed.
            return Action::Job(Job::PrepareSearch);
        }
        if k.close.matches(key) && (self.filter.is_some() || !self.search.is_empty()) {
            self.filter = None;
            self.search.set("");
            return Action::Then(vec![self.restart(), Action::Say(self.describe())]);
        }
        if k.cycle_filter.matches(key) {
            let all = filters(cx.data);
            let at = self
                .filter
                .as_ref()
                .and_then(|f| all.iter().position(|x| x == f));
            self.filter = match at {
                None => all.first().cloned(),
                Some(i) => all.get(i + 1).cloned(),
            };
            return Action::Then(vec![self.restart(), Action::Say(self.describe())]);
        }
        if k.sort.matches(key) || k.reverse.matches(key) {
            if k.sort.matches(key) {
                let at = UserSort::ALL.iter().position(|s| *s == self.sort);
                self.sort = UserSort::ALL[at.map_or(0, |i| (i + 1) % UserSort::ALL.len())];
                self.descending = false;
            } else {
                self.descending = !self.descending;
            }
            let said = format!("sorted by {}", self.order());
            return Action::Then(vec![self.restart(), Action::Say(said)]);
        }
        if k.new_user.matches(key) {
            return Action::Open(self.new_user(cx));
        }
        if k.roles.matches(key) {
            return Action::Open(Popup::Roles(super::roles::RolesView::default()));
        }
        let Some(u) = self.selected().cloned() else {
            return Action::Ignored;
        };
        if k.open.matches(key) {
            return Action::Job(Job::OpenUser(u.name));
        }
        if k.edit.matches(key) {
            return Action::Open(self.edit_user(cx, &u));
        }
        if k.deactivate.matches(key) {
            return Action::Open(Popup::Confirm(Confirm::new(
                format!("Deactivate {}?", u.name),
                vec![
                    format!(
                        "{} will no longer be able to work; their seat is freed.",
                        u.name
                    ),
                    format!(
                        "Seat: {}",
                        u.licence.clone().unwrap_or_else(|| "none".into())
                    ),
                ],
                Job::Deactivate(u.name),
            )));
        }
        if k.activate.matches(key) {
            return Action::Job(Job::Activate(u.name));
        }
        if k.delete.matches(key) {
            return Action::Open(Users::confirm_delete(&u.name));
        }
        if k.add_ons.matches(key) {
            return Action::Job(Job::AddOns);
        }
        Action::Ignored
    }

    fn on_paste(&mut self, text: &str, _cx: &Cx) -> Action {
        // A paste outside the search field is never a command: it starts a search.
        self.searching = true;
        self.search.insert_str(text);
        self.restart()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        if cx.data.denied.is_some() {
            return denied(frame, area, cx, "Users");
        }
        let t = cx.theme;
        let show_search = self.searching || !self.search.is_empty();
        let [search_row, table] = Layout::vertical([
            Constraint::Length(u16::from(show_search)),
            Constraint::Min(0),
        ])
        .areas(area);
        if show_search {
            let label = "Filter: ";
            let (shown, col) = self
                .search
                .window(usize::from(search_row.width).saturating_sub(label.len() + 1));
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(label, t.key()),
                    Span::raw(shown),
                ])),
                search_row,
            );
            if self.searching {
                frame
                    .set_cursor_position((search_row.x + (label.len() + col) as u16, search_row.y));
            }
        }
        let wide = area.width >= 100;
        let cols: Vec<Col> = if wide {
            vec![
                Col::text("User"),
                Col::text("Role"),
                Col::text("Licence"),
                Col::flex("Add-ons"),
                Col::at_least("State", 17),
            ]
        } else {
            vec![
                Col::text("User"),
                Col::text("Role"),
                Col::text("Licence"),
                Col::at_least("State", 10),
            ]
        };
        let rows = self
            .rows
            .iter()
            .map(|u| {
                let (state, style) = match (u.over_allocated_until, u.state.as_str()) {
                    (Some(d), _) if wide => (format!("OVER until {d}"), t.bad()),
                    (Some(d), _) => (format!("OVER {d}"), t.bad()),
                    (None, "active") => ("active".to_string(), t.good()),
                    (None, other) => (other.to_string(), t.dim()),
                };
                let mut cells = vec![
                    (u.name.clone(), Style::default()),
                    (u.role.clone(), Style::default()),
                    (
                        u.licence.clone().unwrap_or_else(|| "-".into()),
                        Style::default(),
                    ),
                ];
                if wide {
                    cells.push((u.add_ons.join(", "), Style::default()));
                }
                cells.push((state, style));
                cells
            })
            .collect();
        let total = self
            .total
            .map(|n| format!("{n} users"))
            .unwrap_or_else(|| "users".into());
        let filter = self
            .filter
            .as_ref()
            .map(|f| f.label())
            .unwrap_or_else(|| "all licences".into());
        self.page
            .set(usize::from(table.height.saturating_sub(3)).max(1));
        Grid {
            title: format!(
                "Users: {total}, {filter}{}",
                if self.sort == UserSort::Name && !self.descending {
                    String::new()
                } else {
                    format!(", by {}", self.order())
                }
            ),
            cols: &cols,
            rows,
            selected: self.selected().map(|_| self.sel - self.first),
            window: Some((
                self.first,
                self.total.unwrap_or((self.first + self.rows.len()) as u64),
            )),
        }
        .draw(frame, table, t, &self.pos);
    }

    fn places(&self) -> Vec<Place> {
        if self.searching {
            vec![Place::Filter, Place::Text]
        } else {
            vec![Place::Users, Place::Global]
        }
    }
}
