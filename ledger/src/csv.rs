//! Invoices as CSV for an accounts team (RFC 4180).

use crate::model::InvoiceRow;

/// The header of [`invoice_lines_csv`].
pub const CSV_HEADER: [&str; 9] = [
    "serial",
    "month",
    "report",
    "invoice",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "currency",
];

/// A field as RFC 4180 writes it: in double quotes, its quotes doubled, when
/// it holds a comma, a quote or a line break; as it is otherwise.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per invoice line (serial, month, report, invoice id, description,
/// quantity, unit price, amount, currency) under a header row; lines end in
/// CRLF as RFC 4180 says. Amounts are written exactly as kept.
pub fn invoice_lines_csv(invoices: &[InvoiceRow]) -> String {
    let mut out = String::new();
    let mut row = |fields: &[&str]| {
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    row(&CSV_HEADER);
    for inv in invoices {
        let r = &inv.record;
        let id = inv.id.to_string();
        for l in &r.lines {
            row(&[
                &r.serial,
                &r.month,
                &r.report_id,
                &id,
                &l.description,
                &l.quantity.to_string(),
                &l.unit_price.to_string(),
                &l.amount.to_string(),
                &r.currency,
            ]);
        }
    }
    out
}
