//! Errors, one enum per operation. Every message says what is wrong and, where
//! it can, what to do.

use crate::keys::KeyId;
use crate::validate::ValidationError;
use crate::values::Timestamp;

/// Reading the text armor around a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArmorError {
    /// The input is larger than any document.
    #[error(
        "the file is {size} bytes; a Tessera document is never larger than {max} bytes, so it was not read"
    )]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The input is not text.
    #[error(
        "the file is not text (it is not valid UTF-8); a Tessera document is a text file starting with -----BEGIN TESSERA"
    )]
    NotText,
    /// No `-----BEGIN TESSERA …-----` line was found.
    #[error("no -----BEGIN TESSERA …----- line found; this is not a Tessera document")]
    NoBegin,
    /// The BEGIN line names something that is not a Tessera document.
    #[error("unknown document type {0:?} on the BEGIN line")]
    UnknownLabel(String),
    /// The matching END line is missing: the file was cut short.
    #[error("no -----END {0}----- line: the file is truncated or was cut when copied")]
    NoEnd(&'static str),
    /// A header line is not `Name: value`.
    #[error("header line {line} is not of the form \"Name: value\": {text:?}")]
    BadHeaderLine {
        /// Line number in the file, from 1.
        line: usize,
        /// The line.
        text: String,
    },
    /// A header name this format does not define.
    #[error(
        "unknown header {0:?}; only Serial, Licensee, Expires, Month, Issuer, Until, High-water, Time, Valid until, User, Not after and Key may stand above the base64"
    )]
    UnknownHeader(String),
    /// The same header twice.
    #[error("header {0:?} appears twice")]
    DuplicateHeader(String),
    /// The base64 body holds something that is not base64.
    #[error(
        "line {line} inside the armor is not base64: {text:?} (the file was altered or damaged)"
    )]
    BadBase64Line {
        /// Line number in the file, from 1.
        line: usize,
        /// The line, cut to 60 characters.
        text: String,
    },
    /// The base64 is not well formed as a whole (length or padding).
    #[error("the base64 inside the armor is damaged ({0}); the file was truncated or altered")]
    BadBase64(String),
    /// Nothing between BEGIN and END.
    #[error("the armor is empty: nothing between BEGIN and END")]
    Empty,
}

/// Decoding the binary envelope and its payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Armor problem.
    #[error(transparent)]
    Armor(#[from] ArmorError),
    /// The envelope does not start with the magic bytes.
    #[error(
        "not a Tessera envelope (bad magic bytes); the file was altered or is not a Tessera document"
    )]
    BadMagic,
    /// A newer (or unknown) format version.
    #[error("{}", unknown_version(*.0))]
    UnknownVersion(u8),
    /// The envelope's kind byte names no document this crate knows.
    #[error(
        "unknown document kind {0} in the envelope; the file was altered or comes from a newer Tessera"
    )]
    UnknownKind(u8),
    /// The armor label and the envelope disagree.
    #[error("the armor says {label} but the envelope holds a {inner}; the file was altered")]
    KindMismatch {
        /// What the armor label says.
        label: &'static str,
        /// What the envelope holds.
        inner: &'static str,
    },
    /// The envelope ends early.
    #[error("the envelope is truncated ({0}): the file was cut short, altered or damaged")]
    Truncated(&'static str),
    /// Bytes after the signature.
    #[error("{0} unexpected bytes after the signature; the file was altered")]
    TrailingEnvelopeBytes(usize),
    /// The payload length is over the limit.
    #[error(
        "the envelope claims a payload of {0} bytes, larger than any document: the file was altered or damaged"
    )]
    PayloadTooLarge(usize),
    /// bincode refused the payload.
    #[error("the {kind} payload cannot be decoded ({detail}); the file was altered or damaged")]
    Payload {
        /// The document kind.
        kind: &'static str,
        /// bincode's reason.
        detail: String,
    },
    /// The payload decoded but left bytes over.
    #[error("the {kind} payload has {extra} unexpected trailing bytes; the file was altered")]
    TrailingPayloadBytes {
        /// The document kind.
        kind: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// The payload decoded but its content breaks the format's rules.
    #[error("the {kind} is not valid: {source}")]
    Invalid {
        /// The document kind.
        kind: &'static str,
        /// What is wrong.
        source: ValidationError,
    },
    /// A readable header line disagrees with the signed payload.
    #[error(
        "the readable header says {name}: {header:?} but the signed content says {actual:?}; the header was altered, so the file is refused"
    )]
    HeaderMismatch {
        /// Header name.
        name: String,
        /// What the header says.
        header: String,
        /// What the payload says.
        actual: String,
    },
    /// An embedded endorsement is damaged.
    #[error("the issuer endorsement carried in the file is damaged: {0}")]
    Endorsement(Box<DecodeError>),
    /// An endorsement may only be carried by a licence.
    #[error("a {0} cannot carry an issuer endorsement; the file was altered")]
    UnexpectedEndorsement(&'static str),
    /// A clock correction that carries an endorsement: named apart from
    /// [`DecodeError::UnexpectedEndorsement`] because it is what an endorsed
    /// issuer would send to set a site's clock, which only a root may do.
    #[error(
        "the clock correction carries an issuer endorsement, but a clock correction is signed by a root key alone: an endorsed issuer may sign licences for its products, never a site's time"
    )]
    EndorsedClockCorrection,
}

/// Reading or writing keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PKCS#8 PEM ed25519 private key.
    #[error("not an ed25519 private key in PKCS#8 PEM form (-----BEGIN PRIVATE KEY-----): {0}")]
    BadSecretKey(String),
    /// Not an SPKI PEM ed25519 public key.
    #[error("not an ed25519 public key in SPKI PEM form (-----BEGIN PUBLIC KEY-----): {0}")]
    BadPublicKey(String),
    /// A weak (small-order) public key, which would accept forged signatures.
    #[error(
        "the public key is weak (a small-order point) and would accept forged signatures; it is refused"
    )]
    WeakKey,
    /// The operating system gave no randomness.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    /// Encoding a key failed.
    #[error("could not encode the key: {0}")]
    Encode(String),
}

/// Signing a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The content breaks the format's rules.
    #[error("the {kind} is not valid: {source}")]
    Invalid {
        /// The document kind.
        kind: &'static str,
        /// What is wrong.
        source: ValidationError,
    },
    /// The encoded payload is too large.
    #[error("the encoded {kind} is {size} bytes, more than the {max} bytes a document may hold")]
    TooLarge {
        /// The document kind.
        kind: &'static str,
        /// Encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// bincode refused to encode.
    #[error("could not encode the {kind}: {detail}")]
    Encode {
        /// The document kind.
        kind: &'static str,
        /// bincode's reason.
        detail: String,
    },
    /// The endorsement given does not endorse the signing key.
    #[error(
        "the endorsement is for key {endorsed}, but the licence is being signed with key {signer}"
    )]
    EndorsementKeyMismatch {
        /// Key the endorsement names.
        endorsed: KeyId,
        /// Key signing.
        signer: KeyId,
    },
    /// Only licences carry endorsements.
    #[error("only licences carry an issuer endorsement, not a {0}")]
    EndorsementOnNonLicence(&'static str),
}

/// Checking a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The document could not be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The document is not the kind expected.
    #[error("this is a {found}, not a {expected}")]
    WrongKind {
        /// Expected kind.
        expected: &'static str,
        /// Kind found.
        found: &'static str,
    },
    /// The signing key is not trusted.
    #[error("signed by key {0}, which is not a trusted root and carries no endorsement from one")]
    UnknownKey(KeyId),
    /// A document only a root may sign (a clock correction) is signed by another key.
    #[error(
        "signed by key {key}, which is not a trusted root: a {kind} is signed only by a root key, never by an endorsed issuer"
    )]
    NotRoot {
        /// The document kind.
        kind: &'static str,
        /// The signing key's id.
        key: KeyId,
    },
    /// The signature does not verify.
    #[error(
        "the signature does not match the content (signed by key {0}); the file was altered or signed for something else"
    )]
    BadSignature(KeyId),
    /// The key is weak.
    #[error("the signing key {0} is weak (small-order) and is never trusted")]
    WeakKey(KeyId),
    /// The embedded endorsement is not signed by a trusted root.
    #[error("the issuer endorsement is signed by key {0}, which is not a trusted root")]
    EndorsementUnknownRoot(KeyId),
    /// The embedded endorsement's signature does not verify.
    #[error("the issuer endorsement's signature does not match (root key {0}); it was altered")]
    EndorsementBadSignature(KeyId),
    /// The endorsement endorses another key.
    #[error(
        "the issuer endorsement is for key {endorsed}, but the licence is signed by key {signer}"
    )]
    EndorsementKeyMismatch {
        /// Key the endorsement names.
        endorsed: KeyId,
        /// Key that signed.
        signer: KeyId,
    },
    /// The key id in the envelope is not the id of the key inside a request, report or clock request.
    #[error(
        "the envelope names key {envelope} but the document carries installation key {inner}; the file was altered"
    )]
    InstallationKeyMismatch {
        /// Key id in the envelope.
        envelope: KeyId,
        /// Key id of the embedded installation key.
        inner: KeyId,
    },
}

/// Verifying a lease with the installation key a product trusts
/// ([`crate::lease::verify`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeaseError {
    /// The file is not a well-formed lease: its armor, envelope, payload,
    /// content or readable header lines are wrong.
    #[error(transparent)]
    Malformed(DecodeError),
    /// The file holds another kind of document.
    #[error("this is a {0}, not a lease")]
    NotALease(&'static str),
    /// The envelope names a key other than the trusted installation key.
    #[error(
        "signed by key {found}, not by the trusted installation key {trusted}: the lease is from another installation, or the wrong public key was given"
    )]
    UntrustedKey {
        /// The trusted installation key's id.
        trusted: KeyId,
        /// The key id the envelope names.
        found: KeyId,
    },
    /// The signature does not verify under the trusted installation key.
    #[error(
        "the signature does not match the content (installation key {0}); the lease was altered, or its signature was made for another kind of document"
    )]
    BadSignature(KeyId),
    /// Signed by the trusted key, but the lease names another installation key.
    #[error(
        "the lease is signed by the trusted installation key {trusted} but carries installation key {carried}; it was not made by Tessera"
    )]
    KeyMismatch {
        /// The trusted installation key's id.
        trusted: KeyId,
        /// The id of the key the lease carries.
        carried: KeyId,
    },
    /// The lease is for another installation serial.
    #[error("the lease is for serial {lease}, but this installation is {expected}")]
    OtherSerial {
        /// The serial the lease names.
        lease: String,
        /// The serial expected.
        expected: String,
    },
    /// Issued further ahead of the verifier's clock than the skew allowed.
    #[error(
        "the lease was issued {issued_at}, after now ({now}) by more than {skew} seconds: this host's clock is behind the installation's, or the lease is post-dated",
        skew = crate::constants::LEASE_CLOCK_SKEW_SECONDS
    )]
    NotYetValid {
        /// When the lease says it was issued.
        issued_at: Timestamp,
        /// The time it was judged at.
        now: Timestamp,
    },
    /// `now` is at or past `not_after`.
    #[error("the lease ran out at {not_after} (now {now}): ask the installation for a new one")]
    Expired {
        /// The first moment the lease no longer holds.
        not_after: Timestamp,
        /// The time it was judged at.
        now: Timestamp,
    },
}

impl LeaseError {
    /// A stable word for the reason, for programs (`--json`) and other
    /// verifiers to agree on: `malformed`, `not_a_lease`, `untrusted_key`,
    /// `bad_signature`, `key_mismatch`, `other_serial`, `not_yet_valid`,
    /// `expired`.
    pub fn code(&self) -> &'static str {
        match self {
            LeaseError::Malformed(_) => "malformed",
            LeaseError::NotALease(_) => "not_a_lease",
            LeaseError::UntrustedKey { .. } => "untrusted_key",
            LeaseError::BadSignature(_) => "bad_signature",
            LeaseError::KeyMismatch { .. } => "key_mismatch",
            LeaseError::OtherSerial { .. } => "other_serial",
            LeaseError::NotYetValid { .. } => "not_yet_valid",
            LeaseError::Expired { .. } => "expired",
        }
    }
}

/// A newer version is named as such; an older one than any Tessera wrote is damage.
fn unknown_version(v: u8) -> String {
    if v > crate::constants::FORMAT_VERSION {
        format!(
            "format version {v} is newer than this version of Tessera reads (version {}); upgrade Tessera to read it",
            crate::constants::FORMAT_VERSION
        )
    } else {
        format!("format version {v} was never written by Tessera: the file was altered or damaged")
    }
}
