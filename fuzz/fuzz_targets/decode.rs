//! The binary layers on arbitrary bytes: `Envelope::parse` (and
//! `to_bytes` of what it accepts), and `encoding::decode_document` for every
//! document kind, followed by what the reader does with a decoded document
//! (validation and the readable header).
#![no_main]

use libfuzzer_sys::fuzz_target;
use licfile::envelope::{Envelope, Versioned};
use licfile::{DocumentKind, encoding};

fuzz_target!(|data: &[u8]| {
    if let Ok(Versioned::V1(envelope)) = Envelope::parse(data) {
        // Accepted envelopes are the bytes as read: writing one back gives those bytes.
        assert_eq!(envelope.to_bytes(), data);
        let _ = envelope.signed_message();
        if let Ok(doc) = encoding::decode_document(envelope.kind, &envelope.payload) {
            let _ = doc.validate();
            let _ = doc.header();
        }
    }
    for kind in DocumentKind::ALL {
        if let Ok(doc) = encoding::decode_document(kind, data) {
            assert_eq!(doc.kind(), kind);
            let _ = doc.validate();
            let _ = doc.header();
        }
    }
});
