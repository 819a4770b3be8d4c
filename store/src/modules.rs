//! Buying and giving back add-on modules and integrations by count (seed
//! 003: "You add and remove add-on modules by adjusting the number of
//! licences in the All licences overview"), the way seats are bought and
//! given back ([`crate::purchases`]).
//!
//! A purchase is priced pro rata to the contract end, as a commitment, like
//! contracted seats; it records a pending entry and a signed licence request
//! of format 2 ([`licfile::ModuleChange`]) that the vendor fulfils with a
//! licence granting the new count. A reduction takes effect at the next
//! payment period (the renewal) and never leaves fewer add-on licences than
//! users holding the module. An integration that follows the standard seat
//! count has no count of its own and cannot be bought or given back here.

use chrono::{Duration, NaiveDate};
use licfile::{Document, LicenceRequest, ModuleChange, ModuleKind, Money, SeatAction, Term};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::costs::{self, Breakdown};
use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::licences::InForce;
use crate::model::ModuleKey;
use crate::purchases::{PENDING_DAYS, Quote, RequestOutcome, each_due};
use crate::rules::purchase as rule;

/// Add-on or integration licences bought and not yet granted by a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulePending {
    /// The request that asked for them.
    pub request_id: String,
    /// The add-on or integration.
    pub module: ModuleKey,
    /// Licences asked for.
    pub count: u32,
    /// Its licensed count when asked (with earlier pending ones): fulfilled
    /// by a licence granting base + count.
    pub base_total: u32,
    /// When (seconds).
    pub requested_at: i64,
    /// When it lapses unfulfilled (seconds).
    pub expires_at: i64,
    /// Who asked.
    pub requested_by: String,
}

/// Add-on or integration licences given back from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleReduction {
    /// The request that asked for it.
    pub request_id: String,
    /// The add-on or integration.
    pub module: ModuleKey,
    /// Licences given back.
    pub count: u32,
    /// Its licences from `effective` on.
    pub target: u32,
    /// The first day it applies (the next payment period).
    pub effective: NaiveDate,
    /// When it was asked for (seconds).
    pub requested_at: i64,
    /// Who asked.
    pub requested_by: String,
    /// Whether the tick has applied it (and said so).
    pub applied: bool,
}

/// A module of a licence in force, as the licence writes it.
struct Found {
    key: ModuleKey,
    licensed: u32,
    price: Money,
    follows_standard: bool,
    owner: InForce,
}

/// The add-on or integration named `name` (any case) in the licences in
/// force; a refusal that lists the ones there are otherwise.
fn find(licences: &[InForce], kind: ModuleKind, name: &str) -> Result<Found> {
    let name = name.trim();
    let mut known = Vec::new();
    for l in licences {
        match kind {
            ModuleKind::AddOn => {
                for a in &l.licence.add_ons {
                    if a.name.eq_ignore_ascii_case(name) {
                        return Ok(Found {
                            key: ModuleKey {
                                kind,
                                name: a.name.clone(),
                            },
                            licensed: a.count,
                            price: a.price,
                            follows_standard: false,
                            owner: l.clone(),
                        });
                    }
                    known.push(a.name.clone());
                }
            }
            ModuleKind::Integration => {
                for i in &l.licence.integrations {
                    if i.name.eq_ignore_ascii_case(name) {
                        return Ok(Found {
                            key: ModuleKey {
                                kind,
                                name: i.name.clone(),
                            },
                            licensed: i.count,
                            price: i.price,
                            follows_standard: i.follows_standard,
                            owner: l.clone(),
                        });
                    }
                    known.push(i.name.clone());
                }
            }
        }
    }
    Err(StoreError::Rule(if known.is_empty() {
        format!("no licence in force has {kind} licences; the vendor adds them to the licence")
    } else {
        format!(
            "no {kind} is called {name:?}; the licences in force have {}",
            known.join(", ")
        )
    }))
}

/// The standard seats an integration that follows them has: the
/// contracted and monthly seats of its licence (daily seats are not
/// standard licences), as the Licences screen counts them.
fn standard_seats(l: &licfile::Licence) -> u64 {
    l.seat_pools
        .iter()
        .filter(|p| p.term != Term::Daily)
        .map(|p| u64::from(p.count))
        .sum()
}

/// A module's licences on `day`: what the licence grants, less reductions due by then.
pub(crate) fn module_total(licensed: u32, reductions: &[ModuleReduction], day: NaiveDate) -> u32 {
    let due = reductions.iter().map(|r| (r.effective, r.target));
    crate::rules::seats::seats_on(licensed, due, day)
}

fn reductions_in(tx: &Tx<'_>, m: &ModuleKey) -> Result<Vec<ModuleReduction>> {
    tx.scan(&keys::module_reductions(m))?
        .into_iter()
        .map(|(_, v)| crate::model::decode(&v, "module reduction"))
        .collect()
}

/// An add-on's licences today, inside a change: what assigning it is
/// limited by once a reduction has applied.
pub(crate) fn add_on_total_in(tx: &Tx<'_>, licensed: u32, module: &str) -> Result<u32> {
    let key = ModuleKey {
        kind: ModuleKind::AddOn,
        name: module.to_string(),
    };
    Ok(module_total(
        licensed,
        &reductions_in(tx, &key)?,
        tx.now.date_naive(),
    ))
}

/// The fewest licences an add-on is to have from a scheduled reduction not
/// yet applied, and from when, inside a change: assigning it beyond that
/// would leave a holder without a licence when the reduction applies.
pub(crate) fn add_on_scheduled_in(tx: &Tx<'_>, module: &str) -> Result<Option<(u32, NaiveDate)>> {
    let key = ModuleKey {
        kind: ModuleKind::AddOn,
        name: module.to_string(),
    };
    Ok(reductions_in(tx, &key)?
        .into_iter()
        .filter(|r| !r.applied)
        .map(|r| (r.target, r.effective))
        .min())
}

/// Holders of an add-on, inside a change, by name.
fn holders_in(tx: &Tx<'_>, m: &ModuleKey) -> Result<Vec<String>> {
    if m.kind != ModuleKind::AddOn {
        return Ok(Vec::new());
    }
    let prefix = keys::add_on_holders(&m.name);
    let mut out = Vec::new();
    for (k, _) in tx.scan(&prefix)? {
        let Some(name) = keys::decode::name_after(&prefix, &k) else {
            continue;
        };
        // The record has the name as first written; the key has it in lower case.
        let shown = tx
            .get_rec::<crate::model::User>(&keys::user(&name), "user")?
            .map(|u| u.name)
            .unwrap_or(name);
        out.push(shown);
    }
    Ok(out)
}

/// A module request that passed the rules, priced.
struct Plan {
    found: Found,
    effective: NaiveDate,
    breakdown: Breakdown,
    notes: Vec<String>,
}

/// What a reduction is judged on besides the licence: the module's
/// reductions and its holders (none for an integration).
type Facts = (Vec<ModuleReduction>, Vec<String>);

/// Plans a module request on `today` over the facts `read` gives: the
/// request reads them inside the transaction that writes, the quote from
/// the store as it is.
fn plan(
    licences: &[InForce],
    kind: ModuleKind,
    name: &str,
    action: SeatAction,
    count: u32,
    today: NaiveDate,
    read: impl FnOnce(&ModuleKey) -> Result<Facts>,
) -> Result<Plan> {
    if count == 0 || count > 100_000 {
        return Err(StoreError::Rule(
            "the number of licences must be 1 to 100000".into(),
        ));
    }
    let found = find(licences, kind, name)?;
    let lic = &found.owner.licence;
    rule::check_module_purchase(&found.key.name, found.follows_standard, standard_seats(lic))?;
    let label = found.key.name.clone();
    let mut notes = Vec::new();
    let (effective, breakdown) = match action {
        // Bought to the contract end as a commitment, like contracted seats.
        SeatAction::Add => (
            today,
            costs::purchase(
                Term::Contracted,
                count,
                found.price,
                today,
                lic.contract.end,
                &label,
                &lic.currency,
            ),
        ),
        SeatAction::Remove => {
            let effective = rule::module_removal_effective(today, lic.contract.end);
            let (reductions, holders) = read(&found.key)?;
            let at_effective = module_total(found.licensed, &reductions, effective);
            notes.extend(rule::check_module_removal(&rule::ModuleRemoval {
                module: &found.key.label(),
                count,
                at_effective,
                holders: &holders,
            })?);
            let saving = found.price.value() * rust_decimal::Decimal::from(count);
            let b = Breakdown {
                lines: vec![costs::Line {
                    description: format!(
                        "{label} x {count} removed from {effective}: {} a month less from then",
                        costs::round(saving)
                    ),
                    amount: rust_decimal::Decimal::ZERO,
                    in_total: true,
                }],
                total: costs::round(rust_decimal::Decimal::ZERO),
                currency: lic.currency.clone(),
                months: Vec::new(),
            };
            (effective, b)
        }
    };
    Ok(Plan {
        found,
        effective,
        breakdown,
        notes,
    })
}

impl Store {
    /// Pending add-on and integration purchases.
    pub fn module_pending(&self) -> Result<Vec<ModulePending>> {
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::MODULE_PENDING) {
            let (_, v) = kv?;
            out.push(crate::model::decode(&v, "module pending")?);
        }
        Ok(out)
    }

    /// Scheduled and applied add-on and integration reductions.
    pub fn module_reductions(&self) -> Result<Vec<ModuleReduction>> {
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::MODULE_REDUCTIONS) {
            let (_, v) = kv?;
            out.push(crate::model::decode(&v, "module reduction")?);
        }
        Ok(out)
    }

    /// Checks an add-on or integration request against every rule and
    /// prices it, writing nothing: what the console shows before the
    /// administrator confirms.
    pub(crate) fn quote_modules(
        &self,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote> {
        let licences = self.in_force();
        let plan = plan(&licences, kind, name, action, count, self.today()?, |m| {
            let reductions = self
                .module_reductions()?
                .into_iter()
                .filter(|r| r.module.kind == m.kind && r.module.name.eq_ignore_ascii_case(&m.name))
                .collect();
            let holders = match m.kind {
                ModuleKind::AddOn => self.add_on_holders(&m.name)?,
                ModuleKind::Integration => Vec::new(),
            };
            Ok((reductions, holders))
        })?;
        Ok(Quote {
            pool: plan.found.key.label(),
            action,
            count,
            effective: plan.effective,
            breakdown: plan.breakdown,
            notes: plan.notes,
        })
    }

    /// Buys or gives back add-on or integration licences: checks the rules
    /// inside the change, prices it, records it, signs the request (format
    /// 2) and writes the confirmation e-mail, as for seats.
    pub(crate) fn request_modules_as(
        &self,
        g: &Gate,
        kind: ModuleKind,
        name: &str,
        action: SeatAction,
        count: u32,
        note: &str,
    ) -> Result<RequestOutcome> {
        let inst = self.installation()?;
        let key = self.installation_key()?;
        let operator = g.login().to_string();
        let outcome = self.write_as(g, |tx| {
            let licences = self.in_force();
            let Plan {
                found,
                effective,
                breakdown,
                notes,
            } = plan(
                &licences,
                kind,
                name,
                action,
                count,
                tx.now.date_naive(),
                |m| Ok((reductions_in(tx, m)?, holders_in(tx, m)?)),
            )?;
            let lic = &found.owner.licence;
            let module = found.key.clone();
            let number = tx.counter(&keys::meta(names::REQUEST_SEQ))? + 1;
            let request_id = format!("{}-R{number:05}", inst.serial);
            let doc = LicenceRequest {
                serial: inst.serial.clone(),
                request_id: request_id.clone(),
                created_at: licfile::Timestamp::from(tx.now),
                installation_key: key.public().raw(),
                licensee: lic.licensee.clone(),
                product: lic.product.clone(),
                licence_sequence: lic.sequence,
                changes: Vec::new(),
                costs: crate::purchases::request_costs(&breakdown),
                total: Money::new(breakdown.total),
                currency: lic.currency.clone(),
                note: crate::purchases::request_note(note),
                modules: Some(vec![ModuleChange {
                    kind: module.kind,
                    name: module.name.clone(),
                    action,
                    count,
                    effective,
                }]),
            };
            let armored = licfile::signed::sign(&Document::Request(doc), &key, None)
                .map_err(|e| StoreError::Rule(format!("cannot sign the request: {e}")))?;

            let verb = match action {
                SeatAction::Add => "buy",
                SeatAction::Remove => "give back",
            };
            let label = module.label();
            let subject = format!("Licence request {request_id}: {verb} {count} {label} licences");
            let mut body = format!(
                "{operator} asked to {verb} {count} {label} licences for {} (serial {}), effective {effective}.\r\n\r\nCost breakdown ({}):\r\n",
                lic.licensee.company, inst.serial, lic.currency
            );
            body.push_str(&crate::purchases::breakdown_text(&breakdown, &lic.currency));
            body.push_str(match action {
                SeatAction::Add => "The licences are pending until the vendor's licence that grants them is imported; pending licences cannot be assigned and are not charged, and lapse after 30 days.\r\nSend the request below to the vendor, and sign this purchase by replying to this e-mail.\r\n\r\n",
                SeatAction::Remove => "The reduction applies from the date above. Send the request below to the vendor.\r\n\r\n",
            });
            body.push_str(&armored.replace('\n', "\r\n"));
            let email = crate::outbox::Email::new(&lic.licensee.email, &subject, &body);
            let email_file = tx.queue_email(&email, &request_id);

            tx.put_rec(&keys::meta(names::REQUEST_SEQ), &number)?;
            tx.put(keys::request(&request_id), armored.clone().into_bytes());
            let now = tx.now.timestamp();
            match action {
                SeatAction::Add => {
                    // Seed 003: a purchase after a scheduled reduction resets the
                    // next period to the purchased count.
                    for r in reductions_in(tx, &module)? {
                        if !r.applied {
                            tx.del(keys::module_reduction(&module, &r.request_id));
                            tx.user_event(Action::ModuleReductionCancelled {
                                request_id: request_id.clone(),
                                reduction: r.request_id.clone(),
                                module: module.clone(),
                                count: r.count,
                                effective: r.effective,
                            });
                        }
                    }
                    let already: u32 = tx
                        .scan(&keys::module_pendings(&module))?
                        .iter()
                        .filter_map(|(_, v)| {
                            crate::model::decode::<ModulePending>(v, "module pending").ok()
                        })
                        .map(|p| p.count)
                        .sum();
                    tx.put_rec(
                        &keys::module_pending(&module, &request_id),
                        &ModulePending {
                            request_id: request_id.clone(),
                            module: module.clone(),
                            count,
                            // Licences already pending come first: this purchase is
                            // granted by a licence with them and these.
                            base_total: found.licensed.saturating_add(already),
                            requested_at: now,
                            expires_at: now + PENDING_DAYS * 86_400,
                            requested_by: tx.operator.clone(),
                        },
                    )?;
                    tx.user_event(Action::ModulesRequested {
                        request_id: request_id.clone(),
                        module: module.clone(),
                        count,
                        charged_now: breakdown.total.to_string(),
                        currency: lic.currency.clone(),
                        lapses: (tx.now + Duration::days(PENDING_DAYS)).date_naive(),
                        email_file: email_file.clone(),
                        email_to: lic.licensee.email.clone(),
                    });
                }
                SeatAction::Remove => {
                    let base = module_total(found.licensed, &reductions_in(tx, &module)?, effective);
                    let target = base.saturating_sub(count);
                    tx.put_rec(
                        &keys::module_reduction(&module, &request_id),
                        &ModuleReduction {
                            request_id: request_id.clone(),
                            module: module.clone(),
                            count,
                            target,
                            effective,
                            requested_at: now,
                            requested_by: tx.operator.clone(),
                            applied: false,
                        },
                    )?;
                    tx.user_event(Action::ModuleReductionScheduled {
                        request_id: request_id.clone(),
                        module: module.clone(),
                        count,
                        from: base,
                        to: target,
                        effective,
                        email_file: email_file.clone(),
                        email_to: lic.licensee.email.clone(),
                    });
                }
            }
            Ok(RequestOutcome {
                request_id,
                pool: module.label(),
                action,
                count,
                effective,
                breakdown,
                armored,
                email: Some(email_file),
                notes,
            })
        });
        let mut outcome = outcome?;
        // Said to whoever asked, even through the service, which cannot print.
        outcome.notes.extend(self.installation_key_warning());
        Ok(outcome)
    }
}

/// The count a licence grants a module, if it has the module.
fn granted(l: &licfile::Licence, m: &ModuleKey) -> Option<u32> {
    match m.kind {
        ModuleKind::AddOn => l
            .add_ons
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&m.name))
            .map(|a| a.count),
        ModuleKind::Integration => l
            .integrations
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(&m.name))
            .map(|i| i.count),
    }
}

/// On import: module purchases the new licence grants are fulfilled,
/// reductions it reflects are done.
pub(crate) fn settle_on_import(tx: &mut Tx<'_>, new: &InForce) -> Result<()> {
    for (k, v) in tx.scan(keys::MODULE_PENDING)? {
        let p: ModulePending = crate::model::decode(&v, "module pending")?;
        let Some(count) = granted(&new.licence, &p.module) else {
            continue;
        };
        if count >= p.base_total.saturating_add(p.count) {
            tx.del(k);
            tx.system_event(
                Action::ModulePurchaseFulfilled {
                    request_id: p.request_id.clone(),
                    module: p.module.clone(),
                    count: p.count,
                    granted: count,
                    licence_id: new.licence.licence_id.clone(),
                    sequence: new.licence.sequence,
                },
                Some(tx.now.timestamp()),
            );
        }
    }
    for (k, v) in tx.scan(keys::MODULE_REDUCTIONS)? {
        let r: ModuleReduction = crate::model::decode(&v, "module reduction")?;
        let Some(count) = granted(&new.licence, &r.module) else {
            continue;
        };
        if count <= r.target {
            tx.del(k);
            tx.system_event(
                Action::ModuleReductionLicensed {
                    request_id: r.request_id.clone(),
                    module: r.module.clone(),
                    granted: count,
                    sequence: new.licence.sequence,
                },
                Some(tx.now.timestamp()),
            );
        }
    }
    Ok(())
}

/// On tick: module purchases that waited 30 days lapse; reductions that are
/// due apply. Returns what happened, for the tick report.
pub(crate) fn tick_in(tx: &mut Tx<'_>) -> Result<Vec<String>> {
    let now = tx.now.timestamp();
    let today = tx.now.date_naive();
    let mut notes = Vec::new();
    each_due(
        tx,
        keys::MODULE_PENDING,
        "module pending",
        &mut notes,
        |tx, k, p: ModulePending| {
            if now < p.expires_at {
                return Ok(None);
            }
            tx.del(k);
            Ok(Some(Action::ModulePurchaseExpired {
                request_id: p.request_id,
                module: p.module,
                count: p.count,
                days: PENDING_DAYS,
            }))
        },
    )?;
    each_due(
        tx,
        keys::MODULE_REDUCTIONS,
        "module reduction",
        &mut notes,
        |tx, k, mut r: ModuleReduction| {
            if r.applied || r.effective > today {
                return Ok(None);
            }
            r.applied = true;
            tx.put_rec(&k, &r)?;
            Ok(Some(Action::ModuleReductionApplied {
                request_id: r.request_id,
                module: r.module,
                count: r.count,
                effective: r.effective,
                target: r.target,
            }))
        },
    )?;
    Ok(notes)
}
