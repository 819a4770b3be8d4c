//! A yes/no question with the facts above it (a cost breakdown, what a
//! deletion does). `y` performs the job it holds; `n` or Esc changes nothing.
//! Facts longer than the screen (a contract's months) scroll, so none is cut.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::super::action::{Action, Job};
use super::super::keys::Place;
use super::details::{draw_text, scrolled};
use super::{Component, Cx};

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
            if let Some(to) = scrolled(cx.keys, key, self.scroll.get()) {
                self.scroll.set(to);
            }
            Action::None
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        draw_text(frame, area, cx, &self.title, &self.lines, &self.scroll, 96);
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Confirm]
    }
}
