//! The Status tab: the database (owner, serial, central or satellite, next
//! expiry, operator), the metered services of the month against their
//! thresholds, and every system notification, paged from the store, with the
//! selected one's description below (Enter reads it whole).

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use store::Event;

use super::super::action::{Action, Job};
use super::super::keys::Place;
use super::super::strings as s;
use super::details::{Details, wrap_words};
use super::grid::{Col, Grid, ListPos, Move, block, list_move};
use super::licences::{cut_line, state_style};
use super::{Component, Cx, Popup};

/// Notifications read at a time.
pub const EVENTS_PAGE: usize = 200;

/// The Status tab.
#[derive(Debug, Default)]
pub struct Status {
    /// The notifications read: a window of the log, newest first.
    pub events: Vec<Event>,
    /// The index (0 the newest) of `events[0]` in the whole log.
    pub first: usize,
    /// How many notifications there are (the newest one's sequence number).
    pub total: u64,
    /// The selected notification, as an index of the whole log.
    pub sel: usize,
    /// The window's scrolling.
    pub pos: ListPos,
    /// Rows of the table on screen, for page moves.
    pub page: std::cell::Cell<usize>,
    /// Oldest first (else newest first).
    pub oldest_first: bool,
}

const WIDE: [Col; 7] = [
    Col::text("Event"),
    Col::at_least("Status", 7),
    Col::flex("Message"),
    Col::at_least("Activated", 16),
    Col::text("By"),
    Col::at_least("Finished", 16),
    Col::at_least("Type", 6),
];
const NARROW: [Col; 4] = [
    Col::text("Event"),
    Col::at_least("Status", 7),
    Col::flex("Message"),
    Col::at_least("Activated", 16),
];

/// A time as the console writes it.
pub fn fmt_time(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

impl Status {
    /// The selected notification, when it is read.
    pub fn selected(&self) -> Option<&Event> {
        self.sel
            .checked_sub(self.first)
            .and_then(|i| self.events.get(i))
    }

    /// Takes a window read from the store.
    pub fn loaded(&mut self, start: usize, select: usize, total: u64, events: Vec<Event>) {
        if start != self.first {
            self.pos.offset.set(0);
        }
        self.first = start;
        self.total = total;
        self.events = events;
        let last = (total as usize).saturating_sub(1);
        self.sel = select.min(last);
        // A selection outside the window (the log shrank: a new store) goes to its edge.
        if self.selected().is_none() && !self.events.is_empty() {
            self.sel = self.first;
        }
        let rel = self.sel.saturating_sub(self.first);
        if rel < self.pos.offset.get() {
            self.pos.offset.set(rel);
        }
    }

    /// The job that reads the window holding `target`, or None when it is read.
    fn go(&mut self, target: usize) -> Action {
        let last = (self.total as usize).saturating_sub(1);
        let target = target.min(last);
        if target >= self.first && target < self.first + self.events.len() {
            self.sel = target;
            return Action::None;
        }
        let start = target
            .saturating_sub(EVENTS_PAGE / 2)
            .min((self.total as usize).saturating_sub(EVENTS_PAGE));
        Action::Job(Job::Events {
            start,
            select: target,
            oldest_first: self.oldest_first,
        })
    }
}

impl Component for Status {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if let Some(m) = list_move(
            k,
            key,
            self.sel,
            self.page.get().max(super::grid::PAGE_BEFORE_DRAWN),
        ) {
            let target = match m {
                Move::To(i) => i,
                Move::Home => 0,
                Move::End => usize::MAX,
            };
            return self.go(target);
        }
        if k.refresh.matches(key) {
            return Action::Job(Job::Reload);
        }
        if k.charts.matches(key) {
            return Action::Job(Job::History);
        }
        if k.sort.matches(key) {
            self.oldest_first = !self.oldest_first;
            let said = if self.oldest_first {
                "notifications oldest first"
            } else {
                "notifications newest first"
            };
            return Action::Then(vec![
                Action::Job(Job::Events {
                    start: 0,
                    select: 0,
                    oldest_first: self.oldest_first,
                }),
                Action::Say(said.into()),
            ]);
        }
        if k.open.matches(key)
            && let Some(e) = self.selected()
        {
            let mut lines = vec![
                format!("Event       #{} {}", e.seq, e.name),
                format!("Status      {}", e.status.word()),
                format!("Message     {}", e.message),
                format!("Activated   {}", fmt_time(e.activated_at)),
                format!("By          {}", e.activated_by),
                format!(
                    "Finished    {}",
                    e.finished_at.map(fmt_time).unwrap_or_else(|| "-".into())
                ),
                format!("Type        {}", e.kind.word()),
                String::new(),
            ];
            lines.extend(e.description.lines().map(str::to_string));
            return Action::Open(Popup::Details(Details::new("Notification", lines)));
        }
        Action::Ignored
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let wide = area.width >= 110;
        // The metered services whole when the height allows (their rows, the
        // storage row, header and borders); short screens give the rest to
        // the notifications.
        let metered_rows = cx
            .data
            .status
            .as_ref()
            .map(|s| s.metered.len() + 1)
            .unwrap_or(4);
        let top_h = ((metered_rows + 3) as u16).clamp(7, if area.height >= 30 { 12 } else { 9 });
        let desc_h = if area.height >= 30 { 6 } else { 4 };
        let [top, events, description] = Layout::vertical([
            Constraint::Length(top_h),
            Constraint::Min(4),
            Constraint::Length(desc_h),
        ])
        .areas(area);
        // At 80 columns 34, so that a termination date fits whole beside its label.
        let db_w = if wide {
            46
        } else {
            (area.width * 2 / 5 + 2).max(24)
        };
        let [db, metered] =
            Layout::horizontal([Constraint::Length(db_w), Constraint::Min(0)]).areas(top);
        let inner = usize::from(db.width.saturating_sub(2));

        let mut lines = Vec::new();
        let dim = |x: &'static str| Span::styled(x, t.dim());
        if let Some(st) = &cx.data.status {
            lines.push(Line::from(vec![
                dim("Owner    "),
                Span::raw(st.licensee.clone()),
            ]));
            lines.push(Line::from(vec![
                dim("Serial   "),
                Span::raw(st.serial.clone()),
            ]));
            lines.push(Line::from(vec![
                dim("Type     "),
                Span::raw(format!("{} database", st.installation)),
            ]));
            lines.push(Line::from(vec![
                dim("Licence  "),
                Span::styled(st.state.to_uppercase(), state_style(cx, &st.state)),
            ]));
            // In grace or after it there is no expiry ahead: the termination
            // date is what stands, and it comes first so a narrow box keeps it.
            let next = match (st.next_expiry, st.state.as_str()) {
                (Some(d), _) => d.to_string(),
                (None, "grace" | "terminated") => match st.state_detail.find("terminated from ") {
                    Some(i) => format!(
                        "terminates {}; {}",
                        &st.state_detail[i + "terminated from ".len()..],
                        &st.state_detail[..i].trim_end_matches([';', ' '])
                    ),
                    None => st.state_detail.clone(),
                },
                (None, _) => "none".into(),
            };
            lines.push(Line::from(vec![dim("Expiry   "), Span::raw(next)]));
            lines.push(Line::from(vec![
                dim("Operator "),
                Span::raw(cx.data.operator.clone()),
            ]));
            if let Some(h) = st.clock_behind_hours {
                lines.push(Line::from(Span::styled(
                    format!("WARNING clock {h} h behind the store"),
                    t.bad(),
                )));
            }
        } else if let Some(i) = &cx.data.installation {
            lines.push(Line::from(vec![
                dim("Serial   "),
                Span::raw(i.serial.clone()),
            ]));
            lines.push(Line::from(vec![
                dim("Type     "),
                Span::raw(format!("{} database", i.kind.word())),
            ]));
            lines.push(Line::from(vec![
                dim("Operator "),
                Span::raw(cx.data.operator.clone()),
            ]));
            lines.push(Line::from(Span::styled(s::NO_LICENCE_ROLE, t.warn())));
        }
        let lines: Vec<Line> = lines.into_iter().map(|l| cut_line(l, inner)).collect();
        frame.render_widget(Paragraph::new(lines).block(block(t, "Database")), db);

        const METERED: [Col; 4] = [
            Col::flex("Service"),
            Col::num("Used"),
            Col::num("Threshold"),
            Col::at_least("", 4),
        ];
        let mut rows = Vec::new();
        if let Some(st) = &cx.data.status {
            for m in &st.metered {
                let over = m.excess > 0;
                rows.push(vec![
                    (m.name.clone(), Style::default()),
                    (m.used.to_string(), Style::default()),
                    (m.threshold.to_string(), Style::default()),
                    (
                        if over {
                            format!("OVER {}", m.excess)
                        } else {
                            "ok".into()
                        },
                        if over { t.bad() } else { t.good() },
                    ),
                ]);
            }
            let used = st.storage_used_bytes as f64 / 1e9;
            let over = used > st.storage_allowance_gb as f64;
            rows.push(vec![
                ("storage (GB)".into(), Style::default()),
                (format!("{used:.1}"), Style::default()),
                (st.storage_allowance_gb.to_string(), Style::default()),
                (
                    if over { "OVER" } else { "ok" }.to_string(),
                    if over { t.bad() } else { t.good() },
                ),
            ]);
        }
        let month = cx
            .data
            .status
            .as_ref()
            .map(|s| s.month.clone())
            .unwrap_or_default();
        Grid {
            title: if month.is_empty() {
                "Metered services".into()
            } else {
                format!("Metered, {month}")
            },
            cols: &METERED,
            rows,
            selected: None,
            window: None,
        }
        .draw(frame, metered, t, &ListPos::default());

        let cols: &[Col] = if wide { &WIDE } else { &NARROW };
        let rows = self
            .events
            .iter()
            .map(|e| {
                let style = match e.status {
                    store::EventStatus::Warning => t.warn(),
                    store::EventStatus::Failed => t.bad(),
                    _ => Style::default(),
                };
                let mut cells = vec![
                    (e.name.clone(), Style::default()),
                    (e.status.word().to_string(), style),
                    (e.message.clone(), Style::default()),
                    (fmt_time(e.activated_at), Style::default()),
                ];
                if wide {
                    cells.push((e.activated_by.clone(), Style::default()));
                    cells.push((
                        e.finished_at.map(fmt_time).unwrap_or_default(),
                        Style::default(),
                    ));
                    cells.push((e.kind.word().to_string(), Style::default()));
                }
                cells
            })
            .collect();
        self.page
            .set(usize::from(events.height.saturating_sub(3)).max(1));
        Grid {
            title: if self.oldest_first {
                "System notifications, oldest first".into()
            } else {
                "System notifications".into()
            },
            cols,
            rows,
            selected: self.selected().map(|_| self.sel - self.first),
            window: Some((self.first, self.total)),
        }
        .draw(frame, events, t, &self.pos);

        // The description: the columns a narrow screen leaves out come first.
        let inner = usize::from(description.width.saturating_sub(2));
        let mut text = Vec::new();
        if let Some(e) = self.selected() {
            let head = if wide {
                format!("#{} {}", e.seq, e.name)
            } else {
                format!(
                    "#{} {} by {}, finished {}, {}",
                    e.seq,
                    e.name,
                    e.activated_by,
                    e.finished_at.map(fmt_time).unwrap_or_else(|| "-".into()),
                    e.kind.word()
                )
            };
            text.extend(wrap_words(&head, inner, 2));
            for l in e.description.lines() {
                text.extend(wrap_words(l, inner, 0));
            }
        }
        let room = usize::from(description.height.saturating_sub(2));
        let mut b = block(t, "Description");
        if text.len() > room {
            text.truncate(room);
            b = b.title_bottom(Line::from(" Enter reads it whole ").right_aligned());
        }
        frame.render_widget(
            Paragraph::new(text.into_iter().map(Line::from).collect::<Vec<_>>())
                .wrap(Wrap { trim: false })
                .block(b),
            description,
        );
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Status, Place::Global]
    }
}
