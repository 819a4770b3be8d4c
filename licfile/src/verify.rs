//! Signature verification: who signed a document, and whether that key is trusted.
//!
//! The key id is checked before the signature, so that "signed by a key you do
//! not trust" is never reported as "damaged". Signatures are checked with
//! `verify_strict` over the payload bytes as read.

use ed25519_dalek::Signature;

use crate::document::{Document, DocumentKind, Endorsement};
use crate::envelope::Envelope;
use crate::error::{DecodeError, VerifyError};
use crate::keys::{KeyId, PublicKey};
use crate::signed::SignedDocument;

/// A root key a verifier trusts, with a name for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    /// Shown as the issuer of licences it signs, e.g. "Tessera vendor root".
    pub name: String,
    /// The key.
    pub key: PublicKey,
}

/// The set of root keys a verifier trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots(Vec<TrustedRoot>);

impl Roots {
    /// No roots.
    pub fn new() -> Self {
        Roots(Vec::new())
    }

    /// Adds a root.
    pub fn add(&mut self, name: impl Into<String>, key: PublicKey) {
        if self.find(key.id()).is_none() {
            self.0.push(TrustedRoot {
                name: name.into(),
                key,
            });
        }
    }

    /// The root with this key id.
    pub fn find(&self, id: KeyId) -> Option<&TrustedRoot> {
        self.0.iter().find(|r| r.key.id() == id)
    }

    /// Every root.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedRoot> {
        self.0.iter()
    }

    /// Whether no root is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Who signed a document whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A trusted root key.
    Root {
        /// The root's name.
        name: String,
        /// Its key id.
        key_id: KeyId,
    },
    /// An issuer key endorsed by a trusted root.
    Issuer {
        /// The endorsement's issuer name.
        issuer: String,
        /// The issuer key's id.
        key_id: KeyId,
        /// The endorsing root's name.
        root: String,
        /// The endorsing root's key id.
        root_key_id: KeyId,
        /// The endorsement.
        endorsement: Endorsement,
    },
    /// An installation key carried in the document itself (requests, reports,
    /// clock requests and leases): the signature shows the document is intact
    /// and from whoever holds that key; whether that is the right installation
    /// is the vendor's registry's question, or for a lease the trusted
    /// installation key's ([`crate::lease::verify`]).
    Installation {
        /// The installation key's id.
        key_id: KeyId,
    },
}

impl Signer {
    /// The signing key's id.
    pub fn key_id(&self) -> KeyId {
        match self {
            Signer::Root { key_id, .. }
            | Signer::Issuer { key_id, .. }
            | Signer::Installation { key_id } => *key_id,
        }
    }

    /// A name for people: the root's or issuer's name, or "installation".
    pub fn name(&self) -> &str {
        match self {
            Signer::Root { name, .. } => name,
            Signer::Issuer { issuer, .. } => issuer,
            Signer::Installation { .. } => "installation",
        }
    }
}

/// Whether `envelope`'s signature verifies, strictly, under `key`.
pub(crate) fn check(envelope: &Envelope, key: &PublicKey) -> Result<(), ()> {
    let signature = Signature::from_bytes(&envelope.signature);
    key.verifying()
        .verify_strict(&envelope.signed_message(), &signature)
        .map_err(|_| ())
}

/// The trusted root that signed `envelope`; `unknown` is the error when its key is no root.
fn root_signer(
    envelope: &Envelope,
    roots: &Roots,
    unknown: impl FnOnce() -> VerifyError,
) -> Result<Signer, VerifyError> {
    let root = roots.find(envelope.key_id).ok_or_else(unknown)?;
    check(envelope, &root.key).map_err(|_| VerifyError::BadSignature(envelope.key_id))?;
    Ok(Signer::Root {
        name: root.name.clone(),
        key_id: envelope.key_id,
    })
}

/// Verifies a document's signature against the roots (licences, endorsements,
/// clock corrections) or against the installation key it carries (requests,
/// reports, clock requests, leases).
///
/// For a lease that shows only that it is intact: who may issue one is the
/// installation the product trusts, which [`crate::lease::verify`] checks.
///
/// A clock correction is verified against the roots alone: an endorsement
/// lets an issuer sign licences for its products, and carrying one never lets
/// a key set a site's clock.
pub fn verify_signature(doc: &SignedDocument, roots: &Roots) -> Result<Signer, VerifyError> {
    let envelope = &doc.envelope;
    let installation_key = match &doc.document {
        Document::Request(r) => Some(r.installation_key),
        Document::UsageReport(r) => Some(r.installation_key),
        Document::ClockRequest(r) => Some(r.installation_key),
        Document::Lease(l) => Some(l.installation_key),
        Document::Licence(_) | Document::Endorsement(_) | Document::ClockCorrection(_) => None,
    };
    if let Some(raw) = installation_key {
        let inner = KeyId::of(&raw.0);
        if inner != envelope.key_id {
            return Err(VerifyError::InstallationKeyMismatch {
                envelope: envelope.key_id,
                inner,
            });
        }
        let key = PublicKey::from_raw(&raw.0).map_err(|_| VerifyError::WeakKey(inner))?;
        check(envelope, &key).map_err(|_| VerifyError::BadSignature(inner))?;
        return Ok(Signer::Installation { key_id: inner });
    }
    match &doc.document {
        Document::ClockCorrection(_) => {
            // Parsing refuses such an envelope already; a SignedDocument is
            // plain data, so this does not rely on having been made by parsing.
            if doc.endorsement.is_some() || envelope.endorsement.is_some() {
                return Err(DecodeError::EndorsedClockCorrection.into());
            }
            root_signer(envelope, roots, || VerifyError::NotRoot {
                kind: DocumentKind::ClockCorrection.describe(),
                key: envelope.key_id,
            })
        }
        Document::Licence(_) => match &doc.endorsement {
            None => root_signer(envelope, roots, || VerifyError::UnknownKey(envelope.key_id)),
            Some(carried) => {
                let root_id = carried.envelope.key_id;
                let root = roots
                    .find(root_id)
                    .ok_or(VerifyError::EndorsementUnknownRoot(root_id))?;
                check(&carried.envelope, &root.key)
                    .map_err(|_| VerifyError::EndorsementBadSignature(root_id))?;
                let endorsed = KeyId::of(&carried.endorsement.issuer_key.0);
                if endorsed != envelope.key_id {
                    return Err(VerifyError::EndorsementKeyMismatch {
                        endorsed,
                        signer: envelope.key_id,
                    });
                }
                let issuer_key = PublicKey::from_raw(&carried.endorsement.issuer_key.0)
                    .map_err(|_| VerifyError::WeakKey(endorsed))?;
                check(envelope, &issuer_key)
                    .map_err(|_| VerifyError::BadSignature(envelope.key_id))?;
                Ok(Signer::Issuer {
                    issuer: carried.endorsement.issuer.clone(),
                    key_id: envelope.key_id,
                    root: root.name.clone(),
                    root_key_id: root_id,
                    endorsement: carried.endorsement.clone(),
                })
            }
        },
        // Requests, reports, clock requests and leases returned above with
        // their installation key.
        Document::Endorsement(_)
        | Document::Request(_)
        | Document::UsageReport(_)
        | Document::ClockRequest(_)
        | Document::Lease(_) => {
            root_signer(envelope, roots, || VerifyError::UnknownKey(envelope.key_id))
        }
    }
}

/// Reads and verifies a document that must be of `expected` kind.
pub fn read_verified(
    input: &[u8],
    expected: DocumentKind,
    roots: &Roots,
) -> Result<(SignedDocument, Signer), VerifyError> {
    // The signature is checked before the content, so that an altered file is
    // reported as altered, not as a strange serial or a header that disagrees.
    let doc = crate::signed::read_structure(input)?;
    if !expected.accepts(doc.envelope.kind) {
        return Err(VerifyError::WrongKind {
            expected: expected.describe(),
            found: doc.envelope.kind.describe(),
        });
    }
    let signer = verify_signature(&doc, roots)?;
    crate::signed::check_content(&doc)?;
    Ok((doc, signer))
}
