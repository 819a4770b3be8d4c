//! Every magic value of the format, in one place.
//!
//! Changing any of these changes the format: golden-bytes tests pin them.

/// The four bytes every envelope starts with.
pub const MAGIC: [u8; 4] = *b"TSRA";

/// The envelope format version this crate writes and understands.
pub const FORMAT_VERSION: u8 = 1;

/// The largest armored file, in bytes, that is read at all.
///
/// A licence with every field filled in is a few kilobytes; anything larger is
/// refused before it is parsed so that a hostile file costs nothing.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// The largest payload bincode will decode, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 40 * 1024;

/// The most parts a usage report may be split into. A part holds the
/// user-days of about 1,500 users, so this covers sites far beyond a million
/// users while bounding what a hostile set of files can make a vendor hold.
pub const MAX_REPORT_PARTS: u32 = 1000;

/// Length of a key id: the first bytes of SHA-256 over the raw public key.
pub const KEY_ID_LEN: usize = 8;

/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Length of a raw ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;

/// Separator between the signing context and the payload in the signed message.
pub const CONTEXT_SEPARATOR: u8 = 0x00;

/// Signing context of licences.
pub const CONTEXT_LICENCE: &str = "tessera/licence/v1";
/// Signing context of licence requests.
pub const CONTEXT_REQUEST: &str = "tessera/request/v1";
/// Signing context of licence requests of format 2 (add-ons and integrations).
pub const CONTEXT_REQUEST_2: &str = "tessera/request/v2";
/// Signing context of usage reports.
pub const CONTEXT_USAGE_REPORT: &str = "tessera/usage-report/v1";
/// Signing context of usage reports of format 2 (chained to the site's audit log
/// and to the report before).
pub const CONTEXT_USAGE_REPORT_2: &str = "tessera/usage-report/v2";
/// Signing context of issuer endorsements.
pub const CONTEXT_ENDORSEMENT: &str = "tessera/issuer/v1";
/// Signing context of clock requests.
pub const CONTEXT_CLOCK_REQUEST: &str = "tessera/clock-request/v1";
/// Signing context of clock corrections.
pub const CONTEXT_CLOCK_CORRECTION: &str = "tessera/clock/v1";
/// Signing context of leases.
pub const CONTEXT_LEASE: &str = "tessera/lease/v1";

/// Armor label of licences.
pub const LABEL_LICENCE: &str = "TESSERA LICENCE";
/// Armor label of licence requests.
pub const LABEL_REQUEST: &str = "TESSERA LICENCE REQUEST";
/// Armor label of licence requests of format 2.
pub const LABEL_REQUEST_2: &str = "TESSERA LICENCE REQUEST V2";
/// Armor label of usage reports.
pub const LABEL_USAGE_REPORT: &str = "TESSERA USAGE REPORT";
/// Armor label of usage reports of format 2.
pub const LABEL_USAGE_REPORT_2: &str = "TESSERA USAGE REPORT V2";
/// Armor label of issuer endorsements.
pub const LABEL_ENDORSEMENT: &str = "TESSERA ISSUER ENDORSEMENT";
/// Armor label of clock requests.
pub const LABEL_CLOCK_REQUEST: &str = "TESSERA CLOCK REQUEST";
/// Armor label of clock corrections.
pub const LABEL_CLOCK_CORRECTION: &str = "TESSERA CLOCK CORRECTION";
/// Armor label of leases.
pub const LABEL_LEASE: &str = "TESSERA LEASE";

/// Width of the base64 lines written inside the armor.
pub const ARMOR_LINE_WIDTH: usize = 64;

/// Days before expiry from which a time-limited licence is reported as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Hours a clock correction may be imported after the vendor signed it: its
/// `valid_until` is at most this long after its `time`. Short, because a
/// correction lowers a store's high-water mark to the vendor's time when it
/// signed: one held back and imported later would set the mark back by as
/// long as it was held.
pub const CLOCK_CORRECTION_HOURS: i64 = 48;

/// The longest a lease may last: its `not_after` is at most this long after
/// its `issued_at`. A lease lets a user keep working while the installation
/// cannot be asked, and a user deactivated meanwhile keeps working until the
/// lease runs out; seven days is the longest a licence already tolerates a user
/// working beyond the seats (the default over-allocation grace, seed 003), and
/// covers a service down over a long weekend. A store's own setting (a few
/// hours by default) is what sites use; this bounds what any setting can sign.
pub const LEASE_MAX_HOURS: i64 = 7 * 24;

/// Seconds a lease's `issued_at` may lie ahead of the verifier's clock and the
/// lease still be taken. The product may run on another host than the
/// installation, and two hosts' clocks differ by a little even when both are
/// synchronised; five minutes is the customary tolerance (Kerberos uses it).
/// No allowance is made at `not_after`: a lease never runs longer than signed.
pub const LEASE_CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// Envelope byte that names each document kind.
pub mod kind_byte {
    /// A licence.
    pub const LICENCE: u8 = 1;
    /// A licence request.
    pub const REQUEST: u8 = 2;
    /// A usage report.
    pub const USAGE_REPORT: u8 = 3;
    /// An issuer endorsement.
    pub const ENDORSEMENT: u8 = 4;
    /// A clock request.
    pub const CLOCK_REQUEST: u8 = 5;
    /// A clock correction.
    pub const CLOCK_CORRECTION: u8 = 6;
    /// A usage report of format 2.
    pub const USAGE_REPORT_2: u8 = 7;
    /// A lease.
    pub const LEASE: u8 = 8;
    /// A licence request of format 2.
    pub const REQUEST_2: u8 = 9;
}
