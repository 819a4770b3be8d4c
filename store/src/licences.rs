//! Licences: verification against the store's trust, import, the licence in
//! force per issuer, and the pools they grant.

use std::sync::Arc;

use chrono::NaiveDate;
use licfile::{Document, Licence, LicenceState, Policy, Roots, Signer, Term, policy};

use crate::Store;
use crate::db::Tx;
use crate::error::{Result, StoreError};
use crate::events::Action;
use crate::keys::{self, names};
use crate::model::{PoolKey, StoredLicence};

/// A licence in force for one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    /// The issuer: empty for the vendor, else the endorsed issuer's name.
    pub issuer: String,
    /// The name to show for the issuer ("Tessera vendor root", "Acme Add-ons").
    pub issuer_label: String,
    /// The stored file.
    pub stored: StoredLicence,
    /// Its content.
    pub licence: Licence,
}

impl InForce {
    /// The pool key of each seat pool.
    pub fn pools(&self) -> impl Iterator<Item = (PoolKey, &licfile::SeatPool)> {
        self.licence.seat_pools.iter().map(|p| {
            (
                PoolKey {
                    issuer: self.issuer.clone(),
                    area: p.area.clone(),
                    licence: p.licence.clone(),
                    term: p.term,
                },
                p,
            )
        })
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImportOutcome {
    /// The licence is now in force.
    Imported {
        /// Issuer name ("" for the vendor).
        issuer: String,
        /// Its sequence.
        sequence: u64,
        /// The sequence it replaced, if any.
        replaced: Option<u64>,
    },
    /// The same file was already imported: nothing changed.
    AlreadyImported {
        /// Its sequence.
        sequence: u64,
    },
}

/// A licence file's text: a licence is armored text, and bytes that are not
/// UTF-8 are refused here rather than garbled on the way to the gate.
pub fn licence_text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        StoreError::LicenceRefused(
            "the file is not text; a licence file starts with -----BEGIN TESSERA LICENCE-----"
                .into(),
        )
    })
}

/// A licence that passed verification, ready to import.
pub(crate) struct Verified {
    pub issuer: String,
    pub issuer_label: String,
    pub key_id: String,
    pub licence: Licence,
    pub armored: String,
    pub state: LicenceState,
}

/// The roots a store trusts: the production roots, and the demo root for demo stores only.
pub fn roots_for(demo: bool) -> Roots {
    let mut roots = crate::trust::production_roots();
    if demo && let Ok(key) = crate::trust::demo_root() {
        roots.add(crate::trust::DEMO_ROOT_NAME, key);
    }
    roots
}

/// Verifies a licence file for an installation (serial given) or for a new one.
pub(crate) fn verify(
    bytes: &[u8],
    roots: &Roots,
    serial: Option<&str>,
    date: NaiveDate,
) -> Result<Verified> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        StoreError::LicenceRefused(
            "the file is not text; a licence file starts with -----BEGIN TESSERA LICENCE-----"
                .into(),
        )
    })?;
    let verdict = policy::check(
        bytes,
        &Policy {
            roots,
            serial,
            date,
            expected: Some(licfile::DocumentKind::Licence),
        },
    );
    if let Some(f) = verdict.first_failure() {
        return Err(StoreError::LicenceRefused(format!(
            "{}: {}",
            f.name, f.detail
        )));
    }
    let (Some(doc), Some(signer), Some(state)) = (verdict.document, verdict.signer, verdict.state)
    else {
        return Err(StoreError::LicenceRefused(
            "the licence could not be read".into(),
        ));
    };
    let Document::Licence(licence) = doc.document else {
        return Err(StoreError::LicenceRefused("this is not a licence".into()));
    };
    // A rule of the vendor's plans, not of the signature: a licence that
    // breaks it never comes into force, whoever signed it.
    crate::rules::import::daily_seats_allowed(&licence)?;
    let (issuer, issuer_label) = match &signer {
        Signer::Root { name, .. } => (String::new(), name.clone()),
        Signer::Issuer { issuer, .. } => (issuer.clone(), issuer.clone()),
        Signer::Installation { .. } => {
            return Err(StoreError::LicenceRefused(
                "a licence is signed by a vendor, not an installation".into(),
            ));
        }
    };
    Ok(Verified {
        issuer,
        issuer_label,
        key_id: signer.key_id().to_string(),
        licence,
        armored: text.to_string(),
        state,
    })
}

/// Loads every licence in force from the store.
pub(crate) fn load_in_force(tree: &sled::Db, demo: bool) -> Result<Vec<InForce>> {
    let roots = roots_for(demo);
    let mut out = Vec::new();
    for kv in tree.scan_prefix(keys::IN_FORCE) {
        let (_, id) = kv?;
        let id: u64 = crate::model::decode(&id, "in-force pointer")?;
        let stored: StoredLicence = match tree.get(keys::licence(id))? {
            Some(v) => crate::model::decode(&v, "stored licence")?,
            None => {
                return Err(StoreError::Corrupt(format!(
                    "licence {id} is in force but missing"
                )));
            }
        };
        // Verified at import; read again (not re-verified against the date) to get its content.
        let doc = licfile::signed::read(stored.armored.as_bytes())
            .map_err(|e| StoreError::Corrupt(format!("stored licence {id}: {e}")))?;
        let Document::Licence(licence) = doc.document else {
            return Err(StoreError::Corrupt(format!(
                "stored licence {id} is not a licence"
            )));
        };
        let issuer_label = if stored.issuer.is_empty() {
            let id = doc.envelope.key_id;
            roots
                .find(id)
                .map(|r| r.name.clone())
                .unwrap_or_else(|| "vendor".into())
        } else {
            stored.issuer.clone()
        };
        out.push(InForce {
            issuer: stored.issuer.clone(),
            issuer_label,
            stored,
            licence,
        });
    }
    // The vendor first, then other issuers by name.
    out.sort_by(|a, b| (!a.issuer.is_empty(), &a.issuer).cmp(&(!b.issuer.is_empty(), &b.issuer)));
    Ok(out)
}

impl Store {
    /// The licences in force, the vendor's first.
    pub fn in_force(&self) -> Arc<Vec<InForce>> {
        match self.in_force.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    pub(crate) fn reload_in_force(&self) -> Result<()> {
        let demo = self.installation()?.demo;
        let fresh = Arc::new(load_in_force(&*self.db.tree()?, demo)?);
        match self.in_force.write() {
            Ok(mut g) => *g = fresh,
            Err(p) => *p.into_inner() = fresh,
        }
        Ok(())
    }

    /// The vendor's licence in force.
    pub fn vendor_licence(&self) -> Option<InForce> {
        self.in_force()
            .iter()
            .find(|l| l.issuer.is_empty())
            .cloned()
    }

    /// Where the vendor's licence stands today (by the effective clock).
    pub fn licence_state(&self) -> Result<Option<LicenceState>> {
        let today = self.today()?;
        Ok(self
            .vendor_licence()
            .map(|l| licfile::policy::licence_state(&l.licence, today)))
    }

    /// Imports a licence file (Owner/manager or Financial office staff).
    ///
    /// The signature is checked first, on the bytes alone; the sequence is
    /// decided inside the change that imports, against the licence in force
    /// as that change sees it, so that of two imports at once the older can
    /// never end up in force.
    pub(crate) fn import_as(&self, g: &crate::gate::Gate, bytes: &[u8]) -> Result<ImportOutcome> {
        // A caller who may not import is told so, not what is wrong with the file.
        g.authorise(self)?;
        let inst = self.installation()?;
        let v = verify(
            bytes,
            &roots_for(inst.demo),
            Some(&inst.serial),
            self.today()?,
        )?;
        if inst.demo != (v.issuer_label == crate::trust::DEMO_ROOT_NAME) && v.issuer.is_empty() {
            return Err(StoreError::LicenceRefused(if inst.demo {
                "this is a DEMO store; a production licence goes into a real store of its own"
                    .into()
            } else {
                "a demo licence cannot be imported into a real store".into()
            }));
        }
        let operator = g.login().to_string();
        // The licences in force are reloaded before the writer lock is let
        // go: the next change plans on them.
        self.write_as_then(
            g,
            |tx| {
                let current = self.in_force();
                let in_force = current.iter().find(|l| l.issuer == v.issuer);
                // The cache is kept under the writer lock; the pointer is what
                // the transaction reads, and the two must agree.
                let pointer: Option<u64> =
                    tx.get_rec(&keys::in_force(&v.issuer), "in-force pointer")?;
                if pointer != in_force.map(|l| l.stored.id) {
                    return Err(StoreError::Corrupt(
                        "the licences in force changed under the import".into(),
                    ));
                }
                let decision = crate::rules::import::decide(
                    v.licence.sequence,
                    in_force.map(|l| (l.licence.sequence, l.licence == v.licence)),
                )?;
                if let crate::rules::import::Decision::AlreadyImported { sequence } = decision {
                    return Ok(ImportOutcome::AlreadyImported { sequence });
                }
                let email = import_email(&operator, &v);
                let tag = format!("import-{}-{}", v.licence.serial, v.licence.sequence);
                tx.queue_email(&email, &tag);
                import_in(tx, &v, &current)?;
                Ok(ImportOutcome::Imported {
                    issuer: v.issuer.clone(),
                    sequence: v.licence.sequence,
                    replaced: in_force.map(|l| l.licence.sequence),
                })
            },
            |_| self.reload_in_force(),
        )
    }
}

/// The confirmation e-mail of an import.
fn import_email(operator: &str, v: &Verified) -> crate::outbox::Email {
    crate::outbox::Email::new(
        &v.licence.licensee.email,
        &format!(
            "Licence {} sequence {} imported",
            v.licence.licence_id, v.licence.sequence
        ),
        &format!(
            "{operator} imported licence {} (sequence {}) for {} (serial {}) on the {} plan.\r\nContract {} to {}; {}.\r\n\r\nSeats:\r\n{}",
            v.licence.licence_id,
            v.licence.sequence,
            v.licence.licensee.company,
            v.licence.serial,
            v.licence.plan.name,
            v.licence.contract.start,
            v.licence.contract.end,
            match v.licence.expiry {
                Some(e) => format!("expires {}", e.date),
                None => "not time-limited".into(),
            },
            v.licence
                .seat_pools
                .iter()
                .map(|p| format!(
                    "  {} ({}): {}\r\n",
                    crate::model::licence_label(&p.area, &p.licence),
                    p.term,
                    p.count
                ))
                .collect::<String>()
        ),
    )
}

/// Writes a verified licence and makes it the one in force for its issuer.
pub(crate) fn import_in(tx: &mut Tx<'_>, v: &Verified, current: &[InForce]) -> Result<()> {
    let id = tx.counter(&keys::meta(names::LICENCE_SEQ))? + 1;
    tx.put_rec(&keys::meta(names::LICENCE_SEQ), &id)?;
    let stored = StoredLicence {
        id,
        issuer: v.issuer.clone(),
        key_id: v.key_id.clone(),
        sequence: v.licence.sequence,
        licence_id: v.licence.licence_id.clone(),
        imported_at: tx.now.timestamp(),
        imported_by: tx.operator.clone(),
        armored: v.armored.clone(),
    };
    tx.put_rec(&keys::licence(id), &stored)?;
    tx.put_rec(&keys::in_force(&v.issuer), &id)?;

    let new = InForce {
        issuer: v.issuer.clone(),
        issuer_label: v.issuer_label.clone(),
        stored,
        licence: v.licence.clone(),
    };
    let old = current.iter().find(|l| l.issuer == v.issuer);
    let counts = |l: &InForce| l.pools().map(|(k, p)| (k, p.count)).collect::<Vec<_>>();
    let changes =
        crate::rules::import::pool_changes(&old.map(counts).unwrap_or_default(), &counts(&new));
    tx.user_event(Action::LicenceImported {
        licence_id: v.licence.licence_id.clone(),
        sequence: v.licence.sequence,
        issuer: v.issuer.clone(),
        company: v.licence.licensee.company.clone(),
        plan: v.licence.plan.name.clone(),
        expiry: v.licence.expiry.map(|e| (e.date, e.grace_days)),
        changes,
    });
    if let LicenceState::Expiring { expires, days_left } = v.state {
        tx.system_event(
            Action::LicenceExpiring {
                licence_id: None,
                expires,
                days_left,
            },
            None,
        );
    }
    // Seat counts may have shrunk or grown: over-allocation follows.
    // The pools of the old and the new licence are every pool whose holders
    // this import can affect.
    let mut pools: Vec<PoolKey> = new.pools().map(|(k, _)| k).collect();
    if let Some(o) = old {
        pools.extend(o.pools().map(|(k, _)| k));
    }
    crate::purchases::settle_on_import(tx, &new)?;
    crate::modules::settle_on_import(tx, &new)?;
    let mut all: Vec<InForce> = current
        .iter()
        .filter(|l| l.issuer != v.issuer)
        .cloned()
        .collect();
    all.push(new);
    let mut seen = std::collections::BTreeSet::new();
    for key in pools {
        if seen.insert(keys::pool(&key)) {
            crate::users::reconcile(tx, &key, &all)?;
        }
    }
    // The month's storage allowance as this import leaves it, for the
    // charts of storage against the allowance over time.
    let allowance: u64 = all
        .iter()
        .flat_map(|l| l.licence.seat_pools.iter())
        .filter(|p| p.term != Term::Daily)
        .map(|p| u64::from(p.count) * u64::from(p.storage_gb_per_seat))
        .sum();
    tx.put_rec(
        &keys::storage_allowance(licfile::YearMonth::of(tx.now.date_naive())),
        &allowance,
    )?;
    Ok(())
}

/// The seat total of a pool under these licences (0 when no licence grants it).
pub(crate) fn pool_total(licences: &[InForce], key: &PoolKey) -> u32 {
    licences
        .iter()
        .filter(|l| l.issuer == key.issuer)
        .flat_map(|l| l.pools())
        .find(|(k, _)| crate::users::same_pool(k, key))
        .map(|(_, p)| p.count)
        .unwrap_or(0)
}

/// The over-allocation grace of a pool's issuer (seed 003: seven days by default).
pub(crate) fn grace_days(licences: &[InForce], key: &PoolKey) -> u32 {
    licences
        .iter()
        .find(|l| l.issuer == key.issuer)
        .map(|l| l.licence.overage_grace_days)
        .unwrap_or(7)
}

/// Finds the pool an administrator means by a licence name and term.
pub(crate) fn resolve_pool(
    licences: &[InForce],
    name: &str,
    term: Option<Term>,
) -> Result<PoolKey> {
    let norm = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == '/' || c == ':')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let wanted = norm(name);
    let all: Vec<PoolKey> = licences
        .iter()
        .flat_map(|l| l.pools().map(|(k, _)| k))
        .collect();
    let matches_name = |k: &PoolKey| {
        let lic = norm(&k.licence);
        let full = norm(&format!("{} {}", k.area, k.licence));
        let with_issuer = norm(&format!("{} {} {}", k.issuer, k.area, k.licence));
        wanted == lic || wanted == full || (!k.issuer.is_empty() && wanted == with_issuer)
    };
    let mut named: Vec<&PoolKey> = all.iter().filter(|k| matches_name(k)).collect();
    if named.is_empty() {
        let mut known: Vec<String> = all.iter().map(|k| k.licence_label()).collect();
        known.dedup();
        return Err(StoreError::UnknownLicence {
            name: name.into(),
            known: known.join(", "),
        });
    }
    // One licence (area + name + issuer), possibly several terms.
    let mut licences_named: Vec<(String, String, String)> = named
        .iter()
        .map(|k| (k.issuer.clone(), k.area.clone(), k.licence.clone()))
        .collect();
    licences_named.sort();
    licences_named.dedup();
    if licences_named.len() > 1 {
        return Err(StoreError::AmbiguousLicence {
            name: name.into(),
            candidates: licences_named
                .iter()
                .map(|(i, a, l)| {
                    if i.is_empty() {
                        format!("{a} {l}")
                    } else {
                        format!("{i}: {a} {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let offered: Vec<Term> = named.iter().map(|k| k.term).collect();
    match term {
        Some(t) => {
            named.retain(|k| k.term == t);
            named
                .first()
                .map(|k| (*k).clone())
                .ok_or_else(|| StoreError::TermNotOffered {
                    licence: crate::model::licence_label(
                        &licences_named[0].1,
                        &licences_named[0].2,
                    ),
                    term: t.to_string(),
                    offered: format!(
                        "; offered: {}",
                        offered
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        }
        None if named.len() == 1 => Ok(named[0].clone()),
        None => Err(StoreError::refused(
            crate::error::Code::AmbiguousLicence,
            format!(
                "{} {} is offered on several terms ({}); name the term",
                licences_named[0].1,
                licences_named[0].2,
                offered
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
