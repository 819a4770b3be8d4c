//! The console's forms as typed structs: each knows its fields and turns
//! itself into a [`Job`] or says what is wrong. The form popup
//! ([`super::components::form`]) moves between fields and edits them.

use licfile::{ModuleKind, SeatAction, Term};
use store::{NewUser, UserChange};

use super::action::{Job, SeatRequest};
use super::components::textinput::TextInput;

/// A field with a fixed set of values, chosen with Left and Right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The values.
    pub options: Vec<String>,
    /// The chosen one.
    pub index: usize,
}

impl Choice {
    /// `options`, with `current` chosen. A current value that is not one of
    /// them (a seat named otherwise) is kept as the first option, so that a
    /// form left alone never changes it.
    pub fn new(mut options: Vec<String>, current: &str) -> Choice {
        let index = match options.iter().position(|o| o.eq_ignore_ascii_case(current)) {
            Some(i) => i,
            None if !current.is_empty() => {
                options.insert(0, current.to_string());
                0
            }
            None => 0,
        };
        Choice { options, index }
    }
    /// The chosen value ("" when there are none).
    pub fn value(&self) -> &str {
        self.options
            .get(self.index)
            .map(String::as_str)
            .unwrap_or("")
    }
    /// The next (or, `back`, the previous) value, wrapping.
    pub fn step(&mut self, back: bool) {
        let n = self.options.len().max(1);
        self.index = if back {
            (self.index + n - 1) % n
        } else {
            (self.index + 1) % n
        };
    }
}

/// A field to edit.
#[derive(Debug)]
pub enum FieldMut<'a> {
    /// Free text.
    Text(&'a mut TextInput),
    /// One of a set.
    Choice(&'a mut Choice),
}

/// A field to draw.
#[derive(Debug)]
pub enum FieldRef<'a> {
    /// Free text.
    Text(&'a TextInput),
    /// One of a set.
    Choice(&'a Choice),
}

/// A form: labels, fields, and what it submits.
pub trait Form: std::fmt::Debug + Send {
    /// Its title.
    fn title(&self) -> String;
    /// The field labels, in order.
    fn labels(&self) -> Vec<&'static str>;
    /// Field `i`, to draw.
    fn field(&self, i: usize) -> FieldRef<'_>;
    /// Field `i`, to edit.
    fn field_mut(&mut self, i: usize) -> FieldMut<'_>;
    /// The job it asks for, or what is wrong with it.
    fn submit(&self) -> Result<Job, String>;
    /// Whether Tab completes a path (in the one field) instead of moving.
    fn completes_paths(&self) -> bool {
        false
    }
    /// A line of facts under the fields.
    fn note(&self) -> Option<String> {
        None
    }
    /// The field the cursor starts in.
    fn first_focus(&self) -> usize {
        0
    }
}

/// The three terms, as the store spells them.
pub fn terms() -> Vec<String> {
    ["contracted", "monthly", "daily"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Buy or give back seats (or add-ons and integrations, by count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsForm {
    /// Buy or give back.
    pub action: SeatAction,
    /// The licence (pool, add-on or integration).
    pub licence: Choice,
    /// The term.
    pub term: Choice,
    /// How many.
    pub count: TextInput,
    /// What the pool holds, to say before anything is priced.
    pub facts: Option<String>,
}

impl Form for SeatsForm {
    fn title(&self) -> String {
        match self.action {
            SeatAction::Add => "Buy".into(),
            SeatAction::Remove => "Give back".into(),
        }
    }
    fn labels(&self) -> Vec<&'static str> {
        vec!["Licence", "Term", "Count"]
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        match i {
            0 => FieldRef::Choice(&self.licence),
            1 => FieldRef::Choice(&self.term),
            _ => FieldRef::Text(&self.count),
        }
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        match i {
            0 => FieldMut::Choice(&mut self.licence),
            1 => FieldMut::Choice(&mut self.term),
            _ => FieldMut::Text(&mut self.count),
        }
    }
    fn first_focus(&self) -> usize {
        2
    }
    fn note(&self) -> Option<String> {
        self.facts.clone()
    }
    fn submit(&self) -> Result<Job, String> {
        let count = count_of(&self.count, "seats")?;
        let term = Term::parse(self.term.value()).ok_or("choose a term")?;
        if self.licence.value().is_empty() {
            return Err("there is nothing to buy: no licence is in force".into());
        }
        Ok(Job::Quote(SeatRequest {
            licence: self.licence.value().to_string(),
            term,
            action: self.action,
            count,
            module: None,
        }))
    }
}

/// The count typed in a buy or give-back form: a whole number of `what`,
/// at least 1.
fn count_of(field: &TextInput, what: &str) -> Result<u32, String> {
    let typed = field.text();
    let count: u32 = typed
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not a number of {what}", typed.trim()))?;
    if count == 0 {
        return Err("the count must be at least 1".into());
    }
    Ok(count)
}

/// Buy or give back licences of an add-on module or of an integration with
/// a count of its own (seed 003: "You add and remove add-on modules by
/// adjusting the number of licences"). No term: they are bought to the
/// contract end and given back from the next period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleForm {
    /// Buy or give back.
    pub action: SeatAction,
    /// Add-on or integration.
    pub kind: ModuleKind,
    /// Which one: the licence's add-ons, or its integrations of their own count.
    pub name: Choice,
    /// How many.
    pub count: TextInput,
    /// What it holds, to say before anything is priced.
    pub facts: Option<String>,
}

impl Form for ModuleForm {
    fn title(&self) -> String {
        match self.action {
            SeatAction::Add => format!("Buy {} licences", self.kind),
            SeatAction::Remove => format!("Give back {} licences", self.kind),
        }
    }
    fn labels(&self) -> Vec<&'static str> {
        match self.kind {
            ModuleKind::AddOn => vec!["Add-on", "Count"],
            ModuleKind::Integration => vec!["Integration", "Count"],
        }
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        match i {
            0 => FieldRef::Choice(&self.name),
            _ => FieldRef::Text(&self.count),
        }
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        match i {
            0 => FieldMut::Choice(&mut self.name),
            _ => FieldMut::Text(&mut self.count),
        }
    }
    fn first_focus(&self) -> usize {
        1
    }
    fn note(&self) -> Option<String> {
        self.facts.clone()
    }
    fn submit(&self) -> Result<Job, String> {
        let count = count_of(&self.count, "licences")?;
        if self.name.value().is_empty() {
            return Err(format!("the licence shown has no {} to buy", self.kind));
        }
        Ok(Job::Quote(SeatRequest {
            licence: self.name.value().to_string(),
            // Priced as contracted seats are: to the contract end.
            term: Term::Contracted,
            action: self.action,
            count,
            module: Some(self.kind),
        }))
    }
}

/// What a path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPurpose {
    /// Import a licence file.
    Import,
    /// Write the contracts zip.
    Export,
    /// Write the roles' permission matrices as CSV.
    Roles,
}

/// A path to read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathForm {
    /// What for.
    pub purpose: PathPurpose,
    /// The path as typed (`~` expands).
    pub path: TextInput,
}

impl Form for PathForm {
    fn title(&self) -> String {
        match self.purpose {
            PathPurpose::Import => "Import a licence file".into(),
            PathPurpose::Export => "Export the signed contracts".into(),
            PathPurpose::Roles => "Write the roles' matrices as CSV".into(),
        }
    }
    fn labels(&self) -> Vec<&'static str> {
        vec!["Path"]
    }
    fn field(&self, _: usize) -> FieldRef<'_> {
        FieldRef::Text(&self.path)
    }
    fn field_mut(&mut self, _: usize) -> FieldMut<'_> {
        FieldMut::Text(&mut self.path)
    }
    fn completes_paths(&self) -> bool {
        true
    }
    fn submit(&self) -> Result<Job, String> {
        let path = self.path.text().trim().to_string();
        if path.is_empty() {
            return Err("type the file's path (Tab completes it)".into());
        }
        Ok(match self.purpose {
            PathPurpose::Import => Job::Import(path),
            PathPurpose::Export => Job::Export(path),
            PathPurpose::Roles => Job::ExportRoles {
                path,
                overwrite: false,
            },
        })
    }
}

/// A new user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUserForm {
    /// Username.
    pub name: TextInput,
    /// Role.
    pub role: Choice,
    /// Licence ("none" for no seat).
    pub licence: Choice,
    /// Term of the seat.
    pub term: Choice,
    /// E-mail address (optional).
    pub email: TextInput,
}

impl Form for NewUserForm {
    fn title(&self) -> String {
        "New user".into()
    }
    fn labels(&self) -> Vec<&'static str> {
        vec!["Username", "Role", "Licence", "Term", "E-mail"]
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        match i {
            0 => FieldRef::Text(&self.name),
            1 => FieldRef::Choice(&self.role),
            2 => FieldRef::Choice(&self.licence),
            3 => FieldRef::Choice(&self.term),
            _ => FieldRef::Text(&self.email),
        }
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        match i {
            0 => FieldMut::Text(&mut self.name),
            1 => FieldMut::Choice(&mut self.role),
            2 => FieldMut::Choice(&mut self.licence),
            3 => FieldMut::Choice(&mut self.term),
            _ => FieldMut::Text(&mut self.email),
        }
    }
    fn submit(&self) -> Result<Job, String> {
        let name = self.name.text().trim().to_string();
        if name.is_empty() {
            return Err("type a username".into());
        }
        let seat = self.licence.value();
        let email = self.email.text().trim().to_string();
        Ok(Job::AddUser(NewUser {
            name,
            role: self.role.value().to_string(),
            licence: (seat != NONE).then(|| seat.to_string()),
            term: (seat != NONE).then(|| self.term.value().to_string()),
            email: (!email.is_empty()).then_some(email),
        }))
    }
}

/// The licence choice meaning no seat.
pub const NONE: &str = "none";

/// A user's role, licence and term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditUserForm {
    /// Who.
    pub name: String,
    /// The role now.
    pub was_role: String,
    /// The seat now: (licence, term), or none.
    pub was_seat: Option<(String, String)>,
    /// Role.
    pub role: Choice,
    /// Licence ("none" for no seat).
    pub licence: Choice,
    /// Term.
    pub term: Choice,
}

impl Form for EditUserForm {
    fn title(&self) -> String {
        format!("Edit {}", self.name)
    }
    fn labels(&self) -> Vec<&'static str> {
        vec!["Role", "Licence", "Term"]
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        match i {
            0 => FieldRef::Choice(&self.role),
            1 => FieldRef::Choice(&self.licence),
            _ => FieldRef::Choice(&self.term),
        }
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        match i {
            0 => FieldMut::Choice(&mut self.role),
            1 => FieldMut::Choice(&mut self.licence),
            _ => FieldMut::Choice(&mut self.term),
        }
    }
    fn submit(&self) -> Result<Job, String> {
        let mut change = UserChange::default();
        if !self.role.value().eq_ignore_ascii_case(&self.was_role) {
            change.role = Some(self.role.value().to_string());
        }
        let wanted = (self.licence.value() != NONE).then(|| {
            (
                self.licence.value().to_string(),
                self.term.value().to_string(),
            )
        });
        let same = match (&wanted, &self.was_seat) {
            (Some((l, t)), Some((wl, wt))) => {
                l.eq_ignore_ascii_case(wl) && t.eq_ignore_ascii_case(wt)
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            match wanted {
                Some((l, t)) => {
                    change.licence = Some(l);
                    change.term = Some(t);
                }
                None => change.licence = Some(NONE.into()),
            }
        }
        if change.role.is_none() && change.licence.is_none() {
            return Err("nothing changed: choose another role, licence or term".into());
        }
        Ok(Job::EditUser {
            name: self.name.clone(),
            change,
        })
    }
}

/// A user's e-mail and add-on modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetailsForm {
    /// Who.
    pub name: String,
    /// The e-mail now.
    pub was_email: String,
    /// The add-ons now.
    pub was_add_ons: Vec<String>,
    /// E-mail.
    pub email: TextInput,
    /// Add-on modules, comma-separated.
    pub add_ons: TextInput,
    /// The modules the licences offer, to say under the fields.
    pub offered: Vec<String>,
}

impl Form for UserDetailsForm {
    fn title(&self) -> String {
        format!("Edit {}: e-mail and add-ons", self.name)
    }
    fn labels(&self) -> Vec<&'static str> {
        vec!["E-mail", "Add-ons"]
    }
    fn field(&self, i: usize) -> FieldRef<'_> {
        match i {
            0 => FieldRef::Text(&self.email),
            _ => FieldRef::Text(&self.add_ons),
        }
    }
    fn field_mut(&mut self, i: usize) -> FieldMut<'_> {
        match i {
            0 => FieldMut::Text(&mut self.email),
            _ => FieldMut::Text(&mut self.add_ons),
        }
    }
    fn note(&self) -> Option<String> {
        (!self.offered.is_empty())
            .then(|| format!("Add-ons, separated by commas: {}", self.offered.join(", ")))
    }
    fn submit(&self) -> Result<Job, String> {
        let mut change = UserChange::default();
        let email = self.email.text().trim().to_string();
        if email != self.was_email {
            change.email = Some(email);
        }
        let wanted: Vec<String> = self
            .add_ons
            .text()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let has = |list: &[String], x: &str| list.iter().any(|y| y.eq_ignore_ascii_case(x));
        change.add_ons = wanted
            .iter()
            .filter(|w| !has(&self.was_add_ons, w))
            .cloned()
            .collect();
        change.remove_add_ons = self
            .was_add_ons
            .iter()
            .filter(|w| !has(&wanted, w))
            .cloned()
            .collect();
        if change.email.is_none() && change.add_ons.is_empty() && change.remove_add_ons.is_empty() {
            return Err("nothing changed".into());
        }
        Ok(Job::EditUser {
            name: self.name.clone(),
            change,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seats_form_wants_a_positive_number() {
        let mut f = SeatsForm {
            action: SeatAction::Add,
            licence: Choice::new(vec!["Jobs".into()], "Jobs"),
            term: Choice::new(terms(), "monthly"),
            count: TextInput::new("x3"),
            facts: None,
        };
        assert_eq!(f.submit().unwrap_err(), "\"x3\" is not a number of seats");
        f.count.set("0");
        assert!(f.submit().is_err());
        f.count.set(" 3 ");
        match f.submit() {
            Ok(Job::Quote(r)) => {
                assert_eq!(r.count, 3);
                assert_eq!(r.term, Term::Monthly);
                assert_eq!(r.licence, "Jobs");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_current_value_outside_the_options_is_kept() {
        let c = Choice::new(vec!["a".into(), "b".into()], "Acme: X");
        assert_eq!(c.value(), "Acme: X");
        assert_eq!(c.options.len(), 3);
        let c = Choice::new(vec!["a".into(), "B".into()], "b");
        assert_eq!(c.value(), "B");
    }

    #[test]
    fn editing_add_ons_gives_and_takes_the_differences() {
        let f = UserDetailsForm {
            name: "ann".into(),
            was_email: "ann@x.test".into(),
            was_add_ons: vec!["CRM".into(), "Outlook".into()],
            email: TextInput::new("ann@x.test"),
            add_ons: TextInput::new("crm, Marketing"),
            offered: vec![],
        };
        match f.submit() {
            Ok(Job::EditUser { name, change }) => {
                assert_eq!(name, "ann");
                assert_eq!(change.email, None);
                assert_eq!(change.add_ons, vec!["Marketing".to_string()]);
                assert_eq!(change.remove_add_ons, vec!["Outlook".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }
}
