//! Metrics: `tessera metrics` on the store directly, `tessera serve
//! --metrics` over HTTP, and `tessera metrics` through the service. The
//! values are the store's (seats assigned, bought, over-allocated, a metered
//! count); the service counts the requests it answered; the HTTP endpoint is
//! strict and a hostile client harms nothing; `promtool check metrics`
//! (Debian's `prometheus`) accepts every output.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve::Service;
use crate::util::{Dir, cannot_run, pool, repo, stderr, stdout};

/// Every sample of a metrics text: `name{labels}` to its value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line: series value");
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("a number in {l:?}")),
            };
            (series.to_string(), value)
        })
        .collect()
}

/// The value of `series`, which must be there.
fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

/// The series of a pool's seats metric.
fn seats(metric: &str, licence: &str, term: &str) -> String {
    let area = licence.split(' ').next().expect("an area");
    format!("{metric}{{issuer=\"\",area=\"{area}\",licence=\"{licence}\",term=\"{term}\"}}")
}

/// Runs `promtool ARGS…` in `dir` with `input` on its standard input.
/// `None` when promtool is not installed and this is not CI (said on standard
/// error, and the caller skips only its promtool check); under CI a missing
/// promtool fails the test (./test.sh installs Debian's `prometheus`).
fn run_promtool(
    args: &[&str],
    dir: &std::path::Path,
    input: &[u8],
) -> Option<std::process::Output> {
    let spawned = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !ci,
                "CI must check the metrics with promtool, which is not installed: it is in the Debian package `prometheus` (./test.sh installs it)"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED promtool {}: promtool is not installed (Debian package `prometheus`; ./test.sh installs it)",
                args.join(" ")
            );
            return None;
        }
        Err(e) => cannot_run("promtool", "prometheus", &e),
    };
    child
        .stdin
        .take()
        .expect("promtool's input")
        .write_all(input)
        .expect("write to promtool");
    Some(child.wait_with_output().expect("promtool ran"))
}

/// `promtool check metrics` on `text`: exit 0, no problem reported (lint
/// findings are problems too: promtool exits non-zero on them).
fn promtool(text: &str, what: &str) {
    let Some(out) = run_promtool(
        &["check", "metrics"],
        &std::env::temp_dir(),
        text.as_bytes(),
    ) else {
        return;
    };
    assert!(
        out.status.success(),
        "promtool check metrics refused {what}: {}{}\n{text}",
        stdout(&out),
        stderr(&out)
    );
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("an address")
        .port()
}

/// An HTTP exchange: sends `request` (what cannot be sent is left unsent: a
/// server may close on a flood), reads until the server closes. Returns the
/// status code (0 when nothing came back), the head and the body.
fn http(addr: &str, request: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics port");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.write_all(request);
    let mut got = Vec::new();
    // A reset after the answer (a flood the server stopped reading) still
    // leaves what came before it.
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// GET /metrics: must answer 200 with the exposition format's content type.
fn scrape(addr: &str) -> String {
    let (status, head, body) = http(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n",
    );
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body
}

/// A site whose monthly Jobs User pool (5 seats) has 6 holders (one
/// over-allocated) and 3 more seats bought, and 10 e-mails sent this month.
fn busy_site() -> Dir {
    let d = Dir::new();
    d.site();
    for i in 1..=6 {
        let name = format!("m{i}");
        d.st(&[
            "users",
            "add",
            &name,
            "--role",
            "engineer",
            "--licence",
            "Jobs User",
            "--term",
            "monthly",
        ])
        .assert()
        .success();
    }
    d.st(&[
        "request",
        "seats",
        "--licence",
        "Jobs User",
        "--term",
        "monthly",
        "--add",
        "3",
        "--out",
        "seats.req",
    ])
    .assert()
    .success();
    d.st(&["usage", "metered", "emails-sent", "--count", "10"])
        .assert()
        .success();
    d
}

/// The store's facts in `text` are what `status --json` says, and what the
/// site was made with.
fn assert_store_facts(d: &Dir, text: &str) {
    let m = samples(text);
    let status = d.st_json(&["status", "--json"]);
    // What the test made.
    let jobs = |metric| value(&m, &seats(metric, "Jobs User", "monthly"));
    assert_eq!(jobs("tessera_seats_granted"), 5.0);
    assert_eq!(jobs("tessera_seats_in_use"), 6.0);
    assert_eq!(jobs("tessera_seats_available"), 0.0);
    assert_eq!(jobs("tessera_seats_pending"), 3.0);
    assert_eq!(jobs("tessera_seats_over_allocated"), 1.0);
    assert_eq!(value(&m, "tessera_users_over_allocated"), 1.0);
    assert_eq!(
        value(
            &m,
            "tessera_metered_used{issuer=\"\",service=\"emails-sent\",unit=\"e-mails\"}"
        ),
        10.0
    );
    // Every pool as the store's own status has it.
    let pools = status["pools"].as_array().expect("pools");
    assert!(!pools.is_empty());
    for p in pools {
        let (licence, term) = (
            p["licence"].as_str().expect("licence"),
            p["term"].as_str().expect("term"),
        );
        let sp = pool(&status, licence, term);
        for (metric, field) in [
            ("tessera_seats_granted", "total"),
            ("tessera_seats_in_use", "in_use"),
            ("tessera_seats_available", "available"),
            ("tessera_seats_pending", "pending"),
            ("tessera_seats_over_allocated", "over_allocated"),
        ] {
            assert_eq!(
                value(&m, &seats(metric, licence, term)),
                sp[field].as_f64().expect("a number"),
                "{metric} of {licence} {term}"
            );
        }
    }
    assert_eq!(
        value(&m, "tessera_users_active"),
        status["users"]["active"].as_f64().expect("active users")
    );
    for s in status["metered"].as_array().expect("metered") {
        let series = |metric: &str| {
            format!(
                "{metric}{{issuer=\"\",service=\"{}\",unit=\"{}\"}}",
                s["name"].as_str().expect("name"),
                s["unit"].as_str().expect("unit")
            )
        };
        assert_eq!(
            value(&m, &series("tessera_metered_used")),
            s["used"].as_f64().expect("used")
        );
        assert_eq!(
            value(&m, &series("tessera_metered_threshold")),
            s["threshold"].as_f64().expect("threshold")
        );
    }
    // The licence: one state of four is 1, the one status gives; its expiry
    // is the end of the expiry day, counted from the store's today.
    let state = status["state"].as_str().expect("state");
    let inspected = d
        .cmd(&["inspect", "site.lic", "--json"])
        .output()
        .expect("run");
    let inspected: serde_json::Value =
        serde_json::from_slice(&inspected.stdout).expect("inspect's JSON");
    let id = licence_id(&inspected);
    for s in ["valid", "expiring", "grace", "terminated"] {
        assert_eq!(
            value(
                &m,
                &format!("tessera_licence_state{{issuer=\"\",licence_id=\"{id}\",state=\"{s}\"}}")
            ),
            if s == state { 1.0 } else { 0.0 },
            "{s}"
        );
    }
    let expires: chrono::NaiveDate = status["expires"]
        .as_str()
        .expect("the site's licence expires")
        .parse()
        .expect("a date");
    let remaining = value(
        &m,
        &format!("tessera_licence_expiry_remaining_seconds{{issuer=\"\",licence_id=\"{id}\"}}"),
    );
    let end = expires
        .succ_opt()
        .expect("a day after")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (remaining - (end - now) as f64).abs() < 120.0,
        "{remaining} seconds to the end of {expires}"
    );
    let termination = value(
        &m,
        &format!(
            "tessera_licence_termination_remaining_seconds{{issuer=\"\",licence_id=\"{id}\"}}"
        ),
    );
    // The example licence's grace: 14 days after the expiry day.
    assert_eq!(termination - remaining, 14.0 * 86_400.0);
    assert_eq!(value(&m, "tessera_clock_warning"), 0.0);
}

/// The licence id `inspect --json` shows, wherever it keeps it.
fn licence_id(inspected: &serde_json::Value) -> String {
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::Object(o) => o
                .get("licence_id")
                .and_then(|x| x.as_str().map(str::to_string))
                .or_else(|| o.values().find_map(find)),
            serde_json::Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(inspected).unwrap_or_else(|| panic!("no licence_id in {inspected:#}"))
}

#[test]
fn metrics_read_from_the_store_are_what_it_holds() {
    let d = busy_site();
    let out = d.st(&["metrics"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_store_facts(&d, &text);
    // No service counted anything: its series are left out, and it says so.
    let m = samples(&text);
    for service_only in [
        "tessera_requests_total",
        "tessera_request_duration_seconds",
        "tessera_connections_",
        "tessera_synced_writes_total",
    ] {
        assert!(
            !m.keys().any(|k| k.starts_with(service_only)),
            "{service_only}: {text}"
        );
        assert!(!text.contains(&format!("# TYPE {service_only}")), "{text}");
    }
    assert!(text.starts_with("# Read from the store directly"), "{text}");
    promtool(&text, "tessera metrics on the store");
    // --out writes the same, whole, for the textfile collector.
    d.st(&["metrics", "--out", "tessera.prom"])
        .assert()
        .success();
    let written = samples(&d.read("tessera.prom"));
    let printed = samples(&text);
    assert_eq!(
        written.keys().collect::<Vec<_>>(),
        printed.keys().collect::<Vec<_>>()
    );
    for (series, v) in &written {
        // Time to expiry moves on by the second between the two runs.
        let within = if series.contains("_remaining_seconds") {
            5.0
        } else {
            0.0
        };
        assert!(
            (v - printed[series]).abs() <= within,
            "{series}: {v} and {}",
            printed[series]
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(d.path(""))
        .expect("the test directory")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".tessera-metrics")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_service_serves_the_metrics_and_counts_its_requests() {
    let d = busy_site();
    let addr = format!("127.0.0.1:{}", free_port());
    let service = Service::start_with_args(&d, &["--metrics", &addr]);
    let before = samples(&scrape(&addr));
    let checks = |m: &BTreeMap<String, f64>, outcome: &str| {
        m.get(&format!(
            "tessera_requests_total{{op=\"check\",outcome=\"{outcome}\"}}"
        ))
        .copied()
        .unwrap_or(0.0)
    };
    for _ in 0..3 {
        let out = d.st(&["check", "m1", "--json"]).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let c: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(c["answered_by"], "service");
    }
    // A refusal by the rules: an unknown metered service.
    let out = d
        .st(&["usage", "metered", "faxes", "--count", "1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // A change, synced.
    d.st(&["usage", "metered", "emails-sent", "--count", "5"])
        .assert()
        .success();
    let text = scrape(&addr);
    promtool(&text, "GET /metrics");
    let after = samples(&text);
    assert_eq!(checks(&after, "ok") - checks(&before, "ok"), 3.0, "{text}");
    assert_eq!(checks(&after, "refused"), 0.0);
    assert_eq!(
        value(
            &after,
            "tessera_requests_total{op=\"record_metered\",outcome=\"refused\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "tessera_requests_total{op=\"record_metered\",outcome=\"ok\"}"
        ),
        1.0
    );
    // The histogram holds every check, cumulatively up to +Inf.
    let count = value(
        &after,
        "tessera_request_duration_seconds_count{op=\"check\"}",
    );
    assert!(count >= 3.0, "{text}");
    assert_eq!(
        value(
            &after,
            "tessera_request_duration_seconds_bucket{op=\"check\",le=\"+Inf\"}"
        ),
        count
    );
    let mut last = 0.0;
    for (series, v) in after
        .iter()
        .filter(|(k, _)| k.starts_with("tessera_request_duration_seconds_bucket{op=\"check\""))
    {
        assert!(*v <= count, "{series} {v}");
        last = f64::max(last, *v);
    }
    assert_eq!(last, count);
    assert!(value(&after, "tessera_request_duration_seconds_sum{op=\"check\"}") > 0.0);
    // Each command was a connection; the change was synced.
    assert!(value(&after, "tessera_connections_total") >= 5.0, "{text}");
    assert!(
        value(&after, "tessera_synced_writes_total") >= 1.0,
        "{text}"
    );
    assert!(value(&after, "tessera_syncs_total") >= 1.0, "{text}");
    // The store's facts through the service are the store's, with the change seen at once.
    let metered = "tessera_metered_used{issuer=\"\",service=\"emails-sent\",unit=\"e-mails\"}";
    assert_eq!(value(&after, metered), 15.0);
    // `tessera metrics` goes through the service: the same, with its counters.
    let out = d.st(&["metrics"]).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let through = stdout(&out);
    promtool(&through, "tessera metrics through the service");
    assert!(!through.starts_with("# Read from the store directly"));
    let m = samples(&through);
    assert!(checks(&m, "ok") >= 3.0, "{through}");
    assert!(value(&m, "tessera_requests_total{op=\"metrics\",outcome=\"ok\"}") >= 2.0);
    assert_eq!(value(&m, metered), 15.0);
    drop(service);
    // With the service stopped, the store says the same facts.
    let direct = samples(&stdout(&d.st(&["metrics"]).output().expect("run")));
    assert_eq!(value(&direct, metered), 15.0);
    assert_eq!(
        value(
            &direct,
            &seats("tessera_seats_in_use", "Jobs User", "monthly")
        ),
        6.0
    );
}

#[test]
fn the_metrics_endpoint_answers_metrics_only() {
    let d = Dir::new();
    d.site();
    let addr = format!("127.0.0.1:{}", free_port());
    let service = Service::start_with_args(&d, &["--metrics", &addr]);
    let (status, head, body) = http(&addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 404, "{head}{body}");
    let (status, head, _) = http(&addr, b"GET /metrics/x HTTP/1.1\r\n\r\n");
    assert_eq!(status, 404, "{head}");
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let (status, head, _) = http(
            &addr,
            format!("{method} /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        );
        assert_eq!(status, 405, "{method}: {head}");
        assert!(head.contains("Allow: GET, HEAD"), "{head}");
    }
    let (status, head, body) = http(&addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, 200, "{head}");
    assert!(body.is_empty(), "{body}");
    let (status, head, _) = http(&addr, b"\x16\x03\x01 not http at all\r\n\r\n");
    assert_eq!(status, 400, "{head}");
    // A query string is ignored, as Prometheus's `params` would send.
    let (status, _, body) = http(&addr, b"GET /metrics?format=text HTTP/1.0\r\n\r\n");
    assert_eq!(status, 200);
    assert!(body.contains("tessera_seats_granted"), "{body}");

    // A flood of headers: refused (431) or closed, and nothing else harmed.
    let mut flood = b"GET /metrics HTTP/1.1\r\n".to_vec();
    for i in 0..20_000 {
        flood.extend_from_slice(format!("X-Flood-{i}: {}\r\n", "a".repeat(40)).as_bytes());
    }
    flood.extend_from_slice(b"\r\n");
    let (status, head, _) = http(&addr, &flood);
    assert!(status == 431 || status == 0, "{status}: {head}");
    assert!(scrape(&addr).contains("tessera_seats_granted"));

    // Clients that connect and send nothing: more than the handlers and the
    // queue hold. The socket's clients do not notice, and once the head's
    // deadline passes the endpoint answers again.
    let idle: Vec<TcpStream> = (0..30)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let out = d
        .st(&["check", &store::identity::login_name(), "--json"])
        .output()
        .expect("run");
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(c["answered_by"], "service", "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "check took {:?} while the metrics port was flooded",
        started.elapsed()
    );
    std::thread::sleep(Duration::from_secs(6));
    assert!(scrape(&addr).contains("tessera_seats_granted"));
    drop(idle);
    let log = service.log_text();
    assert!(
        log.contains(&format!("serving metrics on http://{addr}/metrics")),
        "{log}"
    );

    // Half a request line, never finished: a stop does not wait for it.
    let mut service = service;
    let mut stalled = TcpStream::connect(&addr).expect("connect");
    stalled
        .write_all(b"GET /metr")
        .expect("half a request line");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let status = service.signal_and_wait("TERM", Duration::from_secs(10));
    assert!(status.success(), "{status}: {}", service.log_text());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the stop took {:?} with a client stalled on the metrics port",
        started.elapsed()
    );
}

#[test]
fn a_metrics_address_other_hosts_reach_needs_saying_so() {
    let d = Dir::new();
    d.site();
    let port = free_port();
    let out = d
        .st(&["serve", "--metrics", &format!("0.0.0.0:{port}")])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("--metrics-allow-remote"), "{err}");
    let out = d
        .st(&["serve", "--metrics", "no-such-host.invalid:9"])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("give an IP address and a port"),
        "{}",
        stderr(&out)
    );
    // The store was never taken.
    d.st(&["status"]).assert().success();
    // Said so: the service listens on every address, loopback included.
    let addr = format!("0.0.0.0:{port}");
    let service = Service::start_with_args(&d, &["--metrics", &addr, "--metrics-allow-remote"]);
    assert!(scrape(&format!("127.0.0.1:{port}")).contains("tessera_seats_granted"));
    drop(service);
}

#[test]
fn the_alert_rules_in_the_documentation_are_valid_rules() {
    let doc = std::fs::read_to_string(repo("docs/METRICS.md")).expect("docs/METRICS.md");
    let start = doc.find("```yaml\n").expect("a YAML block of rules") + "```yaml\n".len();
    let len = doc[start..].find("```").expect("the block's end");
    let d = Dir::new();
    d.write("rules.yml", &doc[start..start + len]);
    if let Some(out) = run_promtool(&["check", "rules", "rules.yml"], &d.path(""), b"") {
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
    // Every metric the rules use is one Tessera writes.
    let site = Dir::new();
    site.site();
    let names: Vec<String> = samples(&stdout(&site.st(&["metrics"]).output().expect("run")))
        .keys()
        .map(|k| k.split('{').next().unwrap_or(k).to_string())
        .collect();
    let rules = &doc[start..start + len];
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("tessera_") {
            let service_only = [
                "tessera_requests_total",
                "tessera_request_duration_seconds_bucket",
            ];
            assert!(
                names.iter().any(|n| n == word) || service_only.contains(&word),
                "the rules use {word}, which Tessera does not write"
            );
        }
    }
}
