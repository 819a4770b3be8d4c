//! Invoices from what the vendor issued, through the command line: a site
//! that re-signs its report (prices set to 0, seat totals lowered, a pool
//! left out, a part given twice) is billed what the ledger implies; a report
//! from an unknown serial or key is refused; a month's reports are invoiced
//! in one run, each on its own; licences take their sequence from the
//! ledger; and of two operators at once, exactly one invoices a report or
//! fulfils a request, on SQLite and on PostgreSQL.

use std::io::Write as _;
use std::process::{Command, Output};

use licfile::document::{DailyPoolDays, MeteredUsage, PoolUsage, Term, UserDays};
use licfile::{DaySet, Document, Licence, SecretKey, Timestamp, UsageReport, YearMonth, signed};
use serde_json::Value;

use crate::util::{Dir, assert_refused, repo, stderr, stdout};

fn demo_key() -> String {
    repo("keys/demo/demo.key")
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

/// The installation key of the test's site.
fn site_key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32]).expect("a strong test key")
}

/// The licence in `file`.
fn licence_of(d: &Dir, file: &str) -> Licence {
    let doc = signed::read(d.read(file).as_bytes()).expect("a signed licence");
    match doc.document {
        Document::Licence(l) => l,
        other => panic!("{file} is a {:?}", other.kind()),
    }
}

/// What an honest site reports for `month` under `l`: its pools as licensed,
/// one daily user on three days, each metered service past its base.
fn honest(l: &Licence, key: &SecretKey, month: &str) -> UsageReport {
    let month: YearMonth = month.parse().expect("a month");
    let daily = l
        .seat_pools
        .iter()
        .find(|p| p.term == Term::Daily)
        .expect("the example licence has a daily pool");
    let mut days = DaySet::default();
    for day in [3, 4, 17] {
        assert!(days.insert(day));
    }
    UsageReport {
        serial: l.serial.clone(),
        report_id: format!("{}-U{}", l.serial, month.to_string().replace('-', "")),
        part: 1,
        parts: 1,
        created_at: Timestamp(1_790_000_000),
        installation_key: key.public().raw(),
        month,
        licence_sequence: l.sequence,
        pools: l
            .seat_pools
            .iter()
            .map(|p| PoolUsage {
                area: p.area.clone(),
                licence: p.licence.clone(),
                term: p.term,
                total: p.count,
                peak_in_use: p.count.min(2),
                price: p.price,
            })
            .collect(),
        daily_user_days: vec![DailyPoolDays {
            area: daily.area.clone(),
            licence: daily.licence.clone(),
            users: vec![UserDays {
                user: "dana".into(),
                days,
            }],
        }],
        metered: l
            .metered_services
            .iter()
            .map(|m| {
                let threshold = m.base_allowance + m.allowance_per_user * 3;
                MeteredUsage {
                    name: m.name.clone(),
                    used: threshold + 500,
                    threshold,
                    excess: 500,
                    overage_price: m.overage_price,
                }
            })
            .collect(),
        storage_used_bytes: 1_000_000_000,
        storage_allowance_gb: 100,
        currency: l.currency.clone(),
        chain: None,
    }
}

/// Signs `r` with `key` into `file`.
fn write_report(d: &Dir, file: &str, r: &UsageReport, key: &SecretKey) {
    let text = signed::sign(&Document::UsageReport(r.clone()), key, None).expect("sign");
    d.write(file, text);
}

/// `vendor invoice FILES… --json --ledger LEDGER`, which must succeed, parsed.
fn invoice(d: &Dir, ledger: &str, files: &[&str]) -> Value {
    let mut args = vec!["vendor", "invoice", "--json", "--ledger", ledger];
    args.extend_from_slice(files);
    let out = d.run(&args);
    assert!(out.status.success(), "{files:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// A site whose licence (sequence 2, from the example spec) the ledger
/// `ledger` holds: issued into the test directory's ledger, and recorded
/// into `ledger` when that is another.
fn site_licence(d: &Dir, ledger: &str) -> Licence {
    if !d.path("site.lic").exists() {
        d.issue_sequence(2, "site.lic", |_| {});
    }
    if ledger != crate::util::LEDGER {
        let out = d.run(&[
            "vendor",
            "ledger",
            "add-licence",
            "--demo",
            "site.lic",
            "--ledger",
            ledger,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    licence_of(d, "site.lic")
}

fn lines(inv: &Value) -> Vec<(String, u64, String, String)> {
    inv["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["description"].as_str().expect("text").to_string(),
                l["quantity"].as_u64().expect("a quantity"),
                l["unit_price"].as_str().expect("a price").to_string(),
                l["amount"].as_str().expect("an amount").to_string(),
            )
        })
        .collect()
}

fn findings(inv: &Value) -> Vec<String> {
    inv["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f.as_str().expect("text").to_string())
        .collect()
}

/// What a dishonest site changes in its report before re-signing it.
type Forgery = Box<dyn Fn(&mut UsageReport)>;

#[test]
fn a_site_that_rewrites_its_report_is_billed_what_the_ledger_implies() {
    let d = Dir::new();
    let key = site_key(9);
    let licence = site_licence(&d, crate::util::LEDGER);
    let truth = honest(&licence, &key, "2026-11");
    write_report(&d, "honest.rpt", &truth, &key);
    let honest_inv = invoice(&d, crate::util::LEDGER, &["honest.rpt"]);
    assert_eq!(
        findings(&honest_inv),
        Vec::<String>::new(),
        "{honest_inv:#}"
    );
    let total: rust_decimal::Decimal = honest_inv["total"]
        .as_str()
        .expect("a total")
        .parse()
        .expect("a decimal");
    assert!(total > rust_decimal::Decimal::from(1000), "{honest_inv:#}");

    // Each forgery, re-signed by the site's own key, in a ledger of its own
    // (the honest one has invoiced the month).
    let zero: licfile::Money = "0.00".parse().expect("money");
    let forgeries: Vec<(&str, Forgery, &str)> = vec![
        (
            "every price 0",
            Box::new(move |r: &mut UsageReport| {
                for p in &mut r.pools {
                    p.price = zero;
                }
                for m in &mut r.metered {
                    m.overage_price = zero;
                }
            }),
            "the licence's price billed",
        ),
        (
            "seat totals lowered",
            Box::new(|r: &mut UsageReport| {
                for p in &mut r.pools {
                    p.total = 1;
                }
            }),
            "seats of Jobs User (contracted), the licence 25",
        ),
        (
            "a pool left out",
            Box::new(|r: &mut UsageReport| {
                r.pools.retain(|p| p.term != Term::Contracted);
            }),
            "the report leaves out",
        ),
        (
            "a metered service left out and another currency",
            Box::new(|r: &mut UsageReport| {
                r.metered.clear();
                r.currency = "EUR".into();
            }),
            "the report prices in EUR",
        ),
    ];
    for (i, (what, forge, named)) in forgeries.iter().enumerate() {
        let ledger = format!("forged-{i}.sqlite");
        site_licence(&d, &ledger);
        let mut forged = truth.clone();
        forge(&mut forged);
        let file = format!("forged-{i}.rpt");
        write_report(&d, &file, &forged, &key);
        let inv = invoice(&d, &ledger, &[&file]);
        let found = findings(&inv);
        if *what == "a metered service left out and another currency" {
            // Left out, the metered use is not billed: only the site measures it.
            assert!(
                found
                    .iter()
                    .any(|f| f.contains("leaves out the metered service")),
                "{what}: {found:?}"
            );
            assert!(found.iter().any(|f| f.contains(named)), "{what}: {found:?}");
            assert_eq!(inv["currency"], "GBP", "{what}");
            continue;
        }
        assert_eq!(inv["total"], honest_inv["total"], "{what}: {inv:#}");
        assert_eq!(lines(&inv), lines(&honest_inv), "{what}");
        assert!(found.iter().any(|f| f.contains(named)), "{what}: {found:?}");
        // The ledger keeps the findings with the invoice.
        let held = d.run(&[
            "vendor", "ledger", "invoices", "--json", "--ledger", &ledger,
        ]);
        let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
        assert_eq!(held["invoices"][0]["findings"], inv["findings"], "{what}");
    }

    // A report in two parts with part 1 given twice: refused, nothing kept.
    let mut p1 = truth.clone();
    p1.report_id = "NW-000123-U202610".into();
    p1.month = "2026-10".parse().expect("a month");
    p1.parts = 2;
    let mut p2 = p1.clone();
    p2.part = 2;
    p2.pools.clear();
    p2.metered.clear();
    p2.daily_user_days[0].users[0].user = "eli".into();
    write_report(&d, "oct.1.rpt", &p1, &key);
    write_report(&d, "oct.2.rpt", &p2, &key);
    let out = d.run(&["vendor", "invoice", "oct.1.rpt", "oct.1.rpt"]);
    assert_refused(&out, &["part 1", "twice"]);
    let out = d.run(&["vendor", "invoice", "oct.2.rpt"]);
    assert_refused(&out, &["part 1", "missing"]);
    let both = invoice(&d, crate::util::LEDGER, &["oct.2.rpt", "oct.1.rpt"]);
    assert_eq!(both["month"], "2026-10");
    // Every part again, or one part with another: a replay, refused.
    let out = d.run(&["vendor", "invoice", "oct.1.rpt", "oct.2.rpt"]);
    assert_refused(&out, &["already done", "replay"]);
    let held = d.run(&["vendor", "ledger", "invoices", "--json"]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
    assert_eq!(held["invoices"].as_array().expect("a list").len(), 2);
}

#[test]
fn a_report_from_an_unknown_serial_or_key_is_refused() {
    let d = Dir::new();
    let key = site_key(9);
    let licence = site_licence(&d, crate::util::LEDGER);
    // A serial the vendor never issued a licence for.
    let mut stranger = honest(&licence, &key, "2026-11");
    stranger.serial = "XX-999999".into();
    write_report(&d, "stranger.rpt", &stranger, &key);
    let out = d.run(&["vendor", "invoice", "stranger.rpt", "--json"]);
    assert_refused(&out, &["XX-999999", "no licence issued for it"]);
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "unknown_serial");

    // The serial's first report takes its key; a report signed by another
    // key is another installation's, refused.
    write_report(&d, "nov.rpt", &honest(&licence, &key, "2026-11"), &key);
    invoice(&d, crate::util::LEDGER, &["nov.rpt"]);
    let other = site_key(10);
    write_report(&d, "dec.rpt", &honest(&licence, &other, "2026-12"), &other);
    let out = d.run(&["vendor", "invoice", "dec.rpt", "--json"]);
    assert_refused(&out, &["NW-000123", "another installation"]);
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(err["error"]["code"], "key_changed");
    // A month before any licence was issued: nothing to price it from.
    write_report(&d, "old.rpt", &honest(&licence, &key, "2025-06"), &key);
    let out = d.run(&["vendor", "invoice", "old.rpt", "--json"]);
    let err: Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(
        err["error"]["code"],
        "no_licence_in_force",
        "{}",
        stderr(&out)
    );
    let held = d.run(&["vendor", "ledger", "invoices", "--json"]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
    assert_eq!(held["invoices"].as_array().expect("a list").len(), 1);
}

/// `n` specs of the example licence for serials S-00000…, without
/// sequences (as `inspect --json` prints a licence, which is a spec).
fn batch_specs(d: &Dir, n: usize) -> String {
    if !d.path("base.lic").exists() {
        d.issue_sequence(1, "base.lic", |s| {
            s.insert("serial".into(), toml::Value::String("BASE-1".into()));
        });
    }
    let out = d.run(&["inspect", "--json", "base.lic"]);
    let mut base: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let o = base.as_object_mut().expect("an object");
    o.remove("sequence");
    o.remove("licence_id");
    let mut text = String::new();
    for i in 0..n {
        o.insert("serial".into(), Value::from(format!("S-{i:05}")));
        text.push_str(&serde_json::to_string(o).expect("JSON"));
        text.push('\n');
    }
    text
}

#[test]
fn licences_take_the_next_sequence_and_a_taken_one_is_refused() {
    let d = Dir::new();
    let key = demo_key();
    d.spec("free.toml", |s| {
        s.remove("sequence");
        s.remove("licence_id");
    });
    for expected in [1, 2] {
        let out = d.run(&[
            "vendor",
            "issue",
            "--key",
            &key,
            "free.toml",
            "--out",
            &format!("n{expected}.lic"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("sequence {expected}")),
            "{}",
            stdout(&out)
        );
        assert_eq!(
            licence_of(&d, &format!("n{expected}.lic")).sequence,
            expected
        );
    }
    // A spec that names a sequence issued already: refused, naming it.
    d.spec("two.toml", |_| {});
    let out = d.run(&[
        "vendor", "issue", "--key", &key, "two.toml", "--out", "x.lic",
    ]);
    assert_refused(
        &out,
        &[
            "sequence 2 of serial NW-000123 was already issued",
            "NW-000123-0002",
        ],
    );
    assert!(!d.path("x.lic").exists());

    // A batch: one transaction, sequences in turn for one serial.
    let mut text = batch_specs(&d, 3);
    text.push_str(&text.clone());
    d.write("batch.jsonl", &text);
    std::fs::create_dir(d.path("out")).expect("mkdir");
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        &key,
        "--batch",
        "batch.jsonl",
        "--out-dir",
        "out",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["S-00000-1.lic", "S-00000-2.lic", "S-00002-2.lic"] {
        assert!(d.path(&format!("out/{name}")).exists(), "{name}");
    }
    // The same batch with one line naming a taken sequence: nothing at all.
    let mut bad = batch_specs(&d, 2);
    let mut taken: Value = serde_json::from_str(bad.lines().next().expect("a line")).expect("JSON");
    taken["serial"] = Value::from("S-00001");
    taken["sequence"] = Value::from(2);
    bad.push_str(&format!("{taken}\n"));
    d.write("bad.jsonl", &bad);
    std::fs::create_dir(d.path("out2")).expect("mkdir");
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        &key,
        "--batch",
        "bad.jsonl",
        "--out-dir",
        "out2",
    ]);
    assert_refused(
        &out,
        &["line 3", "sequence 2 of serial S-00001 was already issued"],
    );
    assert_eq!(std::fs::read_dir(d.path("out2")).expect("dir").count(), 0);
    let s0 = d.run(&["vendor", "ledger", "licences", "S-00000", "--json"]);
    let s0: Value = serde_json::from_slice(&s0.stdout).expect("JSON");
    assert_eq!(
        s0["licences"].as_array().expect("a list").len(),
        2,
        "{s0:#}"
    );
}

#[test]
fn a_months_reports_are_invoiced_in_one_run_each_on_its_own() {
    let d = Dir::new();
    let key = demo_key();
    d.write("batch.jsonl", batch_specs(&d, 12));
    std::fs::create_dir(d.path("lic")).expect("mkdir");
    let out = d.run(&[
        "vendor",
        "issue",
        "--key",
        &key,
        "--batch",
        "batch.jsonl",
        "--out-dir",
        "lic",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::create_dir(d.path("reports")).expect("mkdir");
    for i in 0..12 {
        let l = licence_of(&d, &format!("lic/S-{i:05}-1.lic"));
        let k = site_key(20 + i as u8);
        write_report(
            &d,
            &format!("reports/S-{i:05}.rpt"),
            &honest(&l, &k, "2026-11"),
            &k,
        );
    }
    // One from a serial nobody licensed, and a file that is no report.
    let l = licence_of(&d, "lic/S-00000-1.lic");
    let mut stranger = honest(&l, &site_key(99), "2026-11");
    stranger.serial = "ZZ-1".into();
    write_report(&d, "reports/stranger.rpt", &stranger, &site_key(99));
    d.write("reports/notes.txt", "call the customer\n");
    let out = d.run(&["vendor", "invoice", "--batch", "reports", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        said["invoiced"].as_array().expect("a list").len(),
        12,
        "{said:#}"
    );
    let refused: Vec<String> = said["refused"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["files"].as_str().expect("files").to_string())
        .collect();
    assert_eq!(refused.len(), 2, "{said:#}");
    assert!(
        refused.iter().any(|f| f.ends_with("notes.txt")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|f| f.ends_with("stranger.rpt")),
        "{refused:?}"
    );
    assert!(stderr(&out).contains("stranger.rpt"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 of the reports"),
        "{}",
        stderr(&out)
    );
    // Each site its own invoice.
    let held = d.run(&[
        "vendor", "ledger", "invoices", "--month", "2026-11", "--json",
    ]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
    let serials: std::collections::BTreeSet<&str> = held["invoices"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["serial"].as_str().expect("a serial"))
        .collect();
    assert_eq!(serials.len(), 12);
    // The same directory again: each report refused as invoiced, nothing new.
    let out = d.run(&["vendor", "invoice", "--batch", "reports"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("14 of the reports"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("already done"), "{}", stderr(&out));
    let again = d.run(&["vendor", "ledger", "invoices", "--json"]);
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again["invoices"].as_array().expect("a list").len(), 12);
}

// ---------------------------------------------------------------------------
// Two operators at once, on SQLite and on PostgreSQL.
// ---------------------------------------------------------------------------

/// A ledger for a concurrency test: a SQLite file in the directory, or a
/// schema of its own in `$TESSERA_TEST_POSTGRES` (dropped afterwards).
/// Without that variable, under CI the test fails; elsewhere it says it did
/// not test PostgreSQL and returns `None`.
struct PgSchema {
    url: String,
    schema: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

fn ledger_for(postgres: bool, test: &str) -> Option<(String, Option<PgSchema>)> {
    if !postgres {
        return Some((crate::util::LEDGER.to_string(), None));
    }
    let Some(url) = std::env::var("TESSERA_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "{test} runs on PostgreSQL, which CI must test, but TESSERA_TEST_POSTGRES is not set \
             (eval \"$(bash ledger/ci-postgres.sh)\" sets it)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} on PostgreSQL: TESSERA_TEST_POSTGRES is not set, so PostgreSQL was NOT tested"
        );
        return None;
    };
    // Unique among tests running at once, here and in other processes.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "e2e_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL");
    c.batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create a schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let at = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    Some((at, Some(PgSchema { url, schema })))
}

/// Runs the two commands at the same moment; their outputs.
fn at_once(d: &Dir, a: &[&str], b: &[&str]) -> (Output, Output) {
    let spawn = |args: &[&str]| -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .current_dir(d.path(""))
            .env_remove("TESSERA_STORE")
            .env_remove("TESSERA_LEDGER")
            .env("NO_COLOR", "1")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start tessera")
    };
    let (ca, cb) = (spawn(a), spawn(b));
    (
        ca.wait_with_output().expect("wait"),
        cb.wait_with_output().expect("wait"),
    )
}

/// Exactly one of the two succeeded, and the other was told who did it and when.
fn exactly_one(a: &Output, b: &Output) {
    let ok = [a, b].iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "first: {}\nsecond: {}", stderr(a), stderr(b));
    let loser = if a.status.success() { b } else { a };
    assert_eq!(loser.status.code(), Some(1), "{}", stderr(loser));
    let said = stderr(loser);
    assert!(said.contains("already done, by "), "{said}");
    assert!(said.contains(" UTC"), "{said}");
}

fn two_operators_invoice_one_report(postgres: bool) {
    let d = Dir::new();
    let Some((ledger, _schema)) = ledger_for(postgres, "two_operators_invoice_one_report") else {
        return;
    };
    let key = site_key(9);
    let licence = site_licence(&d, &ledger);
    for round in 0..3 {
        // A month per round, so that each round has a report to race for.
        let month = format!("2026-{:02}", 8 + round);
        let file = format!("r{round}.rpt");
        write_report(&d, &file, &honest(&licence, &key, &month), &key);
        let args = [
            "vendor",
            "invoice",
            file.as_str(),
            "--ledger",
            ledger.as_str(),
        ];
        let (a, b) = at_once(&d, &args, &args);
        exactly_one(&a, &b);
    }
    let held = d.run(&[
        "vendor", "ledger", "invoices", "--json", "--ledger", &ledger,
    ]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
    assert_eq!(
        held["invoices"].as_array().expect("a list").len(),
        3,
        "{held:#}"
    );
}

fn two_operators_fulfil_one_request(postgres: bool) {
    let d = Dir::new();
    let Some((ledger, _schema)) = ledger_for(postgres, "two_operators_fulfil_one_request") else {
        return;
    };
    d.site();
    site_licence(&d, &ledger);
    let key = demo_key();
    for round in 0..3 {
        let req = format!("req{round}.lic");
        d.st(&[
            "request",
            "seats",
            "--licence",
            "Jobs User",
            "--term",
            "monthly",
            "--add",
            "1",
            "--out",
            &req,
        ])
        .assert()
        .success();
        let (oa, ob) = (format!("a{round}.lic"), format!("b{round}.lic"));
        let args = |out: &str| {
            vec![
                "vendor".to_string(),
                "issue".into(),
                "--key".into(),
                key.clone(),
                "--fulfil".into(),
                req.clone(),
                "--out".into(),
                out.to_string(),
                "--ledger".into(),
                ledger.clone(),
            ]
        };
        let (aa, ab) = (args(&oa), args(&ob));
        let aa: Vec<&str> = aa.iter().map(String::as_str).collect();
        let ab: Vec<&str> = ab.iter().map(String::as_str).collect();
        let (a, b) = at_once(&d, &aa, &ab);
        exactly_one(&a, &b);
        // One licence file, the one the ledger holds; the site imports it.
        let written: Vec<&String> = [&oa, &ob]
            .into_iter()
            .filter(|f| d.path(f).exists())
            .collect();
        assert_eq!(written.len(), 1, "round {round}");
        d.st(&["import", written[0]]).assert().success();
    }
    let held = d.run(&[
        "vendor",
        "ledger",
        "licences",
        "NW-000123",
        "--json",
        "--ledger",
        &ledger,
    ]);
    let held: Value = serde_json::from_slice(&held.stdout).expect("JSON");
    let seqs: Vec<u64> = held["licences"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| l["sequence"].as_u64().expect("a sequence"))
        .collect();
    assert_eq!(seqs, [2, 3, 4, 5], "{held:#}");
}

#[test]
fn two_operators_invoice_one_report_on_sqlite() {
    two_operators_invoice_one_report(false);
}

#[test]
fn two_operators_invoice_one_report_on_postgres() {
    two_operators_invoice_one_report(true);
}

#[test]
fn two_operators_fulfil_one_request_on_sqlite() {
    two_operators_fulfil_one_request(false);
}

#[test]
fn two_operators_fulfil_one_request_on_postgres() {
    two_operators_fulfil_one_request(true);
}
