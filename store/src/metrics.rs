//! Metrics: the store's facts and the service's counters as Prometheus text
//! (exposition format 0.0.4), for `tessera serve --metrics` and `tessera metrics`.
//!
//! The facts ([`StoreFacts`]: seats, licences, metered use, the clock) are
//! read by the [`crate::Op::Metrics`] operation through the gate like every
//! other read; the service adds what only it knows ([`ServiceFacts`]:
//! requests, latency, connections, syncs). [`render`] turns both into text,
//! and says nothing about counters it was not given: run directly on the
//! store, `tessera metrics` prints the facts alone.
//!
//! ```
//! use store::metrics::{Metrics, StoreFacts, render};
//!
//! let facts = StoreFacts {
//!     serial: "NW-000123".into(),
//!     users_active: 3,
//!     ..StoreFacts::default()
//! };
//! let text = render(&Metrics { store: facts, service: None });
//! assert!(text.contains("# TYPE tessera_users_active gauge\ntessera_users_active 3\n"));
//! assert!(!text.contains("tessera_requests_total"));
//! ```

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::Result;
#[cfg(test)]
use crate::error::StoreError;

/// The content type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the request latency histogram, in seconds: a `check`
/// answered at once takes tens of microseconds, a synced write a few
/// milliseconds (p99 about 22 ms on a two-core machine), a report or an audit
/// of a large store up to seconds.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
    5.0,
];

/// How long the store's facts are reused while nothing is written (and
/// within the same second of the store's time): a Prometheus server, a
/// textfile timer and an administrator scraping at once read the store once a
/// second at most, and never serve a fact older than the last change.
pub const FACTS_FRESH_FOR: Duration = Duration::from_secs(1);

/// Everything the metrics say: the store's facts, and the service's counters
/// when a service answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Read from the store.
    pub store: StoreFacts,
    /// Counted by the running service; `None` when the store was opened
    /// directly (nothing counted them).
    #[serde(default)]
    pub service: Option<ServiceFacts>,
}

/// What the store holds now, as the metrics report it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreFacts {
    /// The installation's serial.
    pub serial: String,
    /// Today, by the rules (the later of the clock and the latest time seen).
    pub today: Option<chrono::NaiveDate>,
    /// Every pool of every licence in force.
    pub pools: Vec<PoolFacts>,
    /// Active users.
    pub users_active: u64,
    /// Users activated with no free seat, within or past their grace.
    pub users_over_allocated: u64,
    /// Every licence in force.
    pub licences: Vec<LicenceFacts>,
    /// Metered services this month.
    pub metered: Vec<MeteredFacts>,
    /// Storage in use, bytes.
    pub storage_used_bytes: u64,
    /// Pooled storage allowance, bytes.
    pub storage_allowance_bytes: u64,
    /// Seconds the machine's clock is behind the latest time the store has
    /// seen (0 when it is not behind).
    pub clock_behind_seconds: i64,
    /// Whether that is beyond the tolerance (a day): the warning `status` shows.
    pub clock_warning: bool,
}

/// One seat pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolFacts {
    /// Issuer ("" for the vendor).
    pub issuer: String,
    /// Product area.
    pub area: String,
    /// Licence with its area, e.g. "Jobs User".
    pub licence: String,
    /// contracted, monthly or daily.
    pub term: String,
    /// Seats granted (less reductions already due).
    pub total: u64,
    /// Seats assigned to active users.
    pub in_use: u64,
    /// Seats free.
    pub available: u64,
    /// Seats bought and not yet granted by a licence.
    pub pending: u64,
    /// Active holders beyond the total.
    pub over_allocated: u64,
}

/// One licence in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceFacts {
    /// Issuer ("" for the vendor).
    pub issuer: String,
    /// Licence id.
    pub licence_id: String,
    /// valid, expiring, grace or terminated.
    pub state: String,
    /// Seconds from the store's now to the end of the expiry day (its last
    /// day in force, UTC): negative once expired; `None` for a licence that
    /// does not expire.
    pub expiry_remaining_seconds: Option<i64>,
    /// Seconds from the store's now to the first moment of termination (the
    /// end of the grace after expiry): 0 or less once terminated; `None` if it
    /// does not expire.
    pub termination_remaining_seconds: Option<i64>,
}

/// One metered service this month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeteredFacts {
    /// Issuer of the licence that meters it ("" for the vendor).
    pub issuer: String,
    /// Service identifier.
    pub service: String,
    /// Its unit.
    pub unit: String,
    /// Used this month.
    pub used: u64,
    /// Free this month: base + per-user x active users.
    pub threshold: u64,
}

/// What the running service counted since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceFacts {
    /// When the service started (seconds since 1970).
    pub started_at: i64,
    /// Requests answered, by operation and outcome.
    pub requests: Vec<RequestCount>,
    /// Latency of the requests answered, by operation (only operations asked
    /// for at least once).
    pub latency: Vec<Latency>,
    /// Connections open now (socket and TLS clients).
    pub connections_open: u64,
    /// Connections accepted since the service started.
    pub connections_total: u64,
    /// Changes made durable (flushed and `fdatasync`ed) since the service started.
    pub synced_writes: u64,
    /// Syncs that made them so: several changes share one under load.
    pub syncs: u64,
}

/// A count of requests of one operation with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCount {
    /// The operation's wire name.
    pub op: String,
    /// ok, not_permitted, refused or error ([`Outcome`]).
    pub outcome: String,
    /// How many.
    pub count: u64,
}

/// The latency histogram of one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// The operation's wire name.
    pub op: String,
    /// Requests at or under each bound of [`LATENCY_BUCKETS`] (cumulative).
    pub buckets: Vec<u64>,
    /// Every request's latency added up, seconds.
    pub sum_seconds: f64,
    /// Requests.
    pub count: u64,
}

/// How a request ended, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered.
    Ok,
    /// The caller may not ask this (role, no account).
    NotPermitted,
    /// A business rule or bad arguments refused it: the caller's to fix.
    Refused,
    /// The store could not answer (I/O, disk full, damaged record, busy):
    /// the administrator's to look at.
    Error,
}

impl Outcome {
    /// Every outcome, in the order of [`Outcome::index`].
    pub const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::NotPermitted,
        Outcome::Refused,
        Outcome::Error,
    ];

    /// The outcome of a result.
    pub fn of<T>(result: &Result<T>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(e) if e.code() == crate::Code::NotPermitted => Outcome::NotPermitted,
            Err(e) if e.is_refusal() => Outcome::Refused,
            Err(_) => Outcome::Error,
        }
    }

    /// The label value.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotPermitted => "not_permitted",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
        }
    }

    /// Its place in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The facts last read, kept for [`FACTS_FRESH_FOR`] while nothing is written.
#[derive(Debug, Default)]
pub(crate) struct FactsCache {
    last: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    at: Instant,
    /// Changes applied, tree generation, and the machine's clock (seconds)
    /// when they were read: a change since, or another second, makes them
    /// stale at once, so a scrape right after a change sees it and every
    /// time-derived fact (expiry, the clock) is right to the second.
    key: (u64, u64, i64),
    facts: StoreFacts,
}

impl Store {
    /// The store's facts for the metrics (authorised by the gate as
    /// [`crate::Op::Metrics`]): reused for up to [`FACTS_FRESH_FOR`] while no
    /// change is applied, so that frequent scrapes cost the service nothing
    /// noticeable.
    pub(crate) fn metrics_facts(&self) -> Result<StoreFacts> {
        let key = (
            self.db.applied_changes(),
            self.db.generation(),
            // The machine's clock, not the store's time: a clock set back
            // leaves the store's time where it was and must be seen.
            self.db.clock.now().timestamp(),
        );
        let mut cache = self
            .metrics_cache
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref()
            && c.key == key
            && c.at.elapsed() < FACTS_FRESH_FOR
        {
            return Ok(c.facts.clone());
        }
        let facts = self.read_metrics_facts()?;
        *cache = Some(Cached {
            at: Instant::now(),
            key,
            facts: facts.clone(),
        });
        Ok(facts)
    }

    /// Reads the facts: the pools and counts the Status screen shows, the
    /// state of each licence in force, the clock.
    fn read_metrics_facts(&self) -> Result<StoreFacts> {
        let now = self.now()?;
        let today = now.date_naive();
        // The first second of a day, UTC, as seconds since 1970.
        let start_of =
            |day: chrono::NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
        let pools = self
            .pools()?
            .into_iter()
            .map(|p| PoolFacts {
                issuer: p.issuer,
                area: p.area,
                licence: p.licence,
                term: p.term.to_string(),
                total: u64::from(p.total),
                in_use: p.in_use,
                available: p.available,
                pending: p.pending,
                over_allocated: p.over_allocated,
            })
            .collect();
        let licences = self
            .in_force()
            .iter()
            .map(|l| {
                let state = licfile::policy::licence_state(&l.licence, today);
                let expiry = l.licence.expiry;
                LicenceFacts {
                    issuer: l.issuer.clone(),
                    licence_id: l.licence.licence_id.clone(),
                    state: state.word().to_string(),
                    // In force through its expiry day: it ends when the next day begins.
                    expiry_remaining_seconds: expiry
                        .and_then(|e| e.date.succ_opt())
                        .map(|end| start_of(end) - now.timestamp()),
                    // Terminated from the first day after expiry and its grace.
                    termination_remaining_seconds: expiry
                        .and_then(|e| {
                            e.date
                                .checked_add_days(chrono::Days::new(u64::from(e.grace_days) + 1))
                        })
                        .map(|day| start_of(day) - now.timestamp()),
                }
            })
            .collect();
        let issuers: Vec<(String, Vec<String>)> = self
            .in_force()
            .iter()
            .map(|l| {
                (
                    l.issuer.clone(),
                    l.licence
                        .metered_services
                        .iter()
                        .map(|m| m.name.clone())
                        .collect(),
                )
            })
            .collect();
        let metered = self
            .metered()?
            .into_iter()
            .map(|m| MeteredFacts {
                issuer: issuers
                    .iter()
                    .find(|(_, names)| names.contains(&m.name))
                    .map(|(i, _)| i.clone())
                    .unwrap_or_default(),
                service: m.name,
                unit: m.unit,
                used: m.used,
                threshold: m.threshold,
            })
            .collect();
        let counts = self.user_counts()?;
        let behind = self.db.clock_behind_by()?;
        Ok(StoreFacts {
            serial: self.installation()?.serial,
            today: Some(today),
            pools,
            users_active: counts.active,
            users_over_allocated: counts.over_allocated,
            licences,
            metered,
            storage_used_bytes: self.storage_used()?,
            storage_allowance_bytes: self.storage_allowance_gb().saturating_mul(1_000_000_000),
            clock_behind_seconds: behind,
            clock_warning: behind > crate::db::CLOCK_TOLERANCE_SECS,
        })
    }

    /// Changes made durable since the store was opened, and the syncs that
    /// made them so (for the service's metrics).
    pub fn durability_counts(&self) -> (u64, u64) {
        self.db.durability_counts()
    }
}

/// The states a licence can be in, each a series of `tessera_licence_state`.
const LICENCE_STATES: [&str; 4] = ["valid", "expiring", "grace", "terminated"];

/// Writes metric families: each name's `# HELP` and `# TYPE` once, before
/// its samples, and no sample twice (Prometheus refuses a scrape with a
/// repeated series).
struct Exposition {
    out: String,
    seen: HashSet<String>,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let mut line = String::from(name);
        if !labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{k}=\"{}\"", escape_label(v));
            }
            line.push('}');
        }
        if self.seen.insert(line.clone()) {
            let _ = writeln!(self.out, "{line} {value}");
        }
    }
}

/// A label value as the text format writes it: `\`, `"` and newline escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text as the text format writes it: `\` and newline escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A bound or a value in seconds as Prometheus reads it (Rust never writes
/// an exponent for `f64`, and whole numbers keep a `.0`-free form).
fn seconds(v: f64) -> String {
    if v.is_infinite() {
        "+Inf".into()
    } else {
        format!("{v}")
    }
}

/// The metrics as Prometheus text (exposition format 0.0.4).
pub fn render(m: &Metrics) -> String {
    let mut x = Exposition {
        out: String::with_capacity(8 * 1024),
        seen: HashSet::new(),
    };
    let s = &m.store;

    type PoolField = fn(&PoolFacts) -> u64;
    let pool_families: [(&str, &str, PoolField); 5] = [
        (
            "tessera_seats_granted",
            "Seats of a pool: granted by the licences in force, less reductions already due (the Status screen's TOTAL).",
            |p| p.total,
        ),
        (
            "tessera_seats_in_use",
            "Seats of a pool assigned to active users.",
            |p| p.in_use,
        ),
        (
            "tessera_seats_available",
            "Seats of a pool free to assign.",
            |p| p.available,
        ),
        (
            "tessera_seats_pending",
            "Seats of a pool bought and not yet granted by an imported licence.",
            |p| p.pending,
        ),
        (
            "tessera_seats_over_allocated",
            "Active holders of a pool beyond its seats (over-allocated users).",
            |p| p.over_allocated,
        ),
    ];
    for (name, help, field) in pool_families {
        x.family(name, "gauge", help);
        for p in &s.pools {
            x.sample(
                name,
                &[
                    ("issuer", &p.issuer),
                    ("area", &p.area),
                    ("licence", &p.licence),
                    ("term", &p.term),
                ],
                field(p),
            );
        }
    }

    x.family("tessera_users_active", "gauge", "Active store users.");
    x.sample("tessera_users_active", &[], s.users_active);
    x.family(
        "tessera_users_over_allocated",
        "gauge",
        "Users activated with no free seat: deactivated when their grace ends unless seats are added.",
    );
    x.sample("tessera_users_over_allocated", &[], s.users_over_allocated);

    x.family(
        "tessera_licence_state",
        "gauge",
        "1 for the state a licence in force is in (valid, expiring, grace, terminated), 0 for the others.",
    );
    for l in &s.licences {
        for state in LICENCE_STATES {
            x.sample(
                "tessera_licence_state",
                &[
                    ("issuer", &l.issuer),
                    ("licence_id", &l.licence_id),
                    ("state", state),
                ],
                u8::from(l.state == state),
            );
        }
    }
    x.family(
        "tessera_licence_expiry_remaining_seconds",
        "gauge",
        "Seconds until a time-limited licence expires (the end of its last day, UTC, by the store's time), negative once expired; divide by 86400 for days. No series for a licence that does not expire.",
    );
    for l in &s.licences {
        if let Some(d) = l.expiry_remaining_seconds {
            x.sample(
                "tessera_licence_expiry_remaining_seconds",
                &[("issuer", &l.issuer), ("licence_id", &l.licence_id)],
                d,
            );
        }
    }
    x.family(
        "tessera_licence_termination_remaining_seconds",
        "gauge",
        "Seconds until an expired licence's grace ends and it grants nothing (0 or less once terminated), by the store's time. No series for a licence that does not expire.",
    );
    for l in &s.licences {
        if let Some(d) = l.termination_remaining_seconds {
            x.sample(
                "tessera_licence_termination_remaining_seconds",
                &[("issuer", &l.issuer), ("licence_id", &l.licence_id)],
                d,
            );
        }
    }

    x.family(
        "tessera_metered_used",
        "gauge",
        "Uses of a metered service this calendar month (UTC).",
    );
    for mm in &s.metered {
        x.sample(
            "tessera_metered_used",
            &[
                ("issuer", &mm.issuer),
                ("service", &mm.service),
                ("unit", &mm.unit),
            ],
            mm.used,
        );
    }
    x.family(
        "tessera_metered_threshold",
        "gauge",
        "Uses of a metered service free this month (base + per user x active users); beyond it is billed.",
    );
    for mm in &s.metered {
        x.sample(
            "tessera_metered_threshold",
            &[
                ("issuer", &mm.issuer),
                ("service", &mm.service),
                ("unit", &mm.unit),
            ],
            mm.threshold,
        );
    }
    x.family(
        "tessera_storage_used_bytes",
        "gauge",
        "Storage in use, as the licensed product last recorded it.",
    );
    x.sample("tessera_storage_used_bytes", &[], s.storage_used_bytes);
    x.family(
        "tessera_storage_allowance_bytes",
        "gauge",
        "Pooled storage allowance of the contracted and monthly seats.",
    );
    x.sample(
        "tessera_storage_allowance_bytes",
        &[],
        s.storage_allowance_bytes,
    );

    x.family(
        "tessera_clock_behind_seconds",
        "gauge",
        "Seconds the machine's clock is behind the latest time the store has seen (0 when not behind).",
    );
    x.sample("tessera_clock_behind_seconds", &[], s.clock_behind_seconds);
    x.family(
        "tessera_clock_warning",
        "gauge",
        "1 while the clock is more than a day behind the latest time the store has seen (licence dates are judged by the later time), else 0.",
    );
    x.sample("tessera_clock_warning", &[], u8::from(s.clock_warning));

    if let Some(svc) = &m.service {
        render_service(&mut x, svc);
    }
    x.out
}

/// The service's counters.
fn render_service(x: &mut Exposition, svc: &ServiceFacts) {
    x.family(
        "tessera_service_start_time_seconds",
        "gauge",
        "When the service started, seconds since 1970: its counters count from then.",
    );
    x.sample("tessera_service_start_time_seconds", &[], svc.started_at);
    x.family(
        "tessera_requests_total",
        "counter",
        "Requests answered by the service, by operation and outcome (ok, not_permitted, refused, error).",
    );
    for r in &svc.requests {
        x.sample(
            "tessera_requests_total",
            &[("op", &r.op), ("outcome", &r.outcome)],
            r.count,
        );
    }
    x.family(
        "tessera_request_duration_seconds",
        "histogram",
        "Time from a request read to its answer ready to send, by operation (waiting for a thread of the pool included).",
    );
    for l in &svc.latency {
        // Only histograms with a count per bound are written: a malformed one
        // (from a service of another version) would be a false histogram.
        if l.buckets.len() != LATENCY_BUCKETS.len() {
            continue;
        }
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&l.buckets) {
            let le = seconds(*bound);
            x.sample(
                "tessera_request_duration_seconds_bucket",
                &[("op", &l.op), ("le", &le)],
                n,
            );
        }
        x.sample(
            "tessera_request_duration_seconds_bucket",
            &[("op", &l.op), ("le", "+Inf")],
            l.count,
        );
        x.sample(
            "tessera_request_duration_seconds_sum",
            &[("op", &l.op)],
            seconds(l.sum_seconds),
        );
        x.sample(
            "tessera_request_duration_seconds_count",
            &[("op", &l.op)],
            l.count,
        );
    }
    x.family(
        "tessera_connections_open",
        "gauge",
        "Client connections open now (Unix socket and TLS).",
    );
    x.sample("tessera_connections_open", &[], svc.connections_open);
    x.family(
        "tessera_connections_total",
        "counter",
        "Client connections accepted since the service started.",
    );
    x.sample("tessera_connections_total", &[], svc.connections_total);
    x.family(
        "tessera_synced_writes_total",
        "counter",
        "Changes made durable (flushed and fdatasync'ed) since the service started.",
    );
    x.sample("tessera_synced_writes_total", &[], svc.synced_writes);
    x.family(
        "tessera_syncs_total",
        "counter",
        "Syncs of the store's files that made those changes durable (one covers several under load).",
    );
    x.sample("tessera_syncs_total", &[], svc.syncs);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_facts() -> StoreFacts {
        StoreFacts {
            serial: "NW-1".into(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 3, 2),
            pools: vec![PoolFacts {
                issuer: String::new(),
                area: "Jobs".into(),
                licence: "Jobs \"User\"\\\n".into(),
                term: "monthly".into(),
                total: 5,
                in_use: 6,
                available: 0,
                pending: 2,
                over_allocated: 1,
            }],
            users_active: 6,
            users_over_allocated: 1,
            licences: vec![
                LicenceFacts {
                    issuer: String::new(),
                    licence_id: "L-1".into(),
                    state: "grace".into(),
                    expiry_remaining_seconds: Some(-3 * 86_400),
                    termination_remaining_seconds: Some(5 * 86_400),
                },
                LicenceFacts {
                    issuer: "Acme".into(),
                    licence_id: "A-1".into(),
                    state: "valid".into(),
                    expiry_remaining_seconds: None,
                    termination_remaining_seconds: None,
                },
            ],
            metered: vec![MeteredFacts {
                issuer: String::new(),
                service: "emails".into(),
                unit: "e-mails".into(),
                used: 7,
                threshold: 100,
            }],
            storage_used_bytes: 1,
            storage_allowance_bytes: 2,
            clock_behind_seconds: 90_000,
            clock_warning: true,
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("a\nb"), "a\\nb");
        let text = render(&Metrics {
            store: sample_facts(),
            service: None,
        });
        assert!(text.contains(r#"licence="Jobs \"User\"\\\n""#), "{text}");
        // Every sample is one line: the newline in the label did not break it.
        for line in text.lines() {
            assert!(
                line.starts_with('#') || line.starts_with("tessera_"),
                "{line:?}"
            );
        }
    }

    #[test]
    fn the_licence_state_is_a_state_set_and_the_time_to_expiry_goes_negative() {
        let text = render(&Metrics {
            store: sample_facts(),
            service: None,
        });
        for (state, v) in [
            ("valid", 0),
            ("expiring", 0),
            ("grace", 1),
            ("terminated", 0),
        ] {
            let line = format!(
                "tessera_licence_state{{issuer=\"\",licence_id=\"L-1\",state=\"{state}\"}} {v}\n"
            );
            assert!(text.contains(&line), "{line}{text}");
        }
        assert!(text.contains(
            "tessera_licence_expiry_remaining_seconds{issuer=\"\",licence_id=\"L-1\"} -259200\n"
        ));
        assert!(text.contains(
            "tessera_licence_termination_remaining_seconds{issuer=\"\",licence_id=\"L-1\"} 432000\n"
        ));
        // A licence without expiry has a state and no expiry series.
        assert!(text.contains("licence_id=\"A-1\",state=\"valid\"} 1\n"));
        assert!(!text.contains("tessera_licence_expiry_remaining_seconds{issuer=\"Acme\""));
        assert!(text.contains("tessera_clock_warning 1\n"));
    }

    #[test]
    fn service_series_only_with_a_service_and_histograms_are_cumulative() {
        let direct = render(&Metrics {
            store: sample_facts(),
            service: None,
        });
        assert!(!direct.contains("tessera_requests_total"));
        assert!(!direct.contains("tessera_connections_open"));
        let mut buckets = vec![0u64; LATENCY_BUCKETS.len()];
        buckets[3..].iter_mut().for_each(|b| *b = 2);
        let svc = ServiceFacts {
            started_at: 1_700_000_000,
            requests: vec![RequestCount {
                op: "check".into(),
                outcome: "ok".into(),
                count: 2,
            }],
            latency: vec![Latency {
                op: "check".into(),
                buckets,
                sum_seconds: 0.0006,
                count: 2,
            }],
            connections_open: 1,
            connections_total: 3,
            synced_writes: 4,
            syncs: 2,
        };
        let text = render(&Metrics {
            store: sample_facts(),
            service: Some(svc),
        });
        assert!(text.contains("# TYPE tessera_request_duration_seconds histogram\n"));
        assert!(
            text.contains(
                "tessera_request_duration_seconds_bucket{op=\"check\",le=\"0.00005\"} 0\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "tessera_request_duration_seconds_bucket{op=\"check\",le=\"0.0005\"} 2\n"
            )
        );
        assert!(
            text.contains("tessera_request_duration_seconds_bucket{op=\"check\",le=\"5\"} 2\n")
        );
        assert!(
            text.contains("tessera_request_duration_seconds_bucket{op=\"check\",le=\"+Inf\"} 2\n")
        );
        assert!(text.contains("tessera_request_duration_seconds_sum{op=\"check\"} 0.0006\n"));
        assert!(text.contains("tessera_request_duration_seconds_count{op=\"check\"} 2\n"));
        assert!(text.contains("tessera_requests_total{op=\"check\",outcome=\"ok\"} 2\n"));
        assert!(text.contains("tessera_synced_writes_total 4\n"));
    }

    #[test]
    fn a_series_is_written_once_and_every_family_has_help_and_type() {
        let mut facts = sample_facts();
        facts.pools.push(facts.pools[0].clone());
        let text = render(&Metrics {
            store: facts,
            service: None,
        });
        let total = text
            .lines()
            .filter(|l| l.starts_with("tessera_seats_granted{"))
            .count();
        assert_eq!(total, 1, "{text}");
        let mut families = HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                assert!(families.insert(rest.split(' ').next().unwrap_or("").to_string()));
            }
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|f| families.contains(*f))
                .unwrap_or(name);
            assert!(families.contains(family), "{line}");
        }
    }

    #[test]
    fn outcomes_follow_the_error_codes() {
        let denied: Result<()> = Err(StoreError::NotAllowed {
            operator: "x".into(),
            action: "y".into(),
            why: "z".into(),
        });
        assert_eq!(Outcome::of(&denied), Outcome::NotPermitted);
        let rule: Result<()> = Err(StoreError::Rule("no".into()));
        assert_eq!(Outcome::of(&rule), Outcome::Refused);
        let io: Result<()> = Err(StoreError::Corrupt("bad".into()));
        assert_eq!(Outcome::of(&io), Outcome::Error);
        assert_eq!(Outcome::of(&Ok::<(), StoreError>(())), Outcome::Ok);
        for (i, o) in Outcome::ALL.iter().enumerate() {
            assert_eq!(o.index(), i);
        }
    }
}
