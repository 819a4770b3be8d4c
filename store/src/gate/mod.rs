//! The one gate every operation goes through.
//!
//! Each operation is a typed [`Request`]. [`Store::execute`] authorises it
//! against the one table ([`Op::permit`]), and for a change it does so inside
//! the transaction that writes, from the caller's record as that transaction
//! reads it: a role taken away a moment before is taken away. The rule is
//! then applied to facts read in the same transaction, the result and its
//! events are committed together, and side effects (the outbox's e-mails) are
//! materialised after the commit.
//!
//! [`crate::Local`] (the store opened directly), [`crate::client::Remote`]
//! (the service's socket) and the service's dispatch all forward requests
//! here; none of them decides who may do what.

mod ops;

pub use ops::{ApiExt, Arg, ContractsZip, Mode, Op, Reply, Request};

use crate::Store;
use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::keys;
use crate::model::User;
use crate::rules::permit;

/// Who makes a call, and as what operation: carried into the transaction so
/// that the change is authorised from facts read there.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The login name (from the kernel), or "system".
    pub(crate) login: String,
    /// The operation, or `None` for the system's own changes (the clock, the
    /// timer's rules, a store being created), which no client can ask for.
    pub(crate) op: Option<Op>,
    /// The user the request is about, for "about themselves" permits.
    pub(crate) subject: Option<String>,
    /// Asked through an endpoint the administrator published without
    /// authentication (`serve --metrics`): no login, and only operations
    /// whose permit admits such an endpoint ([`permit::Permit::Monitors`]).
    pub(crate) published: bool,
}

impl Gate {
    /// The system's own changes: never reachable from a request.
    pub(crate) fn system() -> Gate {
        Gate {
            login: "system".into(),
            op: None,
            subject: None,
            published: false,
        }
    }

    /// An unauthenticated endpoint the administrator turned on, asking for
    /// `op`: the service's metrics listener.
    pub(crate) fn published(op: Op) -> Gate {
        Gate {
            login: "the metrics endpoint".into(),
            op: Some(op),
            subject: None,
            published: true,
        }
    }

    /// The operator named in events.
    pub(crate) fn login(&self) -> &str {
        &self.login
    }

    /// Authorises inside the transaction `tx`, from the caller's record as it reads it.
    pub(crate) fn authorise_in(&self, tx: &Tx<'_>) -> Result<()> {
        self.decide(|login| tx.get_rec(&keys::user(login), "user"))
    }

    /// Authorises a read, from the caller's record as the store holds it now.
    pub(crate) fn authorise(&self, store: &Store) -> Result<()> {
        self.decide(|login| store.user(login))
    }

    /// The one table's verdict, reading the caller's record only when the
    /// permit needs it.
    fn decide(&self, record: impl FnOnce(&str) -> Result<Option<User>>) -> Result<()> {
        let Some(op) = self.op else {
            return Ok(());
        };
        if self.published {
            // Nobody is known here: the table's word alone decides.
            return match op.permit() {
                permit::Permit::Monitors => Ok(()),
                other => Err(StoreError::NotAllowed {
                    operator: self.login.clone(),
                    action: op.action().to_string(),
                    why: format!(
                        "an unauthenticated endpoint serves the metrics only; {} may",
                        other.who()
                    ),
                }),
            };
        }
        if op.permit() == permit::Permit::Connected {
            return Ok(());
        }
        permit::decide(
            op.permit(),
            op.action(),
            &self.login,
            record(&self.login)?.as_ref(),
            self.subject.as_deref(),
        )
    }
}

impl Op {
    /// What the operation does, in words, for refusals.
    pub fn action(self) -> &'static str {
        match self {
            Op::Installation => "see the installation",
            Op::RequireLicenceReader | Op::Status | Op::Licences | Op::History => "see licences",
            Op::UsersPage | Op::AddOnHolders | Op::PrepareUserSearch => "see users",
            Op::User | Op::UserDetail => "see this user",
            Op::AddUser => "add users",
            Op::SetUser => "change users",
            Op::Deactivate => "deactivate users",
            Op::Activate => "activate users",
            Op::DeleteUser => "delete users",
            Op::Check | Op::Lease => "check this user",
            Op::InstallationKey => "see the installation key",
            Op::SetLeaseHours => "change the store's settings",
            Op::RecordUsage | Op::RecordStorage | Op::RecordMetered => "record usage",
            Op::Import => "import a licence",
            Op::RequestClock | Op::ImportClock => "correct the store's clock",
            Op::Tick => "apply what time has made due",
            Op::Events | Op::Notifications | Op::Subscribe => "see the action log",
            Op::AuditVerify => "verify the action log",
            Op::QuoteSeats | Op::RequestSeats => "buy or give back seats",
            Op::QuoteModules | Op::RequestModules => "buy or give back add-ons and integrations",
            Op::UsageReport => "make a usage report",
            Op::Outbox => "see the outbox",
            Op::ExportContracts => "export the contracts",
            Op::Metrics => "read the metrics",
        }
    }
}

impl Request {
    /// The user a request is about, for permits that let a user ask about themselves.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Request::User { name } | Request::UserDetail { name } => Some(name),
            Request::Check { user } | Request::Lease { user } => Some(user),
            _ => None,
        }
    }

    /// The gate this request passes as `login`.
    pub(crate) fn gate(&self, login: &str) -> Gate {
        Gate {
            login: login.to_string(),
            op: Some(self.op()),
            subject: self.subject().map(str::to_string),
            published: false,
        }
    }
}

impl Store {
    /// Authorises `request` for `login` against the store as it is now: for
    /// requests that only read (a change authorises inside its transaction).
    pub fn authorise(&self, login: &str, request: &Request) -> Result<()> {
        request.gate(login).authorise(self)
    }

    /// Carries out one request as `login`: the one entry point.
    pub fn execute(&self, login: &str, request: Request) -> Result<Reply> {
        self.execute_through(request.gate(login), request)
    }

    /// Carries out one request that came through an unauthenticated endpoint
    /// the administrator published (`serve --metrics`): the gate admits only
    /// what its table lets such an endpoint read.
    pub(crate) fn execute_published(&self, request: Request) -> Result<Reply> {
        self.execute_through(Gate::published(request.op()), request)
    }

    /// Authorises `request` through `g` and carries it out.
    fn execute_through(&self, g: Gate, request: Request) -> Result<Reply> {
        if !matches!(request.op().mode(), Mode::Write | Mode::AtOnceUnlessNew) {
            g.authorise(self)?;
        }
        Ok(match request {
            // Reads, authorised above.
            Request::Installation => Reply::Installation(self.installation()?),
            Request::RequireLicenceReader => Reply::RequireLicenceReader(()),
            Request::Status => Reply::Status(self.status()?),
            Request::Licences => Reply::Licences(self.licence_views()?),
            Request::UsersPage { query } => Reply::UsersPage(self.users_page(&query)?),
            Request::PrepareUserSearch => Reply::PrepareUserSearch(self.prepare_user_search()?),
            Request::User { name } => Reply::User(self.user_named(&name)?),
            Request::UserDetail { name } => Reply::UserDetail(self.user_detail(&name)?),
            Request::AddOnHolders { module } => Reply::AddOnHolders(self.add_on_holders(&module)?),
            Request::Check { user } => Reply::Check(self.check(&user)?),
            Request::Lease { user } => Reply::Lease(self.lease(&user)?),
            Request::InstallationKey => Reply::InstallationKey(self.installation_public_key()?),
            Request::Events { limit, before } => {
                Reply::Events(self.events(limit.min(10_000), before)?)
            }
            Request::Notifications { query } => Reply::Notifications(self.notifications(&query)?),
            Request::History { days } => Reply::History(self.history(days)?),
            Request::AuditVerify => Reply::AuditVerify(self.audit_verify()?),
            Request::QuoteSeats {
                licence,
                term,
                action,
                count,
            } => Reply::QuoteSeats(self.quote_seats(&licence, &term, action, count)?),
            Request::QuoteModules {
                kind,
                name,
                action,
                count,
            } => Reply::QuoteModules(self.quote_modules(kind, &name, action, count)?),
            Request::Outbox => Reply::Outbox(crate::outbox::list(self.layout())?),
            Request::ExportContracts => {
                let (count, zip) = self.contracts_zip()?;
                Reply::ExportContracts(ContractsZip { count, zip })
            }
            // The store's facts; the service adds its own counters.
            Request::Metrics => Reply::Metrics(crate::metrics::Metrics {
                store: self.metrics_facts()?,
                service: None,
            }),
            Request::Subscribe { .. } => {
                return Err(StoreError::Rule(
                    "a subscription is answered by the service's connection, not here".into(),
                ));
            }
            // Changes: each authorises inside its transaction.
            Request::AddUser { new } => Reply::AddUser(self.add_user_as(&g, &new)?),
            Request::SetUser { name, change } => {
                Reply::SetUser(self.set_user_as(&g, &name, &change)?)
            }
            Request::Deactivate { name } => Reply::Deactivate(self.deactivate_as(&g, &name)?),
            Request::Activate { name } => Reply::Activate(self.activate_as(&g, &name)?),
            Request::DeleteUser { name } => Reply::DeleteUser(self.delete_user_as(&g, &name)?),
            Request::RecordUsage { user, kind, day } => {
                Reply::RecordUsage(self.record_usage_as(&g, &user, kind, day)?)
            }
            Request::RecordStorage { bytes } => {
                self.record_storage_as(&g, bytes)?;
                Reply::RecordStorage(self.storage_allowance_gb())
            }
            Request::RecordMetered { service, count } => {
                Reply::RecordMetered(self.record_metered_as(&g, &service, count)?)
            }
            Request::Import { licence } => Reply::Import(self.import_as(&g, licence.as_bytes())?),
            Request::RequestClock => Reply::RequestClock(self.request_clock_as(&g)?),
            Request::ImportClock { correction } => {
                Reply::ImportClock(self.import_clock_as(&g, &correction)?)
            }
            Request::Tick => Reply::Tick(self.tick_as(&g)?),
            Request::SetLeaseHours { hours } => {
                Reply::SetLeaseHours(self.set_lease_hours_as(&g, hours)?)
            }
            Request::RequestSeats {
                licence,
                term,
                action,
                count,
                note,
            } => Reply::RequestSeats(
                self.request_seats_as(&g, &licence, &term, action, count, &note)?,
            ),
            Request::RequestModules {
                kind,
                name,
                action,
                count,
                note,
            } => Reply::RequestModules(
                self.request_modules_as(&g, kind, &name, action, count, &note)?,
            ),
            Request::UsageReport { month } => Reply::UsageReport(self.usage_report_as(&g, month)?),
        })
    }

    /// A request of [`Mode::AtOnceUnlessNew`] answered if it writes nothing
    /// and waits for nothing: `Ok(None)` when it cannot (then `execute` it
    /// where waiting is fine). For the service's workers, which answer reads
    /// on a few threads; a request of any other mode is `Ok(None)`.
    pub fn execute_at_once(&self, login: &str, request: &Request) -> Result<Option<Reply>> {
        match request {
            Request::RecordUsage { user, kind, day } => Ok(self
                .record_usage_at_once(&request.gate(login), user, *kind, *day)?
                .map(Reply::RecordUsage)),
            _ => Ok(None),
        }
    }

    /// The store seen as `login`: every typed operation of [`ApiExt`],
    /// authorised as that login user.
    pub fn as_user(&self, login: &str) -> crate::Local<&Store> {
        crate::Local {
            store: self,
            operator: login.to_string(),
        }
    }
}

impl Store {
    /// Runs `f` as one change made through `g`: authorised first, inside the
    /// transaction, from the caller's record as the transaction reads it.
    pub(crate) fn write_as<R>(
        &self,
        g: &Gate,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        self.write_as_then(g, f, |_| Ok(()))
    }

    /// [`Store::write_as`], then `then` once the change is applied, while
    /// the writer lock is still held (see [`crate::db::Db::write_then`]).
    pub(crate) fn write_as_then<R>(
        &self,
        g: &Gate,
        f: impl FnOnce(&mut Tx<'_>) -> Result<R>,
        then: impl FnOnce(&R) -> Result<()>,
    ) -> Result<R> {
        let out = self
            .db
            .write_then(
                g.login(),
                |tx| {
                    g.authorise_in(tx)?;
                    f(tx)
                },
                then,
            )
            .inspect_err(|e| {
                // The tree was reloaded from the disk: so are the licences
                // in force (an import's `then` may have run before its sync failed).
                if matches!(e, StoreError::WriteFailed { .. }) {
                    let _ = self.reload_in_force();
                }
            })?;
        // The change is committed: its e-mails follow. One that cannot be
        // written now stays queued and is written with the next change.
        let _ = self.materialise_outbox();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_endpoint_reads_the_metrics_and_nothing_else() {
        for op in Op::ALL {
            // Nobody is behind it: no record is read, the table decides.
            let verdict = Gate::published(*op).decide(|login| {
                panic!("a published endpoint has no record, yet {login}'s was read")
            });
            assert_eq!(verdict.is_ok(), *op == Op::Metrics, "{op:?}");
            if let Err(e) = verdict {
                assert_eq!(e.code(), crate::Code::NotPermitted, "{op:?}");
            }
        }
    }
}
