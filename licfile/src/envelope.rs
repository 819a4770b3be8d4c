//! The binary envelope inside the armor.
//!
//! ```text
//! magic "TSRA" | version u8 | kind u8 | key id [8] |
//! payload length u32 BE | payload | endorsement length u32 BE | endorsement | signature [64]
//! ```
//!
//! The endorsement, when present, is a complete endorsement envelope. The
//! signature covers `context || 0x00 || payload` exactly as read.

use crate::constants::{FORMAT_VERSION, KEY_ID_LEN, MAGIC, MAX_FILE_BYTES, SIGNATURE_LEN};
use crate::document::DocumentKind;
use crate::error::DecodeError;
use crate::keys::KeyId;

/// A parsed version-1 envelope. Its byte slices are the bytes as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Which document the payload holds.
    pub kind: DocumentKind,
    /// The signing key's id.
    pub key_id: KeyId,
    /// The bincode payload, as read.
    pub payload: Vec<u8>,
    /// A complete endorsement envelope, for licences signed by an endorsed issuer.
    pub endorsement: Option<Vec<u8>>,
    /// The ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// An envelope of a version this crate knows, or the version it does not know.
///
/// Kept apart so that an old binary names a newer file's version instead of
/// failing on whatever the new layout happens to put after the version byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned {
    /// Format version 1.
    V1(Envelope),
    /// Another version: nothing after the version byte is interpreted.
    Unknown {
        /// The version byte.
        version: u8,
    },
}

/// A cursor that turns running out of bytes into a named error.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
}

impl Envelope {
    /// Parses envelope bytes (after base64). Does not decode the payload or check anything signed.
    pub fn parse(bytes: &[u8]) -> Result<Versioned, DecodeError> {
        let mut r = Reader { bytes };
        if r.take(MAGIC.len(), "no magic bytes")? != MAGIC {
            return Err(DecodeError::BadMagic);
        }
        let version = r.u8("no format version")?;
        if version != FORMAT_VERSION {
            return Ok(Versioned::Unknown { version });
        }
        let kind_byte = r.u8("no document kind")?;
        let kind = DocumentKind::from_byte(kind_byte).ok_or(DecodeError::UnknownKind(kind_byte))?;
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(r.take(KEY_ID_LEN, "no key id")?);
        let payload_len = r.u32("no payload length")?;
        if payload_len > MAX_FILE_BYTES {
            return Err(DecodeError::PayloadTooLarge(payload_len));
        }
        let payload = r.take(payload_len, "the payload is shorter than its length says")?;
        let endorsement_len = r.u32("no endorsement length")?;
        let endorsement = if endorsement_len == 0 {
            None
        } else {
            match kind {
                DocumentKind::Licence => {}
                DocumentKind::ClockCorrection => return Err(DecodeError::EndorsedClockCorrection),
                _ => return Err(DecodeError::UnexpectedEndorsement(kind.describe())),
            }
            Some(
                r.take(
                    endorsement_len,
                    "the endorsement is shorter than its length says",
                )?
                .to_vec(),
            )
        };
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(r.take(SIGNATURE_LEN, "the signature is missing or short")?);
        if !r.bytes.is_empty() {
            return Err(DecodeError::TrailingEnvelopeBytes(r.bytes.len()));
        }
        Ok(Versioned::V1(Envelope {
            kind,
            key_id: KeyId(key_id),
            payload: payload.to_vec(),
            endorsement,
            signature,
        }))
    }

    /// Parses a version-1 envelope, turning any other version into an error.
    pub fn parse_v1(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        match Self::parse(bytes)? {
            Versioned::V1(e) => Ok(e),
            Versioned::Unknown { version } => Err(DecodeError::UnknownVersion(version)),
        }
    }

    /// The envelope's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let endorsement = self.endorsement.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(
            MAGIC.len()
                + 2
                + KEY_ID_LEN
                + 8
                + self.payload.len()
                + endorsement.len()
                + SIGNATURE_LEN,
        );
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT_VERSION);
        out.push(self.kind.byte());
        out.extend_from_slice(&self.key_id.0);
        // Lengths fit: payloads and endorsements are bounded far below 4 GiB before this is called.
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&(endorsement.len() as u32).to_be_bytes());
        out.extend_from_slice(endorsement);
        out.extend_from_slice(&self.signature);
        out
    }

    /// The message the signature covers: `context || 0x00 || payload`.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(self.kind, &self.payload)
    }
}

/// `context || 0x00 || payload`: what is signed for a document of this kind.
pub fn signed_message(kind: DocumentKind, payload: &[u8]) -> Vec<u8> {
    let context = kind.context().as_bytes();
    let mut m = Vec::with_capacity(context.len() + 1 + payload.len());
    m.extend_from_slice(context);
    m.push(crate::constants::CONTEXT_SEPARATOR);
    m.extend_from_slice(payload);
    m
}
