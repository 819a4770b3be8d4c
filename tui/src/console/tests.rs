//! The console without a terminal: keys on the state alone, and the screen
//! drawn into a `TestBackend` at fixed sizes (insta snapshots, and styles where
//! colour carries meaning). Every store here is a demo made on a fixed clock, so
//! the screens are the same on every run.

use std::sync::Arc;
use store::ApiExt as _;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use store::{FixedClock, Local, NewUser, Store, UserState};

use super::app::{App, Confirmed, Popup, Purpose, Tab};
use super::draw;
use super::strings;
use super::theme::Theme;

/// The demo's "now": every date on screen follows from it.
const NOW: &str = "2026-11-22T10:00:00Z";
const OWNER: &str = "owner";
const COLOUR: Theme = Theme {
    colour: true,
    unicode: true,
};

/// A demo store of `users` users and three months of history, on the fixed clock.
struct Site {
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

/// Held (shared) while a demo store is made, and (exclusive) while insta may
/// start a process. `create_demo` closes its store and opens it again; a child
/// forked by another test thread in between holds a copy of the lock file's
/// descriptor, and with it the lock, until it execs (insta runs `cargo metadata`
/// once per process), and the reopening fails as Busy.
static FORKS: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn site(users: usize) -> Site {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(FixedClock::new(NOW.parse().expect("a time")));
    let guard = FORKS.read().unwrap_or_else(|p| p.into_inner());
    let store = store::demo::create_demo(&dir.path().join("st"), users, 3, OWNER, clock)
        .expect("demo store");
    drop(guard);
    Site {
        store: Arc::new(store),
        _dir: dir,
    }
}

impl Site {
    fn app_as(&self, operator: &str, theme: Theme) -> App {
        let local = Local {
            store: self.store.clone(),
            operator: operator.into(),
        };
        App::new(Box::new(local), theme)
    }

    fn app(&self) -> App {
        self.app_as(OWNER, COLOUR)
    }

    fn user(&self, name: &str) -> store::User {
        self.store
            .user(name)
            .expect("read user")
            .unwrap_or_else(|| panic!("no user {name}"))
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Clears the focused form field.
fn clear_field(app: &mut App) {
    for _ in 0..200 {
        press(app, KeyCode::Backspace);
    }
}

fn form(app: &App) -> &super::app::Form {
    match &app.popup {
        Some(Popup::Form(f)) => f,
        other => panic!("expected a form, got {other:?}"),
    }
}

/// Selects the user named `name` on the page shown.
fn select_user(app: &mut App, name: &str) {
    app.user_sel = app
        .users
        .iter()
        .position(|u| u.name == name)
        .unwrap_or_else(|| panic!("{name} is not on the page"));
}

/// Selects the vendor pool `licence` (`term`) on the Licences tab.
fn select_pool(app: &mut App, licence: &str, term: &str) {
    app.pool_sel = app
        .issuer_pools()
        .iter()
        .position(|p| p.licence == licence && p.term.as_str() == term)
        .unwrap_or_else(|| panic!("no pool {licence} ({term})"));
}

fn pool<'a>(app: &'a App, licence: &str, term: &str) -> &'a store::views::PoolView {
    app.status
        .as_ref()
        .expect("status")
        .pools
        .iter()
        .find(|p| p.issuer.is_empty() && p.licence == licence && p.term.as_str() == term)
        .unwrap_or_else(|| panic!("no pool {licence} ({term})"))
}

fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|f| draw::draw(f, app))
        .expect("draw into the test backend");
    terminal.backend().buffer().clone()
}

/// The buffer as text, one line a row, trailing blanks trimmed.
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn screen(app: &App, width: u16, height: u16) -> String {
    text(&render(app, width, height))
}

/// Where `needle` starts on screen: (x, y) of its first cell.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let cells: Vec<&str> = (area.left()..area.right())
            .map(|x| buf[(x, y)].symbol())
            .collect();
        let line: String = cells.concat();
        if let Some(byte) = line.find(needle) {
            // Every cell here is one column, so characters before the match are cells.
            let col = line[..byte].chars().count() as u16;
            return Some((area.left() + col, y));
        }
    }
    None
}

fn assert_screen_has(screen: &str, needle: &str) {
    assert!(
        screen.contains(needle),
        "{needle:?} not on screen:\n{screen}"
    );
}

/// Asserts a snapshot, with no demo store being made meanwhile (see [`FORKS`]).
macro_rules! snapshot {
    ($name:expr, $screen:expr) => {{
        let screen = $screen;
        let _guard = FORKS.write().unwrap_or_else(|p| p.into_inner());
        insta::assert_snapshot!($name, screen);
    }};
}

// ---------------------------------------------------------------- keys

#[test]
fn number_keys_tab_and_backtab_switch_tabs() {
    let site = site(40);
    let mut app = site.app();
    assert_eq!(app.tab, Tab::Licences);
    press(&mut app, KeyCode::Char('2'));
    assert_eq!(app.tab, Tab::Status);
    press(&mut app, KeyCode::Char('3'));
    assert_eq!(app.tab, Tab::Users);
    press(&mut app, KeyCode::Char('1'));
    assert_eq!(app.tab, Tab::Licences);
    for want in [Tab::Status, Tab::Users, Tab::Licences] {
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.tab, want);
    }
    for want in [Tab::Users, Tab::Status, Tab::Licences] {
        press(&mut app, KeyCode::BackTab);
        assert_eq!(app.tab, want);
    }
    assert!(!app.quit);
}

#[test]
fn selections_move_and_stop_at_the_ends() {
    let site = site(40);
    let mut app = site.app();

    let pools = app.issuer_pools().len();
    assert!(pools > 2, "the demo has several pools");
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.pool_sel, 2);
    for _ in 0..pools + 3 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.pool_sel, pools - 1, "stops at the last pool");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.pool_sel, pools - 2);
    for _ in 0..pools + 3 {
        press(&mut app, KeyCode::Char('k'));
    }
    assert_eq!(app.pool_sel, 0, "stops at the first pool");

    press(&mut app, KeyCode::Char('2'));
    assert!(app.events.len() > 10);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.event_sel, 1);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.event_sel, 11);
    press(&mut app, KeyCode::End);
    assert_eq!(app.event_sel, app.events.len() - 1);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.event_sel, app.events.len() - 1);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.event_sel, 0);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.event_sel, 0);
    // The description below the table follows the selection.
    press(&mut app, KeyCode::Down);
    let selected = app.events[1].clone();
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, &format!("#{} {}", selected.seq, selected.name));

    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.user_sel, 2);
    assert_eq!(
        app.selected_user().map(|u| u.name.clone()),
        Some(app.users[2].name.clone())
    );
    press(&mut app, KeyCode::Up);
    assert_eq!(app.user_sel, 1);
}

#[test]
fn users_page_through_the_whole_list_across_page_boundaries() {
    // More users than one page (200), so moving fetches the next page.
    let site = site(330);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    let total = app.users_total.expect("the total is known") as usize;
    assert!(total > 300, "{total} users");
    assert_eq!(app.users.len(), 200, "one page is fetched, not every user");
    assert!(app.users_next.is_some());
    let first_page: Vec<String> = app.users.iter().map(|u| u.name.clone()).collect();

    // Down to the last row of the page, then one more: the next page, first row.
    for _ in 0..199 {
        press(&mut app, KeyCode::Down);
    }
    assert_eq!(app.user_sel, 199);
    assert_eq!(app.selected_user().unwrap().name, first_page[199]);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.user_sel, 0);
    assert_eq!(app.page_starts.len(), 1);
    let second_first = app.selected_user().unwrap().name.clone();
    assert!(
        second_first > first_page[199],
        "{second_first} follows {}",
        first_page[199]
    );
    assert!(!first_page.contains(&second_first), "no row twice");

    // Up again: back on the first page, its last row.
    press(&mut app, KeyCode::Up);
    assert_eq!(app.page_starts.len(), 0);
    assert_eq!(app.user_sel, 199);
    assert_eq!(app.selected_user().unwrap().name, first_page[199]);

    // A page move that crosses the boundary lands as far into the next page.
    app.page_rows = 15;
    for _ in 0..9 {
        press(&mut app, KeyCode::Up);
    }
    assert_eq!(app.user_sel, 190);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.user_sel, 5);
    assert_eq!(app.page_starts.len(), 1);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.user_sel, 190);
    assert_eq!(app.page_starts.len(), 0);

    // Walking every page sees every user once, in order.
    press(&mut app, KeyCode::Home);
    let mut seen = vec![app.selected_user().unwrap().name.clone()];
    for _ in 1..total {
        press(&mut app, KeyCode::Down);
        seen.push(app.selected_user().unwrap().name.clone());
    }
    press(&mut app, KeyCode::Down);
    assert_eq!(
        app.selected_user().unwrap().name,
        seen[total - 1],
        "stops at the last user"
    );
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "every user once, in name order");

    // End goes to the very last user; Home back to the first.
    press(&mut app, KeyCode::Home);
    press(&mut app, KeyCode::End);
    assert_eq!(app.selected_user().unwrap().name, seen[total - 1]);
    press(&mut app, KeyCode::Home);
    assert_eq!(app.user_sel, 0);
    assert_eq!(app.selected_user().unwrap().name, seen[0]);
    assert!(app.page_starts.is_empty());
}

#[test]
fn search_finds_users_and_esc_shows_all_again() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    let all = app.users_total;
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(form(&app).purpose, Purpose::Search);
    // Esc in the form cancels: nothing searched.
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
    assert!(app.query.search.is_none());

    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "STARTER");
    press(&mut app, KeyCode::Enter);
    assert!(app.popup.is_none());
    assert_eq!(app.query.search.as_deref(), Some("STARTER"));
    assert!(!app.users.is_empty());
    assert!(
        app.users.iter().all(|u| u.name.starts_with("new.starter")),
        "{:?}",
        app.users.iter().map(|u| &u.name).collect::<Vec<_>>()
    );
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, "search \"STARTER\"");
    assert_screen_has(&shown, "Esc shows all");

    press(&mut app, KeyCode::Esc);
    assert!(app.query.search.is_none());
    assert_eq!(app.users_total, all);
    assert_eq!(app.message, Some(("showing all users".into(), false)));
}

#[test]
fn f_cycles_the_licence_filters() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    let filters = app.filters();
    assert!(filters.len() >= 3);
    for (label, licence, term) in &filters {
        press(&mut app, KeyCode::Char('f'));
        assert_eq!(app.query.licence.as_deref(), Some(licence.as_str()));
        assert_eq!(app.query.term, Some(*term));
        let want = format!("{licence} ({term})");
        assert!(
            app.users
                .iter()
                .all(|u| u.licence.as_deref() == Some(want.as_str())),
            "filter {label}: {:?}",
            app.users
                .iter()
                .map(|u| u.licence.clone())
                .collect::<Vec<_>>()
        );
        assert_screen_has(&screen(&app, 120, 40), label);
    }
    // Once more: back to every licence.
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(app.filter, 0);
    assert!(app.query.licence.is_none() && app.query.term.is_none());
    assert_screen_has(&screen(&app, 120, 40), "all licences");
    // Esc also drops a filter.
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, 0);
    assert!(app.query.licence.is_none());
}

#[test]
fn n_adds_a_user_through_the_form() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(form(&app).purpose, Purpose::AddUser);
    type_text(&mut app, "zara.new");
    press(&mut app, KeyCode::Tab);
    assert_eq!(form(&app).fields[1].value, "Engineer");
    press(&mut app, KeyCode::Right);
    assert_eq!(form(&app).fields[1].value, "Engineer with diary");
    press(&mut app, KeyCode::Tab);
    // The first Right on an empty choice picks the first choice.
    press(&mut app, KeyCode::Right);
    assert_eq!(form(&app).fields[2].value, "Jobs User");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Right);
    assert_eq!(form(&app).fields[3].value, "contracted");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "zara@example.com");
    press(&mut app, KeyCode::Enter);

    assert!(app.popup.is_none(), "the form closed: {:?}", app.popup);
    assert_eq!(app.message, Some(("zara.new added".into(), false)));
    let u = site.user("zara.new");
    assert_eq!(u.role, store::Role::EngineerWithDiary);
    assert_eq!(u.email, "zara@example.com");
    assert_eq!(u.state, UserState::Active);
    assert_eq!(
        u.seat
            .as_ref()
            .map(|s| (s.licence.as_str(), s.term.as_str())),
        Some(("User", "contracted"))
    );
    assert!(app.users.iter().any(|r| r.name == "zara.new"));
}

#[test]
fn a_refused_new_user_keeps_the_form_with_the_reason() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "alice.morgan");
    press(&mut app, KeyCode::Enter);
    let f = form(&app);
    assert!(f.error.is_some(), "a user of that name exists");
    assert_eq!(f.fields[0].value, "alice.morgan", "what was typed stays");
    let err = f.error.clone().unwrap_or_default();
    assert!(err.contains("taken"), "{err}");
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, "! username \"alice.morgan\" is taken");
}

#[test]
fn e_edits_the_selected_user() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    select_user(&mut app, "alice.morgan");
    press(&mut app, KeyCode::Char('e'));
    let f = form(&app);
    assert_eq!(f.purpose, Purpose::EditUser("alice.morgan".into()));
    assert_eq!(f.title, "Edit alice.morgan");
    assert_eq!(f.fields[0].value, "Engineer");
    assert_eq!(f.fields[1].value, "Jobs User");
    assert_eq!(f.fields[2].value, "contracted");
    // Role: Senior engineer (three along).
    for _ in 0..3 {
        press(&mut app, KeyCode::Right);
    }
    assert_eq!(form(&app).fields[0].value, "Senior engineer");
    press(&mut app, KeyCode::Enter);
    assert!(app.popup.is_none(), "{:?}", app.popup);
    assert_eq!(app.message, Some(("alice.morgan changed".into(), false)));
    let u = site.user("alice.morgan");
    assert_eq!(u.role, store::Role::SeniorEngineer);
    assert_eq!(
        u.seat.as_ref().map(|s| s.term.as_str()),
        Some("contracted"),
        "the seat is unchanged"
    );
    let row = app.users.iter().find(|r| r.name == "alice.morgan").unwrap();
    assert_eq!(row.role, "Senior engineer");
}

#[test]
fn d_then_y_deactivates_and_n_cancels() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    select_user(&mut app, "dan.morgan");
    press(&mut app, KeyCode::Char('d'));
    assert!(matches!(
        &app.popup,
        Some(Popup::Confirm { action: Confirmed::Deactivate(n), .. }) if n == "dan.morgan"
    ));
    press(&mut app, KeyCode::Char('n'));
    assert!(app.popup.is_none());
    assert_eq!(site.user("dan.morgan").state, UserState::Active);

    press(&mut app, KeyCode::Char('d'));
    // Other keys leave the question open.
    press(&mut app, KeyCode::Char('x'));
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    press(&mut app, KeyCode::Char('y'));
    assert!(app.popup.is_none());
    assert_eq!(site.user("dan.morgan").state, UserState::Inactive);
    assert_eq!(app.message, Some(("dan.morgan deactivated".into(), false)));
    let row = app.users.iter().find(|r| r.name == "dan.morgan").unwrap();
    assert_eq!(row.state, "inactive");
}

#[test]
fn a_activates_the_selected_user() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    // Left in month three on a contracted seat, which has room.
    assert_eq!(site.user("kate.morgan").state, UserState::Inactive);
    select_user(&mut app, "kate.morgan");
    press(&mut app, KeyCode::Char('a'));
    assert_eq!(site.user("kate.morgan").state, UserState::Active);
    assert_eq!(app.message, Some(("kate.morgan activated".into(), false)));
    let row = app.users.iter().find(|r| r.name == "kate.morgan").unwrap();
    assert_eq!(row.state, "active");
}

#[test]
fn b_quotes_then_y_records_the_purchase() {
    let site = site(40);
    let mut app = site.app();
    select_pool(&mut app, "Jobs User", "monthly");
    assert_eq!(pool(&app, "Jobs User", "monthly").pending, 0);
    press(&mut app, KeyCode::Char('b'));
    let f = form(&app);
    assert_eq!(f.purpose, Purpose::Buy);
    assert_eq!(
        f.fields
            .iter()
            .map(|f| f.value.as_str())
            .collect::<Vec<_>>(),
        ["Jobs User", "monthly", "1"]
    );
    assert_eq!(f.focus, 2, "the cursor starts on the count");
    clear_field(&mut app);
    type_text(&mut app, "3");
    press(&mut app, KeyCode::Enter);

    let Some(Popup::Confirm {
        title,
        lines,
        action,
    }) = &app.popup
    else {
        panic!("expected the quote, got {:?}", app.popup)
    };
    assert_eq!(title, "Save this request?");
    assert!(
        lines[0].starts_with("Buy 3 Jobs User (monthly) seats"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Cost breakdown (")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("  Total now: ")),
        "{lines:?}"
    );
    assert!(
        matches!(action, Confirmed::Seats { count: 3, .. }),
        "{action:?}"
    );
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, "Cost breakdown");
    assert_screen_has(&shown, strings::HINTS_CONFIRM);

    press(&mut app, KeyCode::Char('y'));
    assert!(app.popup.is_none());
    let (msg, error) = app.message.clone().expect("a message");
    assert!(!error && msg.starts_with("request "), "{msg}");
    assert_eq!(pool(&app, "Jobs User", "monthly").pending, 3);
    // The pools table: Total, InUse, Avail, Pend. after the term.
    for (w, h) in SIZES {
        let shown = screen(&app, w, h);
        let row = shown
            .lines()
            .find(|l| l.contains("Jobs User") && l.contains("monthly"))
            .expect("the pool's row");
        let cols: Vec<&str> = row
            .split_whitespace()
            .skip_while(|t| *t != "monthly")
            .skip(1)
            .take(4)
            .collect();
        assert_eq!(cols, ["8", "10", "0", "3"], "{w}x{h}: {row}");
    }

    // On a pool with nothing over-allocated, the state column says pending.
    select_pool(&mut app, "Jobs User", "contracted");
    press(&mut app, KeyCode::Char('b'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(pool(&app, "Jobs User", "contracted").pending, 1);
    let shown = screen(&app, 120, 40);
    let row = shown
        .lines()
        .find(|l| l.contains("Jobs User") && l.contains("contracted"))
        .expect("the pool's row");
    assert!(
        row.trim_end_matches('│').trim_end().ends_with("pending"),
        "{row}"
    );
}

#[test]
fn b_with_a_bad_count_or_esc_changes_nothing() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('b'));
    clear_field(&mut app);
    type_text(&mut app, "many");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        form(&app).error.as_deref(),
        Some("\"many\" is not a number of seats")
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
    assert_eq!(
        app.message,
        Some(("cancelled; nothing was changed".into(), false))
    );
    // Quote, then n: nothing recorded.
    press(&mut app, KeyCode::Char('b'));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .pools
            .iter()
            .all(|p| p.pending == 0)
    );
}

#[test]
fn x_on_contracted_seats_outside_the_window_is_refused_in_the_form() {
    let site = site(40);
    let mut app = site.app();
    select_pool(&mut app, "Jobs User", "contracted");
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(form(&app).purpose, Purpose::Remove);
    press(&mut app, KeyCode::Enter);
    let err = form(&app).error.clone().expect("refused");
    assert!(err.to_lowercase().contains("window"), "{err}");
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, "Remove seats");
    assert_screen_has(&shown, "! ");
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .pools
            .iter()
            .all(|p| p.pending == 0)
    );
}

#[test]
fn i_with_a_bad_path_shows_the_error() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('i'));
    assert_eq!(form(&app).purpose, Purpose::Import);
    let missing = site._dir.path().join("no-such.lic");
    type_text(&mut app, &missing.display().to_string());
    press(&mut app, KeyCode::Enter);
    let err = form(&app).error.clone().expect("an error");
    assert!(err.contains("no-such.lic"), "{err}");
    // A directory is not a licence either.
    clear_field(&mut app);
    type_text(&mut app, &site._dir.path().display().to_string());
    press(&mut app, KeyCode::Enter);
    let err = form(&app).error.clone().expect("an error");
    assert!(err.contains("is a directory"), "{err}");
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
}

#[test]
fn enter_shows_a_pools_details() {
    let site = site(40);
    let mut app = site.app();
    select_pool(&mut app, "Jobs User", "monthly");
    press(&mut app, KeyCode::Enter);
    let Some(Popup::Details { title, lines }) = &app.popup else {
        panic!("expected details, got {:?}", app.popup)
    };
    assert_eq!(title, "Jobs User (monthly)");
    assert!(
        lines.iter().any(|l| l.starts_with("Over-allocated 2")),
        "{lines:?}"
    );
    press(&mut app, KeyCode::Down);
    assert!(app.popup.is_some(), "other keys leave it open");
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
}

#[test]
fn help_opens_with_question_mark_and_closes_with_esc() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.popup, Some(Popup::Help));
    press(&mut app, KeyCode::Char('3'));
    assert_eq!(app.popup, Some(Popup::Help), "keys do not reach the tab");
    assert_eq!(app.tab, Tab::Licences);
    press(&mut app, KeyCode::Esc);
    assert!(app.popup.is_none());
    assert!(!app.quit, "Esc closes help, it does not quit");
}

#[test]
fn q_quits() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn q_in_a_form_is_text_not_quit() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "q");
    assert!(!app.quit);
    assert_eq!(form(&app).fields[0].value, "q");
}

#[test]
fn ctrl_c_quits_even_in_a_popup() {
    let site = site(40);
    let mut app = site.app();
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);

    let mut app = site.app();
    press(&mut app, KeyCode::Char('b'));
    app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.quit);
}

/// A store user "eng" with the engineer role, who may not see licences.
fn engineer(site: &Site) -> App {
    site.store
        .as_user(OWNER)
        .add_user(NewUser {
            name: "eng".into(),
            role: "engineer".into(),
            licence: None,
            term: None,
            email: None,
        })
        .expect("add eng");
    site.app_as("eng", COLOUR)
}

#[test]
fn an_operator_without_the_licence_role_sees_the_denial() {
    let site = site(40);
    let mut app = engineer(&site);
    assert!(app.denied.is_some());
    assert!(app.status.is_none());
    assert!(app.licences.is_empty());
    assert!(app.users.is_empty());
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, strings::NO_LICENCE_ROLE);
    assert!(!shown.contains("Jobs User"), "no licence data:\n{shown}");
    press(&mut app, KeyCode::Char('b'));
    assert!(app.popup.is_none());
    assert!(matches!(app.message, Some((_, true))));
    press(&mut app, KeyCode::Char('3'));
    let shown = screen(&app, 120, 40);
    assert_screen_has(&shown, strings::NO_LICENCE_ROLE);
    assert!(!shown.contains("alice.morgan"), "no users:\n{shown}");
    press(&mut app, KeyCode::Char('n'));
    assert!(app.popup.is_none());
    press(&mut app, KeyCode::Char('2'));
    let shown = screen(&app, 120, 40);
    // Wrapped in the Database box.
    assert_screen_has(&shown, "Only Owner/manager and Financial office");
    assert_screen_has(&shown, "staff see licences.");
    assert_screen_has(&shown, "operator eng");
    press(&mut app, KeyCode::Char('1'));
    app.message = None;
    snapshot!("denied_licences_80x24", screen(&app, 80, 24));
}

// ---------------------------------------------------------------- snapshots

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap_sizes(app: &App, name: &str) {
    for (w, h) in SIZES {
        snapshot!(format!("{name}_{w}x{h}"), screen(app, w, h));
    }
}

#[test]
fn snapshot_tabs() {
    let site = site(40);
    let mut app = site.app();
    snap_sizes(&app, "tab_licences");
    press(&mut app, KeyCode::Char('2'));
    snap_sizes(&app, "tab_status");
    press(&mut app, KeyCode::Char('3'));
    snap_sizes(&app, "tab_users");
}

#[test]
fn snapshot_popups() {
    let site = site(40);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('?'));
    snap_sizes(&app, "popup_help");
    press(&mut app, KeyCode::Esc);

    select_pool(&mut app, "Jobs User", "monthly");
    press(&mut app, KeyCode::Enter);
    snap_sizes(&app, "popup_details");
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('b'));
    clear_field(&mut app);
    type_text(&mut app, "3");
    snap_sizes(&app, "popup_form_buy");
    press(&mut app, KeyCode::Enter);
    snap_sizes(&app, "popup_confirm_buy");
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "zara.new");
    press(&mut app, KeyCode::Tab);
    snap_sizes(&app, "popup_form_new_user");
}

#[test]
fn snapshot_terminal_too_small() {
    let site = site(40);
    let app = site.app();
    let shown = screen(&app, 60, 20);
    assert_screen_has(&shown, "too small");
    snapshot!("too_small_60x20", shown);
}

// ---------------------------------------------------------------- styles

#[test]
fn over_allocated_users_are_red_with_colour_and_say_over_without() {
    let site = site(40);
    for colour in [true, false] {
        let mut app = site.app_as(
            OWNER,
            Theme {
                colour,
                unicode: true,
            },
        );
        press(&mut app, KeyCode::Char('3'));
        press(&mut app, KeyCode::Char('/'));
        type_text(&mut app, "new.starter");
        press(&mut app, KeyCode::Enter);
        // The first row is selected (and highlighted); the over-allocated ones are below it.
        let over = app
            .users
            .iter()
            .position(|u| u.over_allocated_until.is_some())
            .expect("the demo has over-allocated users");
        assert!(over > 0);
        for (w, h) in SIZES {
            let buf = render(&app, w, h);
            let name = &app.users[over].name;
            let (_, y) = find(&buf, name).expect("the user's row");
            // "OVER until 2026-11-29"; at 80 columns "OVER 2026-11-29".
            let until = app.users[over]
                .over_allocated_until
                .map(|d| d.to_string())
                .unwrap_or_default();
            let (x, y2) = find(&buf, "OVER ").expect("the State cell says OVER");
            let row: String = (0..w).map(|x| buf[(x, y2)].symbol()).collect();
            assert!(row.contains(&until), "{w}x{h}: the grace end shows: {row}");
            assert_eq!(y, y2, "OVER is on {name}'s row");
            let cell = &buf[(x, y)];
            if colour {
                assert_eq!(cell.fg, Color::Red, "{w}x{h}");
                assert!(cell.modifier.contains(Modifier::BOLD));
            } else {
                assert_eq!(cell.fg, Color::Reset, "{w}x{h}: no colour");
                assert_eq!(cell.bg, Color::Reset, "{w}x{h}: no colour");
            }
            // A row in good standing (not the selected one) is green with colour, plain without.
            let ok = app
                .users
                .iter()
                .skip(1)
                .find(|u| u.state == "active" && u.over_allocated_until.is_none())
                .expect("an active user in good standing");
            let (_, y) = find(&buf, &ok.name).expect("that user's row");
            let x = (0..w)
                .find(|&x| {
                    buf[(x, y)].symbol() == "a"
                        && buf[(x + 1, y)].symbol() == "c"
                        && buf[(x + 4, y)].symbol() == "v"
                })
                .expect("the word active on the row");
            assert_eq!(
                buf[(x, y)].fg,
                if colour { Color::Green } else { Color::Reset }
            );
        }
        // The pool's OVER mark on the Licences tab, too.
        press(&mut app, KeyCode::Char('1'));
        let buf = render(&app, 120, 40);
        let (x, y) = find(&buf, "OVER 2").expect("the over-allocated pool");
        assert_eq!(
            buf[(x, y)].fg,
            if colour { Color::Red } else { Color::Reset }
        );
    }
}

#[test]
fn the_demo_badge_stands_out_with_and_without_colour() {
    let site = site(40);
    for colour in [true, false] {
        let app = site.app_as(
            OWNER,
            Theme {
                colour,
                unicode: true,
            },
        );
        let buf = render(&app, 80, 24);
        let (x, y) = find(&buf, strings::DEMO_BADGE).expect("the DEMO badge");
        assert_eq!(y, 0, "on the title line");
        for dx in 0..strings::DEMO_BADGE.len() as u16 {
            let cell = &buf[(x + dx, y)];
            if colour {
                assert_eq!(cell.bg, Color::Magenta);
                assert_eq!(cell.fg, Color::White);
            } else {
                assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
                assert!(cell.modifier.contains(Modifier::REVERSED));
            }
        }
        assert_screen_has(&text(&buf), strings::DEMO_HINT);
    }
}

#[test]
fn without_colour_no_cell_is_coloured() {
    let site = site(40);
    let mut app = site.app_as(
        OWNER,
        Theme {
            colour: false,
            unicode: true,
        },
    );
    for tab in ['1', '2', '3'] {
        press(&mut app, KeyCode::Char(tab));
        let buf = render(&app, 120, 40);
        for cell in buf.content() {
            assert_eq!(
                (cell.fg, cell.bg),
                (Color::Reset, Color::Reset),
                "tab {tab}: {:?}",
                cell.symbol()
            );
        }
    }
}

#[test]
fn without_unicode_borders_and_bars_are_ascii() {
    let site = site(40);
    let mut app = site.app_as(
        OWNER,
        Theme {
            colour: true,
            unicode: false,
        },
    );
    for tab in ['1', '2', '3'] {
        press(&mut app, KeyCode::Char(tab));
        for (w, h) in SIZES {
            let buf = render(&app, w, h);
            let shown = text(&buf);
            assert!(shown.is_ascii(), "tab {tab} at {w}x{h}:\n{shown}");
            // The body's first box starts on the line after the title (two
            // lines with the demo hint) and the tabs.
            let row = |y: u16| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>();
            assert_eq!(buf[(0, 3)].symbol(), "+", "top left:\n{shown}");
            assert!(row(3).contains("--"), "a top border:\n{shown}");
            assert_eq!(buf[(0, 4)].symbol(), "|", "a side:\n{shown}");
        }
    }
    press(&mut app, KeyCode::Char('1'));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("####"), "bars are drawn with #:\n{shown}");
    press(&mut app, KeyCode::Char('?'));
    assert!(screen(&app, 80, 24).is_ascii());
}

#[test]
fn going_back_up_moves_the_selection_within_the_window() {
    let site = site(60);
    let mut app = site.app();
    press(&mut app, KeyCode::Char('3'));
    let row_of = |app: &App| {
        let buf = render(app, 80, 24);
        let name = app.selected_user().expect("a selected user").name.clone();
        find(&buf, &format!(">{name}"))
            .or_else(|| find(&buf, &name))
            .unwrap_or_else(|| panic!("{name} is not on screen:\n{}", text(&buf)))
            .1
    };
    // Well past the first screen: the window has scrolled, the selection is at its bottom.
    for _ in 0..40 {
        press(&mut app, KeyCode::Down);
        row_of(&app);
    }
    let bottom = row_of(&app);
    // Up three rows: the window stays, the selection climbs three rows on screen.
    for _ in 0..3 {
        press(&mut app, KeyCode::Up);
        row_of(&app);
    }
    assert_eq!(row_of(&app), bottom - 3, "{}", screen(&app, 80, 24));
}
