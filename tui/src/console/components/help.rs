//! The `?` help, built from the key bindings: what it lists is what the keys do.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::super::action::{Action, Tab};
use super::super::keys::Place;
use super::details::wrap_words;
use super::grid::{block, ellipsis, width};
use super::{Component, Cx, centered};

/// The help popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    /// The tab it was opened on (its section comes first on a short screen).
    pub tab: Tab,
    /// The first line shown.
    pub scroll: usize,
}

impl Help {
    /// The help opened on `tab`.
    pub fn new(tab: Tab) -> Help {
        Help { tab, scroll: 0 }
    }

    fn lines(&self, cx: &Cx, room: usize) -> Vec<Line<'static>> {
        let t = cx.theme;
        let mut sections = cx.keys.help();
        // The tab's own keys come right after the keys that work everywhere.
        let name = match self.tab {
            Tab::Licences => "Licences",
            Tab::Status => "Status",
            Tab::Users => "Users",
        };
        if let Some(i) = sections.iter().position(|(n, _)| *n == name) {
            let s = sections.remove(i);
            sections.insert(1, s);
        }
        let keys_w = sections
            .iter()
            .flat_map(|(_, h)| h.iter().map(|h| width(&h.keys)))
            .max()
            .unwrap_or(0)
            .min(room / 2);
        let mut out = Vec::new();
        for (title, hints) in sections {
            if !out.is_empty() {
                out.push(Line::from(""));
            }
            out.push(Line::from(Span::styled(title, t.header())));
            for h in hints {
                // Descriptions wrap under themselves, not under the keys.
                let parts = wrap_words(h.long, room.saturating_sub(keys_w + 1), 0);
                for (i, part) in parts.into_iter().enumerate() {
                    let keys = if i == 0 {
                        ellipsis(&h.keys, keys_w)
                    } else {
                        String::new()
                    };
                    out.push(Line::from(vec![
                        Span::styled(format!("{keys:<keys_w$} "), t.key()),
                        Span::raw(part),
                    ]));
                }
            }
        }
        out
    }
}

impl Component for Help {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) || k.help.matches(key) || k.quit.matches(key) || k.open.matches(key)
        {
            return Action::Close;
        }
        if k.down.matches(key) || k.page_down.matches(key) {
            self.scroll += if k.down.matches(key) { 1 } else { 10 };
        } else if k.up.matches(key) || k.page_up.matches(key) {
            self.scroll = self
                .scroll
                .saturating_sub(if k.up.matches(key) { 1 } else { 10 });
        } else if k.home.matches(key) {
            self.scroll = 0;
        }
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let width = area.width.min(78);
        let room = usize::from(width.saturating_sub(2));
        let lines = self.lines(cx, room);
        let height = (lines.len() as u16 + 2).min(area.height);
        let visible = usize::from(height.saturating_sub(2));
        let scroll = self.scroll.min(lines.len().saturating_sub(visible));
        let rect = centered(area, width, height);
        let mut b = block(cx.theme, "Help");
        if lines.len() > visible {
            b = b.title_bottom(
                Line::from(format!(
                    " {}-{} of {} ",
                    scroll + 1,
                    scroll + visible,
                    lines.len()
                ))
                .right_aligned(),
            );
        }
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines).scroll((scroll as u16, 0)).block(b),
            rect,
        );
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Reader]
    }
}
