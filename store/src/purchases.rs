//! Buying and giving back seats where no network reaches (seeds 000, 001, 003).
//!
//! A purchase records a pending entry and writes a licence request, signed by
//! the installation key, for the vendor; pending seats are shown, not usable and
//! not charged, expire after 30 days, and are fulfilled when a licence that
//! grants them is imported. A reduction is scheduled for the next billing
//! period (contracted: the renewal; monthly: the next month; daily: at once)
//! and, once due, limits the pool locally until the vendor's licence reflects it.

use chrono::{Duration, NaiveDate};
use licfile::{CostLine, Document, LicenceRequest, Money, SeatAction, SeatChange, Term};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::costs::{self, Breakdown};
use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::licences::{InForce, resolve_pool};
use crate::model::PoolKey;

/// Days a pending purchase waits for its licence (seed 000).
pub const PENDING_DAYS: i64 = 30;

/// Seats bought and not yet granted by a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The request that asked for them.
    pub request_id: String,
    /// The pool.
    pub pool: PoolKey,
    /// Seats asked for.
    pub count: u32,
    /// The pool's licensed seats when asked: fulfilled by a licence granting base + count.
    pub base_total: u32,
    /// When (seconds).
    pub requested_at: i64,
    /// When it lapses unfulfilled (seconds).
    pub expires_at: i64,
    /// Who asked.
    pub requested_by: String,
}

/// Seats given back from a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reduction {
    /// The request that asked for it.
    pub request_id: String,
    /// The pool.
    pub pool: PoolKey,
    /// Seats given back.
    pub count: u32,
    /// The pool's seats from `effective` on.
    pub target: u32,
    /// The first day it applies (the next billing period).
    pub effective: NaiveDate,
    /// When it was asked for (seconds).
    pub requested_at: i64,
    /// Who asked.
    pub requested_by: String,
    /// Whether the tick has applied it (and said so).
    pub applied: bool,
}

/// What a seat request did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RequestOutcome {
    /// The request's id.
    pub request_id: String,
    /// The pool, e.g. "Jobs User (monthly)".
    pub pool: String,
    /// add or remove.
    pub action: SeatAction,
    /// How many seats.
    pub count: u32,
    /// When it takes effect.
    pub effective: NaiveDate,
    /// The cost breakdown.
    pub breakdown: Breakdown,
    /// The signed licence request for the vendor.
    pub armored: String,
    /// The confirmation e-mail written to the outbox.
    pub email: Option<String>,
    /// Things the administrator should know.
    pub notes: Vec<String>,
}

/// A seat request that passed the rules, priced.
struct Plan {
    pool: PoolKey,
    term: Term,
    licence: licfile::Licence,
    licensed: u32,
    today: NaiveDate,
    effective: NaiveDate,
    breakdown: Breakdown,
    notes: Vec<String>,
}

/// What a seat request would cost and when it would take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The pool, e.g. "Jobs User (monthly)".
    pub pool: String,
    /// add or remove.
    pub action: SeatAction,
    /// How many seats.
    pub count: u32,
    /// When it would take effect.
    pub effective: NaiveDate,
    /// The cost breakdown.
    pub breakdown: Breakdown,
    /// Things the administrator should know.
    pub notes: Vec<String>,
}

/// The seats of a pool on `day`: what the licence grants, less reductions due by then.
pub(crate) fn effective_total(licensed: u32, reductions: &[Reduction], day: NaiveDate) -> u32 {
    let due = reductions.iter().map(|r| (r.effective, r.target));
    crate::rules::seats::seats_on(licensed, due, day)
}

pub(crate) fn reductions_in(tx: &Tx<'_>, pool: &PoolKey) -> Result<Vec<Reduction>> {
    tx.scan(&keys::reductions(pool))?
        .into_iter()
        .map(|(_, v)| crate::model::decode(&v, "reduction"))
        .collect()
}

/// The pool's seats today, inside a change.
pub(crate) fn total_in(tx: &Tx<'_>, licences: &[InForce], pool: &PoolKey) -> Result<u32> {
    let licensed = crate::licences::pool_total(licences, pool);
    Ok(effective_total(
        licensed,
        &reductions_in(tx, pool)?,
        tx.now.date_naive(),
    ))
}

impl Store {
    /// Scheduled and applied reductions of a pool.
    pub fn reductions(&self, pool: &PoolKey) -> Result<Vec<Reduction>> {
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::reductions(pool)) {
            let (_, v) = kv?;
            out.push(crate::model::decode(&v, "reduction")?);
        }
        Ok(out)
    }

    /// Pending purchases, every pool.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::PENDING) {
            let (_, v) = kv?;
            out.push(crate::model::decode(&v, "pending")?);
        }
        Ok(out)
    }

    /// Checks a seat request against every rule and prices it, writing nothing:
    /// what the console shows before the administrator confirms.
    pub(crate) fn quote_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
    ) -> Result<Quote> {
        let plan = self.plan_seats(licence, term, action, count, self.today()?)?;
        Ok(Quote {
            pool: plan.pool.label(),
            action,
            count,
            effective: plan.effective,
            breakdown: plan.breakdown,
            notes: plan.notes,
        })
    }

    /// Plans a seat request on the store as it is. Inside a change, under
    /// the writer lock, what it reads is what the change builds on.
    fn plan_seats(
        &self,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
        today: NaiveDate,
    ) -> Result<Plan> {
        if count == 0 || count > 100_000 {
            return Err(StoreError::Rule(
                "the number of seats must be 1 to 100000".into(),
            ));
        }
        let term = crate::users::parse_term(term)?;
        let licences = self.in_force();
        let pool = resolve_pool(&licences, licence, Some(term))?;
        let owner = licences
            .iter()
            .find(|l| l.issuer == pool.issuer)
            .ok_or_else(|| StoreError::Rule("no licence of that issuer is in force".into()))?
            .clone();
        let lic = &owner.licence;
        let spec = owner
            .pools()
            .find(|(k, _)| crate::users::same_pool(k, &pool))
            .map(|(_, p)| p.clone())
            .ok_or_else(|| StoreError::Rule(format!("{} is not in the licence", pool.label())))?;
        let label = pool.licence_label();
        let in_use = self.in_use(&pool)?;
        let licensed = spec.count;
        let reductions = self.reductions(&pool)?;
        let mut notes = Vec::new();

        let (effective, breakdown) = match action {
            SeatAction::Add => (
                today,
                costs::purchase(
                    term,
                    count,
                    spec.price,
                    today,
                    lic.contract.end,
                    &label,
                    &lic.currency,
                ),
            ),
            SeatAction::Remove => {
                let effective = crate::rules::purchase::removal_effective(
                    term,
                    today,
                    lic.contract.end,
                    lic.contract.renewal_window_days,
                )?;
                let at_effective = effective_total(licensed, &reductions, effective);
                let all: u64 = owner
                    .pools()
                    .map(|(k, p)| {
                        let r = if crate::users::same_pool(&k, &pool) {
                            reductions.clone()
                        } else {
                            self.reductions(&k).unwrap_or_default()
                        };
                        u64::from(effective_total(p.count, &r, effective))
                    })
                    .sum();
                notes.extend(crate::rules::purchase::check_removal(
                    &crate::rules::purchase::Removal {
                        pool: &pool.label(),
                        term,
                        count,
                        at_effective,
                        in_use,
                        all_at_effective: all,
                    },
                )?);
                let mut b = Breakdown {
                    lines: Vec::new(),
                    total: costs::round(rust_decimal::Decimal::ZERO),
                    currency: lic.currency.clone(),
                    months: Vec::new(),
                };
                let saving = spec.price.value() * rust_decimal::Decimal::from(count);
                b.lines.push(costs::Line {
                    description: match term {
                        Term::Daily => format!("{label} x {count} removed from {effective}: daily seats are billed only when used"),
                        _ => format!("{label} x {count} removed from {effective}: {} a month less from then", costs::round(saving)),
                    },
                    amount: rust_decimal::Decimal::ZERO,
                    in_total: true,
                });
                (effective, b)
            }
        };

        Ok(Plan {
            pool,
            term,
            licence: lic.clone(),
            licensed,
            today,
            effective,
            breakdown,
            notes,
        })
    }

    /// Asks the vendor for more seats, or gives seats back: checks the rules,
    /// prices it, records it, signs the request and writes the confirmation e-mail.
    ///
    /// Planned, numbered, signed and recorded in one change: two requests at
    /// once get two numbers, and each is planned on what the other recorded.
    pub(crate) fn request_seats_as(
        &self,
        g: &Gate,
        licence: &str,
        term: &str,
        action: SeatAction,
        count: u32,
        note: &str,
    ) -> Result<RequestOutcome> {
        let inst = self.installation()?;
        let key = self.installation_key()?;
        let operator = g.login();
        let outcome = self.write_as(g, |tx| {
        let Plan {
            pool,
            term,
            licence: lic,
            licensed,
            today,
            effective,
            breakdown,
            notes,
        } = self.plan_seats(licence, term, action, count, tx.now.date_naive())?;
        let lic = &lic;
        let number = tx.counter(&keys::meta(names::REQUEST_SEQ))? + 1;
        let request_id = format!("{}-R{number:05}", inst.serial);
        let cost_lines = request_costs(&breakdown);
        let doc = LicenceRequest {
            serial: inst.serial.clone(),
            request_id: request_id.clone(),
            created_at: licfile::Timestamp::from(tx.now),
            installation_key: key.public().raw(),
            licensee: lic.licensee.clone(),
            product: lic.product.clone(),
            licence_sequence: lic.sequence,
            changes: vec![SeatChange {
                area: pool.area.clone(),
                licence: pool.licence.clone(),
                term,
                action,
                count,
                effective,
            }],
            costs: cost_lines,
            total: Money::new(breakdown.total),
            currency: lic.currency.clone(),
            note: request_note(note),
            modules: None,
        };
        let armored = licfile::signed::sign(&Document::Request(doc), &key, None)
            .map_err(|e| StoreError::Rule(format!("cannot sign the request: {e}")))?;

        let verb = match action {
            SeatAction::Add => "buy",
            SeatAction::Remove => "give back",
        };
        let subject = format!(
            "Licence request {request_id}: {verb} {count} {} seats",
            pool.label()
        );
        let mut body = format!(
            "{operator} asked to {verb} {count} {} seats for {} (serial {}), effective {effective}.\r\n\r\nCost breakdown ({}):\r\n",
            pool.label(),
            lic.licensee.company,
            inst.serial,
            lic.currency
        );
        body.push_str(&breakdown_text(&breakdown, &lic.currency));
        body.push_str(match action {
            SeatAction::Add => "The seats are pending until the vendor's licence that grants them is imported; pending seats are not usable and not charged, and lapse after 30 days.\r\nSend the request below to the vendor, and sign this purchase by replying to this e-mail.\r\n\r\n",
            SeatAction::Remove => "The reduction applies from the date above. Send the request below to the vendor.\r\n\r\n",
        });
        body.push_str(&armored.replace('\n', "\r\n"));
        let email = crate::outbox::Email::new(&lic.licensee.email, &subject, &body);
        let email_file = tx.queue_email(&email, &request_id);
        {
            tx.put_rec(&keys::meta(names::REQUEST_SEQ), &number)?;
            tx.put(keys::request(&request_id), armored.clone().into_bytes());
            let now = tx.now.timestamp();
            match action {
                SeatAction::Add => {
                    // Seed 003: a purchase after a scheduled reduction resets the next period to the purchased count.
                    for r in reductions_in(tx, &pool)? {
                        if !r.applied {
                            tx.del(keys::reduction(&pool, &r.request_id));
                            tx.user_event(Action::SeatReductionCancelled {
                                request_id: request_id.clone(),
                                reduction: r.request_id.clone(),
                                pool: pool.clone(),
                                count: r.count,
                                effective: r.effective,
                            });
                        }
                    }
                    tx.put_rec(
                        &keys::pending(&pool, &request_id),
                        &Pending {
                            request_id: request_id.clone(),
                            pool: pool.clone(),
                            count,
                            // Seats already pending come first: this purchase is
                            // granted by a licence with them and these.
                            base_total: licensed.saturating_add(
                                tx.scan(&keys::pendings(&pool))?
                                    .iter()
                                    .filter_map(|(_, v)| crate::model::decode::<Pending>(v, "pending").ok())
                                    .map(|p| p.count)
                                    .sum::<u32>(),
                            ),
                            requested_at: now,
                            expires_at: now + PENDING_DAYS * 86_400,
                            requested_by: tx.operator.clone(),
                        },
                    )?;
                    tx.user_event(Action::SeatsRequested {
                        request_id: request_id.clone(),
                        pool: pool.clone(),
                        count,
                        charged_now: breakdown.total.to_string(),
                        currency: lic.currency.clone(),
                        lapses: (tx.now + Duration::days(PENDING_DAYS)).date_naive(),
                        email_file: email_file.clone(),
                        email_to: lic.licensee.email.clone(),
                    });
                }
                SeatAction::Remove => {
                    let base = effective_total(licensed, &reductions_in(tx, &pool)?, effective);
                    tx.put_rec(
                        &keys::reduction(&pool, &request_id),
                        &Reduction {
                            request_id: request_id.clone(),
                            pool: pool.clone(),
                            count,
                            target: base.saturating_sub(count),
                            effective,
                            requested_at: now,
                            requested_by: tx.operator.clone(),
                            applied: false,
                        },
                    )?;
                    tx.user_event(Action::SeatReductionScheduled {
                        request_id: request_id.clone(),
                        pool: pool.clone(),
                        count,
                        from: base,
                        to: base.saturating_sub(count),
                        effective,
                        email_file: email_file.clone(),
                        email_to: lic.licensee.email.clone(),
                    });
                }
            }
        }
        Ok((today, RequestOutcome {
            request_id,
            pool: pool.label(),
            action,
            count,
            effective,
            breakdown,
            armored,
            email: Some(email_file),
            notes,
        }))
        });
        let (today, mut outcome) = outcome?;
        // Said to whoever asked, even through the service, which cannot print.
        outcome.notes.extend(self.installation_key_warning());
        // A reduction effective today (daily seats) applies at once.
        if action == SeatAction::Remove && outcome.effective <= today {
            self.tick()?;
        }
        Ok(outcome)
    }

    /// A licence request the site made, as signed.
    pub fn request_text(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .db
            .get(&keys::request(id))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }
}

/// The breakdown as a signed request carries it (at most 60 lines: the
/// format's size limit, and more than any contract has months).
pub(crate) fn request_costs(breakdown: &Breakdown) -> Vec<CostLine> {
    let mut lines: Vec<CostLine> = breakdown
        .lines
        .iter()
        .map(|l| CostLine {
            description: if l.in_total {
                l.description.clone()
            } else {
                format!("later: {}", l.description)
            },
            amount: Money::new(l.amount),
        })
        .collect();
    lines.truncate(60);
    lines
}

/// The administrator's note as a request carries it: one paragraph of
/// printable text, at most 1,000 characters (what the format validates).
pub(crate) fn request_note(note: &str) -> String {
    note.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(1000)
        .collect()
}

/// The breakdown's lines and total as a confirmation e-mail shows them.
pub(crate) fn breakdown_text(breakdown: &Breakdown, currency: &str) -> String {
    let mut body = String::new();
    for l in &breakdown.lines {
        body.push_str(&format!(
            "  {}{}  {}\r\n",
            if l.in_total { "" } else { "(later) " },
            l.description,
            costs::round(l.amount)
        ));
    }
    body.push_str(&format!(
        "  Total now: {} {}\r\n\r\n",
        breakdown.total, currency
    ));
    body
}

/// On import: purchases the new licence grants are fulfilled, reductions it reflects are done.
pub(crate) fn settle_on_import(tx: &mut Tx<'_>, new: &InForce) -> Result<()> {
    for (key, pool) in new.pools() {
        for (k, v) in tx.scan(&keys::pendings(&key))? {
            let p: Pending = crate::model::decode(&v, "pending")?;
            if pool.count >= p.base_total.saturating_add(p.count) {
                tx.del(k);
                tx.system_event(
                    Action::PurchaseFulfilled {
                        request_id: p.request_id.clone(),
                        pool: key.clone(),
                        count: p.count,
                        base_total: p.base_total,
                        granted: pool.count,
                        licence_id: new.licence.licence_id.clone(),
                        sequence: new.licence.sequence,
                    },
                    Some(tx.now.timestamp()),
                );
            }
        }
        for (k, v) in tx.scan(&keys::reductions(&key))? {
            let r: Reduction = crate::model::decode(&v, "reduction")?;
            if pool.count <= r.target {
                tx.del(k);
                tx.system_event(
                    Action::SeatReductionLicensed {
                        request_id: r.request_id.clone(),
                        pool: key.clone(),
                        granted: pool.count,
                        sequence: new.licence.sequence,
                    },
                    Some(tx.now.timestamp()),
                );
            }
        }
    }
    Ok(())
}

/// On tick: purchases that waited 30 days lapse; reductions that are due apply.
/// Returns what happened, for the tick report, and the pools whose seats fell.
pub(crate) fn tick_in(tx: &mut Tx<'_>) -> Result<(Vec<String>, Vec<PoolKey>)> {
    let now = tx.now.timestamp();
    let today = tx.now.date_naive();
    let mut notes = Vec::new();
    let mut shrunk = Vec::new();
    each_due(
        tx,
        keys::PENDING,
        "pending",
        &mut notes,
        |tx, k, p: Pending| {
            if now < p.expires_at {
                return Ok(None);
            }
            tx.del(k);
            Ok(Some(Action::PurchaseExpired {
                request_id: p.request_id,
                pool: p.pool,
                count: p.count,
                days: PENDING_DAYS,
            }))
        },
    )?;
    each_due(
        tx,
        keys::REDUCTIONS,
        "reduction",
        &mut notes,
        |tx, k, mut r: Reduction| {
            if r.applied || r.effective > today {
                return Ok(None);
            }
            r.applied = true;
            tx.put_rec(&k, &r)?;
            shrunk.push(r.pool.clone());
            Ok(Some(Action::SeatReductionApplied {
                request_id: r.request_id,
                pool: r.pool,
                count: r.count,
                effective: r.effective,
                target: r.target,
            }))
        },
    )?;
    Ok((notes, shrunk))
}

/// On tick, each record under `prefix` (a `what`) given to `due`, which
/// deletes or rewrites it when its time has come and returns the event that
/// says so: recorded as the system's, and said in `notes`. Seats' and
/// modules' purchases and reductions lapse and apply this one way.
pub(crate) fn each_due<T: serde::de::DeserializeOwned>(
    tx: &mut Tx<'_>,
    prefix: &[u8],
    what: &str,
    notes: &mut Vec<String>,
    mut due: impl FnMut(&mut Tx<'_>, Vec<u8>, T) -> Result<Option<Action>>,
) -> Result<()> {
    let now = tx.now.timestamp();
    for (k, v) in tx.scan(prefix)? {
        let rec: T = crate::model::decode(&v, what)?;
        if let Some(action) = due(tx, k, rec)? {
            notes.push(action.to_string());
            tx.system_event(action, Some(now));
        }
    }
    Ok(())
}
