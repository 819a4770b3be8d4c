//! Documents rendered for people (`inspect`, `verify`) and as JSON.

use std::fmt::Write as _;

use licfile::{
    ClockCorrection, ClockRequest, Document, Licence, LicenceRequest, SignedDocument, UsageReport,
};

/// The document's fields as JSON, with an `inspect` section about the file.
///
/// For a licence this is a valid `vendor issue` spec.
pub fn json(doc: &SignedDocument, verified: bool) -> serde_json::Value {
    let mut value = match &doc.document {
        Document::Licence(d) => serde_json::to_value(d),
        Document::Request(d) => serde_json::to_value(d).map(|mut v| {
            // Format 2's modules are not a serde field (format 1 has none).
            if let Some(m) = &d.modules {
                v["modules"] = serde_json::to_value(m).unwrap_or_default();
            }
            v
        }),
        Document::UsageReport(d) => serde_json::to_value(d).map(|mut v| {
            // Format 2's chain is not a serde field (format 1 has none).
            if let Some(c) = &d.chain {
                v["chain"] = serde_json::json!({
                    "audit_seq": c.audit_seq,
                    "audit_head": c.audit_head.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    "previous_report": c.previous_report,
                });
            }
            v
        }),
        Document::Endorsement(d) => serde_json::to_value(d),
        Document::ClockRequest(d) => serde_json::to_value(d),
        Document::ClockCorrection(d) => serde_json::to_value(d),
        Document::Lease(d) => serde_json::to_value(d),
    }
    .unwrap_or(serde_json::Value::Null);
    let endorsement = doc.endorsement.as_ref().map(|c| {
        serde_json::json!({
            "root_key_id": c.envelope.key_id.to_string(),
            "issuer": c.endorsement.issuer,
            "issuer_key_id": licfile::KeyId::of(&c.endorsement.issuer_key.0).to_string(),
            "products": c.endorsement.products,
            "until": c.endorsement.until,
        })
    });
    let inspect = serde_json::json!({
        "document": doc.envelope.kind,
        "format_version": licfile::constants::FORMAT_VERSION,
        "key_id": doc.envelope.key_id.to_string(),
        "endorsement": endorsement,
        "verified": verified,
        "note": if verified { "signature checked" } else { "not verified: this is what the file says; run `tessera verify` to check it" },
    });
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("inspect".into(), inspect);
    }
    value
}

/// A readable description of the document.
pub fn text(doc: &SignedDocument) -> String {
    let mut s = String::new();
    match &doc.document {
        Document::Licence(l) => licence(&mut s, l, doc),
        Document::Request(r) => request(&mut s, r),
        Document::UsageReport(r) => report(&mut s, r),
        Document::Endorsement(e) => {
            let _ = writeln!(s, "Issuer endorsement for \"{}\"", e.issuer);
            field(
                &mut s,
                "Issuer key",
                &licfile::KeyId::of(&e.issuer_key.0).to_string(),
            );
            field(&mut s, "Products", &e.products.join(", "));
            field(&mut s, "Issued", &e.issued_at.to_string());
            field(&mut s, "Until", &e.until.to_string());
            field(
                &mut s,
                "Signed by",
                &format!("root key {}", doc.envelope.key_id),
            );
        }
        Document::ClockRequest(r) => clock_request(&mut s, r),
        Document::ClockCorrection(c) => clock_correction(&mut s, c, doc),
        Document::Lease(l) => lease(&mut s, l),
    }
    s
}

fn lease(s: &mut String, l: &licfile::Lease) {
    let _ = writeln!(s, "Lease for user {} of serial {}", l.user, l.serial);
    let seat = match &l.seat {
        Some(seat) => format!(
            "{} {} ({}), issued by {}",
            seat.area, seat.licence, seat.term, seat.issuer
        ),
        None => "none (a role that works without a seat)".to_string(),
    };
    field(s, "Seat", &seat);
    field(s, "Issued", &l.issued_at.to_string());
    field(s, "Not after", &l.not_after.to_string());
    field(s, "Renew at", &l.renew_at().to_string());
    field(
        s,
        "Install. key",
        &licfile::KeyId::of(&l.installation_key.0).to_string(),
    );
}

/// A nonce as lowercase hex, as people compare it between request and correction.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn clock_request(s: &mut String, r: &ClockRequest) {
    let _ = writeln!(s, "Clock request from serial {}", r.serial);
    field(s, "High-water", &r.high_water.to_string());
    field(s, "Created", &r.created_at.to_string());
    field(s, "Nonce", &hex(&r.nonce));
    field(
        s,
        "Install. key",
        &licfile::KeyId::of(&r.installation_key.0).to_string(),
    );
}

fn clock_correction(s: &mut String, c: &ClockCorrection, doc: &SignedDocument) {
    let _ = writeln!(s, "Clock correction for serial {}", c.serial);
    field(s, "Vendor time", &c.time.to_string());
    field(s, "Valid until", &c.valid_until.to_string());
    field(
        s,
        "Corrects",
        &format!("high-water mark {}", c.corrected_mark),
    );
    field(s, "Nonce", &hex(&c.nonce));
    field(s, "Signed by", &format!("root key {}", doc.envelope.key_id));
}

fn field(s: &mut String, name: &str, value: &str) {
    let _ = writeln!(s, "  {name:<13}{value}");
}

fn licence(s: &mut String, l: &Licence, doc: &SignedDocument) {
    let _ = writeln!(
        s,
        "Licence for serial {} (sequence {}, id {})",
        l.serial, l.sequence, l.licence_id
    );
    field(s, "Issued", &l.issued_at.to_string());
    let signer = match &doc.endorsement {
        None => format!("key {}", doc.envelope.key_id),
        Some(c) => format!(
            "key {} of issuer \"{}\", endorsed by root key {} for {} until {}",
            doc.envelope.key_id,
            c.endorsement.issuer,
            c.envelope.key_id,
            c.endorsement.products.join(", "),
            c.endorsement.until
        ),
    };
    field(s, "Signed by", &signer);
    field(s, "Product", &l.product);
    field(
        s,
        "Licensee",
        &format!("{} <{}>", l.licensee.company, l.licensee.email),
    );
    field(
        s,
        "Plan",
        &format!("{} (tier {})", l.plan.name, l.plan.tier),
    );
    field(
        s,
        "Contract",
        &format!(
            "{} to {}, {}, renewal window {} days",
            l.contract.start,
            l.contract.end,
            if l.contract.auto_renew {
                "renews automatically"
            } else {
                "does not renew by itself"
            },
            l.contract.renewal_window_days
        ),
    );
    field(
        s,
        "Expires",
        &match l.expiry {
            None => "never (not time-limited)".to_string(),
            Some(e) => format!("{}, then {} days' grace", e.date, e.grace_days),
        },
    );
    field(s, "Currency", &l.currency);
    field(
        s,
        "Over-alloc.",
        &format!("{} days' grace to buy seats", l.overage_grace_days),
    );

    let _ = writeln!(s, "\nSeat pools");
    let _ = writeln!(
        s,
        "  {:<8} {:<16} {:<11} {:>6} {:>8} {:>10}",
        "AREA", "LICENCE", "TERM", "SEATS", "GB/SEAT", "PRICE"
    );
    for p in &l.seat_pools {
        let per = if p.term == licfile::Term::Daily {
            "/user-day"
        } else {
            "/month"
        };
        let _ = writeln!(
            s,
            "  {:<8} {:<16} {:<11} {:>6} {:>8} {:>10}{per}",
            p.area, p.licence, p.term, p.count, p.storage_gb_per_seat, p.price
        );
        if !p.limited_to.is_empty() {
            let _ = writeln!(s, "  {:<8} limited to: {}", "", p.limited_to.join(", "));
        }
    }
    if !l.system_licences.is_empty() {
        let _ = writeln!(s, "\nSystem licences");
        for x in &l.system_licences {
            if x.description.is_empty() {
                let _ = writeln!(s, "  {}", x.name);
            } else {
                let _ = writeln!(s, "  {:<26} {}", x.name, x.description);
            }
        }
    }
    if !l.add_ons.is_empty() {
        let _ = writeln!(s, "\nAdd-on modules");
        for a in &l.add_ons {
            let _ = writeln!(s, "  {:<26} {:>6} {:>10}/month", a.name, a.count, a.price);
        }
    }
    if !l.integrations.is_empty() {
        let _ = writeln!(s, "\nIntegrations");
        for i in &l.integrations {
            let seats = if i.follows_standard {
                "follows standard seats".to_string()
            } else {
                format!("{} seats", i.count)
            };
            let _ = writeln!(s, "  {:<26} {:<22} {:>10}/month", i.name, seats, i.price);
        }
    }
    if !l.metered_services.is_empty() {
        let _ = writeln!(s, "\nMetered services (a month)");
        for m in &l.metered_services {
            let _ = writeln!(
                s,
                "  {:<26} {} + {} per user {} free, then {} each",
                m.name,
                m.base_allowance,
                m.allowance_per_user,
                m.unit,
                m.overage_price.value()
            );
        }
    }
}

fn request(s: &mut String, r: &LicenceRequest) {
    let _ = writeln!(
        s,
        "Licence request {} from serial {}",
        r.request_id, r.serial
    );
    field(s, "Created", &r.created_at.to_string());
    field(
        s,
        "Licensee",
        &format!("{} <{}>", r.licensee.company, r.licensee.email),
    );
    field(s, "Product", &r.product);
    field(
        s,
        "In force",
        &format!("licence sequence {}", r.licence_sequence),
    );
    field(
        s,
        "Install. key",
        &licfile::KeyId::of(&r.installation_key.0).to_string(),
    );
    let _ = writeln!(s, "\nChanges");
    for c in &r.changes {
        let verb = match c.action {
            licfile::SeatAction::Add => "add",
            licfile::SeatAction::Remove => "remove",
        };
        let _ = writeln!(
            s,
            "  {verb} {} {} ({}) seats from {}",
            c.count,
            store::model::licence_label(&c.area, &c.licence),
            c.term,
            c.effective
        );
    }
    for m in r.module_changes() {
        let verb = match m.action {
            licfile::SeatAction::Add => "add",
            licfile::SeatAction::Remove => "remove",
        };
        let _ = writeln!(
            s,
            "  {verb} {} {} {} licences from {}",
            m.count, m.name, m.kind, m.effective
        );
    }
    if !r.costs.is_empty() {
        let _ = writeln!(s, "\nCost breakdown ({})", r.currency);
        for c in &r.costs {
            let _ = writeln!(s, "  {:<78} {:>10}", c.description, c.amount);
        }
        let _ = writeln!(s, "  {:<78} {:>10}", "Total", r.total);
    }
    if !r.note.is_empty() {
        field(s, "Note", &r.note);
    }
}

fn report(s: &mut String, r: &UsageReport) {
    let _ = writeln!(
        s,
        "Usage report {} for {} from serial {}",
        r.report_id, r.month, r.serial
    );
    if let Some(c) = &r.chain {
        let head: String = c.audit_head[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        field(
            s,
            "Chained to",
            &format!(
                "event {} of the site's log ({head}…), after {}",
                c.audit_seq,
                c.previous_report.as_deref().unwrap_or("no earlier report")
            ),
        );
    }
    if r.parts > 1 {
        let also = if r.part == 1 {
            "with the seats, metered services and storage"
        } else {
            "more daily user-days; part 1 has the seats"
        };
        field(
            s,
            "Part",
            &format!(
                "{} of {} ({also}); invoice all parts together",
                r.part, r.parts
            ),
        );
    }
    field(s, "Created", &r.created_at.to_string());
    field(
        s,
        "In force",
        &format!("licence sequence {}", r.licence_sequence),
    );
    field(
        s,
        "Install. key",
        &licfile::KeyId::of(&r.installation_key.0).to_string(),
    );
    if !r.pools.is_empty() {
        let _ = writeln!(s, "\nSeats (peak in use / total)");
        for p in &r.pools {
            let _ = writeln!(
                s,
                "  {:<8} {:<16} {:<11} {:>6} / {}",
                p.area, p.licence, p.term, p.peak_in_use, p.total
            );
        }
    }
    for g in &r.daily_user_days {
        let days = g.user_days();
        let _ = writeln!(
            s,
            "\nDaily user-days, {}: {days} of {} users",
            licfile::document::licence_label(&g.area, &g.licence),
            g.users.len()
        );
        for u in &g.users {
            let list = u
                .days
                .days()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let _ = writeln!(s, "  {:<24} {:>3} days ({list})", u.user, u.days.len());
        }
    }
    if !r.metered.is_empty() {
        let _ = writeln!(s, "\nMetered services");
        for m in &r.metered {
            let _ = writeln!(
                s,
                "  {:<26} used {} of {} free, excess {}",
                m.name, m.used, m.threshold, m.excess
            );
        }
    }
    field(
        s,
        "Storage",
        &format!(
            "{:.1} GB used of {} GB",
            r.storage_used_bytes as f64 / 1e9,
            r.storage_allowance_gb
        ),
    );
}
