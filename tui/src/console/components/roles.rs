//! The roles view (`R` on Users): each ladder's permission matrix, seed 002's
//! spreadsheet, from `store::roles`. A row per feature area, a column per
//! level (bottom-up, numbered, named in the legend above), features under
//! their product area's name, each cell the
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

    /// The table's rows as text, at most `max` columns wide: the header
    /// first, then each product area's name above its features. A feature
    /// name is cut (ending in `…`) only when the levels' columns would not
    /// fit beside it: the rights are never cut.
    pub fn table(&self, max: usize) -> Vec<String> {
        let Some(m) = self.matrices.get(self.at) else {
            return vec![];
        };
        let cells = 5 * m.roles.len();
        let longest = m
            .rows
            .iter()
            .map(|r| width(r.feature) + 2)
            .chain(m.rows.iter().map(|r| width(r.area)))
            .max()
            .unwrap_or(7)
            .max(7);
        let feature_w = longest.min(max.saturating_sub(cells)).max(4);
        let fit = |text: &str| -> String {
            if width(text) <= feature_w {
                return format!("{text}{}", " ".repeat(feature_w - width(text)));
            }
            let mut out = String::new();
            for c in text.chars() {
                if width(&out) + 2 > feature_w {
                    break;
                }
                out.push(c);
            }
            out.push('…');
            let pad = feature_w.saturating_sub(width(&out));
            format!("{out}{}", " ".repeat(pad))
        };
        let mut head = fit("Feature");
        for i in 0..m.roles.len() {
            head.push_str(&format!(" {:>4}", i + 1));
        }
        let mut out = vec![head];
        let mut area = "";
        for r in &m.rows {
            if r.area != area {
                area = r.area;
                out.push(fit(area).trim_end().to_string());
            }
            let mut line = fit(&format!("  {}", r.feature));
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
        let to = if k.next_view.matches(key) {
            self.at = (self.at + 1) % n;
            0
        } else if k.prev_view.matches(key) {
            self.at = (self.at + n - 1) % n;
            0
        } else if let Some(to) = super::details::scrolled(k, key, self.scroll.get()) {
            to
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
        let mut b = block(t, &title);
        let inner = b.clone().inner(area);
        let w = usize::from(inner.width);
        let table = self.table(w);
        let rows = table.len().saturating_sub(1);
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
        // The header row stays in view as the rows scroll under it.
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
