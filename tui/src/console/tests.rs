//! The console without a terminal. Key handling is tested on the actions
//! components return and on what the performer asks of a fake store (no
//! sled); the screen is drawn into a `TestBackend` at fixed sizes (insta
//! snapshots of every component, and styles where colour carries meaning).
//! A few tests at the end run on a real demo store, through the same trait.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::action::{Action, Job, Tab, UsersAt};
use super::app::App;
use super::components::{Component, Cx, Popup};
use super::draw;
use super::fake::Fake;
use super::perform::read_licence;
use super::theme::Theme;

const COLOUR: Theme = Theme {
    colour: true,
    unicode: true,
};
const PLAIN: Theme = Theme {
    colour: false,
    unicode: false,
};

fn fake(users: usize, events: u64) -> Arc<Fake> {
    Arc::new(Fake::new(users, events))
}

fn app(f: &Arc<Fake>) -> App {
    App::new(f.clone(), COLOUR)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(app: &mut App, code: KeyCode) {
    app.on_key(key(code));
}

fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
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

/// Where `needle` starts on screen (every cell here is one column wide).
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        let line: String = (area.left()..area.right())
            .map(|x| buf[(x, y)].symbol())
            .collect();
        if let Some(byte) = line.find(needle) {
            let col = line[..byte].chars().count() as u16;
            return Some((area.left() + col, y));
        }
    }
    None
}

fn assert_has(screen: &str, needle: &str) {
    assert!(
        screen.contains(needle),
        "{needle:?} not on screen:\n{screen}"
    );
}

fn form_text(app: &App, field: usize) -> String {
    match app.popups.last() {
        Some(Popup::Form(f)) => match f.form.field(field) {
            super::forms::FieldRef::Text(t) => t.text(),
            super::forms::FieldRef::Choice(c) => c.value().to_string(),
        },
        other => panic!("expected a form, got {other:?}"),
    }
}

fn form_error(app: &App) -> Option<String> {
    match app.popups.last() {
        Some(Popup::Form(f)) => f.error.clone(),
        other => panic!("expected a form, got {other:?}"),
    }
}

fn calls_with(f: &Fake, prefix: &str) -> Vec<String> {
    f.calls()
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .collect()
}

// ------------------------------------------------------ keys to actions

#[test]
fn components_return_actions_and_touch_no_store() {
    let f = fake(300, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    let before = f.calls().len();
    let cx = Cx {
        data: &a.data,
        keys: &a.keys,
        theme: &a.theme,
    };
    let action = a.users.on_key(&key(KeyCode::Char('d')), &cx);
    match action {
        Action::Open(Popup::Confirm(c)) => {
            assert!(
                matches!(c.job, Job::Deactivate(ref n) if n == "user00000"),
                "{:?}",
                c.job
            )
        }
        other => panic!("d should ask first, got {other:?}"),
    }
    let action = a.users.on_key(&key(KeyCode::Enter), &cx);
    assert!(matches!(action, Action::Job(Job::OpenUser(ref n)) if n == "user00000"));
    let action = a.users.on_key(&key(KeyCode::End), &cx);
    assert!(
        matches!(
            action,
            Action::Job(Job::Users {
                at: UsersAt::Last,
                ..
            })
        ),
        "{action:?}"
    );
    assert_eq!(f.calls().len(), before, "a component never calls the store");
}

#[test]
fn number_keys_tab_and_backtab_switch_tabs() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::Status);
    press(&mut a, KeyCode::Char('3'));
    assert_eq!(a.tab, Tab::Users);
    press(&mut a, KeyCode::Tab);
    assert_eq!(a.tab, Tab::Licences);
    press(&mut a, KeyCode::BackTab);
    assert_eq!(a.tab, Tab::Users);
}

#[test]
fn ctrl_letters_are_not_their_letters() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    ctrl(&mut a, 'd');
    ctrl(&mut a, 'a');
    ctrl(&mut a, 'n');
    ctrl(&mut a, 'q');
    assert!(a.popups.is_empty(), "{:?}", a.popups);
    assert!(!a.quit);
    assert!(calls_with(&f, "activate").is_empty());
    press(&mut a, KeyCode::Char('d'));
    assert!(matches!(a.popups.last(), Some(Popup::Confirm(_))));
}

#[test]
fn q_quits_but_is_text_in_a_form_and_ctrl_c_quits_anywhere() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('n'));
    type_text(&mut a, "q");
    assert!(!a.quit);
    assert_eq!(form_text(&a, 0), "q");
    ctrl(&mut a, 'c');
    assert!(a.quit);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('q'));
    assert!(a.quit);
}

#[test]
fn text_fields_edit_like_readline() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('n'));
    type_text(&mut a, "jon");
    press(&mut a, KeyCode::Left);
    press(&mut a, KeyCode::Left);
    type_text(&mut a, "h");
    assert_eq!(form_text(&a, 0), "jhon");
    press(&mut a, KeyCode::Home);
    press(&mut a, KeyCode::Delete);
    assert_eq!(form_text(&a, 0), "hon");
    press(&mut a, KeyCode::End);
    ctrl(&mut a, 'w');
    assert_eq!(form_text(&a, 0), "");
    type_text(&mut a, "ann smith");
    ctrl(&mut a, 'a');
    ctrl(&mut a, 'k');
    assert_eq!(form_text(&a, 0), "");
    type_text(&mut a, "bob");
    ctrl(&mut a, 'u');
    assert_eq!(form_text(&a, 0), "", "Ctrl-U clears, it types no u");
}

#[test]
fn a_paste_is_text_in_the_focused_field_never_a_key() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('n'));
    // The administrator's failure: a name with a line break, then keys.
    a.on_paste("ann.lee\nd\ry\n");
    assert_eq!(form_text(&a, 0), "ann.lee d y");
    assert!(
        matches!(a.popups.last(), Some(Popup::Form(_))),
        "still the form"
    );
    assert!(calls_with(&f, "add_user").is_empty());
    assert!(calls_with(&f, "deactivate").is_empty());
}

#[test]
fn a_paste_on_the_users_list_filters_and_elsewhere_does_nothing() {
    let f = fake(50, 5);
    let mut a = app(&f);
    a.on_paste("d\ny");
    assert!(a.popups.is_empty());
    assert!(!a.quit);
    a.tab = Tab::Users;
    a.on_paste("user0004\n");
    assert!(a.users.searching);
    assert_eq!(a.users.search.text(), "user0004");
    assert!(calls_with(&f, "deactivate").is_empty());
    assert_eq!(a.users.rows.len(), 10);
}

#[test]
fn slash_filters_as_you_type_and_esc_clears() {
    let f = fake(300, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('/'));
    // The search is made ready as it starts, before the first letter.
    assert_eq!(
        f.calls().last().map(String::as_str),
        Some("prepare_user_search")
    );
    type_text(&mut a, "user001");
    assert_eq!(a.users.total, Some(100));
    type_text(&mut a, "5");
    assert_eq!(a.users.total, Some(10));
    assert_eq!(a.users.rows[0].name, "user00150");
    let searches = calls_with(&f, "users_page after=None backward=false search=Some");
    assert_eq!(searches.len(), 8, "{searches:?}");
    press(&mut a, KeyCode::Esc);
    assert!(!a.users.searching);
    assert_eq!(a.users.total, Some(300));
}

#[test]
fn an_empty_search_with_a_filter_on_says_the_filter() {
    let f = fake(30, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('f'));
    press(&mut a, KeyCode::Char('/'));
    press(&mut a, KeyCode::Enter);
    let (m, _) = a.message.clone().expect("a message");
    assert_eq!(m, "showing Jobs User (contracted)");
}

#[test]
fn the_filter_covers_no_licence_and_state() {
    let f = fake(30, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    // Four pools, then "no licence".
    for _ in 0..5 {
        press(&mut a, KeyCode::Char('f'));
    }
    assert!(a.users.rows.iter().all(|u| u.licence.is_none()));
    assert_eq!(a.users.total, Some(6));
    press(&mut a, KeyCode::Char('f'));
    press(&mut a, KeyCode::Char('f'));
    assert!(
        a.users.rows.iter().all(|u| u.state == "inactive"),
        "{:?}",
        a.users.rows
    );
    assert_eq!(a.users.total, Some(2));
    press(&mut a, KeyCode::Char('f'));
    assert_eq!(a.users.filter, None);
}

#[test]
fn end_on_a_huge_list_reads_the_last_page_not_every_page() {
    let f = fake(100_000, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    let before = calls_with(&f, "users_page").len();
    let start = std::time::Instant::now();
    press(&mut a, KeyCode::End);
    assert!(start.elapsed().as_secs() < 2);
    let reads = calls_with(&f, "users_page");
    assert_eq!(reads.len(), before + 1, "{:?}", &reads[before..]);
    assert!(reads.last().expect("a read").contains("backward=true"));
    assert_eq!(a.users.sel, 99_999);
    assert_eq!(a.users.selected().expect("a row").name, "user99999");
    assert_has(&screen(&a, 80, 24), "100000 of 100000");
    // Up a page from there reads the page before, and Home the first.
    for _ in 0..20 {
        press(&mut a, KeyCode::PageUp);
    }
    assert!(a.users.sel < 99_999 - 200);
    assert_eq!(
        a.users.selected().expect("a row").name,
        format!("user{:05}", a.users.sel)
    );
    press(&mut a, KeyCode::Home);
    assert_eq!(a.users.sel, 0);
    assert_has(&screen(&a, 80, 24), "1 of 100000");
}

#[test]
fn down_and_pgdn_page_through_across_boundaries() {
    let f = fake(450, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    for _ in 0..40 {
        press(&mut a, KeyCode::PageDown);
    }
    assert_eq!(a.users.sel, 449);
    assert_eq!(a.users.selected().expect("row").name, "user00449");
    for _ in 0..449 {
        press(&mut a, KeyCode::Up);
    }
    assert_eq!(a.users.sel, 0);
    assert_eq!(a.users.selected().expect("row").name, "user00000");
}

#[test]
fn shift_s_sorts_users_z_to_a_across_every_page() {
    let f = fake(450, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('S'));
    assert_eq!(a.users.selected().expect("row").name, "user00449");
    assert_eq!(
        a.message.as_ref().map(|m| m.0.as_str()),
        Some("sorted by name, Z to A")
    );
    for _ in 0..250 {
        press(&mut a, KeyCode::Down);
    }
    assert_eq!(a.users.selected().expect("row").name, "user00199");
    press(&mut a, KeyCode::End);
    assert_eq!(a.users.selected().expect("row").name, "user00000");
    assert_eq!(a.users.sel, 449);
    for _ in 0..300 {
        press(&mut a, KeyCode::Up);
    }
    assert_eq!(a.users.selected().expect("row").name, "user00300");
    press(&mut a, KeyCode::Home);
    assert_eq!(a.users.selected().expect("row").name, "user00449");
    assert_has(&screen(&a, 80, 24), "Z to A");
    press(&mut a, KeyCode::Char('S'));
    assert_eq!(a.users.selected().expect("row").name, "user00000");
}

#[test]
fn s_shows_notifications_oldest_first() {
    let f = fake(5, 450);
    let mut a = app(&f);
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Char('s'));
    assert_eq!(a.status.selected().expect("event").seq, 1);
    for _ in 0..250 {
        press(&mut a, KeyCode::Down);
    }
    assert_eq!(a.status.selected().expect("event").seq, 251);
    press(&mut a, KeyCode::End);
    assert_eq!(a.status.selected().expect("event").seq, 450);
    press(&mut a, KeyCode::Home);
    assert_eq!(a.status.selected().expect("event").seq, 1);
    assert_has(&screen(&a, 80, 24), "oldest first");
}

#[test]
fn every_notification_is_reachable_and_paged() {
    let f = fake(5, 1000);
    let mut a = app(&f);
    a.tab = Tab::Status;
    assert_eq!(a.status.total, 1000);
    press(&mut a, KeyCode::End);
    assert_eq!(a.status.sel, 999);
    assert_eq!(a.status.selected().expect("an event").seq, 1);
    let s = screen(&a, 120, 40);
    assert_has(&s, "1000 of 1000");
    assert_has(&s, "Event 1 ");
    press(&mut a, KeyCode::Home);
    assert_eq!(a.status.selected().expect("an event").seq, 1000);
    assert!(calls_with(&f, "events 200").len() >= 3);
}

#[test]
fn finished_and_type_are_in_the_description_when_narrow() {
    let f = fake(5, 30);
    let mut a = app(&f);
    a.tab = Tab::Status;
    let s = screen(&a, 80, 24);
    assert_has(&s, "#30 Event 30 by owner, finished");
    assert_has(&s, ", user");
    let s = screen(&a, 120, 40);
    assert_has(&s, "Finished");
    assert_has(&s, "Type");
    press(&mut a, KeyCode::Enter);
    match a.popups.last() {
        Some(Popup::Details(d)) => assert!(d.lines.iter().any(|l| l.contains("Its second line."))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn next_expiry_in_grace_says_what_stands() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Status;
    let s = screen(&a, 120, 40);
    assert!(!s.contains("Expiry   none"), "{s}");
    assert_has(&s, "terminates 2026-12-14");
    // At 80 columns too, where the box is narrow: the date comes first.
    assert_has(&screen(&a, 80, 24), "terminates 2026-12-14");
}

#[test]
fn numbers_are_never_cut_at_any_width() {
    let f = fake(5, 5);
    let mut a = app(&f);
    for (w, h) in [(60, 20), (80, 23), (80, 24), (200, 50)] {
        let s = screen(&a, w, h);
        assert_has(&s, "100000");
        assert_has(&s, "99990");
    }
    a.tab = Tab::Status;
    for (w, h) in [(60, 20), (80, 24)] {
        let s = screen(&a, w, h);
        assert_has(&s, "100000");
        assert_has(&s, "99999");
    }
}

#[test]
fn the_contract_that_ended_is_flagged_and_reductions_are_shown() {
    let f = fake(5, 5);
    let a = app(&f);
    let s = screen(&a, 120, 40);
    assert_has(&s, "2026-06-30 ENDED");
    assert_has(&s, "to 10 from");
    assert_has(&screen(&a, 200, 50), "OVER 2, to 10 from 2027-01-01");
}

#[test]
fn buying_shows_the_cost_the_commitment_and_the_email_then_records() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('b'));
    assert_eq!(form_text(&a, 2), "1");
    press(&mut a, KeyCode::Backspace);
    type_text(&mut a, "3");
    press(&mut a, KeyCode::Enter);
    let lines = match a.popups.last() {
        Some(Popup::Confirm(c)) => c.lines.join("\n"),
        other => panic!("expected the cost first, got {other:?}"),
    };
    assert!(lines.contains("This is a commitment"), "{lines}");
    assert!(lines.contains("licences@fakes.test"), "{lines}");
    // 3 x 25.00 for 29 of December's 31 days, then twelve whole months.
    assert!(
        lines.contains("  2026-12  29/31 days  70.16  commitment"),
        "{lines}"
    );
    assert!(lines.contains("Total now: 970.16 EUR"), "{lines}");
    assert!(
        calls_with(&f, "request").is_empty(),
        "nothing saved before y"
    );
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(
        calls_with(&f, "request"),
        vec!["request Jobs User contracted Add 3"]
    );
    assert!(a.popups.is_empty());
    // The whole file name is on screen, even at 80 columns.
    let s = screen(&a, 80, 24).replace('\n', " ");
    let squeezed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squeezed.contains("REQ-1-a-long-file-name.eml"),
        "the file name is cut:\n{}",
        screen(&a, 80, 24)
    );
}

/// The fake licence's rows after the pools: its one add-on, then its one
/// integration (which follows the standard seats).
fn select_module(a: &mut App, integration: bool) {
    press(a, KeyCode::End);
    if !integration {
        press(a, KeyCode::Up);
    }
}

#[test]
fn b_and_x_on_an_add_on_return_its_form_and_on_a_following_integration_say_why_not() {
    let f = fake(5, 5);
    let mut a = app(&f);
    select_module(&mut a, false);
    let mut a2 = app(&f);
    select_module(&mut a2, true);
    let before = f.calls().len();
    let cx = Cx {
        data: &a.data,
        keys: &a.keys,
        theme: &a.theme,
    };
    for (code, action) in [
        ('b', licfile::SeatAction::Add),
        ('x', licfile::SeatAction::Remove),
    ] {
        match a.licences.on_key(&key(KeyCode::Char(code)), &cx) {
            Action::Open(Popup::Form(form)) => {
                assert_eq!(
                    form.form.labels(),
                    vec!["Add-on", "Count"],
                    "{code}: the add-on's form"
                );
                match form.form.submit() {
                    Ok(Job::Quote(r)) => {
                        assert_eq!(r.licence, "CRM module");
                        assert_eq!(r.module, Some(licfile::ModuleKind::AddOn));
                        assert_eq!((r.action, r.count), (action, 1));
                    }
                    other => panic!("{code}: {other:?}"),
                }
            }
            other => panic!("{code} on an add-on should open its form, got {other:?}"),
        }
    }
    // Enter: the add-on's details.
    match a.licences.on_key(&key(KeyCode::Enter), &cx) {
        Action::Open(Popup::Details(_)) => {}
        other => panic!("{other:?}"),
    }
    // The integration follows the standard seats: nothing to buy by itself.
    let cx = Cx {
        data: &a2.data,
        keys: &a2.keys,
        theme: &a2.theme,
    };
    for code in ['b', 'x'] {
        match a2.licences.on_key(&key(KeyCode::Char(code)), &cx) {
            Action::Fail(why) => assert!(
                why.contains("follows the standard seat count")
                    && why.contains("standard seats instead"),
                "{why}"
            ),
            other => panic!("{code} on a following integration: {other:?}"),
        }
    }
    assert_eq!(f.calls().len(), before, "a component never calls the store");
}

#[test]
fn buying_an_add_on_quotes_confirms_and_records_it() {
    let f = fake(5, 5);
    let mut a = app(&f);
    select_module(&mut a, false);
    press(&mut a, KeyCode::Char('b'));
    press(&mut a, KeyCode::Backspace);
    type_text(&mut a, "2");
    press(&mut a, KeyCode::Enter);
    let lines = match a.popups.last() {
        Some(Popup::Confirm(c)) => c.lines.join("\n"),
        other => panic!("expected the cost first, got {other:?}"),
    };
    assert!(lines.contains("Buy 2 of CRM module add-on"), "{lines}");
    assert!(
        lines.contains("This is a commitment: the licences"),
        "{lines}"
    );
    assert!(lines.contains("commitment"), "{lines}");
    assert!(lines.contains("licences@fakes.test"), "{lines}");
    assert!(
        calls_with(&f, "request").is_empty(),
        "nothing saved before y"
    );
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(
        calls_with(&f, "request add-on"),
        vec!["request add-on CRM module Add 2"]
    );
    assert!(a.popups.is_empty());
}

#[test]
fn buying_after_a_scheduled_reduction_says_it_cancels_it() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Char('b'));
    press(&mut a, KeyCode::Enter);
    let lines = match a.popups.last() {
        Some(Popup::Confirm(c)) => c.lines.join("\n"),
        other => panic!("{other:?}"),
    };
    assert!(
        lines.contains("cancels the reduction to 10 seats"),
        "{lines}"
    );
    // Monthly seats commit the current month only: the later ones are
    // priced for information, and can be given back.
    assert!(
        !lines.contains("This is a commitment"),
        "monthly is no commitment: {lines}"
    );
    assert!(lines.contains("  2027-01  31/31 days  25.00\n"), "{lines}");
    assert!(
        lines.contains("To the contract end, if kept: 323.39 EUR"),
        "{lines}"
    );
}

/// Selects the Licences tab's last pool: End reaches the last row, and the
/// fake licence's add-on and integration come after the pools.
fn last_pool(a: &mut App) {
    press(a, KeyCode::End);
    press(a, KeyCode::Up);
    press(a, KeyCode::Up);
}

#[test]
fn a_limited_pool_shows_its_limits() {
    let f = fake(5, 5);
    let mut a = app(&f);
    assert_has(&screen(&a, 120, 40), "limited");
    last_pool(&mut a);
    press(&mut a, KeyCode::Enter);
    let s = screen(&a, 80, 24);
    assert_has(&s, "Limited to");
    assert_has(&s, "Attached files");
    assert_has(&s, "Opportunities");
}

#[test]
fn no_removal_below_one_seat_is_offered() {
    let f = fake(5, 5);
    let mut a = app(&f);
    last_pool(&mut a);
    press(&mut a, KeyCode::Up);
    press(&mut a, KeyCode::Char('x'));
    assert!(a.popups.is_empty());
    let (m, bad) = a.message.clone().expect("a reason");
    assert!(bad);
    assert!(m.contains("at least one stays"), "{m}");
}

#[test]
fn a_bad_count_keeps_the_form_with_the_reason() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('b'));
    type_text(&mut a, "x");
    press(&mut a, KeyCode::Enter);
    assert_eq!(
        form_error(&a).as_deref(),
        Some("\"1x\" is not a number of seats")
    );
    press(&mut a, KeyCode::Esc);
    assert!(a.popups.is_empty());
    assert!(calls_with(&f, "quote").is_empty());
}

#[test]
fn import_refuses_devices_pipes_directories_and_big_files_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = read_licence("/dev/zero").expect_err("a device");
    assert!(e.contains("is a device"), "{e}");
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let start = std::time::Instant::now();
    let e = read_licence(fifo.to_str().expect("utf-8")).expect_err("a pipe");
    assert!(start.elapsed().as_millis() < 500, "a pipe never blocks");
    assert!(e.contains("is a named pipe"), "{e}");
    let e = read_licence(dir.path().to_str().expect("utf-8")).expect_err("a dir");
    assert!(e.contains("is a directory"), "{e}");
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'a'; licfile::constants::MAX_FILE_BYTES + 1]).expect("write");
    let e = read_licence(big.to_str().expect("utf-8")).expect_err("too big");
    assert!(e.contains("larger than any licence file"), "{e}");
    let e = read_licence(dir.path().join("none").to_str().expect("utf-8")).expect_err("missing");
    assert!(e.contains("No such file"), "{e}");
}

#[test]
fn import_from_the_form_keeps_the_form_with_the_reason() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('i'));
    type_text(&mut a, "/dev/zero");
    press(&mut a, KeyCode::Enter);
    let e = form_error(&a).expect("an error");
    assert!(e.contains("is a device"), "{e}");
    assert!(
        calls_with(&f, "import").is_empty(),
        "the store is not asked"
    );
}

#[test]
fn tilde_is_home_in_paths() {
    let home = std::env::var("HOME").unwrap_or_default();
    if home.is_empty() {
        return;
    }
    assert_eq!(
        super::components::form::expand_home("~/lic.txt"),
        format!("{}/lic.txt", home.trim_end_matches('/'))
    );
    assert_eq!(super::components::form::expand_home("~"), home);
    assert_eq!(super::components::form::expand_home("a/~/b"), "a/~/b");
}

#[test]
fn a_lost_service_is_shown_and_healed_not_taken_for_a_refusal() {
    let f = fake(5, 5);
    let mut a = app(&f);
    *f.gone.lock().expect("gone") = true;
    a.run(Job::Reload);
    assert!(a.data.disconnected.is_some());
    assert!(
        a.data.denied.is_none(),
        "a broken pipe is no missing permission"
    );
    assert!(a.data.status.is_some(), "what was read stays shown");
    assert_has(&screen(&a, 80, 24), "disconnected — reconnecting");
    let g = fake(7, 5);
    a.reconnected(g.clone());
    assert!(a.data.disconnected.is_none());
    assert_eq!(a.users.total, Some(7));
}

#[test]
fn a_store_given_up_to_a_service_is_shown_disconnected_until_reconnected() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.handed_over("a service asked for the store");
    assert!(a.data.disconnected.is_some());
    assert_has(&screen(&a, 80, 24), "disconnected — reconnecting");
    assert!(a.data.status.is_some(), "what was read stays shown");
    // Whatever is asked meanwhile is a lost connection, never a refusal.
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('d'));
    a.run(Job::Reload);
    assert!(a.data.denied.is_none());
    assert!(a.data.disconnected.is_some());
    let s = screen(&a, 80, 24);
    assert!(!s.contains("may not"), "{s}");
    a.reconnected(fake(7, 5));
    assert!(a.data.disconnected.is_none());
    assert_eq!(a.users.total, Some(7));
}

#[test]
fn a_reload_the_old_connection_answered_does_not_hide_its_loss() {
    let f = fake(5, 5);
    let mut a = app(&f);
    // The service went away (the events connection said so) while a reload
    // it had already answered was on its way.
    a.data.disconnected = Some("the service closed the connection".into());
    a.run(Job::Reload);
    assert!(
        a.data.disconnected.is_some(),
        "still reconnecting: only a new connection ends it"
    );
}

#[test]
fn the_user_detail_view_shows_edits_and_deletes() {
    let f = fake(30, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Enter);
    let s = screen(&a, 80, 24);
    assert_has(&s, "user00000@example.test");
    assert_has(&s, "Senior engineer");
    assert_has(&s, "CRM module");
    press(&mut a, KeyCode::Char('e'));
    ctrl(&mut a, 'u');
    type_text(&mut a, "new@example.test");
    press(&mut a, KeyCode::Enter);
    assert_eq!(
        calls_with(&f, "set_user"),
        vec![
            "set_user user00000 email=Some(\"new@example.test\") add=[] remove=[] role=None licence=None"
        ]
    );
    assert!(matches!(a.popups.last(), Some(Popup::User(v)) if v.user.email == "new@example.test"));
    press(&mut a, KeyCode::Char('D'));
    assert!(matches!(a.popups.last(), Some(Popup::Confirm(_))));
    press(&mut a, KeyCode::Char('n'));
    assert!(calls_with(&f, "delete").is_empty());
    press(&mut a, KeyCode::Char('D'));
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(calls_with(&f, "delete"), vec!["delete user00000"]);
    assert!(a.popups.is_empty());
}

#[test]
fn system_licences_and_their_descriptions_are_reachable_at_80x24() {
    let f = fake(5, 5);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('l'));
    let s = screen(&a, 80, 24);
    assert_has(&s, "Web services");
    assert_has(&s, "The web services API for integrations.");
}

#[test]
fn the_add_ons_popup_scrolls() {
    let f = fake(1000, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('m'));
    let first = screen(&a, 80, 24);
    press(&mut a, KeyCode::End);
    let last = screen(&a, 80, 24);
    assert_ne!(first, last);
    assert_has(&last, "user00994");
}

#[test]
fn the_help_and_the_footer_come_from_the_key_bindings() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.keys.buy = super::keys::Binding {
        keys: vec![super::keys::Key::ch('+')],
    };
    assert_has(&screen(&a, 120, 40), "+ buy");
    press(&mut a, KeyCode::Char('+'));
    assert!(matches!(a.popups.last(), Some(Popup::Form(_))));
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('?'));
    let s = screen(&a, 120, 40);
    assert_has(&s, "+ ");
    assert_has(&s, "buy seats, add-ons or integrations");
    press(&mut a, KeyCode::Esc);
    assert!(a.popups.is_empty());
}

#[test]
fn an_operator_without_the_role_sees_the_denial() {
    let mut f = Fake::new(5, 5);
    f.denied = true;
    let f = Arc::new(f);
    let mut a = app(&f);
    assert!(a.data.denied.is_some());
    assert_has(&screen(&a, 80, 24), "Only Owner/manager");
    press(&mut a, KeyCode::Char('b'));
    assert!(a.popups.is_empty());
    assert!(a.message.as_ref().is_some_and(|(_, bad)| *bad));
    press(&mut a, KeyCode::Char('3'));
    assert_eq!(a.tab, Tab::Users);
    press(&mut a, KeyCode::Char('n'));
    assert!(a.popups.is_empty());
    assert!(
        a.message
            .as_ref()
            .is_some_and(|(m, _)| m.contains("may not"))
    );
    // Tabs still switch from a tab that is denied.
    press(&mut a, KeyCode::Char('2'));
    assert_eq!(a.tab, Tab::Status);
}

// ------------------------------------------------------ sizes and snapshots

#[test]
fn every_size_from_60x20_lays_out_and_smaller_says_so() {
    let f = fake(40, 40);
    let mut a = app(&f);
    for tab in [Tab::Licences, Tab::Status, Tab::Users] {
        a.tab = tab;
        for (w, h) in [(60, 20), (80, 23), (80, 24), (100, 30), (200, 50)] {
            let s = screen(&a, w, h);
            assert!(!s.contains("too small"), "{w}x{h}:\n{s}");
            assert_has(&s, "Licences");
        }
    }
    assert_has(&screen(&a, 59, 20), "too small");
    assert_has(&screen(&a, 60, 19), "too small");
}

/// Asserts a snapshot of the screen at 80x24 and 120x40.
fn snap(a: &App, name: &str) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(a, 80, 24));
    insta::assert_snapshot!(format!("{name}_120x40"), screen(a, 120, 40));
}

#[test]
fn snapshot_tabs() {
    let f = fake(40, 40);
    let mut a = app(&f);
    snap(&a, "tab_licences");
    a.tab = Tab::Status;
    snap(&a, "tab_status");
    a.tab = Tab::Users;
    snap(&a, "tab_users");
    press(&mut a, KeyCode::Char('/'));
    type_text(&mut a, "user001");
    snap(&a, "tab_users_filtering");
    insta::assert_snapshot!("tab_users_60x20", screen(&a, 60, 20));
    a.tab = Tab::Licences;
    insta::assert_snapshot!("tab_licences_60x20", screen(&a, 60, 20));
    insta::assert_snapshot!("tab_licences_80x23", screen(&a, 80, 23));
    a.tab = Tab::Status;
    insta::assert_snapshot!("tab_status_60x20", screen(&a, 60, 20));
    insta::assert_snapshot!("too_small_59x19", screen(&a, 59, 19));
}

#[test]
fn snapshot_popups() {
    let f = fake(40, 40);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('?'));
    snap(&a, "popup_help");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Enter);
    snap(&a, "popup_details");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('b'));
    snap(&a, "popup_form_buy");
    press(&mut a, KeyCode::Enter);
    snap(&a, "popup_confirm_buy");
    press(&mut a, KeyCode::Esc);
    select_module(&mut a, false);
    insta::assert_snapshot!("tab_licences_add_on_selected_80x24", screen(&a, 80, 24));
    press(&mut a, KeyCode::Char('b'));
    insta::assert_snapshot!("popup_form_buy_add_on_80x24", screen(&a, 80, 24));
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Home);
    press(&mut a, KeyCode::Char('l'));
    snap(&a, "popup_system_licences");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('i'));
    type_text(&mut a, "/dev/zero");
    press(&mut a, KeyCode::Enter);
    snap(&a, "popup_form_import_refused");
    press(&mut a, KeyCode::Esc);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('n'));
    snap(&a, "popup_form_new_user");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Enter);
    snap(&a, "popup_user");
    press(&mut a, KeyCode::Char('e'));
    snap(&a, "popup_form_user_details");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('D'));
    snap(&a, "popup_confirm_delete");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('m'));
    snap(&a, "popup_add_ons");
    press(&mut a, KeyCode::Esc);
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Enter);
    snap(&a, "popup_notification");
}

// ------------------------------------------------------ styles

#[test]
fn over_allocation_is_red_with_colour_and_says_over_without() {
    let f = fake(5, 5);
    let a = app(&f);
    let buf = render(&a, 120, 40);
    let (x, y) = find(&buf, "OVER 2").expect("OVER 2 on screen");
    assert_eq!(buf[(x, y)].fg, Color::Red);
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let plain = App::new(f.clone(), PLAIN);
    let buf = render(&plain, 120, 40);
    let (x, y) = find(&buf, "OVER 2").expect("the word stays without colour");
    assert_eq!(buf[(x, y)].fg, Color::Reset);
}

#[test]
fn grace_is_yellow_and_a_disconnection_red() {
    let f = fake(5, 5);
    let mut a = app(&f);
    let buf = render(&a, 120, 40);
    let (x, y) = find(&buf, "GRACE").expect("the state");
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
    *f.gone.lock().expect("gone") = true;
    a.run(Job::Reload);
    let buf = render(&a, 120, 40);
    let (x, y) = find(&buf, "disconnected").expect("said");
    assert_eq!(buf[(x, y)].fg, Color::Red);
}

#[test]
fn without_colour_no_cell_is_coloured_and_borders_are_ascii() {
    let f = fake(40, 40);
    let mut a = App::new(f.clone(), PLAIN);
    for tab in [Tab::Licences, Tab::Status, Tab::Users] {
        a.tab = tab;
        let buf = render(&a, 80, 24);
        for cell in buf.content() {
            assert_eq!(cell.fg, Color::Reset, "{tab:?}");
            assert_eq!(cell.bg, Color::Reset, "{tab:?}");
            assert!(cell.symbol().is_ascii(), "{tab:?}: {:?}", cell.symbol());
        }
    }
}

// ------------------------------------------------------ on a real store

/// A demo store of `users` users on a fixed clock, through the real adapter.
fn demo(users: usize) -> (tempfile::TempDir, Arc<store::Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(store::FixedClock::new(
        "2026-11-22T10:00:00Z".parse().expect("a time"),
    ));
    let st = store::demo::create_demo(&dir.path().join("st"), users, 2, "owner", clock)
        .expect("demo store");
    (dir, Arc::new(st))
}

fn real(st: &Arc<store::Store>) -> App {
    let api = store::Local {
        store: st.clone(),
        operator: "owner".into(),
    };
    App::new(Arc::new(super::port::Real(Box::new(api))), COLOUR)
}

#[test]
fn on_a_real_store_end_reads_the_same_last_page_as_paging_through() {
    let (_dir, st) = demo(450);
    let mut a = real(&st);
    a.tab = Tab::Users;
    let total = a.users.total.expect("a total") as usize;
    press(&mut a, KeyCode::End);
    assert_eq!(a.users.sel, total - 1);
    let last_by_end = a.users.selected().expect("row").name.clone();
    let mut b = real(&st);
    b.tab = Tab::Users;
    for _ in 0..total {
        press(&mut b, KeyCode::Down);
    }
    assert_eq!(b.users.selected().expect("row").name, last_by_end);
    // And back up from the end, page by page, to the first.
    for _ in 0..total {
        press(&mut a, KeyCode::Up);
    }
    press(&mut b, KeyCode::Home);
    assert_eq!(
        a.users.selected().expect("row").name,
        b.users.selected().expect("row").name
    );
    // Z to A starts where A to Z ends, and ends where it starts.
    let first = b.users.selected().expect("row").name.clone();
    press(&mut b, KeyCode::Char('S'));
    assert_eq!(b.users.selected().expect("row").name, last_by_end);
    press(&mut b, KeyCode::End);
    assert_eq!(b.users.selected().expect("row").name, first);
}

/// The names of every row from the selection to the end, a Down at a time
/// (pages read as the list is walked), the selection's own row first.
fn walk_to_the_end(a: &mut App) -> Vec<store::views::UserRow> {
    let total = a.users.total.expect("a total") as usize;
    let mut rows = vec![a.users.selected().expect("row").clone()];
    while a.users.sel + 1 < total {
        press(a, KeyCode::Down);
        rows.push(a.users.selected().expect("row").clone());
    }
    rows
}

#[test]
fn on_a_real_store_s_sorts_users_by_each_column_across_every_page() {
    let (_dir, st) = demo(450);
    let mut a = real(&st);
    a.tab = Tab::Users;
    let total = a.users.total.expect("a total") as usize;
    let rank = |r: &str| store::Role::ALL.iter().position(|x| x.name() == r);
    let mut names_a_to_z: Vec<String> = walk_to_the_end(&mut a)
        .into_iter()
        .map(|r| r.name)
        .collect();
    names_a_to_z.sort_by_key(|n| n.to_lowercase());
    for (column, said) in [
        ("role", "sorted by role"),
        ("licence", "sorted by licence"),
        ("state", "sorted by state"),
    ] {
        press(&mut a, KeyCode::Char('s'));
        assert_eq!(a.users.sort.word(), column);
        assert!(
            a.message.as_ref().is_some_and(|m| m.0.starts_with(said)),
            "{:?}",
            a.message
        );
        assert_eq!(a.users.sel, 0);
        let rows = walk_to_the_end(&mut a);
        assert_eq!(rows.len(), total, "every user once, by {column}");
        let mut names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        names.sort_by_key(|n| n.to_lowercase());
        assert_eq!(names, names_a_to_z, "the same users, by {column}");
        // In the column's order, names in order within it.
        let key = |r: &store::views::UserRow| match column {
            "role" => (rank(&r.role).unwrap_or(99), String::new()),
            "licence" => (
                usize::from(r.licence.is_none()),
                r.licence.clone().unwrap_or_default().to_lowercase(),
            ),
            _ => (
                ["active", "inactive", "deleted"]
                    .iter()
                    .position(|s| *s == r.state)
                    .unwrap_or(9),
                String::new(),
            ),
        };
        for w in rows.windows(2) {
            let (x, y) = (key(&w[0]), key(&w[1]));
            assert!(
                x < y || (x == y && w[0].name.to_lowercase() < w[1].name.to_lowercase()),
                "by {column}: {} before {}",
                w[0].name,
                w[1].name
            );
        }
        // End reads the same last row, and reversed the list starts there.
        let last = rows.last().expect("rows").name.clone();
        press(&mut a, KeyCode::Home);
        press(&mut a, KeyCode::End);
        assert_eq!(a.users.selected().expect("row").name, last);
        press(&mut a, KeyCode::Char('S'));
        assert_eq!(a.users.selected().expect("row").name, last);
        assert_has(&screen(&a, 80, 24), &format!("by {column}, reversed"));
        press(&mut a, KeyCode::Char('S'));
        assert_eq!(a.users.selected().expect("row").name, rows[0].name);
    }
    // A change made on a later page reads that page again from its first row.
    press(&mut a, KeyCode::Char('s'));
    assert_eq!(a.users.sort.word(), "name");
    for _ in 0..260 {
        press(&mut a, KeyCode::Down);
    }
    let at = a.users.selected().expect("row").name.clone();
    let reload = a.users.reload();
    a.run(reload);
    assert_eq!(a.users.selected().expect("row").name, at);
}

#[test]
fn on_a_real_store_deactivate_and_the_no_licence_filter_work() {
    let (_dir, st) = demo(40);
    let mut a = real(&st);
    a.tab = Tab::Users;
    let name = a.users.selected().expect("row").name.clone();
    press(&mut a, KeyCode::Char('d'));
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(
        st.user(&name).expect("read").expect("user").state,
        store::UserState::Inactive
    );
    let pools = a.data.status.as_ref().expect("status").pools.len();
    for _ in 0..=pools {
        press(&mut a, KeyCode::Char('f'));
    }
    assert_eq!(
        a.users.filter,
        Some(super::components::users::Filter::NoLicence)
    );
    assert!(a.users.rows.iter().all(|u| u.licence.is_none()));
}

// ------------------------------------------------------ off the drawing thread

#[test]
fn with_the_worker_keys_return_at_once_and_results_arrive() {
    let f = fake(500, 5);
    let mut a = app(&f);
    a.worker = Some(super::perform::Worker::start());
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('/'));
    // A read per key, sent without waiting; the spinner counts them.
    type_text(&mut a, "user0049");
    assert!(a.busy > 0);
    let start = std::time::Instant::now();
    while a.busy > 0 {
        a.poll_worker();
        assert!(start.elapsed().as_secs() < 5, "the worker answers");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Only the last key's read counts, whatever order the others ended in.
    assert_eq!(a.users.total, Some(10));
    assert_eq!(a.users.rows[0].name, "user00490");
    assert_has(&screen(&a, 80, 24), "Filter: user0049");
}

// ------------------------------------------------------ contract breakdown

#[test]
fn a_purchase_lists_each_month_to_the_contract_end_and_scrolls() {
    let f = fake(40, 40);
    let mut a = app(&f);
    press(&mut a, KeyCode::Char('b'));
    press(&mut a, KeyCode::Enter);
    let s = screen(&a, 80, 24);
    assert_has(&s, "Contract month by month");
    assert_has(&s, "2026-12  29/31 days  23.39  commitment");
    assert_has(&s, "commitment");
    // Thirteen months do not fit at 80x24: the popup says where it is.
    assert_has(&s, " 1-");
    assert!(!s.contains("Committed:"), "the end is below:\n{s}");
    // Scrolling is not an answer: nothing is saved, the question stays.
    for code in [KeyCode::Down, KeyCode::PageDown, KeyCode::End] {
        let Some(Popup::Confirm(c)) = a.popups.last_mut() else {
            panic!("the confirmation")
        };
        let cx = Cx {
            data: &a.data,
            keys: &a.keys,
            theme: &COLOUR,
        };
        assert!(matches!(c.on_key(&key(code), &cx), Action::None));
    }
    let s = screen(&a, 80, 24);
    assert_has(&s, "2027-12");
    assert_has(&s, "Committed: ");
    assert!(!f.calls().iter().any(|c| c.starts_with("request")));
    snap(&a, "popup_confirm_buy_end");
    press(&mut a, KeyCode::Home);
    assert_has(&screen(&a, 80, 24), "Cost breakdown");
    press(&mut a, KeyCode::Char('y'));
    assert!(f.calls().iter().any(|c| c.starts_with("request")));
}

#[test]
fn monthly_seats_commit_only_the_first_month() {
    let b = store::costs::Breakdown {
        lines: vec![],
        total: rust_decimal::Decimal::new(1000, 2),
        currency: "EUR".into(),
        months: vec![
            store::costs::MonthCharge {
                month: licfile::YearMonth::new(2026, 12).expect("month"),
                days: 10,
                days_in_month: 31,
                amount: rust_decimal::Decimal::new(1000, 2),
                commitment: true,
            },
            store::costs::MonthCharge {
                month: licfile::YearMonth::new(2027, 1).expect("month"),
                days: 31,
                days_in_month: 31,
                amount: rust_decimal::Decimal::new(3100, 2),
                commitment: false,
            },
        ],
    };
    let lines = super::perform::month_lines(&b);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("2026-12") && l.ends_with("commitment"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("2027-01") && !l.contains("commitment"))
    );
    assert!(lines.iter().any(|l| l == "  Committed: 10.00 EUR"));
    assert!(
        lines
            .iter()
            .any(|l| l == "  To the contract end, if kept: 41.00 EUR")
    );
    let none = store::costs::Breakdown {
        months: vec![],
        ..b
    };
    assert!(super::perform::month_lines(&none).is_empty());
}

// ------------------------------------------------------ charged days

#[test]
fn the_user_view_says_the_days_charged_this_month() {
    let f = fake(40, 40);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Enter);
    assert!(f.calls().iter().any(|c| c == "user_detail user00000"));
    let s = screen(&a, 80, 24);
    assert_has(&s, "Charged");
    assert_has(&s, "3 days this month (2026-12): 1 2 3");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Enter);
    assert_has(
        &screen(&a, 80, 24),
        "no days this month (contracted and monthly",
    );
}

#[test]
fn the_charged_line_counts_days_and_says_why_when_not_known() {
    let days: super::perform::Charged = Err("operator ann may not see this user".into());
    assert_eq!(
        super::components::user::charged_text(&days, Some(licfile::Term::Daily)),
        "not known: operator ann may not see this user"
    );
    let one: super::perform::Charged = Ok(vec!["2026-12-09".parse().expect("day")]);
    assert_eq!(
        super::components::user::charged_text(&one, Some(licfile::Term::Daily)),
        "1 day this month (2026-12): 9"
    );
    assert_eq!(
        super::components::user::charged_text(&Ok(vec![]), Some(licfile::Term::Daily)),
        "no days this month"
    );
}

// ------------------------------------------------------ charts

fn charts(a: &App) -> &super::components::charts::Charts {
    match a.popups.last() {
        Some(Popup::Charts(c)) => c,
        other => panic!("expected the charts, got {other:?}"),
    }
}

#[test]
fn c_on_status_reads_the_history_off_the_drawing_thread_and_opens_the_charts() {
    let f = fake(40, 40);
    let mut a = app(&f);
    a.tab = Tab::Status;
    let cx = Cx {
        data: &a.data,
        keys: &a.keys,
        theme: &COLOUR,
    };
    let got = a.status.on_key(&key(KeyCode::Char('c')), &cx);
    assert!(matches!(got, Action::Job(Job::History)), "{got:?}");
    press(&mut a, KeyCode::Char('c'));
    assert!(f.calls().iter().any(|c| c == "history 31"));
    use super::components::charts::Chart;
    assert_eq!(charts(&a).chart, Chart::Metered);
    let s = screen(&a, 80, 24);
    assert_has(&s, "sms (message), the last 12 months");
    assert_has(&s, "overage so far 12.00 EUR");
    assert_has(&s, "OVER: 240");
    assert_has(&s, "Dec");
    snap(&a, "popup_charts_metered");
    press(&mut a, KeyCode::Down);
    assert_has(&screen(&a, 80, 24), "api-calls (call)");
    // Down stops at the last series; Up at the first.
    press(&mut a, KeyCode::Down);
    assert_eq!(charts(&a).series, 1);
    press(&mut a, KeyCode::Right);
    assert_eq!(charts(&a).chart, Chart::Seats);
    assert_eq!(charts(&a).series, 0);
    assert_has(&screen(&a, 80, 24), "12 seats licensed today");
    snap(&a, "popup_charts_seats");
    press(&mut a, KeyCode::Right);
    assert_eq!(charts(&a).chart, Chart::Daily);
    assert_has(&screen(&a, 80, 24), "from 2026-11-03 to 2026-12-03");
    snap(&a, "popup_charts_daily");
    press(&mut a, KeyCode::Right);
    assert_eq!(charts(&a).chart, Chart::Storage);
    let s = screen(&a, 80, 24);
    assert_has(&s, "Allowance 200 GB today");
    assert_has(&s, "measured against today's");
    snap(&a, "popup_charts_storage");
    press(&mut a, KeyCode::Right);
    assert_eq!(charts(&a).chart, Chart::Metered);
    press(&mut a, KeyCode::Left);
    assert_eq!(charts(&a).chart, Chart::Storage);
    // r reads again and keeps the chart looked at.
    press(&mut a, KeyCode::Char('r'));
    assert_eq!(calls_with(&f, "history").len(), 2);
    assert_eq!(charts(&a).chart, Chart::Storage);
    press(&mut a, KeyCode::Esc);
    assert!(a.popups.is_empty());
}

#[test]
fn charts_read_without_colour_in_ascii_and_fit_60x20() {
    let f = fake(5, 5);
    let mut a = App::new(f.clone(), PLAIN);
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Char('c'));
    for _ in 0..4 {
        let buf = render(&a, 80, 24);
        for cell in buf.content() {
            assert_eq!(cell.fg, Color::Reset);
            assert_eq!(cell.bg, Color::Reset);
            assert!(cell.symbol().is_ascii(), "{:?}", cell.symbol());
        }
        let s = text(&buf);
        assert!(s.contains('#'), "bars drawn:\n{s}");
        let small = screen(&a, 60, 20);
        assert_has(&small, "Charts");
        press(&mut a, KeyCode::Right);
    }
}

/// The columns (x) of the cells on `y` that are bars, as runs: one per bar.
fn runs(xs: &[u16]) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for &x in xs {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == x => *end = x,
            _ => out.push((x, x)),
        }
    }
    out
}

#[test]
fn the_limit_is_a_labelled_line_that_bars_over_it_cross_in_the_warning_style() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Char('c'));
    // Metered "sms": 380 to 740 from March, threshold 500: July to December over.
    for (w, h) in [(80, 24), (120, 40)] {
        let buf = render(&a, w, h);
        let (x, y) = find(&buf, "threshold 500 ─").expect("the line, labelled");
        let line: String = (x..buf.area.right() - 1)
            .map(|x| buf[(x, y)].symbol())
            .collect();
        assert!(line.matches('─').count() > 20, "a line across: {line}");
        // The bars crossing the line's row are the six over the threshold…
        let crossing: Vec<u16> = (x..buf.area.right())
            .filter(|&x| {
                let c = buf[(x, y)].symbol();
                c != " " && c != "─" && c != "│" && !"threshold 500".contains(c)
            })
            .collect();
        assert_eq!(runs(&crossing).len(), 6, "{w}x{h}:\n{}", text(&buf));
        // …drawn in the warning style, and no other bar is.
        let yellow: Vec<u16> = (0..buf.area.width)
            .filter(|&x| (0..buf.area.height).any(|y| buf[(x, y)].fg == Color::Yellow))
            .collect();
        assert_eq!(runs(&yellow), runs(&crossing), "{w}x{h}");
        // The line itself and the bars under it carry no warning colour.
        assert_ne!(buf[(x + 15, y)].fg, Color::Yellow);
        let below = y + 1;
        let under: Vec<u16> = (x..buf.area.right())
            .filter(|&x| buf[(x, below)].symbol() == "█" && buf[(x, y)].symbol() == "─")
            .collect();
        assert!(!under.is_empty(), "bars under the line");
        assert!(under.iter().all(|&x| buf[(x, below)].fg != Color::Yellow));
    }
    // Every chart has its line: seats licensed, the daily pool's seats, the allowance.
    for label in ["licensed 12 ─", "licensed 5 ─", "allowance 200 GB ─"] {
        press(&mut a, KeyCode::Right);
        for (w, h) in [(80, 24), (120, 40)] {
            let buf = render(&a, w, h);
            assert!(find(&buf, label).is_some(), "{label}:\n{}", text(&buf));
        }
    }
}

#[test]
fn the_limit_line_reads_in_ascii_without_colour() {
    let f = fake(5, 5);
    let mut a = App::new(f.clone(), PLAIN);
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Char('c'));
    let s = screen(&a, 80, 24);
    assert_has(&s, "threshold 500 ---");
    insta::assert_snapshot!("popup_charts_metered_ascii_80x24", s);
    // On the smallest screen too, with every month.
    let small = screen(&a, 60, 20);
    assert_has(&small, "threshold 500 ---");
    assert!(!small.contains("The last"), "{small}");
}

#[test]
fn a_refused_history_says_why_and_opens_nothing() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Status;
    *f.gone.lock().expect("gone") = true;
    press(&mut a, KeyCode::Char('c'));
    assert!(a.popups.is_empty());
    assert_has(&screen(&a, 80, 24), "disconnected");
}

#[test]
fn compact_numbers_fit_on_bars() {
    use super::components::charts::compact;
    assert_eq!(compact(9_999), "9999");
    assert_eq!(compact(12_345), "12k");
    assert_eq!(compact(12_345_678), "12M");
}

// ------------------------------------------------------ roles

#[test]
fn r_on_users_shows_each_ladders_matrix_and_scrolls() {
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('R'));
    let Some(Popup::Roles(r)) = a.popups.last() else {
        panic!("the roles view");
    };
    assert_eq!(r.at, 0);
    let s = screen(&a, 80, 24);
    assert_has(&s, "Roles: Jobs ladder (1 of 3)");
    assert_has(&s, "1 Engineer");
    assert_has(&s, "R read  W write");
    snap(&a, "popup_roles");
    // The matrix is the store's: each cell the letters of its access.
    let m = store::roles::matrix(store::roles::Ladder::Jobs);
    let row = &m.rows[0];
    let cells: Vec<String> = row
        .access
        .iter()
        .map(|x| super::components::roles::letters(*x))
        .collect();
    assert_has(&s, &cells.join(" "));
    press(&mut a, KeyCode::End);
    let end = screen(&a, 80, 24);
    let last = m.rows.last().expect("rows");
    assert_has(&end, last.feature);
    press(&mut a, KeyCode::Right);
    assert_has(&screen(&a, 80, 24), "Roles: Sales ladder (2 of 3)");
    press(&mut a, KeyCode::Left);
    press(&mut a, KeyCode::Left);
    assert_has(&screen(&a, 80, 24), "Roles: Service ladder (3 of 3)");
    press(&mut a, KeyCode::Esc);
    assert!(a.popups.is_empty());
}

#[test]
fn letters_say_each_right() {
    use store::roles::Access;
    let l = super::components::roles::letters;
    assert_eq!(l(Access::NONE), "----");
    assert_eq!(
        l(Access {
            read: true,
            write: false,
            update: true,
            delete: false
        }),
        "R-U-"
    );
}

fn export_roles(a: &mut App, path: &str) {
    press(a, KeyCode::Char('e'));
    assert_eq!(form_text(a, 0), "~/roles.csv");
    ctrl(a, 'u');
    type_text(a, path);
    press(a, KeyCode::Enter);
}

#[test]
fn the_roles_csv_is_written_and_never_replaced_without_a_yes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("roles.csv");
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('R'));
    export_roles(&mut a, &out.to_string_lossy());
    assert_eq!(
        std::fs::read_to_string(&out).expect("written"),
        store::roles::csv()
    );
    assert!(matches!(a.popups.last(), Some(Popup::Roles(_))));
    assert_has(&screen(&a, 80, 24), "wrote the roles' matrices to");
    // Already there: asked first; n keeps the file as it was.
    std::fs::write(&out, "mine").expect("write");
    export_roles(&mut a, &out.to_string_lossy());
    let Some(Popup::Confirm(c)) = a.popups.last() else {
        panic!("asked first: {:?}", a.popups.last());
    };
    assert_eq!(c.title, "Replace the file?");
    assert_has(&screen(&a, 80, 24), "is already there");
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(std::fs::read_to_string(&out).expect("kept"), "mine");
    assert!(matches!(a.popups.last(), Some(Popup::Roles(_))));
    // y replaces it, whole, and leaves no temporary file beside it.
    export_roles(&mut a, &out.to_string_lossy());
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(
        std::fs::read_to_string(&out).expect("replaced"),
        store::roles::csv()
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("roles.csv")]);
}

#[test]
fn a_roles_csv_path_that_cannot_be_written_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = fake(5, 5);
    let mut a = app(&f);
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Char('R'));
    // A directory that is not there: the form stays, with the reason.
    let missing = dir.path().join("no/such/dir/roles.csv");
    export_roles(&mut a, &missing.to_string_lossy());
    let err = form_error(&a).expect("an error");
    assert!(err.contains("no/such/dir"), "{err}");
    press(&mut a, KeyCode::Esc);
    // A directory is never replaced, even after a yes.
    export_roles(&mut a, &dir.path().to_string_lossy());
    press(&mut a, KeyCode::Char('y'));
    assert!(dir.path().is_dir());
    assert_has(&screen(&a, 120, 40), "directory");
    // An empty path is refused in the form.
    press(&mut a, KeyCode::Char('e'));
    ctrl(&mut a, 'u');
    press(&mut a, KeyCode::Enter);
    assert!(form_error(&a).is_some());
}

#[test]
fn on_a_real_store_the_console_writes_the_contracts_zip_with_a_pdf_per_licence() {
    let (dir, st) = demo(10);
    let mut a = real(&st);
    let out = dir.path().join("contracts.zip");
    press(&mut a, KeyCode::Char('e'));
    ctrl(&mut a, 'u');
    type_text(&mut a, &out.to_string_lossy());
    press(&mut a, KeyCode::Enter);
    let file = std::fs::File::open(&out).expect("the zip written");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).expect("entry").name().to_string())
        .collect();
    let lics = names.iter().filter(|n| n.ends_with(".lic")).count();
    let pdfs: Vec<&String> = names.iter().filter(|n| n.ends_with(".pdf")).collect();
    assert!(lics > 0, "{names:?}");
    assert_eq!(pdfs.len(), lics, "a PDF per licence: {names:?}");
    let mut pdf = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name(pdfs[0]).expect("pdf"), &mut pdf).expect("read");
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn on_a_real_store_the_charts_breakdown_and_charged_days_come_from_the_store() {
    let (_dir, st) = demo(40);
    let mut a = real(&st);
    // The purchase's months are the store's, to the contract end.
    press(&mut a, KeyCode::Char('b'));
    press(&mut a, KeyCode::Enter);
    let lines = match a.popups.last() {
        Some(Popup::Confirm(c)) => c.lines.join("\n"),
        other => panic!("the confirmation: {other:?}"),
    };
    assert!(lines.contains("Contract month by month"), "{lines}");
    assert!(lines.contains("Committed: "), "{lines}");
    // The store prices contracted seats a line a month: each month is
    // listed once, in the month table, marked as a commitment.
    let jan: Vec<&str> = lines.lines().filter(|l| l.contains("2027-01")).collect();
    assert_eq!(jan.len(), 1, "{lines}");
    assert!(jan[0].ends_with("commitment"), "{lines}");
    press(&mut a, KeyCode::Char('n'));
    // The charts read the store's history.
    a.tab = Tab::Status;
    press(&mut a, KeyCode::Char('c'));
    let h = st
        .history(super::components::charts::DAILY_DAYS)
        .expect("history");
    assert_eq!(charts(&a).history, h);
    let s = screen(&a, 80, 24);
    assert_has(&s, "Charts 1/4");
    press(&mut a, KeyCode::Esc);
    // A user's charged days are the store's.
    a.tab = Tab::Users;
    press(&mut a, KeyCode::Enter);
    let Some(Popup::User(v)) = a.popups.last() else {
        panic!("the user view");
    };
    let d = st.user_detail(&v.user.name).expect("detail");
    assert_eq!(v.charged, Ok(d.charged_days));
    assert_has(&screen(&a, 80, 24), "Charged");
}

#[test]
fn every_ladders_rights_fit_60_columns_whole() {
    let mut v = super::components::roles::RolesView::default();
    for at in 0..v.matrices.len() {
        v.at = at;
        let m = &v.matrices[at];
        let table = v.table(58);
        let levels = m.roles.len();
        assert!(
            table[0].ends_with(&format!("{levels:>4}")),
            "{:?}",
            table[0]
        );
        for (line, row) in table.iter().filter(|l| l.starts_with("  ")).zip(&m.rows) {
            assert!(super::components::grid::width(line) <= 58, "{line:?}");
            let last = super::components::roles::letters(row.access[levels - 1]);
            assert!(line.ends_with(&last), "{line:?}");
        }
    }
}

#[test]
fn charts_of_an_empty_history_say_so_without_a_bar() {
    use super::components::charts::{Chart, Charts};
    let empty = store::history::History {
        today: "2026-12-03".parse().expect("day"),
        currency: "EUR".into(),
        seats: vec![],
        daily: vec![],
        storage: vec![],
        metered: vec![store::history::MeteredSeries {
            name: "sms".into(),
            unit: "message".into(),
            // A store that sent no months: no bars, no panic.
            months: vec![],
            threshold: 0,
            excess: 0,
            overage_price: rust_decimal::Decimal::ZERO,
            overage_cost: rust_decimal::Decimal::ZERO,
        }],
    };
    let f = fake(5, 5);
    let a = app(&f);
    let cx = Cx {
        data: &a.data,
        keys: &a.keys,
        theme: &COLOUR,
    };
    let mut c = Charts::new(empty);
    let mut seen = Vec::new();
    for _ in 0..4 {
        for (w, h) in [(60, 20), (80, 24), (200, 50)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            t.draw(|fr| c.draw(fr, fr.area(), &cx)).expect("draw");
            seen.push((c.chart, text(t.backend().buffer())));
        }
        c.on_key(&key(KeyCode::Right), &cx);
    }
    let said = |chart: Chart, needle: &str| {
        assert!(
            seen.iter().any(|(c, s)| *c == chart && s.contains(needle)),
            "{chart:?}: {needle:?}"
        );
    };
    said(Chart::Metered, "This month: 0 used");
    said(Chart::Seats, "No seat pools in the licences in force.");
    said(Chart::Daily, "No daily pools in the licences in force.");
    said(Chart::Storage, "No storage recorded.");
}
