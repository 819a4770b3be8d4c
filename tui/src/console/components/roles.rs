//! The roles view (`R` on Users): each ladder's permission matrix, seed 002's
//! spreadsheet, from `store::roles`. A row per feature area, a column per
//! level (bottom-up, numbered, named in the legend above), each cell the
//! rights as letters (`R` read, `W` write, `U` update, `D` delete, `-` none),
//! so it reads without colour. Left/Right change the ladder, the rows
//! scroll; `e` writes every ladder's matrix to a CSV file.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use store::roles::{Access, Matrix};

use super::super::action::Action;
use super::super::forms::{PathForm, PathPurpose};
use super::super::keys::Place;
use super::details::wrap_words;
use super::form::FormPopup;
use super::grid::{block, width};
use super::textinput::TextInput;
use super::{Component, Cx, Popup};

/// The roles view.
#[derive(Debug, Clone)]
pub struct RolesView {
    /// Every ladder's matrix.
    pub matrices: Vec<Matrix>,
    /// The ladder shown.
    pub at: usize,
    /// The first row shown (clamped when drawn, where the height is known).
    pub scroll: std::cell::Cell<usize>,
}

impl Default for RolesView {
    fn default() -> RolesView {
        RolesView {
            matrices: store::roles::matrices(),
            at: 0,
            scroll: std::cell::Cell::new(0),
        }
    }
}

/// The rights as four letters, `-` for each one not granted.
pub fn letters(a: Access) -> String {
    [
        (a.read, 'R'),
        (a.write, 'W'),
        (a.update, 'U'),
        (a.delete, 'D'),
    ]
    .iter()
    .map(|(on, c)| if *on { *c } else { '-' })
    .collect()
}

impl RolesView {
    /// The legend: each level's number and role name.
    pub fn legend(&self) -> String {
        let Some(m) = self.matrices.get(self.at) else {
            return String::new();
        };
        m.roles
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{} {}", i + 1, r.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The table's rows as text: the header first, then a row per feature.
    pub fn table(&self) -> Vec<String> {
        let Some(m) = self.matrices.get(self.at) else {
            return vec![];
        };
        let feature_w = m
            .rows
            .iter()
            .map(|r| width(r.feature) + width(r.area) + 3)
            .max()
            .unwrap_or(7)
            .max(7);
        let mut head = format!("{:<feature_w$}", "Feature");
        for i in 0..m.roles.len() {
            head.push_str(&format!(" {:>4}", i + 1));
        }
        let mut out = vec![head];
        for r in &m.rows {
            let name = format!("{} ({})", r.feature, r.area);
            let pad = feature_w.saturating_sub(width(&name));
            let mut line = format!("{name}{}", " ".repeat(pad));
            for a in &r.access {
                line.push(' ');
                line.push_str(&letters(*a));
            }
            out.push(line);
        }
        out
    }
}

impl Component for RolesView {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) || k.quit.matches(key) {
            return Action::Close;
        }
        let n = self.matrices.len().max(1);
        if k.export.matches(key) {
            return Action::Open(Popup::Form(FormPopup::new(Box::new(PathForm {
                purpose: PathPurpose::Roles,
                path: TextInput::new("~/roles.csv"),
            }))));
        }
        let s = self.scroll.get();
        let to = if k.next_view.matches(key) {
            self.at = (self.at + 1) % n;
            0
        } else if k.prev_view.matches(key) {
            self.at = (self.at + n - 1) % n;
            0
        } else if k.down.matches(key) {
            s + 1
        } else if k.up.matches(key) {
            s.saturating_sub(1)
        } else if k.page_down.matches(key) {
            s + 10
        } else if k.page_up.matches(key) {
            s.saturating_sub(10)
        } else if k.home.matches(key) {
            0
        } else if k.end.matches(key) {
            usize::MAX / 2
        } else {
            return Action::None;
        };
        self.scroll.set(to);
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        frame.render_widget(Clear, area);
        let ladder = self
            .matrices
            .get(self.at)
            .map(|m| m.ladder.name())
            .unwrap_or("-");
        let title = format!(
            "Roles: {ladder} ladder ({} of {})",
            self.at + 1,
            self.matrices.len()
        );
        let table = self.table();
        let rows = table.len().saturating_sub(1);
        let mut b = block(t, &title);
        let inner = b.clone().inner(area);
        let w = usize::from(inner.width);
        let mut top: Vec<Line> = wrap_words(&format!("Levels: {}", self.legend()), w, 2)
            .into_iter()
            .map(Line::from)
            .collect();
        top.extend(
            wrap_words(
                "R read  W write  U update  D delete  - none; each level has the rights of those below it",
                w,
                2,
            )
            .into_iter()
            .map(Line::from),
        );
        let top_h = (top.len() as u16 + 1).min(inner.height / 2);
        let [head, body] =
            Layout::vertical([Constraint::Length(top_h), Constraint::Min(0)]).areas(inner);
        let visible = usize::from(body.height);
        let max = rows.saturating_sub(visible);
        // Clamped here, where the height is known, and kept for the next key.
        let scroll = self.scroll.get().min(max);
        self.scroll.set(scroll);
        if max > 0 {
            b = b.title_bottom(
                Line::from(format!(
                    " rows {}-{} of {} ",
                    scroll + 1,
                    (scroll + visible).min(rows),
                    rows
                ))
                .right_aligned(),
            );
        }
        frame.render_widget(b, area);
        let mut head_lines = top;
        if let Some(h) = table.first() {
            head_lines.push(Line::from(Span::styled(h.clone(), t.header())));
        }
        // The header row stays in view as the rows scroll under it; a
        // table wider than the screen is cut at the right (the CSV has it
        // whole).
        frame.render_widget(Paragraph::new(head_lines), head);
        let lines: Vec<Line> = table
            .iter()
            .skip(1 + scroll)
            .take(visible)
            .map(|l| Line::from(l.clone()))
            .collect();
        frame.render_widget(Paragraph::new(lines), body);
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Roles]
    }
}
