//! The payload encoding: bincode 2.0.1 in one fixed configuration.
//!
//! Big-endian fixed-width integers, a decode limit, and no trailing bytes. The
//! configuration is part of the format: changing it changes every signature.

use bincode::config::{BigEndian, Configuration, Fixint, Limit};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::constants::MAX_PAYLOAD_BYTES;
use crate::document::{
    Document, DocumentKind, LicenceRequest, ModuleChange, ReportChain, UsageReport,
};
use crate::error::{DecodeError, SignError};

/// The one bincode configuration of format version 1.
pub fn config() -> Configuration<BigEndian, Fixint, Limit<MAX_PAYLOAD_BYTES>> {
    bincode::config::standard()
        .with_big_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_PAYLOAD_BYTES>()
}

/// Encodes a payload; refuses one larger than the decode limit.
pub fn encode<T: Serialize>(value: &T, kind: DocumentKind) -> Result<Vec<u8>, SignError> {
    let bytes = bincode::serde::encode_to_vec(value, config()).map_err(|e| SignError::Encode {
        kind: kind.describe(),
        detail: e.to_string(),
    })?;
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(SignError::TooLarge {
            kind: kind.describe(),
            size: bytes.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(bytes)
}

/// Decodes a payload, refusing trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], kind: DocumentKind) -> Result<T, DecodeError> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| DecodeError::Payload {
            kind: kind.describe(),
            detail: e.to_string(),
        })?;
    if used != bytes.len() {
        return Err(DecodeError::TrailingPayloadBytes {
            kind: kind.describe(),
            extra: bytes.len() - used,
        });
    }
    Ok(value)
}

/// Encodes any document's payload.
pub fn encode_document(doc: &Document) -> Result<Vec<u8>, SignError> {
    match doc {
        Document::Licence(d) => encode(d, doc.kind()),
        // Format 2: format 1's fields, then the add-on and integration changes.
        Document::Request(d) => match &d.modules {
            Some(modules) => encode(&(d, modules), doc.kind()),
            None => encode(d, doc.kind()),
        },
        // Format 2: format 1's fields, then the chain.
        Document::UsageReport(d) => match &d.chain {
            Some(chain) => encode(&(d, chain), doc.kind()),
            None => encode(d, doc.kind()),
        },
        Document::Endorsement(d) => encode(d, doc.kind()),
        Document::ClockRequest(d) => encode(d, doc.kind()),
        Document::ClockCorrection(d) => encode(d, doc.kind()),
        Document::Lease(d) => encode(d, doc.kind()),
    }
}

/// Decodes the payload of a document of the given kind.
pub fn decode_document(kind: DocumentKind, bytes: &[u8]) -> Result<Document, DecodeError> {
    Ok(match kind {
        DocumentKind::Licence => Document::Licence(decode(bytes, kind)?),
        DocumentKind::Request => Document::Request(decode(bytes, kind)?),
        DocumentKind::Request2 => {
            let (mut request, modules): (LicenceRequest, Vec<ModuleChange>) = decode(bytes, kind)?;
            request.modules = Some(modules);
            Document::Request(request)
        }
        DocumentKind::UsageReport => Document::UsageReport(decode(bytes, kind)?),
        DocumentKind::UsageReport2 => {
            let (mut report, chain): (UsageReport, ReportChain) = decode(bytes, kind)?;
            report.chain = Some(chain);
            Document::UsageReport(report)
        }
        DocumentKind::Endorsement => Document::Endorsement(decode(bytes, kind)?),
        DocumentKind::ClockRequest => Document::ClockRequest(decode(bytes, kind)?),
        DocumentKind::ClockCorrection => Document::ClockCorrection(decode(bytes, kind)?),
        DocumentKind::Lease => Document::Lease(decode(bytes, kind)?),
    })
}
