//! Whole documents: armor + envelope + payload, read and written.
//!
//! Reading is parsing, not verifying: [`read`] serves `inspect` and checks only
//! that the file is well formed and its readable header agrees with the payload.
//! Trust is [`crate::verify`]'s business.

use ed25519_dalek::Signer as _;

use crate::armor;
use crate::document::{Document, DocumentKind, Endorsement};
use crate::encoding;
use crate::envelope::{Envelope, Versioned, signed_message};
use crate::error::{DecodeError, SignError};
use crate::keys::SecretKey;

/// A document as read from a file: its envelope bytes kept as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDocument {
    /// The readable header lines the file carried.
    pub headers: Vec<(&'static str, String)>,
    /// The envelope bytes, as read (after base64).
    pub raw: Vec<u8>,
    /// The parsed envelope.
    pub envelope: Envelope,
    /// The decoded payload.
    pub document: Document,
    /// For licences signed by an endorsed issuer: the endorsement they carry.
    pub endorsement: Option<CarriedEndorsement>,
}

/// An endorsement carried inside a licence's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedEndorsement {
    /// The endorsement's own envelope.
    pub envelope: Envelope,
    /// Its decoded content.
    pub endorsement: Endorsement,
}

/// What `inspect` can say about a file: a document, or a format it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspected {
    /// A version-1 document.
    Document(Box<SignedDocument>),
    /// A well-armored file of a format version this crate does not read.
    UnknownVersion {
        /// The kind the armor names.
        kind: DocumentKind,
        /// The envelope's version byte.
        version: u8,
    },
}

/// Reads a document of a known version; any other version is an error.
pub fn read(input: &[u8]) -> Result<SignedDocument, DecodeError> {
    match inspect(input)? {
        Inspected::Document(d) => Ok(*d),
        Inspected::UnknownVersion { version, .. } => Err(DecodeError::UnknownVersion(version)),
    }
}

/// Reads a document, or names the unknown version it is in.
pub fn inspect(input: &[u8]) -> Result<Inspected, DecodeError> {
    let inspected = inspect_structure(input)?;
    if let Inspected::Document(doc) = &inspected {
        check_content(doc)?;
    }
    Ok(inspected)
}

/// Reads a document's structure (armor, envelope, payload) without judging its
/// content: for checking the signature before saying what is wrong inside, so
/// that an altered file is reported as altered rather than as odd content.
pub fn read_structure(input: &[u8]) -> Result<SignedDocument, DecodeError> {
    match inspect_structure(input)? {
        Inspected::Document(d) => Ok(*d),
        Inspected::UnknownVersion { version, .. } => Err(DecodeError::UnknownVersion(version)),
    }
}

/// The content rules and the readable header, checked after the structure.
pub fn check_content(doc: &SignedDocument) -> Result<(), DecodeError> {
    doc.document
        .validate()
        .map_err(|source| DecodeError::Invalid {
            kind: doc.envelope.kind.describe(),
            source,
        })?;
    if let Some(c) = &doc.endorsement {
        c.endorsement.validate().map_err(|source| {
            DecodeError::Endorsement(Box::new(DecodeError::Invalid {
                kind: crate::document::DocumentKind::Endorsement.describe(),
                source,
            }))
        })?;
    }
    check_headers(&doc.headers, &doc.envelope, &doc.document)
}

fn inspect_structure(input: &[u8]) -> Result<Inspected, DecodeError> {
    let armored = armor::parse(input)?;
    let envelope = match Envelope::parse(&armored.body)? {
        Versioned::V1(e) => e,
        Versioned::Unknown { version } => {
            return Ok(Inspected::UnknownVersion {
                kind: armored.kind,
                version,
            });
        }
    };
    if envelope.kind != armored.kind {
        return Err(DecodeError::KindMismatch {
            label: armored.kind.describe(),
            inner: envelope.kind.describe(),
        });
    }
    let document = decode_payload(&envelope)?;
    let endorsement = match &envelope.endorsement {
        None => None,
        Some(bytes) => Some(
            read_endorsement_envelope(bytes).map_err(|e| DecodeError::Endorsement(Box::new(e)))?,
        ),
    };
    Ok(Inspected::Document(Box::new(SignedDocument {
        headers: armored.headers,
        raw: armored.body,
        envelope,
        document,
        endorsement,
    })))
}

fn decode_payload(envelope: &Envelope) -> Result<Document, DecodeError> {
    encoding::decode_document(envelope.kind, &envelope.payload)
}

fn read_endorsement_envelope(bytes: &[u8]) -> Result<CarriedEndorsement, DecodeError> {
    let envelope = Envelope::parse_v1(bytes)?;
    if envelope.kind != DocumentKind::Endorsement {
        return Err(DecodeError::KindMismatch {
            label: DocumentKind::Endorsement.describe(),
            inner: envelope.kind.describe(),
        });
    }
    match decode_payload(&envelope)? {
        Document::Endorsement(endorsement) => Ok(CarriedEndorsement {
            envelope,
            endorsement,
        }),
        // decode_payload returns the kind it was asked for.
        other => Err(DecodeError::KindMismatch {
            label: DocumentKind::Endorsement.describe(),
            inner: other.kind().describe(),
        }),
    }
}

/// Every header line present must agree with the signed content: a header is
/// for people reading the e-mail, and must never say something the payload does not.
fn check_headers(
    headers: &[(&'static str, String)],
    envelope: &Envelope,
    document: &Document,
) -> Result<(), DecodeError> {
    let mut expected = document.header();
    expected.push(("Key", envelope.key_id.to_string()));
    for (name, value) in headers {
        match expected.iter().find(|(n, _)| n == name) {
            Some((_, actual)) if actual == value => {}
            Some((_, actual)) => {
                return Err(DecodeError::HeaderMismatch {
                    name: name.to_string(),
                    header: value.clone(),
                    actual: actual.clone(),
                });
            }
            None => {
                return Err(DecodeError::HeaderMismatch {
                    name: name.to_string(),
                    header: value.clone(),
                    actual: format!("nothing: a {} has no {name}", document.kind().describe()),
                });
            }
        }
    }
    Ok(())
}

/// Signs a document and returns the armored text.
///
/// `endorsement` is the endorsement of `key` by a root, for licences signed by an
/// issuer key; it is carried in the file so that a verifier needs only the roots.
pub fn sign(
    document: &Document,
    key: &SecretKey,
    endorsement: Option<&SignedDocument>,
) -> Result<String, SignError> {
    let (_, raw) = sign_envelope(document, key, endorsement)?;
    let mut headers = document.header();
    headers.push(("Key", key.public().id().to_string()));
    let text = armor::write(document.kind(), &headers, &raw);
    // A payload and a carried endorsement, each within the payload limit, can
    // together exceed the file limit: never write a file that `read` refuses unread.
    if text.len() > crate::constants::MAX_FILE_BYTES {
        return Err(SignError::TooLarge {
            kind: document.kind().describe(),
            size: text.len(),
            max: crate::constants::MAX_FILE_BYTES,
        });
    }
    Ok(text)
}

/// Signs a document and returns its envelope and the envelope's bytes.
pub fn sign_envelope(
    document: &Document,
    key: &SecretKey,
    endorsement: Option<&SignedDocument>,
) -> Result<(Envelope, Vec<u8>), SignError> {
    let kind = document.kind();
    document.validate().map_err(|source| SignError::Invalid {
        kind: kind.describe(),
        source,
    })?;
    let endorsement = match endorsement {
        None => None,
        Some(e) => {
            if kind != DocumentKind::Licence {
                return Err(SignError::EndorsementOnNonLicence(kind.describe()));
            }
            let Document::Endorsement(content) = &e.document else {
                return Err(SignError::EndorsementOnNonLicence(
                    e.document.kind().describe(),
                ));
            };
            let endorsed = crate::keys::KeyId::of(&content.issuer_key.0);
            if endorsed != key.public().id() {
                return Err(SignError::EndorsementKeyMismatch {
                    endorsed,
                    signer: key.public().id(),
                });
            }
            Some(e.raw.clone())
        }
    };
    let payload = encoding::encode_document(document)?;
    let signature = key
        .signing()
        .sign(&signed_message(kind, &payload))
        .to_bytes();
    let envelope = Envelope {
        kind,
        key_id: key.public().id(),
        payload,
        endorsement,
        signature,
    };
    let raw = envelope.to_bytes();
    Ok((envelope, raw))
}
