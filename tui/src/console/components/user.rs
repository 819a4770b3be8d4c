//! A user's detail view (Enter on Users): e-mail, role, licence and term,
//! add-ons, activation, state, the over-allocation deadline and the days
//! charged this month; `e` edits the e-mail and add-ons, `D` deletes the user
//! after a confirmation.

use chrono::Datelike as _;
use crossterm::event::KeyEvent;
use licfile::Term;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use store::User;
use store::views::UserRow;

use super::super::action::Action;
use super::super::forms::UserDetailsForm;
use super::super::keys::Place;
use super::super::perform::Charged;
use super::details::wrap_words;
use super::form::FormPopup;
use super::grid::block;
use super::status::fmt_time;
use super::textinput::TextInput;
use super::users::Users;
use super::{Component, Cx, Popup, centered};

/// The detail view.
#[derive(Debug, Clone)]
pub struct UserView {
    /// The user's record.
    pub user: User,
    /// Their row in the list (the over-allocation deadline), when it was read.
    pub row: Option<UserRow>,
    /// The days of this month they were charged for on a daily seat, or why
    /// the store did not say.
    pub charged: Charged,
}

/// `days` as the Charged line says them: how many, and which days of the
/// month (the month named once).
pub fn charged_text(days: &Charged, seat_term: Option<Term>) -> String {
    match days {
        Err(e) => format!("not known: {e}"),
        Ok(d) if d.is_empty() => match seat_term {
            Some(Term::Daily) | None => "no days this month".into(),
            // Said so that an empty line is not taken for a missing charge.
            Some(_) => {
                "no days this month (contracted and monthly seats are not charged by the day)"
                    .into()
            }
        },
        Ok(d) => {
            let month = d[0].format("%Y-%m");
            let list: Vec<String> = d.iter().map(|x| x.day().to_string()).collect();
            format!(
                "{} day{} this month ({month}): {}",
                d.len(),
                if d.len() == 1 { "" } else { "s" },
                list.join(" ")
            )
        }
    }
}

impl UserView {
    /// The lines shown: label and value.
    pub fn facts(&self) -> Vec<(&'static str, String)> {
        let u = &self.user;
        let over = match (&self.row, u.over_allocated_since) {
            (Some(r), _) if r.over_allocated_until.is_some() => format!(
                "until {} (buy a seat or the user is deactivated then)",
                r.over_allocated_until
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            (_, Some(since)) => format!("since {}", fmt_time(since)),
            _ => "no".into(),
        };
        vec![
            ("User", u.name.clone()),
            (
                "E-mail",
                if u.email.is_empty() {
                    "-".into()
                } else {
                    u.email.clone()
                },
            ),
            ("Role", u.role.name().to_string()),
            (
                "Licence",
                u.seat
                    .as_ref()
                    .map(|s| s.label())
                    .unwrap_or_else(|| "none".into()),
            ),
            (
                "Term",
                u.seat
                    .as_ref()
                    .map(|s| s.term.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            (
                "Add-ons",
                if u.add_ons.is_empty() {
                    "none".into()
                } else {
                    u.add_ons.join(", ")
                },
            ),
            ("Created", fmt_time(u.created_at)),
            ("Activated", fmt_time(u.activated_at)),
            ("State", u.state.word().to_string()),
            ("Over-alloc.", over),
            (
                "Charged",
                charged_text(&self.charged, u.seat.as_ref().map(|s| s.term)),
            ),
        ]
    }
}

impl Component for UserView {
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action {
        let k = cx.keys;
        if k.close.matches(key) || k.quit.matches(key) {
            return Action::Close;
        }
        if k.edit.matches(key) {
            let offered: Vec<String> = cx
                .data
                .licences
                .iter()
                .flat_map(|l| l.add_ons.iter().map(|a| a.name.clone()))
                .collect();
            return Action::Open(Popup::Form(FormPopup::new(Box::new(UserDetailsForm {
                name: self.user.name.clone(),
                was_email: self.user.email.clone(),
                was_add_ons: self.user.add_ons.clone(),
                email: TextInput::new(&self.user.email),
                add_ons: TextInput::new(&self.user.add_ons.join(", ")),
                offered,
            }))));
        }
        if k.delete.matches(key) {
            return Action::Open(Users::confirm_delete(&self.user.name));
        }
        Action::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx) {
        let t = cx.theme;
        let w = area.width.min(72);
        let inner = usize::from(w.saturating_sub(2));
        let mut lines = Vec::new();
        for (label, value) in self.facts() {
            let lead = format!("{label:<12}");
            for (i, part) in wrap_words(&value, inner.saturating_sub(12), 0)
                .into_iter()
                .enumerate()
            {
                lines.push(Line::from(vec![
                    Span::styled(if i == 0 { lead.clone() } else { " ".repeat(12) }, t.dim()),
                    Span::styled(
                        part,
                        if label == "Over-alloc." && value != "no" {
                            t.bad()
                        } else {
                            Default::default()
                        },
                    ),
                ]));
            }
        }
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            cx.keys.footer(&[Place::UserDetail]),
            t.key(),
        )));
        let rect = centered(area, w, lines.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(lines).block(block(t, &format!("User {}", self.user.name))),
            rect,
        );
    }

    fn places(&self) -> Vec<Place> {
        vec![Place::UserDetail]
    }
}
