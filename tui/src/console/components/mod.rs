//! The console's components: one per tab and one per popup, each in its own
//! file. A component takes a key and returns an [`Action`]; it draws from its
//! own state and the facts the console read ([`Data`]). None of them touches
//! the store: the performer does.

pub mod charts;
pub mod confirm;
pub mod details;
pub mod form;
pub mod grid;
pub mod help;
pub mod licences;
pub mod roles;
pub mod status;
pub mod textinput;
pub mod user;
pub mod users;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use store::Installation;
use store::views::{LicenceView, StatusView};

use super::action::Action;
use super::keys::{KeyList, Place};
use super::theme::Theme;

/// The facts every component may read: what the store said last.
#[derive(Debug, Default)]
pub struct Data {
    /// The installation.
    pub installation: Option<Installation>,
    /// The status, when the operator may see it.
    pub status: Option<StatusView>,
    /// The licences in force, when the operator may see them.
    pub licences: Vec<LicenceView>,
    /// Why licence data is not shown, when it is not.
    pub denied: Option<String>,
    /// The operator.
    pub operator: String,
    /// Whether the console goes through the service.
    pub remote: bool,
    /// Set while the store's owner cannot be reached: what happened.
    pub disconnected: Option<String>,
}

impl Data {
    /// Whether the store is a demo.
    pub fn demo(&self) -> bool {
        self.installation.as_ref().is_some_and(|i| i.demo)
    }
}

/// What components are given besides their own state.
pub struct Cx<'a> {
    /// The facts.
    pub data: &'a Data,
    /// The key bindings.
    pub keys: &'a KeyList,
    /// Colours and line drawing.
    pub theme: &'a Theme,
}

/// A tab or a popup.
pub trait Component {
    /// What `key` asks for; [`Action::Ignored`] when it means nothing here.
    fn on_key(&mut self, key: &KeyEvent, cx: &Cx) -> Action;
    /// Pasted text: text in the focused field, never a command.
    fn on_paste(&mut self, _text: &str, _cx: &Cx) -> Action {
        Action::None
    }
    /// Draws into `area`.
    fn draw(&self, frame: &mut Frame, area: Rect, cx: &Cx);
    /// Where the keys are read, for the footer.
    fn places(&self) -> Vec<Place>;
}

/// A popup: one of the popup components.
#[derive(Debug)]
pub enum Popup {
    /// The help.
    Help(help::Help),
    /// A yes/no question.
    Confirm(confirm::Confirm),
    /// Text to read.
    Details(details::Details),
    /// A form.
    Form(form::FormPopup),
    /// A user's detail view.
    User(Box<user::UserView>),
    /// The charts of the store's history.
    Charts(Box<charts::Charts>),
    /// The roles' permission matrices.
    Roles(roles::RolesView),
}

impl Popup {
    /// The component.
    pub fn component(&self) -> &dyn Component {
        match self {
            Popup::Help(c) => c,
            Popup::Confirm(c) => c,
            Popup::Details(c) => c,
            Popup::Form(c) => c,
            Popup::User(c) => c.as_ref(),
            Popup::Charts(c) => c.as_ref(),
            Popup::Roles(c) => c,
        }
    }
    /// The component, to change.
    pub fn component_mut(&mut self) -> &mut dyn Component {
        match self {
            Popup::Help(c) => c,
            Popup::Confirm(c) => c,
            Popup::Details(c) => c,
            Popup::Form(c) => c,
            Popup::User(c) => c.as_mut(),
            Popup::Charts(c) => c.as_mut(),
            Popup::Roles(c) => c,
        }
    }
}

/// A centred rectangle of at most `width` x `height` in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
