//! Drawing: reads the state, writes nothing to it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use super::app::{App, Popup, Tab};
use super::strings as s;

/// Smallest size the console lays out for.
pub const MIN_WIDTH: u16 = 80;
/// Smallest height.
pub const MIN_HEIGHT: u16 = 24;

fn block<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(app.theme.border())
        .title(Span::styled(format!(" {title} "), app.theme.header()))
}

fn fmt_time(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Draws the whole console.
pub fn draw(frame: &mut Frame, app: &App) {
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
    let demo = app.installation.as_ref().is_some_and(|i| i.demo);
    let [title, tabs, body, footer] = Layout::vertical([
        Constraint::Length(if demo { 2 } else { 1 }),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_title(frame, app, title, demo);
    draw_tabs(frame, app, tabs);
    match app.tab {
        Tab::Licences => draw_licences(frame, app, body),
        Tab::Status => draw_status(frame, app, body),
        Tab::Users => draw_users(frame, app, body),
    }
    draw_footer(frame, app, footer);
    if let Some(popup) = &app.popup {
        draw_popup(frame, app, popup, body);
    }
}

fn draw_title(frame: &mut Frame, app: &App, area: Rect, demo: bool) {
    let t = &app.theme;
    let status = app.status.as_ref();
    let mut spans = vec![Span::styled(s::PRODUCT, t.header())];
    if demo {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(s::DEMO_BADGE, t.demo()));
    }
    let serial = app
        .installation
        .as_ref()
        .map(|i| i.serial.clone())
        .unwrap_or_default();
    let rest = format!("  serial {serial}  operator {}", app.operator);
    // The licensee gives way first on a narrow terminal: serial and operator matter more.
    let room =
        (area.width as usize).saturating_sub(rest.chars().count() + 16 + if demo { 7 } else { 0 });
    let mut licensee = status.map(|x| x.licensee.clone()).unwrap_or_default();
    if licensee.chars().count() > room {
        licensee = licensee
            .chars()
            .take(room.saturating_sub(1))
            .collect::<String>()
            + "~";
    }
    spans.push(Span::raw(format!("  {licensee}{rest}")));
    if app.api.is_remote() {
        spans.push(Span::styled("  via service", t.dim()));
    }
    let mut lines = vec![Line::from(spans)];
    if demo {
        lines.push(Line::from(Span::styled(s::DEMO_HINT, t.dim())));
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

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let line = match (&app.message, &app.popup) {
        (Some((m, true)), _) => Line::from(Span::styled(format!("! {m}"), t.bad())),
        (Some((m, false)), None) => Line::from(Span::styled(m.clone(), t.good())),
        (_, Some(Popup::Form(_))) => Line::from(Span::styled(s::HINTS_FORM, t.key())),
        (_, Some(Popup::Confirm { .. })) => Line::from(Span::styled(s::HINTS_CONFIRM, t.key())),
        (_, Some(_)) => Line::from(Span::styled(s::HINTS_POPUP, t.key())),
        _ => Line::from(Span::styled(
            match app.tab {
                Tab::Licences => s::HINTS_LICENCES,
                Tab::Status => s::HINTS_STATUS,
                Tab::Users => s::HINTS_USERS,
            },
            t.key(),
        )),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn denied(frame: &mut Frame, app: &App, area: Rect, title: &str) {
    let why = app.denied.clone().unwrap_or_default();
    let text = vec![
        Line::from(Span::styled(s::NO_LICENCE_ROLE, app.theme.warn())),
        Line::from(""),
        Line::from(why),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .block(block(app, title))
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_licences(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    if app.denied.is_some() {
        return denied(frame, app, area, "Licences");
    }
    let Some(status) = &app.status else { return };
    let issuers = app.issuers();
    // Side by side when there is room; stacked on an 80-column terminal.
    let wide = area.width >= 110;
    let (left, right) = if wide {
        let [l, r] = Layout::horizontal([Constraint::Length(34), Constraint::Min(0)]).areas(area);
        (l, r)
    } else {
        let [l, r] = Layout::vertical([Constraint::Length(6), Constraint::Min(0)]).areas(area);
        (l, r)
    };

    // Left: contract, data usage, system licences.
    let lic = app.issuer_licence();
    let mut lines = Vec::new();
    if let Some(l) = lic {
        let style = match l.state.as_str() {
            "valid" => t.good(),
            "expiring" | "grace" => t.warn(),
            _ => t.bad(),
        };
        let state = Span::styled(
            format!("{} ({})", l.state.to_uppercase(), l.state_detail),
            style,
        );
        let expires = l
            .expires
            .map(|d| d.to_string())
            .unwrap_or_else(|| "never".into());
        if wide {
            lines.push(Line::from(vec![
                Span::styled("Plan      ", t.dim()),
                Span::raw(l.plan.clone()),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Start     ", t.dim()),
                Span::raw(l.contract_start.to_string()),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Ends      ", t.dim()),
                Span::raw(l.contract_end.to_string()),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Expires   ", t.dim()),
                Span::raw(expires),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Renews    ", t.dim()),
                Span::raw(if l.auto_renew { "automatically" } else { "no" }),
            ]));
            lines.push(Line::from(vec![Span::styled("State     ", t.dim()), state]));
            lines.push(Line::from(vec![
                Span::styled("Licence   ", t.dim()),
                Span::raw(format!("{} #{}", l.licence_id, l.sequence)),
            ]));
        } else {
            lines.push(Line::from(vec![
                Span::styled("Plan ", t.dim()),
                Span::raw(format!("{:<22}", l.plan)),
                Span::styled("State ", t.dim()),
                state,
            ]));
            lines.push(Line::from(vec![
                Span::styled("Start ", t.dim()),
                Span::raw(format!("{}  ", l.contract_start)),
                Span::styled("Ends ", t.dim()),
                Span::raw(format!("{}  ", l.contract_end)),
                Span::styled("Expires ", t.dim()),
                Span::raw(format!("{expires}  ")),
                Span::styled("Renews ", t.dim()),
                Span::raw(if l.auto_renew { "yes" } else { "no" }),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Licence ", t.dim()),
                Span::raw(format!("{} #{}", l.licence_id, l.sequence)),
            ]));
        }
    }
    if wide {
        lines.push(Line::from(""));
    }
    let used_gb = status.storage_used_bytes as f64 / 1e9;
    let allowance = status.storage_allowance_gb;
    let over = used_gb > allowance as f64;
    let usage_bar = Span::styled(
        t.bar(
            (used_gb.round() as u64).min(allowance.max(1)),
            0,
            allowance.max(1),
            if wide { 22 } else { 16 },
        ),
        if over { t.bad() } else { t.good() },
    );
    let usage_text = format!(
        "{used_gb:.1} of {allowance} GB{}",
        if over { "  OVER" } else { "" }
    );
    if wide {
        lines.push(Line::from(Span::styled("Data usage", t.header())));
        lines.push(Line::from(usage_bar));
        lines.push(Line::from(usage_text));
    } else {
        lines.push(Line::from(vec![
            Span::styled("Data      ", t.dim()),
            usage_bar,
            Span::raw(format!(" {usage_text}")),
        ]));
    }
    if wide
        && let Some(l) = lic
        && !l.system_licences.is_empty()
    {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled("System licences", t.header())));
        for (name, _) in &l.system_licences {
            lines.push(Line::from(format!(" + {name}")));
        }
    }
    let issuer_title = match issuers.get(app.issuer) {
        Some(i) if !i.is_empty() => format!("Contract: {i}"),
        _ => "Contract".to_string(),
    };
    frame.render_widget(Paragraph::new(lines).block(block(app, &issuer_title)), left);

    // Right: issuer tabs, pools with bars, add-ons, integrations.
    let extras_height = if wide { 9 } else { 2 };
    let [issuer_row, pools_area, extras] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(extras_height),
    ])
    .areas(right);
    let mut spans = vec![Span::styled("Issuers: ", t.dim())];
    for (i, name) in issuers.iter().enumerate() {
        let label = if name.is_empty() {
            "Vendor".to_string()
        } else {
            name.clone()
        };
        if i == app.issuer {
            spans.push(Span::styled(format!("[{label}]"), t.tab()));
        } else {
            spans.push(Span::raw(format!(" {label} ")));
        }
    }
    if issuers.len() > 1 {
        spans.push(Span::styled("  ([ ] to switch)", t.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), issuer_row);

    let pools = app.issuer_pools();
    let bar_width = (pools_area.width as usize).saturating_sub(66).clamp(6, 30);
    let rows: Vec<Row> = pools
        .iter()
        .map(|p| {
            let over = p.over_allocated > 0;
            let state = if over {
                Span::styled(format!("OVER {}", p.over_allocated), t.bad())
            } else if p.pending > 0 {
                Span::styled("pending", t.warn())
            } else {
                Span::raw("")
            };
            Row::new(vec![
                Cell::from(p.licence.clone()),
                Cell::from(p.term.as_str()),
                Cell::from(format!("{:>5}", p.total)),
                Cell::from(format!("{:>5}", p.in_use)),
                Cell::from(format!("{:>5}", p.available)),
                Cell::from(format!("{:>5}", p.pending)),
                Cell::from(Span::styled(
                    t.bar(p.in_use, p.pending, u64::from(p.total), bar_width),
                    if over { t.bad() } else { t.good() },
                )),
                Cell::from(state),
            ])
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(5),
            Constraint::Length(bar_width as u16),
            Constraint::Min(8),
        ],
    )
    .header(
        Row::new(vec![
            "Licence", "Term", "Total", "InUse", "Avail", "Pend.", "Use", "",
        ])
        .style(t.header()),
    )
    .row_highlight_style(t.selected())
    .highlight_symbol(">")
    .block(block(app, "Licences"));
    let mut state = TableState::default().with_selected(Some(app.pool_sel));
    frame.render_stateful_widget(table, pools_area, &mut state);

    let mut lines = Vec::new();
    if let Some(l) = lic
        && !wide
    {
        // Stacked: one line each, the details are a key away.
        let add_ons: Vec<String> = l
            .add_ons
            .iter()
            .map(|a| format!("{} {}/{}", a.name, a.assigned, a.count))
            .collect();
        let integrations: Vec<String> = l.integrations.iter().map(|i| i.name.clone()).collect();
        lines.push(Line::from(vec![
            Span::styled("Add-ons: ", t.header()),
            Span::raw(add_ons.join(", ")),
        ]));
        lines.push(Line::from(vec![
            Span::styled("Integrations: ", t.header()),
            Span::raw(integrations.join(", ")),
        ]));
    } else if let Some(l) = lic {
        if !l.add_ons.is_empty() {
            lines.push(Line::from(Span::styled("Add-on modules", t.header())));
            for a in &l.add_ons {
                lines.push(Line::from(format!(
                    "  {:<24} {:>3} of {:>3} assigned  {}/month",
                    a.name, a.assigned, a.count, a.price
                )));
            }
        }
        if !l.integrations.is_empty() {
            lines.push(Line::from(Span::styled("Integrations", t.header())));
            for i in &l.integrations {
                let seats = if i.follows_standard {
                    format!("{} (follows standard)", i.seats)
                } else {
                    i.seats.to_string()
                };
                lines.push(Line::from(format!(
                    "  {:<24} {:<26} {}/month",
                    i.name, seats, i.price
                )));
            }
        }
    }
    if wide {
        frame.render_widget(
            Paragraph::new(lines).block(block(app, "Add-ons and integrations")),
            extras,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), extras);
    }
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let [top, events, description] = Layout::vertical([
        Constraint::Length(9),
        Constraint::Min(5),
        Constraint::Length(5),
    ])
    .areas(area);
    // At 80 columns the database box gives way so the metered numbers fit, and
    // the notifications keep the columns that matter most (the rest is below).
    let wide = area.width >= 110;
    let [db, metered] = Layout::horizontal([
        // At 80 columns the metered box needs 46: "customer-centre-logins" is 22.
        Constraint::Length(if wide { 46 } else { 34 }),
        Constraint::Min(0),
    ])
    .areas(top);
    let nw = if wide { 9 } else { 7 };

    let mut lines = Vec::new();
    if let Some(s) = &app.status {
        lines.push(Line::from(format!("Owner      {}", s.licensee)));
        lines.push(Line::from(format!("Serial     {}", s.serial)));
        lines.push(Line::from(format!(
            "Type       {} database",
            s.installation
        )));
        lines.push(Line::from(format!(
            "Next expiry {}",
            s.next_expiry
                .map(|d| d.to_string())
                .unwrap_or_else(|| "none".into())
        )));
        lines.push(Line::from(format!("Operator   {}", app.operator)));
        let style = match s.state.as_str() {
            "valid" => t.good(),
            "expiring" | "grace" => t.warn(),
            _ => t.bad(),
        };
        lines.push(Line::from(Span::styled(
            format!("Licence    {}: {}", s.state.to_uppercase(), s.state_detail),
            style,
        )));
        if let Some(h) = s.clock_behind_hours {
            lines.push(Line::from(Span::styled(
                format!("WARNING clock {h} h behind the store"),
                t.bad(),
            )));
        }
    } else if let Some(i) = &app.installation {
        lines.push(Line::from(format!("Serial     {}", i.serial)));
        lines.push(Line::from(format!("Type       {} database", i.kind.word())));
        lines.push(Line::from(format!("Operator   {}", app.operator)));
        lines.push(Line::from(Span::styled(s::NO_LICENCE_ROLE, t.warn())));
    }
    // Wrapped: the denial is longer than the box is wide.
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(block(app, "Database")),
        db,
    );

    let mut rows = Vec::new();
    if let Some(s) = &app.status {
        for m in &s.metered {
            let over = m.excess > 0;
            rows.push(Row::new(vec![
                Cell::from(m.name.clone()),
                Cell::from(format!("{:>nw$}", m.used)),
                Cell::from(format!("{:>nw$}", m.threshold)),
                Cell::from(Span::styled(
                    // Narrow: the excess is Used minus Threshold, on the same row.
                    match (over, wide) {
                        (true, true) => format!("OVER {}", m.excess),
                        (true, false) => "OVER".into(),
                        (false, _) => "ok".into(),
                    },
                    if over { t.bad() } else { t.good() },
                )),
            ]));
        }
        let used = s.storage_used_bytes as f64 / 1e9;
        let over = used > s.storage_allowance_gb as f64;
        rows.push(Row::new(vec![
            Cell::from("storage (GB)"),
            Cell::from(format!("{used:>nw$.1}")),
            Cell::from(format!("{:>nw$}", s.storage_allowance_gb)),
            Cell::from(Span::styled(
                if over { "OVER" } else { "ok" },
                if over { t.bad() } else { t.good() },
            )),
        ]));
    }
    let month = app
        .status
        .as_ref()
        .map(|s| s.month.clone())
        .unwrap_or_default();
    let title = if month.is_empty() {
        "Metered services".to_string()
    } else {
        format!("Metered services, {month}")
    };
    let widths = if wide {
        [
            Constraint::Min(22),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(12),
        ]
    } else {
        [
            Constraint::Min(22),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(4),
        ]
    };
    let header = vec![
        "Service".to_string(),
        format!("{:>nw$}", "Used"),
        if wide { "Threshold" } else { "Thresh." }.to_string(),
        String::new(),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .block(block(app, &title));
    frame.render_widget(table, metered);

    let rows: Vec<Row> = app
        .events
        .iter()
        .map(|e| {
            let style = match e.status {
                store::EventStatus::Warning => t.warn(),
                store::EventStatus::Failed => t.bad(),
                _ => Style::default(),
            };
            let mut cells = vec![
                Cell::from(e.name.clone()),
                Cell::from(Span::styled(e.status.word(), style)),
                Cell::from(e.message.clone()),
                Cell::from(fmt_time(e.activated_at)),
                Cell::from(e.activated_by.clone()),
            ];
            if wide {
                cells.push(Cell::from(e.finished_at.map(fmt_time).unwrap_or_default()));
                cells.push(Cell::from(e.kind.word()));
            }
            Row::new(cells)
        })
        .collect();
    let (widths, header) = if wide {
        (
            vec![
                Constraint::Length(22),
                Constraint::Length(9),
                Constraint::Min(20),
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Length(16),
                Constraint::Length(6),
            ],
            vec![
                "Event",
                "Status",
                "Message",
                "Activated",
                "By",
                "Finished",
                "Type",
            ],
        )
    } else {
        (
            vec![
                Constraint::Length(19),
                Constraint::Length(9),
                Constraint::Min(13),
                Constraint::Length(16),
                Constraint::Length(8),
            ],
            vec!["Event", "Status", "Message", "Activated", "By"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .row_highlight_style(t.selected())
        .highlight_symbol(">")
        .block(block(app, "System notifications"));
    let mut state = TableState::default()
        .with_offset(app.event_offset.get())
        .with_selected((!app.events.is_empty()).then_some(app.event_sel));
    frame.render_stateful_widget(table, events, &mut state);
    app.event_offset.set(state.offset());

    let text = app
        .events
        .get(app.event_sel)
        .map(|e| format!("#{} {}: {}", e.seq, e.name, e.description))
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(block(app, "Description")),
        description,
    );
}

fn draw_users(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    if app.denied.is_some() {
        return denied(frame, app, area, "Users");
    }
    let filters = app.filters();
    let filter = if app.filter == 0 {
        "all licences".to_string()
    } else {
        filters
            .get(app.filter - 1)
            .map(|f| f.0.clone())
            .unwrap_or_default()
    };
    let search = app
        .query
        .search
        .as_ref()
        .map(|s| format!("  search \"{s}\""))
        .unwrap_or_default();
    let total = app
        .users_total
        .map(|n| format!("{n} users"))
        .unwrap_or_else(|| "users".into());
    let title = format!("Users: {total}, {filter}{search}");
    let wide = area.width >= 110;
    let rows: Vec<Row> = app
        .users
        .iter()
        .map(|u| {
            let (state, style) = match (u.over_allocated_until, u.state.as_str()) {
                // The date matters more than the word "until" on a narrow terminal.
                (Some(d), _) if wide => (format!("OVER until {d}"), t.bad()),
                (Some(d), _) => (format!("OVER {d}"), t.bad()),
                (None, "active") => ("active".to_string(), t.good()),
                (None, other) => (other.to_string(), t.dim()),
            };
            let mut cells = vec![
                Cell::from(u.name.clone()),
                Cell::from(u.role.clone()),
                Cell::from(u.licence.clone().unwrap_or_else(|| "-".into())),
            ];
            if wide {
                cells.push(Cell::from(u.add_ons.join(", ")));
            }
            cells.push(Cell::from(Span::styled(state, style)));
            Row::new(cells)
        })
        .collect();
    let (widths, header): (Vec<Constraint>, Vec<&str>) = if wide {
        (
            vec![
                Constraint::Length(20),
                Constraint::Length(22),
                Constraint::Length(28),
                Constraint::Min(10),
                Constraint::Length(22),
            ],
            vec!["User", "Role", "Licence", "Add-ons", "State"],
        )
    } else {
        (
            vec![
                Constraint::Length(16),
                Constraint::Length(18),
                Constraint::Length(25),
                Constraint::Min(10),
            ],
            vec!["User", "Role", "Licence", "State"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .row_highlight_style(t.selected())
        .highlight_symbol(">")
        .block(block(app, &title));
    let mut state = TableState::default()
        .with_offset(app.user_offset.get())
        .with_selected((!app.users.is_empty()).then_some(app.user_sel));
    frame.render_stateful_widget(table, area, &mut state);
    app.user_offset.set(state.offset());
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_popup(frame: &mut Frame, app: &App, popup: &Popup, body: Rect) {
    let t = &app.theme;
    match popup {
        Popup::Help => {
            const KEYS: usize = 28;
            let longest = s::HELP
                .iter()
                .map(|(_, v)| v.chars().count())
                .max()
                .unwrap_or(0);
            let width = ((KEYS + longest + 2) as u16).min(body.width);
            let room = (width as usize).saturating_sub(KEYS + 2).max(10);
            let render = |entries: &[(&str, &str)]| -> Vec<Line<'static>> {
                let mut out = Vec::new();
                for (k, v) in entries {
                    if v.is_empty() {
                        out.push(Line::from(Span::styled(k.to_string(), t.header())));
                        continue;
                    }
                    // Descriptions wrap under themselves, not under the keys.
                    for (i, part) in wrap_words(v, room, 0).into_iter().enumerate() {
                        let key = if i == 0 { *k } else { "" };
                        out.push(Line::from(vec![
                            Span::styled(format!("{key:<KEYS$}"), t.key()),
                            Span::raw(part),
                        ]));
                    }
                }
                out
            };
            let mut lines = render(s::HELP);
            if lines.len() + 2 > usize::from(body.height) {
                // Too short for all of it (80x24): the keys that work everywhere,
                // and those of the tab shown.
                let tab = match app.tab {
                    Tab::Licences => "Licences",
                    Tab::Status => "Status",
                    Tab::Users => "Users",
                };
                let sections: Vec<&[(&str, &str)]> = s::HELP.split(|e| *e == ("", "")).collect();
                let mut entries = sections.first().map(|x| x.to_vec()).unwrap_or_default();
                if let Some(section) = sections
                    .iter()
                    .find(|x| x.first().is_some_and(|(k, _)| *k == tab))
                {
                    entries.push(("", ""));
                    entries.extend_from_slice(section);
                }
                lines = render(&entries);
            }
            let area = centered(body, width, lines.len() as u16 + 2);
            frame.render_widget(Clear, area);
            frame.render_widget(Paragraph::new(lines).block(block(app, "Help")), area);
        }
        Popup::Details { title, lines } | Popup::Confirm { title, lines, .. } => {
            let width = (lines
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(20)
                .clamp(30, 100) as u16
                + 4)
            .min(body.width);
            // Wrapped here rather than by the paragraph, so the box is as tall
            // as the text: the last line says what `y` does.
            let inner = usize::from(width.saturating_sub(2));
            let text: Vec<Line> = lines
                .iter()
                .flat_map(|l| wrap_words(l, inner, 2))
                .map(Line::from)
                .collect();
            let area = centered(body, width, text.len() as u16 + 2);
            frame.render_widget(Clear, area);
            frame.render_widget(Paragraph::new(text).block(block(app, title)), area);
        }
        Popup::Form(form) => {
            let mut lines = Vec::new();
            for (i, f) in form.fields.iter().enumerate() {
                let focused = i == form.focus;
                let cursor = if focused { "_" } else { "" };
                let hint = if focused && !f.choices.is_empty() {
                    "  (Left/Right to choose)"
                } else {
                    ""
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{}{:<10}", if focused { "> " } else { "  " }, f.label),
                        if focused { t.key() } else { t.dim() },
                    ),
                    Span::raw(format!("{}{cursor}", f.value)),
                    Span::styled(hint, t.dim()),
                ]));
            }
            if let Some(e) = &form.error {
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(format!("! {e}"), t.bad())));
            }
            // Rows as wrapped (a long error or value), and room for two more.
            let width = 76u16.min(body.width);
            let inner = usize::from(width.saturating_sub(2));
            let rows: usize = lines
                .iter()
                .map(|l| {
                    let text: String = l.spans.iter().map(|x| x.content.as_ref()).collect();
                    wrap_words(&text, inner, 0).len()
                })
                .sum();
            let area = centered(body, width, rows as u16 + 4);
            frame.render_widget(Clear, area);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .block(block(app, &form.title)),
                area,
            );
        }
    }
}

/// `text` word-wrapped to `width` columns; lines after the first are indented
/// by its own indent and `hang` more. Words longer than a line are cut.
fn wrap_words(text: &str, width: usize, hang: usize) -> Vec<String> {
    let width = width.max(1);
    if text.chars().count() <= width {
        return vec![text.to_string()];
    }
    let lead = text.len() - text.trim_start_matches(' ').len();
    let indent = " ".repeat((lead + hang).min(width / 2));
    let mut out = Vec::new();
    let mut line = text[..lead].to_string();
    let mut fresh = true;
    // Runs of spaces give empty words, which keep the spacing within a line.
    for word in text[lead..].split(' ') {
        if fresh && word.is_empty() {
            continue;
        }
        if !fresh && line.chars().count() + 1 + word.chars().count() > width {
            out.push(line.trim_end().to_string());
            line = indent.clone();
            fresh = true;
            if word.is_empty() {
                continue;
            }
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
        while line.chars().count() > width {
            out.push(line.chars().take(width).collect());
            line = format!("{indent}{}", line.chars().skip(width).collect::<String>());
        }
    }
    if !line.trim().is_empty() {
        out.push(line);
    }
    out
}
