//! `tessera users list / show / add / set / deactivate / activate / delete`

use std::fmt::Write as _;
use std::process::ExitCode;
use store::ApiExt as _;

use clap::Subcommand;
use store::views::{UserQuery, UserSort};
use store::{NewUser, UserChange};

use super::site;
use super::util::{self, Failure};

/// The users subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// List users, a page at a time.
    List(ListArgs),
    /// One user's detail: e-mail, role, licence and term, add-ons, state,
    /// activation, over-allocation deadline, days charged this month.
    Show(ShowArgs),
    /// Add a user (Owner/manager only).
    Add(AddArgs),
    /// Change a user's role, licence, e-mail or add-ons (Owner/manager only).
    Set(SetArgs),
    /// Deactivate a user: their seat is freed (Owner/manager only).
    Deactivate(NameArg),
    /// Activate a user; with no free seat they are over-allocated (Owner/manager only).
    Activate(NameArg),
    /// Delete a user; the username stays reserved (Owner/manager only).
    Delete(NameArg),
}

/// A username.
#[derive(Debug, clap::Args)]
pub struct NameArg {
    /// The username.
    name: String,
}

/// Arguments of `users list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only holders of this licence, e.g. "Jobs User" or "Sales Support".
    #[arg(long, value_name = "L")]
    licence: Option<String>,
    /// Only this term: contracted, monthly or daily.
    #[arg(long, value_name = "T")]
    term: Option<String>,
    /// Only users whose name, e-mail, role, licence or add-ons contain this.
    #[arg(long, value_name = "S")]
    search: Option<String>,
    /// Users per page.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Start after this username (the previous page's last).
    #[arg(long, value_name = "NAME")]
    after: Option<String>,
    /// Include deleted users.
    #[arg(long)]
    deleted: bool,
    /// Only users in this state.
    #[arg(long, value_name = "STATE", value_parser = ["active", "inactive", "deleted"])]
    state: Option<String>,
    /// Only users without a seat.
    #[arg(long, conflicts_with_all = ["licence", "term"])]
    no_licence: bool,
    /// The order (names order users within a role, licence or state; pass
    /// the same with `--after` for the next page).
    #[arg(long, value_name = "BY", default_value = "name",
        value_parser = ["name", "role", "licence", "state"])]
    sort: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `users show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The username (exactly as written).
    name: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `users add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The username: unique, never reused.
    name: String,
    /// Role, e.g. engineer, "Office staff", "Owner/manager", "sales person".
    #[arg(long)]
    role: String,
    /// Licence of the seat, e.g. "Jobs User", "Sales Support".
    #[arg(long, value_name = "L")]
    licence: Option<String>,
    /// Term of the seat: contracted, monthly or daily.
    #[arg(long, value_name = "T", requires = "licence")]
    term: Option<String>,
    /// E-mail address.
    #[arg(long, value_name = "E")]
    email: Option<String>,
}

/// Arguments of `users set`.
#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The username.
    name: String,
    /// New role.
    #[arg(long)]
    role: Option<String>,
    /// New licence ("none" removes the seat).
    #[arg(long, value_name = "L")]
    licence: Option<String>,
    /// New term.
    #[arg(long, value_name = "T")]
    term: Option<String>,
    /// New e-mail address.
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// Give an add-on module (may be repeated).
    #[arg(long = "add-on", value_name = "MODULE")]
    add_on: Vec<String>,
    /// Take an add-on module away (may be repeated).
    #[arg(long = "remove-add-on", value_name = "MODULE")]
    remove_add_on: Vec<String>,
}

/// Runs a users subcommand.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let store = site::connect(ctx)?;
    match cmd {
        Cmd::List(a) => list(store.as_ref(), a),
        Cmd::Show(a) => show(store.as_ref(), a),
        Cmd::Add(a) => {
            let u = store
                .add_user(NewUser {
                    name: a.name,
                    role: a.role,
                    licence: a.licence,
                    term: a.term,
                    email: a.email,
                })
                .map_err(site::refused)?;
            let mut msg = format!(
                "added {} as {}{}\n",
                u.name,
                u.role.name(),
                u.seat
                    .as_ref()
                    .map(|s| format!(" with a seat in {}", s.label()))
                    .unwrap_or_default()
            );
            if u.over_allocated_since.is_some() {
                msg.push_str("warning: no free seat: the user is over-allocated; buy seats or free one before the grace ends (see `tessera status`)\n");
            }
            util::print(&msg)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Set(a) => {
            let u = store
                .set_user(
                    a.name.clone(),
                    UserChange {
                        role: a.role,
                        licence: a.licence,
                        term: a.term,
                        email: a.email,
                        add_ons: a.add_on,
                        remove_add_ons: a.remove_add_on,
                    },
                )
                .map_err(site::refused)?;
            util::print(&format!(
                "{}: {}, {}, add-ons: {}\n",
                u.name,
                u.role.name(),
                u.seat
                    .as_ref()
                    .map(|s| s.label())
                    .unwrap_or_else(|| "no seat".into()),
                if u.add_ons.is_empty() {
                    "none".into()
                } else {
                    u.add_ons.join(", ")
                }
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Deactivate(a) => {
            let u = store.deactivate(&a.name).map_err(site::refused)?;
            util::print(&format!("{} deactivated\n", u.name))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Activate(a) => {
            let u = store.activate(&a.name).map_err(site::refused)?;
            let warn = if u.over_allocated_since.is_some() {
                " (over-allocated: no free seat)"
            } else {
                ""
            };
            util::print(&format!("{} activated{warn}\n", u.name))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Delete(a) => {
            store.delete_user(&a.name).map_err(site::refused)?;
            util::print(&format!(
                "{} deleted; the username stays reserved\n",
                a.name
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An instant (seconds) as people read it.
fn when(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| t.to_string())
}

fn show(store: &dyn store::Api, a: ShowArgs) -> Result<ExitCode, Failure> {
    let d = store.user_detail(&a.name).map_err(site::refused)?;
    if a.json {
        let value = serde_json::to_value(&d).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let _ = writeln!(s, "User:        {}", d.name);
    let _ = writeln!(
        s,
        "E-mail:      {}",
        if d.email.is_empty() { "none" } else { &d.email }
    );
    let _ = writeln!(s, "Role:        {}", d.role_name);
    let _ = writeln!(
        s,
        "Licence:     {}",
        match (&d.licence, d.term) {
            (Some(l), Some(t)) => format!("{l} ({t})"),
            _ => "no seat".into(),
        }
    );
    let _ = writeln!(
        s,
        "Add-ons:     {}",
        if d.add_ons.is_empty() {
            "none".into()
        } else {
            d.add_ons.join(", ")
        }
    );
    let _ = writeln!(s, "State:       {}", d.state.word());
    let _ = writeln!(s, "Activated:   {}", when(d.activated_at));
    if let Some(deadline) = d.over_allocation_deadline {
        let _ = writeln!(
            s,
            "Over-allocated: deactivated at {} unless a seat is freed or bought",
            when(deadline)
        );
    }
    if !d.deactivated_reason.is_empty() && d.state != store::UserState::Active {
        let _ = writeln!(s, "Deactivated: {}", d.deactivated_reason);
    }
    let _ = writeln!(
        s,
        "Charged this month: {} day{}{}",
        d.charged_days.len(),
        if d.charged_days.len() == 1 { "" } else { "s" },
        if d.charged_days.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                d.charged_days
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn list(store: &dyn store::Api, a: ListArgs) -> Result<ExitCode, Failure> {
    store.require_licence_reader().map_err(site::refused)?;
    let term = a
        .term
        .as_deref()
        .map(|t| {
            licfile::Term::parse(t).ok_or_else(|| {
                Failure::usage(format!(
                    "unknown term {t:?}; terms are contracted, monthly and daily"
                ))
            })
        })
        .transpose()?;
    let page = store
        .users_page(UserQuery {
            licence: a.licence,
            term,
            search: a.search,
            after: a.after,
            limit: a.limit,
            include_deleted: a.deleted,
            state: a.state,
            no_licence: a.no_licence,
            sort: UserSort::ALL
                .into_iter()
                .find(|s| s.word() == a.sort)
                .unwrap_or_default(),
            ..Default::default()
        })
        .map_err(site::refused)?;
    if a.json {
        let value = serde_json::to_value(&page).map_err(|e| Failure::refused(e.to_string()))?;
        util::print_json(&value)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<24} {:<22} {:<28} {:<9} ADD-ONS",
        "USER", "ROLE", "LICENCE", "STATE"
    );
    for u in &page.users {
        let state = match u.over_allocated_until {
            Some(d) => format!("OVER-ALLOCATED until {d}"),
            None => u.state.clone(),
        };
        let _ = writeln!(
            s,
            "{:<24} {:<22} {:<28} {:<9} {}",
            u.name,
            u.role,
            u.licence.as_deref().unwrap_or("-"),
            state,
            u.add_ons.join(", ")
        );
    }
    match (&page.next, page.total) {
        (Some(next), Some(t)) => {
            let _ = writeln!(
                s,
                "-- {} of {t} shown; next page: --after {next}",
                page.users.len()
            );
        }
        (Some(next), None) => {
            let _ = writeln!(s, "-- next page: --after {next}");
        }
        (None, Some(t)) => {
            let _ = writeln!(
                s,
                "-- {} users{}",
                t,
                if page.users.len() as u64 != t {
                    " in all"
                } else {
                    ""
                }
            );
        }
        (None, None) => {}
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}
