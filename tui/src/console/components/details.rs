//! Text to read: a licence's details, a notification whole, the add-on
//! holders. It scrolls when longer than the screen.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::super::action::Action;
use super::super::keys::{KeyList, Place};
use super::grid::{block, width};
use super::{Component, Cx, centered};

/// The reading popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    /// Title.
    pub title: String,
    /// Lines (wrapped to the popup's width when drawn).
    pub lines: Vec<String>,
    /// The first line shown.
    pub scroll: std::cell::Cell<usize>,
}

impl Details {
    /// A popup of `lines`.
    pub fn new(title: impl Into<String>, lines: Vec<String>) -> Details {
        Details {
            title: title.into(),
            lines,
            scroll: std::cell::Cell::new(0),
        }
    }
}

impl Component for Details {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) || k.open.matches(key) || k.quit.matches(key) {
            return Action::Close;
        }
        if let Some(to) = scrolled(k, key, self.scroll.get()) {
            self.scroll.set(to);
        }
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        draw_text(frame, area, cx, &self.title, &self.lines, &self.scroll, 100);
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Reader]
    }
}

/// Where a scrolling popup's first line goes for `key` from `s` (Up/Down,
/// PgUp/PgDn, Home/End); `None` when the key is not one of them. End goes
/// past the last line: the drawing clamps it, where the height is known.
pub(super) fn scrolled(k: &KeyList, key: &KeyEvent, s: usize) -> Option<usize> {
    Some(if k.down.matches(key) {
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
        return None;
    })
}

/// `lines` word-wrapped in a centred popup at most `max_width` columns of
/// text wide, from the first line `scroll` (clamped here and kept for the
/// next key), with "N-M of T" on its border when it does not all fit.
pub(super) fn draw_text(
    frame: &mut Frame,
    area: Rect,
    cx: &Cx,
    title: &str,
    lines: &[String],
    scroll: &std::cell::Cell<usize>,
    max_width: usize,
) {
    let longest = lines.iter().map(|l| width(l)).max().unwrap_or(20);
    let w = (longest.clamp(30, max_width) as u16 + 4).min(area.width);
    let inner = usize::from(w.saturating_sub(2));
    let text: Vec<Line> = lines
        .iter()
        .flat_map(|l| wrap_words(l, inner, 2))
        .map(Line::from)
        .collect();
    let h = (text.len() as u16 + 2).min(area.height);
    let visible = usize::from(h.saturating_sub(2));
    let max = text.len().saturating_sub(visible);
    let first = scroll.get().min(max);
    scroll.set(first);
    let rect = centered(area, w, h);
    let mut b = block(cx.theme, title);
    if max > 0 {
        // Says there is more, and where: nothing is cut.
        b = b.title_bottom(
            Line::from(format!(
                " {}-{} of {} ",
                first + 1,
                first + visible,
                text.len()
            ))
            .right_aligned(),
        );
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text).scroll((first as u16, 0)).block(b),
        rect,
    );
}

/// `text` word-wrapped to `width` columns (display width); lines after the
/// first are indented by its own indent and `hang` more. Words longer than a
/// line are broken.
pub fn wrap_words(text: &str, width_: usize, hang: usize) -> Vec<String> {
    let max = width_.max(1);
    if width(text) <= max {
        return vec![text.to_string()];
    }
    let lead = text.len() - text.trim_start_matches(' ').len();
    let indent = " ".repeat((lead + hang).min(max / 2));
    let mut out = Vec::new();
    let mut line = text[..lead].to_string();
    let mut fresh = true;
    for word in text[lead..].split(' ') {
        if fresh && word.is_empty() {
            continue;
        }
        if !fresh && width(&line) + 1 + width(word) > max {
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
        while width(&line) > max {
            let mut head = String::new();
            let mut rest = String::new();
            let mut used = 0;
            for c in line.chars() {
                let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                if rest.is_empty() && used + w <= max {
                    head.push(c);
                    used += w;
                } else {
                    rest.push(c);
                }
            }
            out.push(head);
            line = format!("{indent}{rest}");
        }
    }
    if !line.trim().is_empty() {
        out.push(line);
    }
    out
}
