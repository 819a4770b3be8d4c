//! The form popup: any typed form ([`crate::console::forms`]), its fields
//! one under another. Up/Down and Tab move between fields, Left/Right choose
//! in a choice field and move the cursor in a text field, Enter submits, Esc
//! cancels. A paste goes into the focused text field.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::super::action::Action;
use super::super::forms::{FieldMut, FieldRef, Form};
use super::super::keys::Place;
use super::details::wrap_words;
use super::grid::{block, ellipsis};
use super::textinput::Edit;
use super::{Component, Cx, centered};

/// The form popup.
#[derive(Debug)]
pub struct FormPopup {
    /// The form.
    pub form: Box<dyn Form>,
    /// The focused field.
    pub focus: usize,
    /// What was wrong with the last submission.
    pub error: Option<String>,
    /// Set while its job runs (a second Enter is not a second job).
    pub waiting: bool,
}

impl FormPopup {
    /// A popup for `form`.
    pub fn new(form: Box<dyn Form>) -> FormPopup {
        let focus = form.first_focus();
        FormPopup {
            form,
            focus,
            error: None,
            waiting: false,
        }
    }

    fn count(&self) -> usize {
        self.form.labels().len()
    }
}

impl Component for FormPopup {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) {
            return Action::Cancel;
        }
        if k.submit.matches(key) {
            if self.waiting {
                return Action::None;
            }
            return match self.form.submit() {
                Ok(job) => {
                    self.error = None;
                    self.waiting = true;
                    Action::Job(job)
                }
                Err(e) => {
                    self.error = Some(e);
                    Action::None
                }
            };
        }
        let n = self.count();
        let completes = self.form.completes_paths();
        if completes && k.complete.matches(key) {
            if let FieldMut::Text(t) = self.form.field_mut(self.focus) {
                let done = complete_path(&t.text());
                t.set(&done);
            }
            return Action::None;
        }
        let is_choice = matches!(self.form.field(self.focus), FieldRef::Choice(_));
        if is_choice && (k.next_choice.matches(key) || k.prev_choice.matches(key)) {
            if let FieldMut::Choice(c) = self.form.field_mut(self.focus) {
                c.step(k.prev_choice.matches(key));
            }
            return Action::None;
        }
        if k.next_field.matches(key) {
            self.focus = (self.focus + 1) % n.max(1);
            return Action::None;
        }
        if k.prev_field.matches(key) {
            self.focus = (self.focus + n.max(1) - 1) % n.max(1);
            return Action::None;
        }
        if let FieldMut::Text(t) = self.form.field_mut(self.focus)
            && t.on_key(key) != Edit::Ignored
        {
            self.error = None;
        }
        // Every other key is the form's: nothing behind it acts.
        Action::None
    }

    fn on_paste(&mut self, text: &str, _cx: &Cx) -> Action {
        if let FieldMut::Text(t) = self.form.field_mut(self.focus) {
            t.insert_str(text);
        }
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let w = 76u16.min(area.width);
        let inner = usize::from(w.saturating_sub(2));
        let labels = self.form.labels();
        let label_w = labels.iter().map(|l| l.len()).max().unwrap_or(6) + 3;
        let value_w = inner.saturating_sub(label_w + 1);
        let mut lines = Vec::new();
        let mut cursor = None;
        for (i, label) in labels.iter().enumerate() {
            let focused = i == self.focus;
            let lead = format!(
                "{}{:<w$}",
                if focused { "> " } else { "  " },
                label,
                w = label_w - 2
            );
            let value = match self.form.field(i) {
                FieldRef::Text(input) => {
                    let (shown, col) = input.window(value_w);
                    if focused {
                        cursor = Some((lines.len(), label_w + col));
                    }
                    Span::raw(shown)
                }
                FieldRef::Choice(c) => {
                    let v = if c.value().is_empty() {
                        "(none)"
                    } else {
                        c.value()
                    };
                    let shown = if focused && c.options.len() > 1 {
                        format!("< {} >", ellipsis(v, value_w.saturating_sub(4)))
                    } else {
                        ellipsis(v, value_w)
                    };
                    Span::styled(shown, if focused { t.key() } else { Default::default() })
                }
            };
            lines.push(Line::from(vec![
                Span::styled(lead, if focused { t.key() } else { t.dim() }),
                value,
            ]));
        }
        if let Some(note) = self.form.note() {
            lines.push(Line::from(""));
            for l in wrap_words(&note, inner, 0) {
                lines.push(Line::from(Span::styled(l, t.dim())));
            }
        }
        if self.waiting {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("working...", t.dim())));
        }
        if let Some(e) = &self.error {
            lines.push(Line::from(""));
            for l in wrap_words(&format!("! {e}"), inner, 2) {
                lines.push(Line::from(Span::styled(l, t.bad())));
            }
        }
        let rect = centered(area, w, lines.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines).block(block(t, &self.form.title())),
            rect,
        );
        if let Some((row, col)) = cursor {
            let x = rect.x + 1 + col as u16;
            let y = rect.y + 1 + row as u16;
            if x < rect.right() && y < rect.bottom() {
                frame.set_cursor_position(Position { x, y });
            }
        }
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::Form]
    }
}

/// `~` or `~/…` with the home directory put in, as a shell would.
pub fn expand_home(typed: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    if home.is_empty() {
        return typed.to_string();
    }
    if typed == "~" {
        home
    } else if let Some(rest) = typed.strip_prefix("~/") {
        format!("{}/{rest}", home.trim_end_matches('/'))
    } else {
        typed.to_string()
    }
}

/// Completes a path as a shell would: to the longest common prefix of the
/// entries that match (`~` expanded first). Reading a directory is quick and
/// bounded; an unreadable one completes nothing.
pub fn complete_path(typed: &str) -> String {
    // Completed on the expanded path; shown as typed, `~` and all.
    let home = std::env::var("HOME").unwrap_or_default();
    let expanded = expand_home(typed);
    if typed.starts_with('~') && !home.is_empty() && expanded != typed {
        let done = complete_expanded(&expanded);
        return match done.strip_prefix(home.trim_end_matches('/')) {
            Some(rest) => format!("~{rest}"),
            None => done,
        };
    }
    complete_expanded(typed)
}

fn complete_expanded(typed: &str) -> String {
    let typed = typed.to_string();
    let (dir, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed.as_str()),
    };
    let read_from = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = std::fs::read_dir(read_from) else {
        return typed.to_string();
    };
    let mut matches: Vec<String> = entries
        .filter_map(|e| e.ok())
        // A directory of a million files is not listed whole.
        .take(10_000)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            Some(if dir { format!("{name}/") } else { name })
        })
        .collect();
    matches.sort();
    let Some(first) = matches.first() else {
        return typed.to_string();
    };
    let mut common = first.clone();
    for m in &matches[1..] {
        while !m.starts_with(&common) {
            common.pop();
        }
    }
    format!("{dir}{common}")
}
