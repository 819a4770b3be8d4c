//! The console's state: the facts read, a component per tab, the popups
//! open, and the status line. Keys go to the top popup, else to the tab;
//! what they ask for goes to the performer ([`super::perform`]).

use std::sync::Arc;

use crossterm::event::KeyEvent;

use super::action::{Action, Tab};
use super::components::licences::Licences;
use super::components::status::Status;
use super::components::users::Users;
use super::components::{Component, Cx, Data, Popup};
use super::keys::{KeyList, Place};
use super::perform::Worker;
use super::port::ConsoleStore;
use super::theme::Theme;

/// The console.
pub struct App {
    /// The store, directly or through the service; replaced on reconnection.
    pub store: Arc<dyn ConsoleStore>,
    /// Key bindings.
    pub keys: KeyList,
    /// Colours and line drawing.
    pub theme: Theme,
    /// What the store said last.
    pub data: Data,
    /// The tab shown.
    pub tab: Tab,
    /// The Licences tab.
    pub licences: Licences,
    /// The Status tab.
    pub status: Status,
    /// The Users tab.
    pub users: Users,
    /// Popups, the top one last.
    pub popups: Vec<Popup>,
    /// The status line: text, and whether it is an error.
    pub message: Option<(String, bool)>,
    /// Set when the console should end.
    pub quit: bool,
    /// Runs jobs off the drawing thread; `None` runs them at once (tests).
    pub worker: Option<Worker>,
    /// Jobs sent and not yet done (a spinner shows while there are any).
    pub busy: usize,
    /// What the slowest running job is doing, for the spinner.
    pub busy_what: String,
    /// Advances the spinner.
    pub frame_count: usize,
}

impl App {
    /// A console on `store`, loaded (at once: the first frame shows data).
    pub fn new(store: Arc<dyn ConsoleStore>, theme: Theme) -> App {
        let data = Data {
            operator: store.operator(),
            remote: store.is_remote(),
            ..Data::default()
        };
        let mut app = App {
            store,
            keys: KeyList::default(),
            theme,
            data,
            tab: Tab::Licences,
            licences: Licences::default(),
            status: Status::default(),
            users: Users::default(),
            popups: Vec::new(),
            message: None,
            quit: false,
            worker: None,
            busy: 0,
            busy_what: String::new(),
            frame_count: 0,
        };
        app.perform(Action::Job(super::action::Job::Reload));
        app
    }

    /// The tab's component.
    pub fn tab_component(&self) -> &dyn Component {
        match self.tab {
            Tab::Licences => &self.licences,
            Tab::Status => &self.status,
            Tab::Users => &self.users,
        }
    }

    /// Where keys are read now, for the footer.
    pub fn places(&self) -> Vec<Place> {
        match self.popups.last() {
            Some(p) => p.component().places(),
            None => self.tab_component().places(),
        }
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) {
        // Ctrl-C ends the console from anywhere, even a text field or a wait.
        if self.keys.force_quit.matches(&key) {
            self.quit = true;
            return;
        }
        if self.popups.is_empty() {
            self.message = None;
        }
        let cx = Cx {
            data: &self.data,
            keys: &self.keys,
            theme: &self.theme,
        };
        let action = if let Some(top) = self.popups.last_mut() {
            top.component_mut().on_key(&key, &cx)
        } else {
            let a = match self.tab {
                Tab::Licences => self.licences.on_key(&key, &cx),
                Tab::Status => self.status.on_key(&key, &cx),
                Tab::Users => self.users.on_key(&key, &cx),
            };
            match a {
                Action::Ignored => self.global(&key),
                a => a,
            }
        };
        self.perform(action);
    }

    /// Pasted text: into the focused field, never a command.
    pub fn on_paste(&mut self, text: &str) {
        let cx = Cx {
            data: &self.data,
            keys: &self.keys,
            theme: &self.theme,
        };
        let action = if let Some(top) = self.popups.last_mut() {
            top.component_mut().on_paste(text, &cx)
        } else if self.tab == Tab::Users && self.data.denied.is_none() {
            self.users.on_paste(text, &cx)
        } else {
            Action::Say("pasted text is only taken in a text field".into())
        };
        self.perform(action);
    }

    /// The keys that work on every tab.
    fn global(&self, key: &KeyEvent) -> Action {
        let k = &self.keys;
        if k.quit.matches(key) {
            Action::Quit
        } else if k.help.matches(key) {
            Action::Open(Popup::Help(super::components::help::Help::new(self.tab)))
        } else if k.tab_licences.matches(key) {
            Action::Tab(Tab::Licences)
        } else if k.tab_status.matches(key) {
            Action::Tab(Tab::Status)
        } else if k.tab_users.matches(key) {
            Action::Tab(Tab::Users)
        } else if k.next_tab.matches(key) {
            Action::Tab(self.tab.next())
        } else if k.prev_tab.matches(key) {
            Action::Tab(self.tab.prev())
        } else {
            Action::None
        }
    }
}
