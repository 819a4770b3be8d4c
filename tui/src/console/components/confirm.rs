//! A yes/no question with the facts above it (a cost breakdown, what a
//! deletion does). `y` performs the job it holds; `n` or Esc changes nothing.
//! Facts longer than the screen (a contract's months) scroll, so none is cut.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::super::action::{Action, Job};
use super::super::keys::Place;
use super::details::wrap_words;
use super::grid::{block, width};
use super::{Component, Cx, centered};

/// The confirmation popup.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The question.
    pub title: String,
    /// The facts.
    pub lines: Vec<String>,
    /// What `y` does.
    pub job: Job,
    /// The first line shown (clamped when drawn, where the height is known).
    pub scroll: std::cell::Cell<usize>,
}

impl Confirm {
    /// A question about `job`, with `lines` of facts above it.
    pub fn new(title: impl Into<String>, lines: Vec<String>, job: Job) -> Confirm {
        Confirm {
            title: title.into(),
            lines,
            job,
            scroll: std::cell::Cell::new(0),
        }
    }
}

impl Component for Confirm {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        if cx.keys.yes.matches(key) {
            // The popup closes when the job is done (see the performer).
            Action::Job(self.job.clone())
        } else if cx.keys.no.matches(key) {
            Action::Cancel
        } else {
            let k = cx.keys;
            let s = self.scroll.get();
            let to = if k.down.matches(key) {
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
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let longest = self.lines.iter().map(|l| width(l)).max().unwrap_or(20);
        let w = (longest.clamp(30, 96) as u16 + 4).min(area.width);
        let inner = usize::from(w.saturating_sub(2));
        let text: Vec<Line> = self
            .lines
            .iter()
            .flat_map(|l| wrap_words(l, inner, 2))
            .map(Line::from)
            .collect();
        let h = (text.len() as u16 + 2).min(area.height);
        let visible = usize::from(h.saturating_sub(2));
        let max = text.len().saturating_sub(visible);
        // Clamped here, where the height is known, and kept for the next key.
        let scroll = self.scroll.get().min(max);
        self.scroll.set(scroll);
        let rect = centered(area, w, h);
        let mut b = block(cx.theme, &self.title);
        if max > 0 {
            // Says there is more, and where: nothing of a breakdown is cut.
            b = b.title_bottom(
                Line::from(format!(
                    " {}-{} of {} ",
                    scroll + 1,
                    scroll + visible,
                    text.len()
                ))
                .right_aligned(),
            );
        }
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(text).scroll((scroll as u16, 0)).block(b),
            rect,
        );
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Confirm]
    }
}
