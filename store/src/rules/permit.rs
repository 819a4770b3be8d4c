//! Who may ask for what: the decision behind the gate's one table
//! ([`crate::gate::Op::permit`]), over facts the gate read inside the
//! transaction that acts on it.

use crate::error::StoreError;
use crate::model::{User, UserState};
use crate::roles::Role;

/// Who may ask for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Anyone the kernel names: a login user, store account or not.
    Connected,
    /// An active store user, but for the licensed product's service account
    /// (which may check and record usage, nothing else).
    StoreUser,
    /// Those who see and change licences, users and the action log:
    /// Owner/manager and Financial office staff (seed 000).
    Readers,
    /// Readers, or any active store user about themselves.
    ReadersOrSelf,
    /// Readers and the licensed product about anyone; any active store user
    /// about themselves.
    CheckersOrSelf,
    /// Those who record usage: the licensed product and Owner/manager.
    Recorders,
    /// Owner/manager: assigns licences and roles.
    Owner,
    /// Who may read the metrics (aggregates: seats, licence states, metered
    /// use, the service's counters; no user names): readers, and the
    /// licensed product's account, so that a monitoring job runs with an
    /// account that can change nothing. Also the service's metrics endpoint,
    /// which an administrator turns on (`serve --metrics`), unauthenticated.
    Monitors,
}

impl Permit {
    /// Who, in words, for refusals and `tessera roles`.
    pub fn who(self) -> &'static str {
        match self {
            Permit::Connected => "anyone with a login on this host",
            Permit::StoreUser => "active store users (not the licensed product's account)",
            Permit::Readers => "Owner/manager and Financial office staff",
            Permit::ReadersOrSelf => {
                "Owner/manager and Financial office staff, and each user about themselves"
            }
            Permit::CheckersOrSelf => {
                "the licensed product, Owner/manager and Financial office staff, and each user about themselves"
            }
            Permit::Recorders => "the licensed product and Owner/manager",
            Permit::Owner => "Owner/manager",
            Permit::Monitors => {
                "Owner/manager, Financial office staff and the licensed product (and the service's metrics endpoint when turned on)"
            }
        }
    }

    /// Whether `role` is allowed whatever the subject.
    fn role_allows(self, role: Role) -> bool {
        match self {
            Permit::Connected => true,
            Permit::StoreUser => role != Role::LicensedProduct,
            Permit::Readers | Permit::ReadersOrSelf => role.manages_licences(),
            Permit::CheckersOrSelf | Permit::Monitors => {
                role.manages_licences() || role == Role::LicensedProduct
            }
            Permit::Recorders => role == Role::OwnerManager || role == Role::LicensedProduct,
            Permit::Owner => role.manages_users(),
        }
    }
}

/// Decides whether `login`, whose store record (the user whose name equals
/// the login name byte for byte) is `record`, may do `action` under
/// `permit`; `subject` is the user the request is about, if any.
pub fn decide(
    permit: Permit,
    action: &str,
    login: &str,
    record: Option<&User>,
    subject: Option<&str>,
) -> Result<(), StoreError> {
    if permit == Permit::Connected {
        return Ok(());
    }
    let refuse = |why: String| StoreError::NotAllowed {
        operator: login.to_string(),
        action: action.to_string(),
        why,
    };
    let Some(user) = record.filter(|u| u.name == login) else {
        return Err(refuse(format!(
            "{login} has no account in this store (a caller is the store user whose name is exactly the login name); {} may",
            permit.who()
        )));
    };
    if user.state != UserState::Active {
        return Err(refuse(format!(
            "{login}'s store account is {}",
            user.state.word()
        )));
    }
    if permit.role_allows(user.role) {
        return Ok(());
    }
    let about_self =
        matches!(permit, Permit::ReadersOrSelf | Permit::CheckersOrSelf) && subject == Some(login);
    if about_self {
        return Ok(());
    }
    Err(refuse(format!(
        "only {} may, and {login} is {}",
        permit.who(),
        user.role.name()
    )))
}
