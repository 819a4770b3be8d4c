//! A yes/no question with the facts above it (a cost breakdown, what a
//! deletion does). `y` performs the job it holds; `n` or Esc changes nothing.

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
}

impl Component for Confirm {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        if cx.keys.yes.matches(key) {
            // The popup closes when the job is done (see the performer).
            Action::Job(self.job.clone())
        } else if cx.keys.no.matches(key) {
            Action::Cancel
        } else {
            Action::None
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let longest = self.lines.iter().map(|l| width(l)).max().unwrap_or(20);
        let w = (longest.clamp(30, 96) as u16 + 4).min(area.width);
        let inner = usize::from(w.saturating_sub(2));
        let mut text: Vec<Line> = self
            .lines
            .iter()
            .flat_map(|l| wrap_words(l, inner, 2))
            .map(Line::from)
            .collect();
        // The question's answer keys stay visible even when the facts are cut.
        let max_rows = usize::from(area.height.saturating_sub(2));
        if text.len() > max_rows {
            text.truncate(max_rows.saturating_sub(1));
            text.push(Line::from("..."));
        }
        let rect = centered(area, w, text.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(text).block(block(cx.theme, &self.title)),
            rect,
        );
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Confirm]
    }
}
