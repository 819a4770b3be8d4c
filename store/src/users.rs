//! Users, seats, add-ons and over-allocation (seeds 000–004).
//!
//! Usernames are unique and never reused. A seat counts as in use while its
//! holder is active. A user activated with no free seat is over-allocated: they
//! keep working for the licence's overage grace, then the most recently
//! activated over-allocated users are deactivated until the pool fits.

use licfile::Term;
use serde::Serialize;

use crate::Store;
use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::events::{Action, Deactivation, UserEdit};
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::licences::{InForce, grace_days, resolve_pool};
use crate::model::{PoolKey, User, UserState};
use crate::roles::Role;

/// Counts kept so that no view needs a scan of every user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UserCounts {
    /// Users not deleted.
    pub total: u64,
    /// Active users.
    pub active: u64,
    /// Over-allocated users.
    pub over_allocated: u64,
}

/// A user to add.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct NewUser {
    /// Username.
    pub name: String,
    /// Role, as written (`engineer`, `'Owner/manager'`).
    pub role: String,
    /// Licence name, as written (`User`, `Jobs User`, `Sales Support`).
    pub licence: Option<String>,
    /// Term, as written.
    pub term: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct UserChange {
    /// New role.
    pub role: Option<String>,
    /// New licence (with `term`); `Some("")` or `Some("none")` removes the seat.
    pub licence: Option<String>,
    /// Term for the new licence.
    pub term: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// Add-on modules to give.
    pub add_ons: Vec<String>,
    /// Add-on modules to take away.
    pub remove_add_ons: Vec<String>,
}

pub use crate::rules::check::{CheckCode, CheckResult};

pub(crate) fn parse_term(s: &str) -> Result<Term> {
    Term::parse(s).ok_or_else(|| {
        StoreError::Rule(format!(
            "unknown term {s:?}; terms are contracted, monthly and daily"
        ))
    })
}

pub(crate) fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::UnknownRole(s.into()))
}

pub(crate) use crate::rules::names::valid_username;

fn valid_email(email: &str) -> bool {
    email.is_empty()
        || (email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')))
}

/// Pool keys compare by lower-case names: the licence may change its capitalisation.
pub(crate) fn same_pool(a: &PoolKey, b: &PoolKey) -> bool {
    a.id() == b.id()
}

/// The next store-wide activation number.
fn next_activation(tx: &mut Tx<'_>) -> Result<u64> {
    tx.add_counter(&keys::meta(names::ACTIVATIONS), 1)
}

fn counts(tx: &Tx<'_>) -> Result<UserCounts> {
    Ok(tx
        .get_rec(&keys::meta(names::USER_COUNTS), "user counts")?
        .unwrap_or_default())
}

fn update_counts(tx: &mut Tx<'_>, f: impl FnOnce(&mut UserCounts)) -> Result<()> {
    let mut c = counts(tx)?;
    f(&mut c);
    let month = licfile::YearMonth::of(tx.now.date_naive());
    note_users_peak(tx, month, c.active)?;
    tx.put_rec(&keys::meta(names::USER_COUNTS), &c)
}

/// Raises the month's peak of active users to `active` if it is below.
fn note_users_peak(tx: &mut Tx<'_>, month: licfile::YearMonth, active: u64) -> Result<()> {
    let key = keys::users_peak(month);
    let peak: Option<u64> = tx.get_rec(&key, "users peak")?;
    if peak.is_none_or(|p| p < active) {
        tx.put_rec(&key, &active)?;
    }
    Ok(())
}

/// Starts a new month's peak of active users at the users active now, so
/// that a month in which nobody is added or activated still has one.
pub(crate) fn start_month(tx: &mut Tx<'_>, month: licfile::YearMonth) -> Result<()> {
    let active = counts(tx)?.active;
    note_users_peak(tx, month, active)
}

fn put_user(tx: &mut Tx<'_>, user: &User) -> Result<()> {
    tx.put_rec(&keys::user(&user.name), user)
}

/// The user whose folded name `folded` is, as index keys carry it (not deleted).
fn get_user_by_key(tx: &Tx<'_>, folded: &str) -> Result<User> {
    match tx.get_rec::<User>(&keys::user(folded), "user")? {
        Some(u) if u.state != UserState::Deleted => Ok(u),
        _ => Err(StoreError::Corrupt(format!(
            "an index names user {folded:?}, who is not in the store"
        ))),
    }
}

/// The user named exactly `name` (not deleted). Names are stored under
/// their folded form, so a lookup by another case finds the record and is
/// refused here: a name is matched byte for byte.
fn get_user(tx: &Tx<'_>, name: &str) -> Result<User> {
    match tx.get_rec::<User>(&keys::user(name), "user")? {
        Some(u) if u.state != UserState::Deleted && u.name == name => Ok(u),
        _ => Err(StoreError::UnknownUser(name.into())),
    }
}

/// Records the seat as in use: seat index, counter, the month's peak.
fn occupy(tx: &mut Tx<'_>, user: &User, pool: &PoolKey) -> Result<()> {
    tx.put(keys::seat(pool, user.activation, &user.name), Vec::new());
    let in_use = tx.add_counter(&keys::counter(pool), 1)?;
    let month = licfile::YearMonth::of(tx.now.date_naive());
    let peak_key = keys::peak(month, pool);
    if tx.counter(&peak_key)? < in_use {
        tx.put_rec(&peak_key, &in_use)?;
    }
    Ok(())
}

/// Releases an in-use seat.
fn vacate(tx: &mut Tx<'_>, user: &mut User, pool: &PoolKey) -> Result<()> {
    tx.del(keys::seat(pool, user.activation, &user.name));
    tx.add_counter(&keys::counter(pool), -1)?;
    if let Some(since) = user.over_allocated_since.take() {
        tx.del(keys::over(pool, since, &user.name));
        update_counts(tx, |c| {
            c.over_allocated = c.over_allocated.saturating_sub(1)
        })?;
    }
    Ok(())
}

/// Keeps the over-allocated users of a pool equal to its excess: the most
/// recently activated active holders beyond the seat total (seed 003).
///
/// Marks only ever go to the newest activations and are cleared oldest first,
/// so the marked users are always the newest `excess` holders; this touches
/// the marked users and, when more are needed, the newest holders only.
pub(crate) fn reconcile(tx: &mut Tx<'_>, pool: &PoolKey, licences: &[InForce]) -> Result<()> {
    let total = u64::from(crate::purchases::total_in(tx, licences, pool)?);
    let in_use = tx.counter(&keys::counter(pool))?;
    let mut marked: Vec<User> = Vec::new();
    for (k, _) in tx.scan(&keys::overs(pool))? {
        if let Some((_, _, name)) = keys::decode::over(&k) {
            marked.push(get_user_by_key(tx, &name)?);
        }
    }
    let grace = i64::from(grace_days(licences, pool));
    let activations: Vec<u64> = marked.iter().map(|u| u.activation).collect();
    match crate::rules::seats::over_allocation(total, in_use, &activations) {
        crate::rules::seats::Marks::Keep => {}
        crate::rules::seats::Marks::Clear(which) => {
            // Seats came free: the earliest-activated over-allocated users get them.
            for mut user in which.into_iter().map(|i| marked[i].clone()) {
                if let Some(since) = user.over_allocated_since.take() {
                    tx.del(keys::over(pool, since, &user.name));
                }
                update_counts(tx, |c| {
                    c.over_allocated = c.over_allocated.saturating_sub(1)
                })?;
                tx.system_event(
                    Action::OverAllocationResolved {
                        user: user.name.clone(),
                        pool: pool.clone(),
                        total,
                        in_use,
                    },
                    Some(tx.now.timestamp()),
                );
                put_user(tx, &user)?;
            }
        }
        crate::rules::seats::Marks::Mark(need) => {
            // Too few seats: the newest unmarked holders are over-allocated.
            let seats_prefix = keys::seats(pool);
            let mut newest: Vec<String> = Vec::new();
            tx.scan_rev(&seats_prefix, |k| {
                if let Some((_, name)) = keys::decode::seat(pool, k)
                    && !marked
                        .iter()
                        .any(|u| crate::rules::names::fold(&u.name) == name)
                {
                    newest.push(name);
                }
                Ok(newest.len() < need)
            })?;
            for name in newest {
                let mut user = get_user_by_key(tx, &name)?;
                let since = tx.now.timestamp();
                user.over_allocated_since = Some(since);
                tx.put(keys::over(pool, since, &user.name), Vec::new());
                update_counts(tx, |c| c.over_allocated += 1)?;
                let deadline = deadline(since, grace);
                tx.system_event(
                    Action::UserOverAllocated {
                        user: user.name.clone(),
                        pool: pool.clone(),
                        total,
                        in_use,
                        grace_days: grace,
                        deadline,
                    },
                    Some(deadline),
                );
                put_user(tx, &user)?;
            }
        }
    }
    Ok(())
}

pub(crate) use crate::rules::check::deadline;

impl Store {
    /// The record stored under `name`'s folded form (deleted users too):
    /// the user named `name` in any case. For uniqueness; identity and
    /// lookups by name use [`Store::user_named`].
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        self.db.get_rec(&keys::user(name), "user")
    }

    /// The user named exactly `name`, byte for byte (deleted users too).
    pub fn user_named(&self, name: &str) -> Result<Option<User>> {
        Ok(self.user(name)?.filter(|u| u.name == name))
    }

    /// User counts.
    pub fn user_counts(&self) -> Result<UserCounts> {
        Ok(self
            .db
            .get_rec(&keys::meta(names::USER_COUNTS), "user counts")?
            .unwrap_or_default())
    }

    /// Adds a user. Owner/manager only.
    pub(crate) fn add_user_as(&self, g: &Gate, new: &NewUser) -> Result<User> {
        let role = parse_role(&new.role)?;
        let name = new.name.trim().to_string();
        if !valid_username(&name) {
            return Err(StoreError::BadUsername(name));
        }
        let email = new.email.clone().unwrap_or_default();
        if !valid_email(&email) {
            return Err(StoreError::BadEmail(email));
        }
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let seat = match (&new.licence, &new.term) {
                (Some(l), t) => Some(resolve_pool(
                    &licences,
                    l,
                    t.as_deref().map(parse_term).transpose()?,
                )?),
                (None, Some(_)) => {
                    return Err(StoreError::Rule(
                        "a term needs a licence: name the licence the term is for".into(),
                    ));
                }
                (None, None) => None,
            };
            if role == Role::LicensedProduct && seat.is_some() {
                return Err(StoreError::Rule(
                    "the Licensed product role is a service account: it holds no seat".into(),
                ));
            }
            if let Some(seat) = &seat
                && !role.fits_area(&seat.area)
            {
                return Err(StoreError::Rule(format!(
                    "a {} cannot hold a {} seat: {} seats are for the {} roles",
                    role.name(),
                    seat.licence_label(),
                    seat.area,
                    seat.area
                )));
            }
            // Stored under the folded name: a name equal to an existing or
            // deleted one but for case finds it here and is refused.
            if let Some(existing) = tx.get_rec::<User>(&keys::user(&name), "user")? {
                let deleted = existing.state == UserState::Deleted;
                return Err(StoreError::UsernameTaken {
                    why: match (existing.name == name, deleted) {
                        (true, false) => "is taken".into(),
                        (true, true) => "belonged to a deleted user".into(),
                        (false, false) => {
                            format!("differs only in case from the user {:?}", existing.name)
                        }
                        (false, true) => format!(
                            "differs only in case from the deleted user {:?}",
                            existing.name
                        ),
                    },
                    name,
                });
            }
            add_user_in(tx, &name, role, seat.clone(), email.clone(), &licences)
        })
    }

    /// Changes a user's role, licence, e-mail or add-ons. Owner/manager only.
    pub(crate) fn set_user_as(&self, g: &Gate, name: &str, change: &UserChange) -> Result<User> {
        if let Some(e) = &change.email
            && !valid_email(e)
        {
            return Err(StoreError::BadEmail(e.clone()));
        }
        self.write_as(g, |tx| {
        let licences = self.in_force();
        let role = change.role.as_deref().map(parse_role).transpose()?;
        let seat: Option<Option<PoolKey>> = match &change.licence {
            Some(l) if l.trim().is_empty() || l.eq_ignore_ascii_case("none") => Some(None),
            Some(l) => Some(Some(resolve_pool(
                &licences,
                l,
                change.term.as_deref().map(parse_term).transpose()?,
            )?)),
            None if change.term.is_some() => {
                // A new term for the same licence.
                let user = get_user(tx, name)?;
                let current = user.seat.ok_or_else(|| {
                    StoreError::Rule(format!(
                        "{name} holds no seat; a new term needs the licence it is for"
                    ))
                })?;
                let term = change.term.as_deref().map(parse_term).transpose()?;
                Some(Some(resolve_pool(
                    &licences,
                    &current.licence_label(),
                    term,
                )?))
            }
            None => None,
        };
            let mut user = get_user(tx, name)?;
            let mut what = Vec::new();
            let new_role = role.unwrap_or(user.role);
            if new_role == Role::LicensedProduct && seat.clone().unwrap_or_else(|| user.seat.clone()).is_some() {
                return Err(StoreError::Rule(format!(
                    "the Licensed product role is a service account and holds no seat: take {}'s seat away first",
                    user.name
                )));
            }
            if user.role == Role::OwnerManager && new_role != Role::OwnerManager {
                last_owner_guard(tx, &user.name, "change the role of")?;
            }
            let new_seat = seat.clone().unwrap_or_else(|| user.seat.clone());
            if let Some(s) = &new_seat
                && !new_role.fits_area(&s.area)
            {
                return Err(StoreError::Rule(format!("a {} cannot hold a {} seat: {} seats are for the {} roles", new_role.name(), s.licence_label(), s.area, s.area)));
            }
            if new_role != user.role {
                what.push(UserEdit::Role {
                    from: user.role,
                    to: new_role,
                });
                user.role = new_role;
            }
            if let Some(seat) = &seat {
                let same = match (&user.seat, seat) {
                    (Some(a), Some(b)) => same_pool(a, b),
                    (None, None) => true,
                    _ => false,
                };
                if !same {
                    let old = user.seat.clone();
                    let active = user.state == UserState::Active;
                    let was_over_allocated = user.over_allocated_since.is_some();
                    if let Some(old) = &old {
                        tx.del(keys::holder(old, &user.name));
                        if user.state == UserState::Active {
                            vacate(tx, &mut user, old)?;
                        }
                    }
                    user.seat = seat.clone();
                    if let Some(new) = seat {
                        tx.put(keys::holder(new, &user.name), Vec::new());
                        if user.state == UserState::Active {
                            occupy(tx, &user, new)?;
                        }
                    }
                    put_user(tx, &user)?;
                    what.push(UserEdit::Seat {
                        from: old.clone(),
                        to: seat.clone(),
                        active,
                        was_over_allocated,
                    });
                    if let Some(old) = &old {
                        reconcile(tx, old, &licences)?;
                    }
                    if let Some(new) = seat {
                        reconcile(tx, new, &licences)?;
                    }
                    user = get_user(tx, name)?;
                }
            }
            if let Some(e) = &change.email
                && *e != user.email
            {
                what.push(UserEdit::Email {
                    from: user.email.clone(),
                    to: e.clone(),
                });
                user.email = e.clone();
            }
            for module in &change.add_ons {
                let canonical = add_on_name(&licences, module)?;
                if user.add_ons.iter().any(|a| a.eq_ignore_ascii_case(&canonical)) {
                    continue;
                }
                // Less any reduction that has applied (seed 003: the next period's count).
                let count = crate::modules::add_on_total_in(
                    tx,
                    add_on_count(&licences, &canonical),
                    &canonical,
                )?;
                let held = tx.counter(&keys::add_on_counter(&canonical))?;
                if held >= u64::from(count) {
                    return Err(StoreError::Rule(format!("all {count} {canonical} licences are assigned; buy more or take one from another user")));
                }
                if let Some((target, from)) = crate::modules::add_on_scheduled_in(tx, &canonical)?
                    && held >= u64::from(target)
                {
                    return Err(StoreError::Rule(format!("{canonical} is to have {target} licences from {from} (a reduction is scheduled) and {held} users hold it: another holder would be left without a licence then; take it from someone first, or buy licences (which cancels the reduction)")));
                }
                tx.add_counter(&keys::add_on_counter(&canonical), 1)?;
                tx.put(keys::add_on(&canonical, &user.name), Vec::new());
                user.add_ons.push(canonical.clone());
                what.push(UserEdit::AddOnGiven(canonical.clone()));
            }
            for module in &change.remove_add_ons {
                if let Some(pos) = user.add_ons.iter().position(|a| a.eq_ignore_ascii_case(module)) {
                    let canonical = user.add_ons.remove(pos);
                    tx.add_counter(&keys::add_on_counter(&canonical), -1)?;
                    tx.del(keys::add_on(&canonical, &user.name));
                    what.push(UserEdit::AddOnTaken(canonical));
                } else {
                    return Err(StoreError::Rule(format!("{} does not hold the add-on {module:?}", user.name)));
                }
            }
            if what.is_empty() {
                return Ok(user);
            }
            put_user(tx, &user)?;
            tx.user_event(Action::UserChanged {
                user: user.name.clone(),
                changes: what,
            });
            Ok(user)
        })
    }

    /// Deactivates a user: their seat is no longer in use. Owner/manager only.
    pub(crate) fn deactivate_as(&self, g: &Gate, name: &str) -> Result<User> {
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let mut user = get_user(tx, name)?;
            if user.state != UserState::Active {
                return Err(StoreError::Rule(format!(
                    "{} is already inactive",
                    user.name
                )));
            }
            if user.role == Role::OwnerManager {
                last_owner_guard(tx, &user.name, "deactivate")?;
            }
            let reason = format!("deactivated by {}", tx.operator);
            let was_over_allocated = deactivate_in(tx, &mut user, &reason, &licences)?;
            tx.user_event(Action::UserDeactivated {
                user: user.name.clone(),
                seat: user.seat.clone(),
                was_over_allocated,
                cause: Deactivation::ByOperator,
            });
            Ok(user)
        })
    }

    /// Activates a user. With no free seat they are over-allocated (seed 003).
    pub(crate) fn activate_as(&self, g: &Gate, name: &str) -> Result<User> {
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let mut user = get_user(tx, name)?;
            if user.state == UserState::Active {
                return Err(StoreError::Rule(format!("{} is already active", user.name)));
            }
            user.state = UserState::Active;
            user.activated_at = tx.now.timestamp();
            user.activation = next_activation(tx)?;
            user.deactivated_reason.clear();
            update_counts(tx, |c| c.active += 1)?;
            put_user(tx, &user)?;
            if let Some(seat) = user.seat.clone() {
                occupy(tx, &user, &seat)?;
                reconcile(tx, &seat, &licences)?;
            }
            tx.user_event(Action::UserActivated {
                user: user.name.clone(),
                seat: user.seat.clone(),
            });
            get_user(tx, name)
        })
    }

    /// Deletes a user: the seat and add-ons are freed, the name stays reserved. Owner/manager only.
    pub(crate) fn delete_user_as(&self, g: &Gate, name: &str) -> Result<()> {
        self.write_as(g, |tx| {
            let licences = self.in_force();
            let mut user = get_user(tx, name)?;
            if user.role == Role::OwnerManager {
                last_owner_guard(tx, &user.name, "delete")?;
            }
            let was_active = user.state == UserState::Active;
            let held = user.seat.clone();
            let was_over_allocated = if was_active {
                deactivate_in(tx, &mut user, "deleted", &licences)?
            } else {
                false
            };
            let add_ons = user.add_ons.clone();
            if let Some(seat) = user.seat.take() {
                tx.del(keys::holder(&seat, &user.name));
            }
            for module in std::mem::take(&mut user.add_ons) {
                tx.add_counter(&keys::add_on_counter(&module), -1)?;
                tx.del(keys::add_on(&module, &user.name));
            }
            user.state = UserState::Deleted;
            update_counts(tx, |c| c.total = c.total.saturating_sub(1))?;
            put_user(tx, &user)?;
            tx.user_event(Action::UserDeleted {
                user: user.name.clone(),
                was_active,
                seat: held,
                was_over_allocated,
                add_ons,
            });
            Ok(())
        })
    }

    /// Whether a user may work now (seed 004: active, a seat of a licence in
    /// force, or in grace). The facts are read here; the decision is
    /// [`crate::rules::check::decide`].
    pub fn check(&self, name: &str) -> Result<CheckResult> {
        let now = self.db.effective_now()?;
        let today = now.date_naive();
        let user = self.user_named(name)?;
        let licences = self.in_force();
        let state_of = |issuer: &str| {
            licences
                .iter()
                .find(|l| l.issuer == issuer)
                .map(|l| licfile::policy::licence_state(&l.licence, today))
        };
        let seat = user.as_ref().and_then(|u| u.seat.clone());
        let facts = crate::rules::check::Facts {
            name,
            user: user.as_ref().filter(|u| u.state != UserState::Deleted),
            now: now.timestamp(),
            vendor: state_of(""),
            seat_licence: seat.as_ref().map(|s| state_of(&s.issuer)),
            grace_days: seat.as_ref().map_or(0, |s| grace_days(&licences, s)),
            clock_behind_secs: self.db.clock_behind()?,
        };
        Ok(crate::rules::check::decide(&facts))
    }
}

fn last_owner_guard(tx: &Tx<'_>, name: &str, verb: &str) -> Result<()> {
    for (_, v) in tx.scan(keys::USERS)? {
        let u: User = crate::model::decode(&v, "user")?;
        if u.role == Role::OwnerManager && u.state == UserState::Active && u.name != name {
            return Ok(());
        }
    }
    Err(StoreError::Rule(format!(
        "cannot {verb} {name}: the store must keep at least one active Owner/manager"
    )))
}

pub(crate) fn add_user_in(
    tx: &mut Tx<'_>,
    name: &str,
    role: Role,
    seat: Option<PoolKey>,
    email: String,
    licences: &[InForce],
) -> Result<User> {
    let now = tx.now.timestamp();
    let activation = next_activation(tx)?;
    let user = User {
        activation,
        name: name.to_string(),
        email,
        role,
        seat: seat.clone(),
        add_ons: Vec::new(),
        state: UserState::Active,
        created_at: now,
        activated_at: now,
        over_allocated_since: None,
        deactivated_reason: String::new(),
    };
    put_user(tx, &user)?;
    update_counts(tx, |c| {
        c.total += 1;
        c.active += 1;
    })?;
    if let Some(seat) = &seat {
        tx.put(keys::holder(seat, name), Vec::new());
        occupy(tx, &user, seat)?;
        reconcile(tx, seat, licences)?;
    }
    tx.user_event(Action::UserAdded {
        user: name.to_string(),
        role,
        seat,
    });
    get_user(tx, name)
}

/// Deactivates `user`; returns whether they were over-allocated (their mark
/// left with them).
pub(crate) fn deactivate_in(
    tx: &mut Tx<'_>,
    user: &mut User,
    reason: &str,
    licences: &[InForce],
) -> Result<bool> {
    let seat = user.seat.clone();
    // A marked user leaving takes their mark and one excess seat with them:
    // the pool's marks still equal its excess, with nothing to reconcile.
    let was_marked = user.over_allocated_since.is_some();
    if let Some(seat) = &seat {
        vacate(tx, user, seat)?;
    }
    user.state = UserState::Inactive;
    user.deactivated_reason = reason.to_string();
    update_counts(tx, |c| c.active = c.active.saturating_sub(1))?;
    put_user(tx, user)?;
    if let Some(seat) = &seat
        && !was_marked
    {
        reconcile(tx, seat, licences)?;
    }
    Ok(was_marked && seat.is_some())
}

fn add_on_name(licences: &[InForce], module: &str) -> Result<String> {
    let all: Vec<&str> = licences
        .iter()
        .flat_map(|l| l.licence.add_ons.iter().map(|a| a.name.as_str()))
        .collect();
    all.iter()
        .find(|a| a.eq_ignore_ascii_case(module.trim()))
        .map(|a| a.to_string())
        .ok_or_else(|| StoreError::UnknownAddOn {
            name: module.into(),
            known: all.join(", "),
        })
}

pub(crate) fn add_on_count(licences: &[InForce], module: &str) -> u32 {
    licences
        .iter()
        .flat_map(|l| l.licence.add_ons.iter())
        .filter(|a| a.name.eq_ignore_ascii_case(module))
        .map(|a| a.count)
        .sum()
}

/// A user for [`bulk_add_in`].
pub(crate) struct BulkUser {
    pub name: String,
    pub role: Role,
    pub seat: Option<PoolKey>,
    pub email: String,
}

/// Adds many users in one change with one event and without reconciliation:
/// for the demo and for imports from HR systems. The caller reconciles the
/// pools afterwards.
pub(crate) fn bulk_add_in(tx: &mut Tx<'_>, users: &[BulkUser]) -> Result<()> {
    let now = tx.now.timestamp();
    let mut added = 0u64;
    let mut seats: Vec<(PoolKey, u64)> = Vec::new();
    for (i, b) in users.iter().enumerate() {
        if tx.get(&keys::user(&b.name))?.is_some() {
            return Err(StoreError::UsernameTaken {
                name: b.name.clone(),
                why: "is taken".into(),
            });
        }
        let activated = now + i as i64 / 1000;
        let activation = next_activation(tx)?;
        let user = User {
            activation,
            name: b.name.clone(),
            email: b.email.clone(),
            role: b.role,
            seat: b.seat.clone(),
            add_ons: Vec::new(),
            state: UserState::Active,
            created_at: activated,
            activated_at: activated,
            over_allocated_since: None,
            deactivated_reason: String::new(),
        };
        put_user(tx, &user)?;
        if let Some(seat) = &b.seat {
            tx.put(keys::holder(seat, &user.name), Vec::new());
            occupy(tx, &user, seat)?;
            match seats.iter_mut().find(|(p, _)| same_pool(p, seat)) {
                Some((_, n)) => *n += 1,
                None => seats.push((seat.clone(), 1)),
            }
        }
        added += 1;
    }
    update_counts(tx, |c| {
        c.total += added;
        c.active += added;
    })?;
    if let (Some(first), Some(last)) = (users.first(), users.last()) {
        tx.user_event(Action::UsersImported {
            count: added,
            first: first.name.clone(),
            last: last.name.clone(),
            seats,
        });
    }
    Ok(())
}
