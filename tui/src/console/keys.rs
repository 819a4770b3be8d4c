//! Every key binding of the console, in one struct. Components ask it whether
//! a key means something; the footer and the `?` help are built from it, so
//! what they say is what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// One key, with the modifiers it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Control, Alt (Shift is ignored for characters: the character says it).
    pub mods: KeyModifiers,
}

impl Key {
    /// A key without modifiers.
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }
    /// A character key without modifiers.
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }
    /// A character with Control.
    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// Whether `event` is this key. Control and Alt must match exactly, so
    /// Ctrl-D is never `d`.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let strict = KeyModifiers::CONTROL | KeyModifiers::ALT;
        if event.modifiers & strict != self.mods & strict {
            return false;
        }
        match (self.code, event.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => a == b,
            // Shift-Tab arrives as BackTab on some terminals, Tab+Shift on others.
            (KeyCode::BackTab, KeyCode::Tab) => event.modifiers.contains(KeyModifiers::SHIFT),
            (a, b) => a == b,
        }
    }

    /// How the key is written in the footer and the help.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Backspace => "Bksp".into(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

/// A binding: one or more keys for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The keys, the first shown in the footer.
    pub keys: Vec<Key>,
}

impl Binding {
    fn of(keys: &[Key]) -> Binding {
        Binding {
            keys: keys.to_vec(),
        }
    }
    /// Whether `event` is one of the keys.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        self.keys.iter().any(|k| k.matches(event))
    }
    /// The keys as written in the help ("Up, k").
    pub fn label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// The first key as written in the footer.
    pub fn short(&self) -> String {
        self.keys.first().map(Key::label).unwrap_or_default()
    }
}

/// Where keys are read: the footer shows the hints of the place the
/// administrator is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Everywhere outside popups.
    Global,
    /// Any list.
    Lists,
    /// The Licences tab.
    Licences,
    /// The Status tab.
    Status,
    /// The Users tab.
    Users,
    /// A user's detail view.
    UserDetail,
    /// A form.
    Form,
    /// A text field.
    Text,
    /// The filter line of a list.
    Filter,
    /// A yes/no question.
    Confirm,
    /// Text to read.
    Reader,
    /// The charts.
    Charts,
    /// The roles' permission matrices.
    Roles,
}

/// The console's key bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList {
    /// Ends the console (also Ctrl-C, everywhere).
    pub quit: Binding,
    /// Ends the console from anywhere, even a text field.
    pub force_quit: Binding,
    /// Opens the help.
    pub help: Binding,
    /// The Licences tab.
    pub tab_licences: Binding,
    /// The Status tab.
    pub tab_status: Binding,
    /// The Users tab.
    pub tab_users: Binding,
    /// The next tab.
    pub next_tab: Binding,
    /// The tab before.
    pub prev_tab: Binding,
    /// One row up.
    pub up: Binding,
    /// One row down.
    pub down: Binding,
    /// A page up.
    pub page_up: Binding,
    /// A page down.
    pub page_down: Binding,
    /// The first row.
    pub home: Binding,
    /// The last row.
    pub end: Binding,
    /// Opens the selected row.
    pub open: Binding,
    /// Closes a popup or clears a filter.
    pub close: Binding,
    /// Sorts by the next column.
    pub sort: Binding,
    /// Reverses the order of Users.
    pub reverse: Binding,
    /// Filters the list as you type.
    pub filter: Binding,
    /// Buys seats, add-ons or integrations.
    pub buy: Binding,
    /// Gives seats, add-ons or integrations back.
    pub remove: Binding,
    /// Imports a licence file.
    pub import: Binding,
    /// Exports the contracts.
    pub export: Binding,
    /// The next issuer.
    pub next_issuer: Binding,
    /// The issuer before.
    pub prev_issuer: Binding,
    /// The system licences and their descriptions.
    pub system: Binding,
    /// Reloads.
    pub refresh: Binding,
    /// Cycles the licence and state filter of Users.
    pub cycle_filter: Binding,
    /// Adds a user.
    pub new_user: Binding,
    /// Edits the selected user.
    pub edit: Binding,
    /// Deactivates the selected user.
    pub deactivate: Binding,
    /// Activates the selected user.
    pub activate: Binding,
    /// Deletes the selected user.
    pub delete: Binding,
    /// Add-on modules and their holders.
    pub add_ons: Binding,
    /// The charts of the store's history (from Status).
    pub charts: Binding,
    /// The roles' permission matrices (from Users).
    pub roles: Binding,
    /// The next chart or ladder.
    pub next_view: Binding,
    /// The chart or ladder before.
    pub prev_view: Binding,
    /// The next field of a form.
    pub next_field: Binding,
    /// The field before.
    pub prev_field: Binding,
    /// The next choice of a choice field.
    pub next_choice: Binding,
    /// The choice before.
    pub prev_choice: Binding,
    /// Completes a path.
    pub complete: Binding,
    /// Submits a form.
    pub submit: Binding,
    /// Yes.
    pub yes: Binding,
    /// No.
    pub no: Binding,
}

impl Default for KeyList {
    fn default() -> KeyList {
        use KeyCode::*;
        KeyList {
            quit: Binding::of(&[Key::ch('q')]),
            force_quit: Binding::of(&[Key::ctrl('c')]),
            help: Binding::of(&[Key::ch('?')]),
            tab_licences: Binding::of(&[Key::ch('1')]),
            tab_status: Binding::of(&[Key::ch('2')]),
            tab_users: Binding::of(&[Key::ch('3')]),
            next_tab: Binding::of(&[Key::plain(Tab)]),
            prev_tab: Binding::of(&[Key::plain(BackTab)]),
            up: Binding::of(&[Key::plain(Up), Key::ch('k')]),
            down: Binding::of(&[Key::plain(Down), Key::ch('j')]),
            page_up: Binding::of(&[Key::plain(PageUp), Key::ctrl('b')]),
            page_down: Binding::of(&[Key::plain(PageDown), Key::ctrl('f')]),
            home: Binding::of(&[Key::plain(Home), Key::ch('g')]),
            end: Binding::of(&[Key::plain(End), Key::ch('G')]),
            open: Binding::of(&[Key::plain(Enter)]),
            close: Binding::of(&[Key::plain(Esc)]),
            sort: Binding::of(&[Key::ch('s')]),
            reverse: Binding::of(&[Key::ch('S')]),
            filter: Binding::of(&[Key::ch('/')]),
            buy: Binding::of(&[Key::ch('b')]),
            remove: Binding::of(&[Key::ch('x')]),
            import: Binding::of(&[Key::ch('i')]),
            export: Binding::of(&[Key::ch('e')]),
            next_issuer: Binding::of(&[Key::ch(']')]),
            prev_issuer: Binding::of(&[Key::ch('[')]),
            system: Binding::of(&[Key::ch('l')]),
            refresh: Binding::of(&[Key::ch('r')]),
            cycle_filter: Binding::of(&[Key::ch('f')]),
            new_user: Binding::of(&[Key::ch('n')]),
            edit: Binding::of(&[Key::ch('e')]),
            deactivate: Binding::of(&[Key::ch('d')]),
            activate: Binding::of(&[Key::ch('a')]),
            delete: Binding::of(&[Key::ch('D')]),
            add_ons: Binding::of(&[Key::ch('m')]),
            charts: Binding::of(&[Key::ch('c')]),
            roles: Binding::of(&[Key::ch('R')]),
            next_view: Binding::of(&[Key::plain(Right), Key::ch('l')]),
            prev_view: Binding::of(&[Key::plain(Left), Key::ch('h')]),
            next_field: Binding::of(&[Key::plain(Tab), Key::plain(Down)]),
            prev_field: Binding::of(&[Key::plain(BackTab), Key::plain(Up)]),
            next_choice: Binding::of(&[Key::plain(Right)]),
            prev_choice: Binding::of(&[Key::plain(Left)]),
            complete: Binding::of(&[Key::plain(Tab)]),
            submit: Binding::of(&[Key::plain(Enter)]),
            yes: Binding::of(&[Key::ch('y'), Key::ch('Y')]),
            no: Binding::of(&[Key::ch('n'), Key::plain(Esc)]),
        }
    }
}

/// One line of the help, and perhaps of the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The keys (from the bindings).
    pub keys: String,
    /// The footer's word for it.
    pub short: &'static str,
    /// The help's sentence.
    pub long: &'static str,
    /// Whether the footer shows it.
    pub footer: bool,
}

impl KeyList {
    fn hint(b: &Binding, short: &'static str, long: &'static str, footer: bool) -> Hint {
        Hint {
            keys: if footer { b.short() } else { b.label() },
            short,
            long,
            footer,
        }
    }

    /// What the keys do at `place`, in the order the help lists them.
    pub fn hints(&self, place: Place) -> Vec<Hint> {
        let h = KeyList::hint;
        match place {
            Place::Global => vec![
                Hint {
                    keys: format!(
                        "{} {} {}, {}",
                        self.tab_licences.short(),
                        self.tab_status.short(),
                        self.tab_users.short(),
                        self.next_tab.short()
                    ),
                    short: "tabs",
                    long: "switch tabs: Licences, Status, Users",
                    footer: false,
                },
                h(&self.help, "help", "this help", true),
                Hint {
                    keys: self.quit.short(),
                    short: "quit",
                    long: "quit (Ctrl-C too, everywhere, even in a text field)",
                    footer: true,
                },
            ],
            Place::Lists => vec![
                Hint {
                    keys: format!("{} {}", self.up.short(), self.down.short()),
                    short: "move",
                    long: "one row (also k j)",
                    footer: false,
                },
                Hint {
                    keys: format!("{} {}", self.page_up.short(), self.page_down.short()),
                    short: "page",
                    long: "a page (also Ctrl-B Ctrl-F)",
                    footer: false,
                },
                Hint {
                    keys: format!("{} {}", self.home.short(), self.end.short()),
                    short: "ends",
                    long: "the first / last row (also g G); a long list reads only that page",
                    footer: false,
                },
                h(
                    &self.sort,
                    "sort",
                    "sort: pools and users by the next column, notifications oldest first",
                    false,
                ),
            ],
            Place::Licences => vec![
                h(&self.open, "details", "details of the selected line", true),
                h(
                    &self.buy,
                    "buy",
                    "buy seats, add-ons or integrations, cost shown first",
                    true,
                ),
                h(
                    &self.remove,
                    "remove",
                    "give seats, add-ons or integrations back",
                    true,
                ),
                h(
                    &self.import,
                    "import",
                    "import a licence file (Tab completes, ~ is home)",
                    true,
                ),
                h(
                    &self.export,
                    "export",
                    "export the signed contracts to a zip",
                    true,
                ),
                h(
                    &self.system,
                    "system",
                    "system licences and their descriptions",
                    true,
                ),
                Hint {
                    keys: format!("{} {}", self.prev_issuer.short(), self.next_issuer.short()),
                    short: "issuer",
                    long: "previous / next issuer (third-party add-ons)",
                    footer: false,
                },
            ],
            Place::Status => vec![
                h(
                    &self.open,
                    "read",
                    "the selected notification, whole",
                    false,
                ),
                h(&self.refresh, "refresh", "refresh now", true),
                h(
                    &self.charts,
                    "charts",
                    "charts: metered services, seats, daily user-days, storage",
                    true,
                ),
            ],
            Place::Users => vec![
                h(
                    &self.filter,
                    "filter",
                    "filter as you type (Esc clears)",
                    true,
                ),
                h(
                    &self.cycle_filter,
                    "licence",
                    "filter by licence, none or state (repeat)",
                    true,
                ),
                h(&self.open, "open", "the selected user's details", true),
                h(&self.new_user, "new", "new user", true),
                h(
                    &self.edit,
                    "edit",
                    "edit the selected user's role, licence and term",
                    true,
                ),
                h(
                    &self.deactivate,
                    "deact.",
                    "deactivate the selected user",
                    true,
                ),
                h(&self.activate, "act.", "activate the selected user", false),
                h(
                    &self.delete,
                    "delete",
                    "delete the selected user (asks first)",
                    false,
                ),
                h(
                    &self.add_ons,
                    "add-ons",
                    "add-on modules and who holds them",
                    false,
                ),
                h(
                    &self.roles,
                    "roles",
                    "each ladder's permission matrix (exports as CSV)",
                    false,
                ),
                h(
                    &self.reverse,
                    "reverse",
                    "reverse the order (s sorts by name, role, licence, state)",
                    false,
                ),
            ],
            Place::UserDetail => vec![
                h(&self.edit, "edit", "edit e-mail and add-ons", true),
                h(
                    &self.delete,
                    "delete",
                    "delete this user (asks first)",
                    true,
                ),
                h(&self.close, "back", "back to the list", true),
            ],
            Place::Form => vec![
                h(&self.next_field, "next field", "next field", true),
                h(
                    &self.next_choice,
                    "choose",
                    "next / previous choice (Left)",
                    true,
                ),
                h(&self.submit, "confirm", "confirm", true),
                h(&self.close, "cancel", "cancel; nothing is changed", true),
            ],
            Place::Text => vec![
                Hint {
                    keys: "Left Right Home End".into(),
                    short: "move",
                    long: "move the cursor (also Ctrl-A Ctrl-E)",
                    footer: false,
                },
                Hint {
                    keys: "Ctrl-U Ctrl-K Ctrl-W Del".into(),
                    short: "delete",
                    long: "delete to the start, to the end, a word, a character",
                    footer: false,
                },
            ],
            Place::Filter => vec![
                h(
                    &self.submit,
                    "keep the filter",
                    "keep the filter and go back to the list",
                    true,
                ),
                h(&self.close, "clear", "clear the filter", true),
            ],
            Place::Confirm => vec![
                h(&self.yes, "confirm", "confirm", true),
                h(
                    &self.down,
                    "scroll",
                    "scroll a long breakdown (PgUp PgDn Home End)",
                    false,
                ),
                h(&self.no, "cancel", "cancel; nothing is changed", true),
            ],
            Place::Charts => vec![
                h(
                    &self.next_view,
                    "next chart",
                    "next / previous chart (Left, h)",
                    true,
                ),
                h(
                    &self.down,
                    "series",
                    "next / previous service or pool (Up, k)",
                    true,
                ),
                h(&self.refresh, "refresh", "read the history again", false),
                h(&self.close, "close", "close", true),
            ],
            Place::Roles => vec![
                h(
                    &self.next_view,
                    "ladder",
                    "next / previous ladder (Left, h)",
                    true,
                ),
                h(&self.down, "scroll", "scroll (PgUp PgDn Home End)", true),
                h(
                    &self.export,
                    "CSV",
                    "write every ladder's matrix to a CSV file",
                    true,
                ),
                h(&self.close, "close", "close", true),
            ],
            Place::Reader => vec![
                h(&self.down, "scroll", "scroll (PgUp PgDn Home End)", true),
                h(&self.close, "close", "close", true),
            ],
        }
    }

    /// The footer line for `places`: their hints marked for the footer.
    pub fn footer(&self, places: &[Place]) -> String {
        places
            .iter()
            .flat_map(|p| self.hints(*p))
            .filter(|h| h.footer)
            .map(|h| format!("{} {}", h.keys, h.short))
            .collect::<Vec<_>>()
            .join("  ")
    }

    /// The help: a title and the hints of each place, in order.
    pub fn help(&self) -> Vec<(&'static str, Vec<Hint>)> {
        vec![
            ("Everywhere", self.hints(Place::Global)),
            ("Lists", self.hints(Place::Lists)),
            ("Licences", self.hints(Place::Licences)),
            ("Status", self.hints(Place::Status)),
            ("Users", self.hints(Place::Users)),
            ("A user", self.hints(Place::UserDetail)),
            ("Forms", self.hints(Place::Form)),
            ("Filtering", self.hints(Place::Filter)),
            ("Charts", self.hints(Place::Charts)),
            ("Roles", self.hints(Place::Roles)),
            ("Text fields", self.hints(Place::Text)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_letters_are_not_their_letters() {
        let keys = KeyList::default();
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert!(!keys.deactivate.matches(&ctrl_d));
        let d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
        assert!(keys.deactivate.matches(&d));
        let shifted = KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT);
        assert!(
            keys.delete.matches(&shifted),
            "Shift is carried by the character"
        );
        assert!(!keys.deactivate.matches(&shifted));
    }

    #[test]
    fn the_footer_names_the_bound_keys() {
        let keys = KeyList {
            buy: Binding::of(&[Key::ch('+')]),
            ..KeyList::default()
        };
        let footer = keys.footer(&[Place::Licences]);
        assert!(footer.contains("+ buy"), "{footer}");
        assert!(!footer.contains("b buy"), "{footer}");
        let help = keys.help();
        let lic = &help
            .iter()
            .find(|(t, _)| *t == "Licences")
            .expect("a section")
            .1;
        assert!(
            lic.iter()
                .any(|h| h.keys == "+" && h.long.starts_with("buy"))
        );
    }
}
