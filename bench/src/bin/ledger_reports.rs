//! Writes the signed usage reports of many sites, for `bench/ledger.sh`: what
//! `tessera report usage` would write at each site, without running a store
//! per site.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --bin ledger_reports -- \
//!     --licences DIR --out DIR --months 2026-10,2026-11 [--stranger SERIAL] [--seed HEX]
//! ```
//!
//! - `--licences DIR`: the licence files the vendor issued (`*.lic`, as
//!   `vendor issue --batch` writes them); a site is a serial, and its report
//!   names the highest sequence issued for it. The files are decoded, not
//!   verified: they are the ones the benchmark has just issued.
//! - `--months A,B,…`: consecutive reports of every site, one a month, each
//!   into `OUT/<month>/`. As at a real site, each report is format 2, chained
//!   to the one before it (the first follows none) and to a site audit log
//!   that grows from month to month, and the report id is the store's
//!   `SERIAL-UYYYYMM-N`, N the site's report counter.
//! - Each site has its own installation key (ed25519, its seed derived from
//!   `--seed` and the serial, so a seed gives the same keys again), and signs
//!   every one of its reports with it. The vendor's ledger learns that key on
//!   first sight: invoicing the first month takes every site's key.
//! - `--stranger SERIAL`: that serial's report of the last month is signed
//!   by another key (a stranger's, or a reinstalled site's), which the
//!   ledger refuses once it knows the site's own key.
//!
//! What a site reports comes from its licence, as a site's store makes it:
//! each pool's seats as licensed, a peak in use, up to a daily pool's seats in
//! users charged on a few days each, metered use around each threshold, storage under the
//! allowance; it varies from site to site and month to month. A report too
//! large for one document is split into parts as the site splits it
//! (`licfile::report::split`), each part its own file
//! (`NAME.partK-of-N.tsr`).
//!
//! The last line is for scripts:
//! `result: sites=… reports=… files=… stranger=PATH` (`stranger=-` without one).
//! Exits 1 on any error, 2 on bad arguments.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use licfile::document::{DailyPoolDays, MeteredUsage, PoolUsage, ReportChain, Term, UserDays};
use licfile::{DaySet, Document, Licence, SecretKey, Timestamp, UsageReport, YearMonth};
use sha2::{Digest, Sha256};

struct Args {
    licences: PathBuf,
    out: PathBuf,
    months: Vec<YearMonth>,
    stranger: Option<String>,
    seed: [u8; 32],
}

const USAGE: &str = "usage: ledger_reports --licences DIR --out DIR --months YYYY-MM[,YYYY-MM…] \
                     [--stranger SERIAL] [--seed HEX64]";

fn parse_args() -> Result<Args, String> {
    let mut licences = None;
    let mut out = None;
    let mut months = Vec::new();
    let mut stranger = None;
    let mut seed = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--licences" => licences = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--months" => {
                for m in value()?.split(',') {
                    months.push(
                        m.trim()
                            .parse::<YearMonth>()
                            .map_err(|e| format!("--months: {m:?}: {e}"))?,
                    );
                }
            }
            "--stranger" => stranger = Some(value()?),
            "--seed" => seed = Some(parse_seed(&value()?)?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if months.is_empty() {
        return Err(format!("--months is required\n{USAGE}"));
    }
    // Consecutive, as a site reports: a month left out would be a gap in every chain.
    for pair in months.windows(2) {
        if pair[1] != pair[0].next() {
            return Err(format!(
                "--months must be consecutive: {} does not follow {}",
                pair[1], pair[0]
            ));
        }
    }
    let seed = match seed {
        Some(s) => s,
        None => {
            let mut s = [0u8; 32];
            getrandom::fill(&mut s).map_err(|e| format!("no random seed: {e}"))?;
            s
        }
    };
    Ok(Args {
        licences: licences.ok_or_else(|| format!("--licences is required\n{USAGE}"))?,
        out: out.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
        months,
        stranger,
        seed,
    })
}

fn parse_seed(hex: &str) -> Result<[u8; 32], String> {
    let bad = || format!("--seed: {hex:?} is not 64 hex digits");
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    Ok(seed)
}

/// SHA-256 of the labelled parts: the deterministic source of every key,
/// count and day below, so that a seed gives the same reports again.
fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// A number in `0..n` drawn from the hash of the labelled parts.
fn pick(n: u64, parts: &[&[u8]]) -> u64 {
    let h = hash(parts);
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    u64::from_le_bytes(first) % n.max(1)
}

/// The latest licence of each serial in `dir`, by serial.
fn read_licences(dir: &Path) -> Result<BTreeMap<String, Licence>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the directory {}: {e}", dir.display()))?;
    let mut latest: BTreeMap<String, Licence> = BTreeMap::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read the directory {}: {e}", dir.display()))?
            .path();
        if path.extension().is_none_or(|e| e != "lic") {
            continue;
        }
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc = licfile::signed::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let Document::Licence(l) = doc.document else {
            return Err(format!("{}: not a licence", path.display()));
        };
        match latest.get(&l.serial) {
            Some(held) if held.sequence >= l.sequence => {}
            _ => {
                latest.insert(l.serial.clone(), l);
            }
        }
    }
    if latest.is_empty() {
        return Err(format!("no licence files (*.lic) in {}", dir.display()));
    }
    Ok(latest)
}

/// One site: its licence, its installation key, and what its store carries
/// from one report to the next.
struct Site {
    licence: Licence,
    key: SecretKey,
    reports_made: u64,
    audit_seq: u64,
    previous_report: Option<String>,
}

impl Site {
    fn new(licence: Licence, seed: &[u8; 32]) -> Result<Site, String> {
        let serial = licence.serial.clone();
        let key_seed = hash(&[b"installation key", seed, serial.as_bytes()]);
        let key = SecretKey::from_seed(&key_seed)
            .map_err(|e| format!("serial {serial}: no installation key from the seed: {e}"))?;
        // A site whose store has been running a while: its log starts somewhere.
        let audit_seq = 50 + pick(2_000, &[b"audit start", seed, serial.as_bytes()]);
        Ok(Site {
            licence,
            key,
            reports_made: 0,
            audit_seq,
            previous_report: None,
        })
    }

    /// The report of `month`, as the site's store makes it at the start of the
    /// next month: whole (before any split), chained to the one before it.
    fn report(&mut self, month: YearMonth, seed: &[u8; 32]) -> UsageReport {
        let l = &self.licence;
        let serial = l.serial.as_bytes();
        let m = month.to_string();
        let label = |what: &'static [u8]| -> Vec<&[u8]> { vec![what, seed, serial, m.as_bytes()] };
        let pools: Vec<PoolUsage> = l
            .seat_pools
            .iter()
            .map(|p| {
                let peak = if p.count == 0 {
                    0
                } else {
                    let mut parts = label(b"peak");
                    parts.push(p.licence.as_bytes());
                    // Most of a pool in use at its busiest, seldom all of it.
                    let spare = pick(u64::from(p.count) / 4 + 1, &parts);
                    p.count - u32::try_from(spare).unwrap_or(0).min(p.count)
                };
                PoolUsage {
                    area: p.area.clone(),
                    licence: p.licence.clone(),
                    term: p.term,
                    total: p.count,
                    peak_in_use: peak,
                    price: p.price,
                }
            })
            .collect();
        let days_in_month = month.days();
        let mut daily_user_days = Vec::new();
        for p in l.seat_pools.iter().filter(|p| p.term == Term::Daily) {
            let mut parts = label(b"daily users");
            parts.push(p.licence.as_bytes());
            // No more users than the pool has seats: a daily seat is held by one user.
            let users = pick(u64::from(p.count) + 1, &parts);
            let mut charged = Vec::new();
            for u in 0..users {
                let name = format!("daily.{:03}", u + 1);
                let mut days = DaySet::EMPTY;
                let mut parts = label(b"days");
                parts.push(p.licence.as_bytes());
                parts.push(name.as_bytes());
                let count = 1 + pick(12, &parts);
                for d in 0..count {
                    let n = d.to_le_bytes();
                    let mut parts = parts.clone();
                    parts.push(&n);
                    let day = 1 + pick(u64::from(days_in_month), &parts);
                    // A day drawn twice is one charge, as at the site.
                    days.insert(u32::try_from(day).unwrap_or(1));
                }
                charged.push(UserDays { user: name, days });
            }
            if !charged.is_empty() {
                daily_user_days.push(DailyPoolDays {
                    area: p.area.clone(),
                    licence: p.licence.clone(),
                    users: charged,
                });
            }
        }
        // The users a threshold counts: the most active at once, within the seats.
        let seated: u64 = pools
            .iter()
            .filter(|p| p.term != Term::Daily)
            .map(|p| u64::from(p.peak_in_use))
            .sum::<u64>()
            + daily_user_days
                .iter()
                .map(|g| g.users.len() as u64)
                .sum::<u64>();
        let metered = l
            .metered_services
            .iter()
            .map(|s| {
                let threshold = s
                    .base_allowance
                    .saturating_add(s.allowance_per_user.saturating_mul(seated));
                let mut parts = label(b"metered");
                parts.push(s.name.as_bytes());
                // Between half the threshold and half as much again: some sites pay overage.
                let used = threshold / 2 + pick(threshold + 1, &parts);
                MeteredUsage {
                    name: s.name.clone(),
                    used,
                    threshold,
                    excess: used.saturating_sub(threshold),
                    overage_price: s.overage_price,
                }
            })
            .collect();
        let allowance_gb: u64 = l
            .seat_pools
            .iter()
            .filter(|p| p.term != Term::Daily)
            .map(|p| u64::from(p.count) * u64::from(p.storage_gb_per_seat))
            .sum();
        let storage_used_bytes = pick(allowance_gb.max(1) * 1_000_000_000, &label(b"storage"));

        // A month of the site's work in its action log: logins, purchases, ticks.
        self.audit_seq += 30 + pick(400, &label(b"events"));
        let audit_head = hash(&[b"audit head", seed, serial, &self.audit_seq.to_le_bytes()]);
        self.reports_made += 1;
        let report_id = format!(
            "{}-U{}{:02}-{}",
            l.serial,
            month.year(),
            month.month(),
            self.reports_made
        );
        let made = month
            .next()
            .first_day()
            .and_hms_opt(2, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp());
        UsageReport {
            serial: l.serial.clone(),
            report_id: report_id.clone(),
            part: 1,
            parts: 1,
            created_at: Timestamp(made),
            installation_key: self.key.public().raw(),
            month,
            licence_sequence: l.sequence,
            pools,
            daily_user_days,
            metered,
            storage_used_bytes,
            storage_allowance_gb: allowance_gb,
            currency: l.currency.clone(),
            chain: Some(ReportChain {
                audit_seq: self.audit_seq,
                audit_head,
                previous_report: self.previous_report.replace(report_id),
            }),
        }
    }
}

/// Splits `report` as the site does, signs each part with `key` and writes
/// it into `dir`; the files written.
fn write_report(report: UsageReport, key: &SecretKey, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let stem = format!("{}-{}", report.serial, report.month);
    let id = report.report_id.clone();
    let parts = licfile::report::split(report).map_err(|e| format!("report {id}: {e}"))?;
    let n = parts.len();
    let mut files = Vec::with_capacity(n);
    for part in parts {
        let name = if n == 1 {
            format!("{stem}.tsr")
        } else {
            format!("{stem}.part{}-of-{n}.tsr", part.part)
        };
        let text = licfile::signed::sign(&Document::UsageReport(part), key, None)
            .map_err(|e| format!("report {id}: cannot sign it: {e}"))?;
        let path = dir.join(name);
        write_new(&path, text.as_bytes())?;
        files.push(path);
    }
    Ok(files)
}

/// Writes a new file; an existing one is an error (a report is never overwritten).
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run(args: &Args) -> Result<String, String> {
    let licences = read_licences(&args.licences)?;
    if let Some(s) = &args.stranger
        && !licences.contains_key(s)
    {
        return Err(format!(
            "--stranger {s}: no licence for that serial in {}",
            args.licences.display()
        ));
    }
    let mut sites = licences
        .into_values()
        .map(|l| Site::new(l, &args.seed))
        .collect::<Result<Vec<_>, _>>()?;
    let stranger_key = SecretKey::from_seed(&hash(&[b"stranger", &args.seed]))
        .map_err(|e| format!("no stranger's key from the seed: {e}"))?;
    let last = args.months.len() - 1;
    let (mut reports, mut files) = (0usize, 0usize);
    let mut stranger_file = None;
    for (i, month) in args.months.iter().enumerate() {
        let dir = args.out.join(month.to_string());
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for site in &mut sites {
            let report = site.report(*month, &args.seed);
            let strange = i == last && args.stranger.as_deref() == Some(&site.licence.serial);
            let (key, report) = if strange {
                // The same report, made and signed at another installation.
                let mut r = report;
                r.installation_key = stranger_key.public().raw();
                (&stranger_key, r)
            } else {
                (&site.key, report)
            };
            let written = write_report(report, key, &dir)?;
            if strange {
                stranger_file = written.first().cloned();
            }
            reports += 1;
            files += written.len();
        }
    }
    Ok(format!(
        "result: sites={} reports={reports} files={files} stranger={}",
        sites.len(),
        stranger_file.map_or("-".to_string(), |p| p.display().to_string())
    ))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ledger_reports: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ledger_reports: {e}");
            ExitCode::from(1)
        }
    }
}
