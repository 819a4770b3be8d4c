#!/usr/bin/env python3
"""Verify a Tessera lease, written from docs/PROTOCOL.md ("Leases") alone.

    python3 verify_lease.py LEASE INSTALLATION.pub [--serial SERIAL] [--now TIME]

LEASE is the armored lease (-----BEGIN TESSERA LEASE-----), INSTALLATION.pub
the installation's public key as SPKI PEM (what `tessera installation key`
prints). TIME is RFC 3339 (2026-06-01T12:00:00Z) or seconds since 1970; the
default is this machine's clock.

Prints the lease's fields once its signature and content are checked, then
one verdict line: "VALID: ..." (exit 0) or "INVALID (CODE): ..." (exit 1),
CODE being the word Tessera's own verifier (licfile::lease::verify) gives:
malformed, not_a_lease, untrusted_key, bad_signature, key_mismatch,
other_serial, not_yet_valid or expired. Exit 2: the command line or the key
file is wrong.

A file of another kind is read as far as its envelope and refused as
not_a_lease; Tessera decodes its payload as well, so a damaged document of
another kind is malformed to Tessera and not_a_lease here. On every lease
the two agree.

Needs only the standard library and the `cryptography` package (Debian:
python3-cryptography). It is a test of the format's documentation: Tessera's
tests run it on every lease vector and hold it to the same verdicts as Rust.
"""

import argparse
import base64
import datetime
import hashlib
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# The format's constants (docs/PROTOCOL.md).
MAX_FILE_BYTES = 64 * 1024
# bincode's decode limit in Tessera's configuration: a longer payload is refused.
MAX_PAYLOAD_BYTES = 40 * 1024
MAGIC = b"TSRA"
FORMAT_VERSION = 1
KIND_LEASE = 8
KIND_LICENCE = 1
CONTEXT = b"tessera/lease/v1"
MAX_LIFETIME_SECONDS = 7 * 24 * 3600
CLOCK_SKEW_SECONDS = 5 * 60
TERMS = ("contracted", "monthly", "daily")
# Every document's armor label and envelope kind byte. A file of another
# kind is read as far as its envelope, as Tessera reads it, then refused as
# not a lease (its payload is not decoded here).
KINDS = {
    "TESSERA LICENCE": 1,
    "TESSERA LICENCE REQUEST": 2,
    "TESSERA USAGE REPORT": 3,
    "TESSERA ISSUER ENDORSEMENT": 4,
    "TESSERA CLOCK REQUEST": 5,
    "TESSERA CLOCK CORRECTION": 6,
    "TESSERA USAGE REPORT V2": 7,
    "TESSERA LEASE": KIND_LEASE,
}
# Header lines any Tessera document may carry; a lease's are Serial, User,
# Not after and Key.
HEADER_NAMES = (
    "Serial", "Licensee", "Expires", "Month", "Issuer", "Until",
    "High-water", "Time", "Valid until", "User", "Not after", "Key",
)
# Unicode's White_Space: what Tessera trims from lines, header values and
# names (Python's own str.strip() takes a few control characters as well).
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
BASE64_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
)


class Refused(Exception):
    """The lease is refused; `code` says why, as Tessera says it."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def malformed(message):
    return Refused("malformed", message)


def read_armor(data):
    """The armor's kind byte, header lines and base64-decoded body.

    Forgiving of what mail does (CRLF, trailing spaces, indentation, text
    around the armor, re-wrapped base64), strict about anything else.
    """
    if len(data) > MAX_FILE_BYTES:
        raise malformed("the file is larger than %d bytes, so it is not read" % MAX_FILE_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("the file is not UTF-8 text")
    other_label = None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [line.strip(WHITE_SPACE) for line in text.split("\n")]
    at = 0
    while True:
        if at == len(lines):
            if other_label is not None:
                raise malformed("unknown document type %r" % other_label)
            raise malformed("no -----BEGIN TESSERA …----- line")
        line = lines[at]
        at += 1
        if line.startswith("-----BEGIN ") and line.endswith("-----") and len(line) > 16:
            label = line[len("-----BEGIN "):-len("-----")]
            if label in KINDS:
                break
            if label.startswith("TESSERA"):
                raise malformed("unknown document type %r" % label)
            if other_label is None:
                other_label = label
    end = "-----END %s-----" % label
    headers = {}
    body = []
    in_body = False
    while True:
        if at == len(lines):
            raise malformed("no %s line: the file is truncated" % end)
        line = lines[at]
        at += 1
        if line == end:
            break
        if not line:
            continue
        if line.startswith("-----"):
            raise malformed("a line of dashes inside the armor: %r" % line[:60])
        if not in_body and ":" in line:
            name, value = line.split(":", 1)
            name = name.strip(WHITE_SPACE)
            # ASCII case only: Unicode's would take a Kelvin sign for a K.
            canonical = [h for h in HEADER_NAMES if name.isascii() and h.lower() == name.lower()]
            if not canonical:
                raise malformed("unknown header line %r" % line[:60])
            if canonical[0] in headers:
                raise malformed("header %r appears twice" % canonical[0])
            headers[canonical[0]] = value.strip(WHITE_SPACE)
            continue
        in_body = True
        chars = "".join(c for c in line if c not in WHITE_SPACE)
        if not set(chars) <= BASE64_ALPHABET:
            raise malformed("a line inside the armor is not base64: %r" % line[:60])
        body.append(chars)
    b64 = "".join(body)
    if not b64:
        raise malformed("the armor is empty")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as e:
        raise malformed("the base64 is damaged (%s)" % e)
    # Only canonical base64 is the document: padding as written, and no
    # stray bits in the last character, as Tessera's reader demands.
    if base64.b64encode(raw).decode("ascii") != b64:
        raise malformed("the base64 is not in its canonical form")
    return KINDS[label], headers, raw


class Reader:
    """Takes bytes off the front; running out is a malformed lease."""

    def __init__(self, data, what):
        self.data = data
        self.at = 0
        self.what = what

    def take(self, n):
        if n > len(self.data) - self.at:
            raise malformed("the %s is truncated" % self.what)
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.u64()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("a string in the %s is not UTF-8" % self.what)

    def option_tag(self):
        tag = self.u8()
        if tag not in (0, 1):
            raise malformed("option tag %d in the %s" % (tag, self.what))
        return tag == 1

    def rest(self):
        return len(self.data) - self.at


def read_envelope(raw, armor_kind):
    """The envelope: kind, key id, payload and signature (docs/PROTOCOL.md)."""
    r = Reader(raw, "envelope")
    if r.take(4) != MAGIC:
        raise malformed("not a Tessera envelope (bad magic bytes)")
    version = r.u8()
    if version != FORMAT_VERSION:
        raise malformed("format version %d, not %d" % (version, FORMAT_VERSION))
    kind = r.u8()
    if kind not in KINDS.values():
        raise malformed("unknown document kind %d in the envelope" % kind)
    key_id = r.take(8)
    payload_len = r.u32()
    if payload_len > MAX_FILE_BYTES:
        raise malformed("the envelope claims a payload of %d bytes" % payload_len)
    payload = r.take(payload_len)
    endorsement_len = r.u32()
    if endorsement_len:
        # Only a licence carries an issuer endorsement (a whole envelope).
        if kind != KIND_LICENCE:
            raise malformed("a document of kind %d cannot carry an issuer endorsement" % kind)
        r.take(endorsement_len)
    signature = r.take(64)
    if r.rest():
        raise malformed("%d unexpected bytes after the signature" % r.rest())
    if kind != armor_kind:
        raise malformed("the armor names kind %d but the envelope holds kind %d"
                        % (armor_kind, kind))
    if kind != KIND_LEASE:
        name = [label for label, k in KINDS.items() if k == kind][0]
        raise Refused("not_a_lease", "this is a %s, not a lease" % name)
    return key_id, payload, signature


def decode_lease(payload):
    """The lease's fields, in order, as bincode 2 writes them in Tessera's
    configuration: big-endian fixed-width integers, strings as a u64 length
    and UTF-8, an Option as a tag byte 0 or 1, an enum as a u32 index."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise malformed("the lease payload is %d bytes, more than the %d a payload may hold"
                        % (len(payload), MAX_PAYLOAD_BYTES))
    r = Reader(payload, "lease payload")
    lease = {"serial": r.string(), "user": r.string(), "seat": None}
    if r.option_tag():
        seat = {"issuer": r.string(), "area": r.string(), "licence": r.string()}
        term = r.u32()
        if term >= len(TERMS):
            raise malformed("term %d is not one of the %d terms" % (term, len(TERMS)))
        seat["term"] = TERMS[term]
        lease["seat"] = seat
    lease["issued_at"] = r.i64()
    lease["not_after"] = r.i64()
    lease["installation_key"] = r.take(32)
    if r.rest():
        raise malformed("the lease payload has %d unexpected trailing bytes" % r.rest())
    return lease


def text_problems(field, value, max_chars):
    """What Tessera refuses in a one-line name: empty, too long, a control
    character (Unicode category Cc), leading or trailing white space."""
    problems = []
    if not value.strip(WHITE_SPACE):
        problems.append("%s is empty" % field)
    elif len(value) > max_chars:
        problems.append("%s is longer than %d characters" % (field, max_chars))
    if any(unicodedata.category(c) == "Cc" for c in value):
        problems.append("%s contains a control character" % field)
    if value != value.strip(WHITE_SPACE):
        problems.append("%s has leading or trailing spaces" % field)
    return problems


def content_problems(lease):
    problems = []
    serial = lease["serial"]
    if not (1 <= len(serial) <= 64) or not all(
        c.isascii() and (c.isalnum() or c in "-_.") for c in serial
    ):
        problems.append("serial %r must be 1 to 64 letters, digits, '-', '_' or '.'" % serial)
    problems += text_problems("user", lease["user"], 100)
    seat = lease["seat"]
    if seat is not None:
        if seat["issuer"]:
            problems += text_problems("seat.issuer", seat["issuer"], 100)
        problems += text_problems("seat.area", seat["area"], 50)
        problems += text_problems("seat.licence", seat["licence"], 100)
    lifetime = lease["not_after"] - lease["issued_at"]
    if lifetime <= 0:
        problems.append("not_after is not after issued_at")
    elif lifetime > MAX_LIFETIME_SECONDS:
        problems.append("not_after is more than %d hours after issued_at"
                        % (MAX_LIFETIME_SECONDS // 3600))
    return problems


def civil_from_days(days):
    """(year, month, day) of a day counted from 1970-01-01, in the proleptic
    Gregorian calendar at any year (H. Hinnant's days-to-civil algorithm)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def show_time(seconds):
    """A time as Tessera writes it in a header line: 2026-06-01T16:00:00Z.

    Exactly Tessera's form (chrono's) everywhere: a year outside 0 to 9999
    carries its sign (+10000, -0001), and a time outside chrono's calendar,
    years -262143 to 262142, is written @SECONDS.
    """
    days, rest = divmod(seconds, 86400)
    year, month, day = civil_from_days(days)
    if not -262143 <= year <= 262142:
        return "@%d" % seconds
    shown_year = "%04d" % year if 0 <= year <= 9999 else "%+05d" % year
    return "%s-%02d-%02dT%02d:%02d:%02dZ" % (
        shown_year, month, day, rest // 3600, rest // 60 % 60, rest % 60)


def seat_label(seat):
    if seat is None:
        return "none (may work without a seat)"
    area, licence = seat["area"], seat["licence"]
    name = licence if licence.lower().startswith(area.lower()) else "%s %s" % (area, licence)
    label = "%s (%s)" % (name, seat["term"])
    return "%s: %s" % (seat["issuer"], label) if seat["issuer"] else label


def verify(data, trusted, serial, now):
    """The lease if it holds at `now`, else Refused: the checks in the order
    Tessera makes them, so that both say the same of every file."""
    kind, headers, raw = read_armor(data)
    key_id, payload, signature = read_envelope(raw, kind)
    lease = decode_lease(payload)

    trusted_raw = trusted.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    trusted_id = hashlib.sha256(trusted_raw).digest()[:8]
    if key_id != trusted_id:
        raise Refused("untrusted_key", "signed by key %s, not by the trusted installation key %s"
                      % (key_id.hex(), trusted_id.hex()))
    try:
        trusted.verify(signature, CONTEXT + b"\x00" + payload)
    except InvalidSignature:
        raise Refused("bad_signature", "the signature does not match the content: "
                      "the lease was altered, or signed as another kind of document")

    problems = content_problems(lease)
    if problems:
        raise malformed("the lease is not valid: " + "; ".join(problems))
    # Header lines are not signed: each one present must say what the payload says.
    expected = {
        "Serial": lease["serial"],
        "User": lease["user"],
        "Not after": show_time(lease["not_after"]),
        "Key": key_id.hex(),
    }
    for name, value in headers.items():
        if expected.get(name) != value:
            raise malformed("the readable header says %s: %r but the signed content says %r"
                            % (name, value, expected.get(name, "nothing")))

    if lease["installation_key"] != trusted_raw:
        raise Refused("key_mismatch", "signed by the trusted installation key but carries "
                      "installation key %s" % hashlib.sha256(lease["installation_key"]).hexdigest()[:16])
    return lease, key_id


def judge(lease, serial, now):
    """The serial and the time, once the lease is known to be genuine."""
    if serial is not None and lease["serial"] != serial:
        raise Refused("other_serial", "the lease is for serial %s, but this installation is %s"
                      % (lease["serial"], serial))
    if lease["issued_at"] > now + CLOCK_SKEW_SECONDS:
        raise Refused("not_yet_valid", "issued %s, more than %d seconds after now (%s)"
                      % (show_time(lease["issued_at"]), CLOCK_SKEW_SECONDS, show_time(now)))
    if now >= lease["not_after"]:
        raise Refused("expired", "the lease ran out at %s (now %s)"
                      % (show_time(lease["not_after"]), show_time(now)))


def parse_now(text):
    if text.lstrip("-").isdigit():
        return int(text)
    # fromisoformat before Python 3.11 does not take "Z".
    t = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if t.tzinfo is None:
        raise ValueError("a time needs its offset, e.g. 2026-06-01T12:00:00Z")
    return int(t.timestamp())


def main(argv):
    parser = argparse.ArgumentParser(description="Verify a Tessera lease (docs/PROTOCOL.md).")
    parser.add_argument("lease", help="the armored lease file")
    parser.add_argument("key", help="the installation's public key, SPKI PEM")
    parser.add_argument("--serial", help="the installation serial the lease must be for")
    parser.add_argument("--now", help="judge at this time (RFC 3339 or seconds); default: now")
    args = parser.parse_args(argv)
    try:
        now = parse_now(args.now) if args.now is not None else int(
            datetime.datetime.now(datetime.timezone.utc).timestamp())
    except ValueError as e:
        parser.error("--now %r: %s" % (args.now, e))
    try:
        with open(args.key, "rb") as f:
            trusted = serialization.load_pem_public_key(f.read())
    except (OSError, ValueError) as e:
        parser.error("cannot read the public key %s: %s" % (args.key, e))
    if not isinstance(trusted, Ed25519PublicKey):
        parser.error("%s is not an ed25519 public key" % args.key)
    try:
        with open(args.lease, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        parser.error("cannot read %s: %s" % (args.lease, e))

    try:
        lease, key_id = verify(data, trusted, args.serial, now)
    except Refused as r:
        print("INVALID (%s): %s" % (r.code, r))
        return 1
    print("serial:     %s" % lease["serial"])
    print("user:       %s" % lease["user"])
    print("seat:       %s" % seat_label(lease["seat"]))
    print("issued at:  %s" % show_time(lease["issued_at"]))
    print("not after:  %s" % show_time(lease["not_after"]))
    print("key:        %s" % key_id.hex())
    try:
        judge(lease, args.serial, now)
    except Refused as r:
        print("INVALID (%s): %s" % (r.code, r))
        return 1
    print("VALID: %s may work until %s" % (lease["user"], show_time(lease["not_after"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
