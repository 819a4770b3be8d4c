//! The text armor: `-----BEGIN TESSERA …-----`, optional readable header lines,
//! base64 lines, `-----END …-----`.
//!
//! Reading is forgiving of what e-mail and USB sticks do to text (CRLF, trailing
//! spaces, indentation, text before and after, re-wrapped base64) and strict
//! about everything else.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::constants::{ARMOR_LINE_WIDTH, MAX_FILE_BYTES};
use crate::document::DocumentKind;
use crate::error::ArmorError;

/// Header names that may stand above the base64.
pub const HEADER_NAMES: [&str; 12] = [
    "Serial",
    "Licensee",
    "Expires",
    "Month",
    "Issuer",
    "Until",
    "High-water",
    "Time",
    "Valid until",
    "User",
    "Not after",
    "Key",
];

/// What the armor held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Armored {
    /// The kind the BEGIN line names.
    pub kind: DocumentKind,
    /// Readable header lines, names in their canonical spelling, in file order.
    pub headers: Vec<(&'static str, String)>,
    /// The decoded envelope bytes.
    pub body: Vec<u8>,
}

fn begin_label(line: &str) -> Option<&str> {
    line.strip_prefix("-----BEGIN ")?.strip_suffix("-----")
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// Reads armored text.
pub fn parse(input: &[u8]) -> Result<Armored, ArmorError> {
    if input.len() > MAX_FILE_BYTES {
        return Err(ArmorError::TooLarge {
            size: input.len(),
            max: MAX_FILE_BYTES,
        });
    }
    let text = std::str::from_utf8(input).map_err(|_| ArmorError::NotText)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Numbered, trimmed lines: CRLF, trailing spaces and indentation are what
    // mail clients and editors add, never meaning.
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));

    let mut other_label = None;
    let kind = loop {
        let Some((_, line)) = lines.next() else {
            return Err(match other_label {
                Some(label) => ArmorError::UnknownLabel(label),
                None => ArmorError::NoBegin,
            });
        };
        if let Some(label) = begin_label(line) {
            match DocumentKind::from_label(label) {
                Some(kind) => break kind,
                None if label.starts_with("TESSERA") => {
                    return Err(ArmorError::UnknownLabel(label.to_string()));
                }
                None => {
                    other_label.get_or_insert_with(|| label.to_string());
                }
            }
        }
    };

    let end_line = format!("-----END {}-----", kind.label());
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    // Base64 is ASCII: collected as bytes, sized for the whole file once.
    let mut b64: Vec<u8> = Vec::with_capacity(input.len());
    let mut in_body = false;
    let mut ended = false;
    for (n, line) in lines.by_ref() {
        if line == end_line {
            ended = true;
            break;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with("-----") {
            // An END of another kind, or a second BEGIN: the file was spliced.
            return Err(ArmorError::BadBase64Line {
                line: n,
                text: cut(line),
            });
        }
        if !in_body && line.contains(':') {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| ArmorError::BadHeaderLine {
                    line: n,
                    text: cut(line),
                })?;
            let name = name.trim();
            let canonical = HEADER_NAMES
                .iter()
                .find(|h| h.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    if name.is_empty() || name.contains(' ') {
                        ArmorError::BadHeaderLine {
                            line: n,
                            text: cut(line),
                        }
                    } else {
                        ArmorError::UnknownHeader(name.to_string())
                    }
                })?;
            if headers.iter().any(|(h, _)| h == canonical) {
                return Err(ArmorError::DuplicateHeader(canonical.to_string()));
            }
            headers.push((canonical, value.trim().to_string()));
            continue;
        }
        in_body = true;
        // The common line is pure base64: copied whole. Anything else (spaces
        // inside a re-wrapped line, a stray character) goes the careful way.
        let bytes = line.as_bytes();
        if bytes.iter().all(|b| is_base64_byte(*b)) {
            b64.extend_from_slice(bytes);
            continue;
        }
        for c in line.chars() {
            if c.is_whitespace() {
                continue;
            }
            if !is_base64_char(c) {
                return Err(ArmorError::BadBase64Line {
                    line: n,
                    text: cut(line),
                });
            }
            // is_base64_char admits ASCII only.
            b64.push(c as u8);
        }
    }
    if !ended {
        return Err(ArmorError::NoEnd(kind.label()));
    }
    if b64.is_empty() {
        return Err(ArmorError::Empty);
    }
    let body = STANDARD
        .decode(&b64)
        .map_err(|e| ArmorError::BadBase64(e.to_string()))?;
    Ok(Armored {
        kind,
        headers,
        body,
    })
}

fn cut(line: &str) -> String {
    line.chars().take(60).collect()
}

/// Writes armored text with LF line endings.
pub fn write(kind: DocumentKind, headers: &[(&str, String)], body: &[u8]) -> String {
    let b64 = STANDARD.encode(body);
    let mut out = String::with_capacity(b64.len() + b64.len() / ARMOR_LINE_WIDTH + 256);
    out.push_str("-----BEGIN ");
    out.push_str(kind.label());
    out.push_str("-----\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    if !headers.is_empty() {
        out.push('\n');
    }
    // base64 output is ASCII, so byte chunks are character chunks.
    for chunk in b64.as_bytes().chunks(ARMOR_LINE_WIDTH) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(kind.label());
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_headers() {
        let body: Vec<u8> = (0..=255u8).collect();
        let text = write(DocumentKind::Licence, &[("Serial", "S-1".into())], &body);
        let a = parse(text.as_bytes()).unwrap();
        assert_eq!(a.kind, DocumentKind::Licence);
        assert_eq!(a.headers, vec![("Serial", "S-1".to_string())]);
        assert_eq!(a.body, body);
    }

    #[test]
    fn survives_what_mail_does() {
        let body = vec![9u8; 200];
        let text = write(DocumentKind::Request, &[("Serial", "S-1".into())], &body);
        let crlf = text.replace('\n', "  \r\n");
        let wrapped = format!("Hello,\r\nplease find it below.\r\n\r\n{crlf}\r\n-- \r\nBob\r\n");
        assert_eq!(parse(wrapped.as_bytes()).unwrap().body, body);
        // Re-wrapped at another width.
        let joined: String = text
            .lines()
            .filter(|l| !l.starts_with("---") && !l.contains(':'))
            .collect();
        let rewrapped = format!(
            "-----BEGIN TESSERA LICENCE REQUEST-----\n{}\n{}\n-----END TESSERA LICENCE REQUEST-----\n",
            &joined[..10],
            &joined[10..]
        );
        assert_eq!(parse(rewrapped.as_bytes()).unwrap().body, body);
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(parse(b"hello"), Err(ArmorError::NoBegin));
        assert!(matches!(
            parse(b"-----BEGIN PGP MESSAGE-----\n-----END PGP MESSAGE-----"),
            Err(ArmorError::UnknownLabel(_))
        ));
        assert_eq!(
            parse(b"-----BEGIN TESSERA LICENCE-----\nAAAA\n"),
            Err(ArmorError::NoEnd("TESSERA LICENCE"))
        );
        assert!(matches!(
            parse(b"-----BEGIN TESSERA LICENCE-----\nAA*A\n-----END TESSERA LICENCE-----"),
            Err(ArmorError::BadBase64Line { line: 2, .. })
        ));
        assert!(matches!(
            parse(b"-----BEGIN TESSERA LICENCE-----\nColour: red\n\nAAAA\n-----END TESSERA LICENCE-----"),
            Err(ArmorError::UnknownHeader(_))
        ));
        assert!(matches!(
            parse(&vec![b'a'; MAX_FILE_BYTES + 1]),
            Err(ArmorError::TooLarge { .. })
        ));
        assert_eq!(parse(&[0xff, 0xfe, 0x00]), Err(ArmorError::NotText));
    }
}
