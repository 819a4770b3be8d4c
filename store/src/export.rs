//! `tessera export contracts`: a zip of every imported licence file as signed,
//! with a readable summary of each beside it, as text and as PDF (seed 000:
//! "download a PDF copy of your signed contracts ... as a Zip File"). Each
//! summary names the licence's issuer and is dated: issued, imported,
//! contract start and end, expiry.

use std::fs;
use std::io::Write;
use std::path::Path;

use licfile::Document;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::keys;
use crate::model::StoredLicence;

impl Store {
    /// Every imported licence, oldest first.
    pub fn imported_licences(&self) -> Result<Vec<StoredLicence>> {
        let mut out = Vec::new();
        for kv in self.db.tree()?.scan_prefix(keys::LICENCES) {
            let (_, v) = kv?;
            out.push(crate::model::decode(&v, "stored licence")?);
        }
        Ok(out)
    }

    /// The contracts zip, in memory: every imported licence file as signed, a
    /// readable summary of each, and an index.
    pub fn contracts_zip(&self) -> Result<(usize, Vec<u8>)> {
        let licences = self.imported_licences()?;
        let inst = self.installation()?;
        let zerr =
            |e: zip::result::ZipError| StoreError::Rule(format!("cannot build the zip: {e}"));
        let ioerr = |e: std::io::Error| StoreError::Rule(format!("cannot build the zip: {e}"));
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        let mut index = format!(
            "Signed licence contracts of installation {}{}\nExported {}\n\n",
            inst.serial,
            if inst.demo { " (DEMO)" } else { "" },
            self.now()?.format("%Y-%m-%d %H:%M UTC")
        );
        let roots = crate::licences::roots_for(inst.demo);
        let made = self.now()?.timestamp();
        for s in &licences {
            let base = format!("{:03}-{}", s.id, sanitise(&s.licence_id));
            zip.start_file(format!("licences/{base}.lic"), opts)
                .map_err(zerr)?;
            zip.write_all(s.armored.as_bytes()).map_err(ioerr)?;
            let lines = summary(s, &roots);
            let mut text = lines.join("\n");
            text.push('\n');
            zip.start_file(format!("licences/{base}.txt"), opts)
                .map_err(zerr)?;
            zip.write_all(text.as_bytes()).map_err(ioerr)?;
            let pdf = crate::pdf::document(
                &format!("Signed licence contract {}", s.licence_id),
                &lines,
                made,
            );
            zip.start_file(format!("licences/{base}.pdf"), opts)
                .map_err(zerr)?;
            zip.write_all(&pdf).map_err(ioerr)?;
            index.push_str(&format!(
                "{base}.lic  {}\n",
                lines.first().map(String::as_str).unwrap_or_default()
            ));
        }
        zip.start_file("README.txt", opts).map_err(zerr)?;
        zip.write_all(index.as_bytes()).map_err(ioerr)?;
        Ok((licences.len(), zip.finish().map_err(zerr)?.into_inner()))
    }

    /// Writes the contracts zip to `out`, which must not exist. Returns how many licences it holds.
    pub fn export_contracts(&self, out: &Path) -> Result<usize> {
        let (n, bytes) = self.contracts_zip()?;
        write_new_file(out, &bytes)?;
        Ok(n)
    }
}

/// Writes `bytes` to a new file at `out` (never overwriting), through a
/// temporary file beside it: created exclusively under an unpredictable name
/// (nothing another user planted there is followed or truncated), synced,
/// linked into place only if `out` is still free, and the directory synced.
pub fn write_new_file(out: &Path, bytes: &[u8]) -> Result<()> {
    if fs::symlink_metadata(out).is_ok() {
        return Err(StoreError::FileExists(out.to_path_buf()));
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o640))
        .tempfile_in(&dir)
        // Named by the file asked for: the temporary name means nothing to the reader.
        .map_err(|e| StoreError::io(out, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| StoreError::io(out, e))?;
    tmp.persist_noclobber(out).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::FileExists(out.to_path_buf())
        } else {
            StoreError::io(out, e.error)
        }
    })?;
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn sanitise(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The issuer's name: an endorsed issuer by its name, the vendor by the
/// name of the root key that signed it.
fn issuer_name(s: &StoredLicence, doc: &licfile::SignedDocument, roots: &licfile::Roots) -> String {
    if !s.issuer.is_empty() {
        return s.issuer.clone();
    }
    roots
        .find(doc.envelope.key_id)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| "the vendor".into())
}

/// The readable summary of one licence, a line each: what the text file
/// holds and the PDF sets.
fn summary(s: &StoredLicence, roots: &licfile::Roots) -> Vec<String> {
    let imported = crate::rules::check::fmt_minute(s.imported_at);
    let mut out = Vec::new();
    let Ok(doc) = licfile::signed::read(s.armored.as_bytes()) else {
        return vec![format!("licence {} (unreadable)", s.licence_id)];
    };
    let issuer = issuer_name(s, &doc, roots);
    let Document::Licence(l) = doc.document else {
        return vec![format!("licence {} (not a licence)", s.licence_id)];
    };
    out.push(format!(
        "Licence {} sequence {} for {} (serial {})",
        l.licence_id, l.sequence, l.licensee.company, l.serial
    ));
    out.push(format!("Serial: {}", l.serial));
    out.push(format!("Issuer: {issuer}  key {}", s.key_id));
    out.push(format!(
        "Issued: {}",
        crate::rules::check::fmt_minute(l.issued_at.seconds())
    ));
    out.push(format!("Imported: {imported} by {}", s.imported_by));
    out.push(format!(
        "Licensee: {} <{}>",
        l.licensee.company, l.licensee.email
    ));
    out.push(format!("Plan: {} (tier {})", l.plan.name, l.plan.tier));
    out.push(format!(
        "Contract: {} to {}{}",
        l.contract.start,
        l.contract.end,
        if l.contract.auto_renew {
            ", renews automatically"
        } else {
            ""
        }
    ));
    match l.expiry {
        Some(e) => out.push(format!(
            "Expires: {} (then {} days' grace)",
            e.date, e.grace_days
        )),
        None => out.push("Expires: never".into()),
    }
    out.push(String::new());
    out.push("Seats:".into());
    for p in &l.seat_pools {
        out.push(format!(
            "  {} {} ({}): {} seats at {} {} {}",
            p.area,
            p.licence,
            p.term,
            p.count,
            p.price,
            l.currency,
            if p.term == licfile::Term::Daily {
                "a user-day"
            } else {
                "a month"
            }
        ));
    }
    for a in &l.add_ons {
        out.push(format!(
            "  add-on {}: {} at {} {} a month",
            a.name, a.count, a.price, l.currency
        ));
    }
    for i in &l.integrations {
        out.push(format!(
            "  integration {}: {} at {} {} a month",
            i.name,
            if i.follows_standard {
                "follows standard seats".to_string()
            } else {
                format!("{} seats", i.count)
            },
            i.price,
            l.currency
        ));
    }
    out
}
