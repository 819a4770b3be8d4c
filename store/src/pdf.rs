//! A minimal PDF writer for the contracts export (seed 000: "a PDF copy of
//! your signed contracts"): pages of plain text in two of the standard 14
//! fonts, which every PDF reader has, so nothing is embedded.
//!
//! Written by hand rather than with a PDF crate: a text summary needs a
//! catalog, a page tree, two font dictionaries, one content stream a page and
//! a cross-reference table (PDF 1.4, ISO 32000-1 §7), which is less code than
//! a dependency's configuration and is checked by `qpdf --check` in the tests.
//!
//! The body is set in Courier, whose every glyph is 0.6 em wide, so a line
//! is wrapped by counting characters and never runs off the page. Text is
//! encoded in WinAnsiEncoding; characters it lacks are written as `?`.

/// Page size: A4, in points.
const WIDTH: u32 = 595;
/// Page height: A4, in points.
const HEIGHT: u32 = 842;
/// Margin on every side, in points.
const MARGIN: u32 = 50;
/// Body font size and line spacing, in points.
const SIZE: u32 = 10;
/// Line spacing of the body.
const LEADING: u32 = 14;
/// Title font size.
const TITLE_SIZE: u32 = 14;
/// Characters of Courier at [`SIZE`] that fit between the margins (0.6 em each).
pub const COLUMNS: usize = ((WIDTH - 2 * MARGIN) * 10 / (SIZE * 6)) as usize;
/// Body lines a page holds below the title.
const LINES_PER_PAGE: usize = ((HEIGHT - 2 * MARGIN - 2 * LEADING) / LEADING) as usize;

/// A byte of WinAnsiEncoding for `c`, or `?` when it has none.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        _ => b'?',
    }
}

/// `text` as a PDF literal string: WinAnsi bytes, the delimiters and the
/// backslash escaped, anything outside printable ASCII as an octal escape, so
/// the file stays ASCII and a line can never end a string early.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for c in text.chars() {
        match win_ansi(c) {
            b @ (b'(' | b')' | b'\\') => {
                out.push('\\');
                out.push(b as char);
            }
            b @ 0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out.push(')');
    out
}

/// Splits `line` into pieces of at most [`COLUMNS`] characters, at spaces
/// where it can; an empty line stays one empty line.
pub fn wrap(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.chars().filter(|c| !c.is_control()).collect();
    while rest.len() > COLUMNS {
        let cut = rest[..=COLUMNS]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&i| i > 0)
            .unwrap_or(COLUMNS);
        out.push(
            rest[..cut]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        rest = rest[cut..].to_vec();
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
    }
    out.push(rest.into_iter().collect());
    out
}

/// A PDF date, `D:YYYYMMDDHHmmSSZ`, of `t` (seconds, UTC).
fn pdf_date(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
        .map(|t| t.format("D:%Y%m%d%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// A PDF of `lines` under `title` on every page, made at `created`
/// (seconds, UTC), with page numbers; as many A4 pages as the lines need.
pub fn document(title: &str, lines: &[String], created: i64) -> Vec<u8> {
    let body: Vec<String> = lines.iter().flat_map(|l| wrap(l)).collect();
    let pages: Vec<&[String]> = if body.is_empty() {
        vec![&[]]
    } else {
        body.chunks(LINES_PER_PAGE).collect()
    };
    // Objects: 1 catalog, 2 page tree, 3 body font, 4 title font, 5 info,
    // then a page and its content stream for each page.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>".to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(
        format!(
            "<< /Title {} /Producer (Tessera) /CreationDate ({}) >>",
            literal(title),
            pdf_date(created)
        )
        .into_bytes(),
    );
    for (i, page) in pages.iter().enumerate() {
        let mut content = format!(
            "BT /F2 {TITLE_SIZE} Tf {MARGIN} {} Td {} Tj ET\n",
            HEIGHT - MARGIN - TITLE_SIZE,
            literal(title)
        );
        content.push_str(&format!(
            "BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {} Td\n",
            HEIGHT - MARGIN - TITLE_SIZE - 2 * LEADING
        ));
        for line in page.iter() {
            content.push_str(&literal(line));
            content.push_str(" Tj T*\n");
        }
        content.push_str("ET\n");
        content.push_str(&format!(
            "BT /F1 8 Tf {MARGIN} {} Td {} Tj ET\n",
            MARGIN / 2,
            literal(&format!("Page {} of {}", i + 1, pages.len()))
        ));
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"endstream");
        objects.push(stream);
    }
    // A binary comment on the second line tells transfer programs the file is binary.
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    // Each entry is exactly 20 bytes, its end of line two (space, LF).
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the cross-reference table back and checks every entry points
    /// at its object, as a reader would follow it.
    fn check_xref(pdf: &[u8]) -> usize {
        // Offsets are in bytes, and the second line is binary: read bytes.
        let find_last = |needle: &[u8]| {
            pdf.windows(needle.len())
                .rposition(|w| w == needle)
                .expect("found")
        };
        let tail = std::str::from_utf8(&pdf[find_last(b"startxref\n")..]).expect("ASCII");
        let start: usize = tail
            .lines()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        let table = std::str::from_utf8(&pdf[start..]).expect("ASCII");
        assert!(table.starts_with("xref\n0 "), "startxref points at xref");
        let mut lines = table.lines().skip(1);
        let count: usize = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|n| n.parse().ok())
            .expect("xref count");
        assert_eq!(lines.next(), Some("0000000000 65535 f "));
        for n in 1..count {
            let entry = lines.next().expect("an entry");
            assert_eq!(entry.len(), 19, "{entry:?} (20 bytes with its LF)");
            let offset: usize = entry[..10].parse().expect("an offset");
            assert!(
                pdf[offset..].starts_with(format!("{n} 0 obj\n").as_bytes()),
                "object {n} at {offset}"
            );
        }
        assert!(table.ends_with("%%EOF\n"));
        count - 1
    }

    #[test]
    fn a_document_has_a_true_cross_reference_table_and_exact_stream_lengths() {
        let lines: Vec<String> = (0..130).map(|i| format!("line {i} (of 130)")).collect();
        let pdf = document("Licence NW-1", &lines, 1_767_607_200);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        // 130 lines: three pages; 5 fixed objects and 2 a page.
        assert_eq!(check_xref(&pdf), 5 + 2 * 3);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3"));
        assert!(text.contains("(line 129 \\(of 130\\)) Tj"));
        assert!(text.contains("(D:20260105100000Z)"));
        // Every stream is as long as its /Length says.
        for part in text.split("<< /Length ").skip(1) {
            let (n, rest) = part.split_once(" >>\nstream\n").expect("a stream");
            let n: usize = n.parse().expect("a length");
            assert!(rest[n..].starts_with("endstream"), "length {n}");
        }
    }

    #[test]
    fn text_is_escaped_and_encoded_and_long_lines_wrap() {
        assert_eq!(literal(r"a(b)c\d"), r"(a\(b\)c\\d)");
        assert_eq!(literal("café – 5 €"), r"(caf\351 \226 5 \200)");
        assert_eq!(literal("日本"), "(??)");
        let long = "word ".repeat(40);
        let wrapped = wrap(&long);
        assert!(wrapped.len() > 1);
        assert!(wrapped.iter().all(|l| l.chars().count() <= COLUMNS));
        assert_eq!(wrapped.join(" ").split_whitespace().count(), 40);
        let unbroken = "x".repeat(COLUMNS * 2 + 3);
        assert_eq!(wrap(&unbroken).len(), 3);
        assert_eq!(wrap(""), vec![String::new()]);
        // Control characters never reach a content stream.
        assert_eq!(wrap("a\nb\rc"), vec!["abc".to_string()]);
        // An empty document is still one well-formed page.
        assert_eq!(check_xref(&document("Empty", &[], 0)), 7);
    }
}
