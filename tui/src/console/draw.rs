//! Drawing: the title line, the tabs, the tab's component, the status line
//! and the popups. Reads the state; writes nothing to it but the scrolling
//! offsets lists keep between frames.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Tab;
use super::app::App;
use super::components::Cx;
use super::components::details::wrap_words;
use super::components::grid::{ellipsis, width};
use super::strings as s;

/// Smallest size the console lays out for.
pub const MIN_WIDTH: u16 = 60;
/// Smallest height.
pub const MIN_HEIGHT: u16 = 20;

/// Draws the whole console.
pub fn draw(frame: &mut Frame, app: &App) {
    super::components::grid::set_ascii(!app.theme.unicode);
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "{}\nNow {}x{}. Enlarge the window, or press q to quit.",
            s::TOO_SMALL,
            area.width,
            area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let cx = Cx {
        data: &app.data,
        keys: &app.keys,
        theme: &app.theme,
    };
    // The demo hint gives way on a short screen: the body matters more.
    let demo = app.data.demo();
    let hint = demo && area.height >= 24;
    let footer_lines = footer_lines(app, usize::from(area.width));
    let [title, tabs, body, footer] = Layout::vertical([
        Constraint::Length(if hint { 2 } else { 1 }),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(footer_lines.len() as u16),
    ])
    .areas(area);
    draw_title(frame, app, title, hint);
    draw_tabs(frame, app, tabs);
    app.tab_component().draw(frame, body, &cx);
    for p in &app.popups {
        p.component().draw(frame, body, &cx);
    }
    frame.render_widget(Paragraph::new(footer_lines), footer);
}

fn draw_title(frame: &mut Frame, app: &App, area: Rect, hint: bool) {
    let t = &app.theme;
    let w = usize::from(area.width);
    let mut spans = vec![Span::styled(s::PRODUCT, t.header())];
    let mut used = width(s::PRODUCT);
    if app.data.demo() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(s::DEMO_BADGE, t.demo()));
        used += 1 + width(s::DEMO_BADGE);
    }
    let serial = app
        .data
        .installation
        .as_ref()
        .map(|i| i.serial.clone())
        .unwrap_or_default();
    // Words with the values where there is room; the values alone on a narrow terminal.
    let ids = if w >= 80 {
        format!("  serial {serial}  operator {}", app.data.operator)
    } else {
        format!("  {serial}  {}", app.data.operator)
    };
    let mut tail = vec![Span::raw(ids)];
    if app.data.disconnected.is_some() {
        let said = if t.unicode {
            s::DISCONNECTED.to_string()
        } else {
            s::DISCONNECTED.replace('—', "-")
        };
        tail.push(Span::styled(format!("  {said}"), t.bad()));
    } else if app.data.remote {
        tail.push(Span::styled("  via service", t.dim()));
    }
    if app.busy > 0 {
        let frames: &[&str] = if t.unicode {
            &s::SPINNER
        } else {
            &s::SPINNER_ASCII
        };
        tail.push(Span::styled(
            format!(
                "  {} {}",
                frames[app.frame_count % frames.len()],
                app.busy_what
            ),
            t.warn(),
        ));
    }
    let tail_w: usize = tail.iter().map(|s| width(&s.content)).sum();
    // The licensee gives way first: serial, operator and the connection matter more.
    let licensee = app
        .data
        .status
        .as_ref()
        .map(|x| x.licensee.clone())
        .unwrap_or_default();
    let room = w.saturating_sub(used + tail_w + 2);
    if room >= 4 && !licensee.is_empty() {
        spans.push(Span::raw(format!("  {}", ellipsis(&licensee, room))));
    }
    spans.extend(tail);
    let mut lines = vec![super::components::licences::cut_line(Line::from(spans), w)];
    if hint {
        lines.push(Line::from(Span::styled(ellipsis(s::DEMO_HINT, w), t.dim())));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_tabs(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let current = match app.tab {
        Tab::Licences => 0,
        Tab::Status => 1,
        Tab::Users => 2,
    };
    let mut spans = Vec::new();
    for (i, name) in s::TABS.iter().enumerate() {
        if i == current {
            spans.push(Span::styled(format!("[{name}]"), t.tab()));
        } else {
            spans.push(Span::raw(format!(" {name} ")));
        }
        spans.push(Span::raw("  "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The status line: the message whole (wrapped onto up to three lines), or
/// the key hints of where the keys are read, built from the bindings.
fn footer_lines(app: &App, w: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    match &app.message {
        Some((m, bad)) => {
            let text = if *bad { format!("! {m}") } else { m.clone() };
            let mut lines: Vec<Line> = wrap_words(&text, w, 2)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, if *bad { t.bad() } else { t.good() })))
                .collect();
            if lines.len() > 3 {
                lines.truncate(3);
            }
            lines
        }
        None => vec![Line::from(Span::styled(
            ellipsis(&app.keys.footer(&app.places()), w),
            t.key(),
        ))],
    }
}
