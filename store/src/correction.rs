//! Clock requests and the vendor's clock corrections, the store's side.
//!
//! `tessera request clock` signs the store's high-water mark and a fresh
//! nonce with the installation key; the vendor answers with its own time,
//! for that nonce and serial, valid 48 hours, signed by a root key;
//! importing the answer sets the mark to the vendor's time, once. The
//! decision is [`crate::rules::clock::decide`].

use licfile::{ClockRequest, Document, DocumentKind, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::{Code, Result, StoreError};
use crate::events::Action;
use crate::gate::Gate;
use crate::keys::{self, names};
use crate::rules::clock::{self as rule, OpenRequest};

/// What importing a clock correction did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockOutcome {
    /// The latest time seen before (seconds).
    pub from: i64,
    /// The vendor's time, the latest time seen now (seconds).
    pub to: i64,
    /// The request answered, its nonce in hex.
    pub request: String,
}

impl Store {
    /// Signs a clock request: the store's high-water mark and a new nonce,
    /// kept open until its answer is imported.
    pub(crate) fn request_clock_as(&self, g: &Gate) -> Result<String> {
        // Who may ask is decided before anything is read or signed (and again
        // inside the change).
        g.authorise(self)?;
        let inst = self.installation()?;
        let key = self.installation_key()?;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| {
            StoreError::Service(format!("no randomness for the request's nonce: {e}"))
        })?;
        self.write_as(g, |tx| {
            let high_water = self.db.high_water()?.max(tx.now.timestamp());
            let created_at = self.db.clock.now().timestamp();
            let request = ClockRequest {
                serial: inst.serial.clone(),
                installation_key: key.public().raw(),
                high_water: Timestamp(high_water),
                created_at: Timestamp(created_at),
                nonce,
            };
            let armored = licfile::signed::sign(&Document::ClockRequest(request), &key, None)
                .map_err(|e| StoreError::Rule(format!("cannot sign the clock request: {e}")))?;
            let open: Vec<OpenRequest> = tx
                .get_rec(&keys::meta(names::CLOCK_REQUESTS), "clock requests")?
                .unwrap_or_default();
            let open = rule::open_after(
                open,
                OpenRequest {
                    nonce,
                    created_at,
                    high_water,
                },
            );
            tx.put_rec(&keys::meta(names::CLOCK_REQUESTS), &open)?;
            tx.user_event(Action::ClockRequested {
                nonce: rule::nonce_hex(&nonce),
                high_water,
            });
            Ok(armored)
        })
    }

    /// Imports the vendor's clock correction: checked against the roots, the
    /// serial, the open requests and its 48 hours by the machine's clock;
    /// then the high-water mark is the vendor's time.
    pub(crate) fn import_clock_as(&self, g: &Gate, text: &str) -> Result<ClockOutcome> {
        // A caller who may not import is told so, not what is wrong with the file.
        g.authorise(self)?;
        let inst = self.installation()?;
        let roots = crate::licences::roots_for(inst.demo);
        let (doc, _signer) =
            licfile::verify::read_verified(text.as_bytes(), DocumentKind::ClockCorrection, &roots)
                .map_err(|e| {
                    StoreError::refused(
                        Code::ClockRefused,
                        format!("clock correction refused: {e}"),
                    )
                })?;
        let Document::ClockCorrection(c) = doc.document else {
            return Err(StoreError::refused(
                Code::ClockRefused,
                "this file is not a clock correction",
            ));
        };
        let facts = rule::Correction {
            serial: c.serial.clone(),
            nonce: c.nonce,
            time: c.time.0,
            valid_until: c.valid_until.0,
        };
        self.write_as(g, |tx| {
            let open: Vec<OpenRequest> = tx
                .get_rec(&keys::meta(names::CLOCK_REQUESTS), "clock requests")?
                .unwrap_or_default();
            let used: Vec<[u8; 16]> = tx
                .get_rec(&keys::meta(names::CLOCK_USED), "used clock requests")?
                .unwrap_or_default();
            let now = self.db.clock.now().timestamp();
            let (mark, left) = rule::decide(&facts, &inst.serial, &open, &used, now)?;
            let from = self.db.high_water()?;
            tx.put_rec(&keys::meta(names::CLOCK_REQUESTS), &left)?;
            tx.put_rec(
                &keys::meta(names::CLOCK_USED),
                &rule::used_after(used, c.nonce),
            )?;
            tx.reset_high_water(mark);
            let request = rule::nonce_hex(&c.nonce);
            tx.user_event(Action::ClockCorrected {
                from,
                to: mark,
                nonce: request.clone(),
            });
            Ok(ClockOutcome {
                from,
                to: mark,
                request,
            })
        })
    }
}
