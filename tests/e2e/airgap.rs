//! The air-gapped loop end to end, at chosen dates: a site buys or gives back
//! seats with a signed licence request, the vendor checks it and issues the next
//! licence, the site imports it; a month of usage goes to the vendor as a signed
//! report and comes back as an invoice. The binary reads only the real clock, so
//! every site command runs under libfaketime (`Dir::at`), and the vendor's too,
//! so that what it signs is dated before the site's day.

use serde_json::Value;

use crate::util::{
    Dir, STORE, assert_refused, event_names_oldest_first, find_user, pool, repo, stderr, stdout,
};

/// The demo key: a demo store trusts licences it signs.
fn demo_key() -> String {
    repo("keys/demo/demo.key")
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

/// `tessera --store st ARGS…` at `when`; requires exit 0, returns standard output.
fn st(d: &Dir, when: &str, args: &[&str]) -> String {
    d.ok_at(when, &with_store(args))
}

/// `tessera --store st ARGS…` at `when`, whatever happens.
fn st_run(d: &Dir, when: &str, args: &[&str]) -> std::process::Output {
    d.run_at(when, &with_store(args))
}

/// `tessera --store st ARGS… --json` at `when`, parsed.
fn st_json(d: &Dir, when: &str, args: &[&str]) -> Value {
    d.json_at(when, &with_store(args))
}

fn with_store<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--store", STORE];
    all.extend_from_slice(args);
    all
}

/// Makes the store `st` at `when` from the example licence (sequence 2, expiry
/// 2099, issued 2026-01-05) with `edit` applied, and checks that the binary
/// sees the faked day.
fn site_at(d: &Dir, when: &str, edit: impl FnOnce(&mut toml::Table)) {
    d.issue_sequence(2, "site.lic", edit);
    st(d, when, &["init", "--licence", "site.lic"]);
    let s = status_json(d, when);
    assert_eq!(
        s["today"],
        &when[..10],
        "the binary does not see the faked clock (is libfaketime working?): {s:#}"
    );
}

/// Asserts a pool of `status --json` has these total, in use, available and
/// pending seats.
#[track_caller]
fn assert_seats(p: &Value, total: u64, in_use: u64, available: u64, pending: u64) {
    assert_eq!(
        (&p["total"], &p["in_use"], &p["available"], &p["pending"]),
        (
            &Value::from(total),
            &Value::from(in_use),
            &Value::from(available),
            &Value::from(pending)
        ),
        "{p}"
    );
}

/// The seat pool of a licence's `inspect --json` with this licence and term.
fn seat_pool<'a>(licence: &'a Value, name: &str, term: &str) -> &'a Value {
    licence["seat_pools"]
        .as_array()
        .expect("seat_pools is a list")
        .iter()
        .find(|p| p["licence"] == name && p["term"] == term)
        .unwrap_or_else(|| panic!("no seat pool {name} ({term}) in {licence:#}"))
}

/// Event names in the action log, oldest first.
fn events(d: &Dir, when: &str) -> Vec<String> {
    event_names_oldest_first(&st_json(d, when, &["audit", "--json", "--limit", "100000"]))
}

/// Events with this name, newest first, as `audit --json` prints them.
fn events_named(d: &Dir, when: &str, name: &str) -> Vec<Value> {
    let all = st_json(d, when, &["audit", "--json", "--limit", "100000"]);
    all.as_array()
        .expect("events are a list")
        .iter()
        .filter(|e| e["event"] == name)
        .cloned()
        .collect()
}

/// The user of `users list --json` with this name.
fn user(d: &Dir, when: &str, name: &str) -> Value {
    let page = st_json(
        d,
        when,
        &["users", "list", "--json", "--deleted", "--limit", "100000"],
    );
    find_user(&page, name).unwrap_or_else(|| panic!("no user {name}"))
}

/// What a refused site command must leave as it was, read at `when`: the
/// status (without its day), the number of events, and the outbox.
fn site_state(d: &Dir, when: &str) -> (Value, Value, Value) {
    let mut status = status_json(d, when);
    if let Some(o) = status.as_object_mut() {
        o.remove("today");
    }
    let verify = st_json(d, when, &["audit", "--json", "verify"]);
    let outbox = st_json(d, when, &["outbox", "--json"]);
    (status, verify["events"].clone(), outbox)
}

/// Sets `[contract]` start and end (and, when given, the expiry date).
fn contract(s: &mut toml::Table, start: &str, end: &str) {
    let c = s
        .get_mut("contract")
        .and_then(toml::Value::as_table_mut)
        .expect("the example spec has [contract]");
    c.insert("start".into(), toml::Value::String(start.into()));
    c.insert("end".into(), toml::Value::String(end.into()));
}

/// Sets a metered service's overage price.
fn overage_price(s: &mut toml::Table, service: &str, price: &str) {
    let svc = s
        .get_mut("metered_services")
        .and_then(toml::Value::as_array_mut)
        .expect("the example spec has metered services")
        .iter_mut()
        .filter_map(toml::Value::as_table_mut)
        .find(|m| m.get("name").and_then(toml::Value::as_str) == Some(service))
        .unwrap_or_else(|| panic!("no metered service {service}"));
    svc.insert("overage_price".into(), toml::Value::String(price.into()));
}

/// Adds users `names` as engineers on seats of `licence` (`term`).
fn add_users(d: &Dir, when: &str, names: &[&str], licence: &str, term: &str) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            st(
                d,
                when,
                &[
                    "users",
                    "add",
                    n,
                    "--role",
                    "engineer",
                    "--licence",
                    licence,
                    "--term",
                    term,
                ],
            )
        })
        .collect()
}

/// The arguments `request seats --licence LICENCE --term TERM CHANGE N REST…`,
/// where CHANGE is `--add` or `--remove`.
fn seats_request<'a>(
    licence: &'a str,
    term: &'a str,
    change: &'a str,
    n: &'a str,
    rest: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "request",
        "seats",
        "--licence",
        licence,
        "--term",
        term,
        change,
        n,
    ];
    args.extend_from_slice(rest);
    args
}

/// The site asks for `n` more monthly Jobs User seats at `when`, the signed
/// request written to `out`; requires exit 0, returns standard output.
fn ask_for_monthly_seats(d: &Dir, when: &str, n: &str, out: &str) -> String {
    st(
        d,
        when,
        &seats_request("Jobs User", "monthly", "--add", n, &["--out", out]),
    )
}

/// The arguments `report usage --month MONTH --out OUT`.
fn usage_report<'a>(month: &'a str, out: &'a str) -> [&'a str; 6] {
    ["report", "usage", "--month", month, "--out", out]
}

/// Records `count` uses of a metered service at `when`.
fn metered(d: &Dir, when: &str, service: &str, count: &str) -> String {
    st(d, when, &["usage", "metered", service, "--count", count])
}

/// `status --json` of the store at `when`, parsed.
/// Takes the store's licence files out of `export contracts` and records them
/// in the ledger with `vendor ledger add-licence --demo`.
fn record_contracts(d: &Dir, when: &str) {
    st(d, when, &["export", "contracts", "--out", "contracts.zip"]);
    let file = std::fs::File::open(d.path("contracts.zip")).expect("the zip");
    let mut zip = zip::ZipArchive::new(file).expect("a zip");
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("an entry");
        let name = entry.name().to_string();
        if let Some(base) = name.rsplit('/').next().filter(|n| n.ends_with(".lic")) {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).expect("read it");
            d.write(base, text);
            names.push(base.to_string());
        }
    }
    assert!(!names.is_empty(), "no licence in the export");
    let mut args = vec!["vendor", "ledger", "add-licence", "--demo"];
    args.extend(names.iter().map(String::as_str));
    let said = d.ok_at(when, &args);
    assert!(said.contains("licences recorded"), "{said}");
}

fn open_ledger(d: &Dir) -> ledger::Ledger {
    ledger::Ledger::open(&ledger::Location::Sqlite(d.path(crate::util::LEDGER)))
        .expect("open the ledger")
}

fn status_json(d: &Dir, when: &str) -> Value {
    st_json(d, when, &["status", "--json"])
}

/// The arguments `vendor CMD FILE`: a vendor command on a request or report,
/// checked against and recorded in the test directory's ledger.
fn vendor_cmd<'a>(cmd: &'a str, file: &'a str) -> [&'a str; 3] {
    ["vendor", cmd, file]
}

/// What the ledger holds of the installations, as `vendor ledger installations --json` says.
fn installations(d: &Dir, when: &str) -> Value {
    d.json_at(when, &["vendor", "ledger", "installations", "--json"])["installations"].clone()
}

/// `vendor issue --key demo.key CURRENT --fulfil REQUEST --out OUT` at `when`.
fn fulfil(d: &Dir, when: &str, current: &str, request: &str, out: &str) -> std::process::Output {
    let key = demo_key();
    let args = [
        "vendor", "issue", "--key", &key, current, "--fulfil", request, "--out", out,
    ];
    d.run_at(when, &args)
}

/// [`fulfil`], which must succeed: the next licence is written to `out`.
fn fulfilled(d: &Dir, when: &str, current: &str, request: &str, out: &str) -> std::process::Output {
    let done = fulfil(d, when, current, request, out);
    assert!(done.status.success(), "{}", stderr(&done));
    done
}

/// `inspect --json FILE > current.json`: the licence in force as the vendor's spec.
fn current_spec(d: &Dir, when: &str, licence: &str, out: &str) {
    let json = d.ok_at(when, &["inspect", "--json", licence]);
    d.write(out, json);
}

/// Copies `src` to `dst` with one base64 character of the armored body changed:
/// line `line` of the body (0 = first), column `col`.
fn tamper(d: &Dir, src: &str, dst: &str, line: usize, col: usize) {
    let text = d.read(src);
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let body_start = lines
        .iter()
        .position(|l| l.trim().is_empty())
        .expect("a blank line after the readable headers")
        + 1;
    let l = &mut lines[body_start + line];
    assert!(!l.starts_with("-----"), "line {line} is past the body");
    let c = l.remove(col);
    l.insert(col, if c == 'A' { 'B' } else { 'A' });
    d.write(dst, lines.join("\n") + "\n");
}

/// The number of full base64 lines in an armored file's body (the last,
/// which may end in padding, not counted).
fn full_body_lines(d: &Dir, file: &str) -> usize {
    let text = d.read(file);
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim().is_empty())
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    body.len() - 1
}

// ---------------------------------------------------------------------------
// 1. The whole loop.
// ---------------------------------------------------------------------------

#[test]
fn a_purchase_travels_to_the_vendor_and_back_and_a_month_of_usage_is_invoiced() {
    let d = Dir::new();
    // Two metered services priced below a penny, so that rounding once shows.
    site_at(&d, "2026-11-22 09:00:00", |s| {
        overage_price(s, "form-submissions", "0.003");
    });

    // --- The site asks for 3 monthly seats on 22 November.
    let r = st_json(
        &d,
        "2026-11-22 09:05:00",
        &seats_request(
            "Jobs User",
            "monthly",
            "--add",
            "3",
            &["--out", "req.lic", "--json"],
        ),
    );
    assert_eq!(r["action"], "add", "{r:#}");
    assert_eq!(r["count"], 3);
    assert_eq!(r["pool"], "Jobs User (monthly)");
    assert_eq!(r["effective"], "2026-11-22");
    assert_eq!(r["currency"], "GBP");
    // This period: 9 of 30 days (22 to 30 November, today included) x 3 x 52.00.
    assert_eq!(r["total"], "46.80");
    let lines = r["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2, "{r:#}");
    assert_eq!(lines[0]["amount"], "46.80");
    assert_eq!(lines[0]["exact"], "46.8");
    assert_eq!(lines[0]["in_total"], true);
    let first = lines[0]["description"].as_str().unwrap();
    assert!(
        first.contains("9 of 30 days") && first.contains("52.00"),
        "{first}"
    );
    // Then a month's price for the three, later and not in the total.
    assert_eq!(lines[1]["amount"], "156.00");
    assert_eq!(lines[1]["in_total"], false);
    assert!(
        lines[1]["description"]
            .as_str()
            .unwrap()
            .contains("2026-12-01"),
        "{r:#}"
    );
    for l in lines {
        assert!(l["amount"].is_string() && l["exact"].is_string(), "{l}");
    }
    let request_id = r["request_id"].as_str().expect("request id").to_string();
    assert_eq!(request_id, "NW-000123-R00001");
    assert_eq!(r["request_file"], "req.lic");
    assert!(
        r["request"].is_null(),
        "the request went to the file: {r:#}"
    );
    assert!(
        d.read("req.lic")
            .starts_with("-----BEGIN TESSERA LICENCE REQUEST-----"),
        "{}",
        d.read("req.lic")
    );

    // Pending, shown but not granted: the total and the storage stay.
    let s = status_json(&d, "2026-11-22 09:06:00");
    let p = pool(&s, "Jobs User", "monthly");
    assert_eq!(p["pending"], 3, "{p}");
    assert_eq!(p["total"], 5);
    assert_eq!(p["licensed"], 5);
    assert_eq!(s["sequence"], 2);
    let allowance_before = s["storage_allowance_gb"].as_u64().unwrap();
    assert_eq!(
        allowance_before,
        25 * 20 + 5 * 20 + 6 * 50 + 2 * 50 + 3 * 50
    );
    assert!(
        events(&d, "2026-11-22 09:06:00")
            .iter()
            .any(|e| e == "Seats requested")
    );

    // Pending seats are not usable: a sixth monthly user is over-allocated.
    let added = add_users(
        &d,
        "2026-11-22 09:10:00",
        &["m1", "m2", "m3", "m4", "m5"],
        "Jobs User",
        "monthly",
    );
    for out in &added {
        assert!(!out.contains("over-allocated"), "{out}");
    }
    let out = add_users(&d, "2026-11-22 09:11:00", &["m6"], "Jobs User", "monthly");
    assert!(out[0].contains("over-allocated"), "{}", out[0]);
    add_users(&d, "2026-11-22 09:12:00", &["dd"], "Jobs User", "daily");
    let s = status_json(&d, "2026-11-22 09:13:00");
    let p = pool(&s, "Jobs User", "monthly");
    assert_seats(p, 5, 6, 0, 3);
    assert_eq!(p["over_allocated"], 1);
    assert_eq!(s["users"]["over_allocated"], 1);
    assert!(!user(&d, "2026-11-22 09:13:00", "m6")["over_allocated_until"].is_null());
    let c = st_json(&d, "2026-11-22 09:13:00", &["check", "m6", "--json"]);
    assert_eq!(c["allowed"], true, "within the grace: {c}");
    assert!(c["warnings"].to_string().contains("over-allocated"), "{c}");

    // The confirmation e-mail: listed, RFC 5322 headers, CRLF line ends.
    let outbox = st_json(&d, "2026-11-22 09:14:00", &["outbox", "--json"]);
    let mails = outbox.as_array().expect("outbox is a list");
    assert_eq!(mails.len(), 1, "{outbox:#}");
    let mail = &mails[0];
    assert_eq!(mail["to"], "accounts@northwind-heating.example");
    let subject = mail["subject"].as_str().unwrap();
    assert!(
        subject.contains(&request_id) && subject.contains("3 Jobs User (monthly)"),
        "{subject}"
    );
    let file = mail["file"].as_str().expect("file name");
    assert!(file.ends_with(".eml"), "{file}");
    let eml_path = format!("{STORE}/outbox/{file}");
    let eml = d.read(&eml_path);
    assert!(
        !eml.replace("\r\n", "").contains(['\n', '\r']),
        "every line ends in CRLF: {eml:?}"
    );
    let (head, body) = eml
        .split_once("\r\n\r\n")
        .expect("a blank line ends the header");
    let header = |name: &str| {
        head.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} header in {head}"))
            .to_string()
    };
    assert_eq!(header("To"), "accounts@northwind-heating.example");
    assert_eq!(header("Subject"), subject);
    let date = chrono::DateTime::parse_from_rfc2822(&header("Date"))
        .unwrap_or_else(|e| panic!("Date is not RFC 5322 ({e}): {head}"));
    assert_eq!(date.date_naive().to_string(), "2026-11-22");
    let id = header("Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with('>') && id.contains('@'),
        "{id}"
    );
    assert!(header("From").contains('@'), "{head}");
    assert!(body.contains("46.80"), "{body}");
    // The request travels inside the e-mail as well: the vendor can read it there.
    let v = d.ok_at(
        "2026-11-22 09:15:00",
        &["vendor", "verify-request", &eml_path],
    );
    assert!(v.contains(&request_id), "{v}");

    // --- The vendor checks the request, then issues the next licence.
    let v = d.ok_at(
        "2026-11-22 10:00:00",
        &vendor_cmd("verify-request", "req.lic"),
    );
    assert!(v.starts_with("VALID licence request"), "{v}");
    // The e-mail's copy was checked first: the key was taken then.
    assert!(v.contains("installation key matches"), "{v}");
    assert!(v.contains("not fulfilled yet"), "{v}");
    assert!(
        v.contains("add 3 Jobs User (monthly) seats from 2026-11-22"),
        "{v}"
    );
    assert!(v.contains("46.80"), "{v}");
    current_spec(&d, "2026-11-22 10:01:00", "site.lic", "current.json");
    let out = fulfilled(
        &d,
        "2026-11-22 10:05:00",
        "current.json",
        "req.lic",
        "next.lic",
    );
    assert!(
        stdout(&out).contains("issued licence NW-000123 sequence 3"),
        "{}",
        stdout(&out)
    );
    let current: Value = serde_json::from_str(&d.read("current.json")).unwrap();
    let next = d.json_at("2026-11-22 10:06:00", &["inspect", "--json", "next.lic"]);
    assert_eq!(next["sequence"], 3, "{next:#}");
    assert_eq!(next["licence_id"], "NW-000123-0003");
    assert!(
        next["issued_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-22T10:05"),
        "{next:#}"
    );
    assert_eq!(seat_pool(&next, "User", "monthly")["count"], 8);
    for (name, term) in [
        ("User", "contracted"),
        ("User", "daily"),
        ("Sales Person", "contracted"),
        ("Sales Person", "monthly"),
        ("Sales Support", "contracted"),
    ] {
        assert_eq!(
            seat_pool(&next, name, term),
            seat_pool(&current, name, term),
            "only the monthly Jobs User pool changes"
        );
    }
    // The ledger holds the request as fulfilled, and the licence that did it.
    let mut ledger = open_ledger(&d);
    let (by, _) = ledger
        .transaction(|tx| tx.fulfilment("NW-000123", &request_id))
        .expect("read the ledger")
        .expect("the request is fulfilled in the ledger");
    assert_eq!(by, store::identity::login_name());
    let issued = ledger
        .transaction(|tx| tx.licences("NW-000123"))
        .expect("read the ledger");
    assert_eq!(
        issued.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(issued[1].signed, d.read("next.lic"));

    // --- The site imports it: pending gone, the seats usable.
    let out = st(&d, "2026-11-22 11:00:00", &["import", "next.lic"]);
    assert!(out.contains("imported licence sequence 3"), "{out}");
    let s = status_json(&d, "2026-11-22 11:01:00");
    assert_eq!(s["sequence"], 3);
    let p = pool(&s, "Jobs User", "monthly");
    assert_seats(p, 8, 6, 2, 0);
    assert_eq!(p["over_allocated"], 0);
    assert_eq!(s["users"]["over_allocated"], 0);
    // Granted seats bring their storage.
    assert_eq!(
        s["storage_allowance_gb"].as_u64().unwrap(),
        allowance_before + 3 * 20
    );
    assert!(user(&d, "2026-11-22 11:01:00", "m6")["over_allocated_until"].is_null());
    let c = st_json(&d, "2026-11-22 11:02:00", &["check", "m6", "--json"]);
    assert_eq!(c["allowed"], true);
    assert!(!c["warnings"].to_string().contains("over-allocated"), "{c}");
    let fulfilled = events_named(&d, "2026-11-22 11:02:00", "Purchase fulfilled");
    assert_eq!(fulfilled.len(), 1);
    assert!(
        fulfilled[0]["message"]
            .as_str()
            .unwrap()
            .contains(&request_id)
    );
    // The import is confirmed by e-mail too.
    let outbox = st_json(&d, "2026-11-22 11:03:00", &["outbox", "--json"]);
    assert_eq!(outbox.as_array().unwrap().len(), 2, "{outbox:#}");

    // --- November usage, which December's report must not carry.
    st(
        &d,
        "2026-11-25 09:00:00",
        &["usage", "record", "dd", "--kind", "login"],
    );
    metered(&d, "2026-11-25 09:01:00", "emails-sent", "100");

    // --- A month of usage in December.
    let rec = |when: &str, kind: &str, day: Option<&str>| {
        let mut args = vec!["usage", "record", "dd", "--kind", kind, "--json"];
        if let Some(day) = day {
            args.extend_from_slice(&["--day", day]);
        }
        st_json(&d, when, &args)
    };
    assert_eq!(rec("2026-12-01 08:00:00", "login", None)["charged"], true);
    // Twice on one day: charged once.
    let again = rec("2026-12-01 17:00:00", "diary-actioned", None);
    assert_eq!(again["charged"], false, "{again}");
    // Booked on the 2nd for the 10th: the 10th is charged, and the login that day is not again.
    let booked = rec("2026-12-02 09:00:00", "diary-booked", Some("2026-12-10"));
    assert_eq!(booked["charged"], true);
    assert_eq!(booked["day"], "2026-12-10");
    assert_eq!(rec("2026-12-10 08:00:00", "login", None)["charged"], false);
    assert_eq!(
        rec("2026-12-15 16:00:00", "diary-actioned", None)["charged"],
        true
    );
    assert_eq!(rec("2026-12-31 23:00:00", "login", None)["charged"], true);

    // Metered: threshold 5000 + 200 x 8 active users = 6600 e-mails; 1000 + 10 x 8 = 1080 forms.
    metered(&d, "2026-12-03 12:00:00", "emails-sent", "6000");
    metered(&d, "2026-12-20 12:00:00", "emails-sent", "1602");
    metered(&d, "2026-12-20 12:01:00", "form-submissions", "1081");
    st(
        &d,
        "2026-12-20 12:02:00",
        &["usage", "storage", "--bytes", "300000000000"],
    );
    let s = status_json(&d, "2026-12-20 12:03:00");
    let emails = s["metered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "emails-sent")
        .unwrap();
    assert_eq!(emails["used"], 7602, "November's 100 are not December's");
    assert_eq!(emails["threshold"], 6600);
    assert_eq!(emails["excess"], 1002);

    // January: the first of the month is January's, not December's.
    assert_eq!(rec("2027-01-01 09:00:00", "login", None)["charged"], true);

    // --- 2 January: the report of December.
    let out = st(
        &d,
        "2027-01-02 09:00:00",
        &usage_report("2026-12", "dec.rpt"),
    );
    assert!(out.contains("for 2026-12"), "{out}");
    assert!(out.contains("4 daily user-days"), "{out}");
    assert!(
        d.read("dec.rpt")
            .starts_with("-----BEGIN TESSERA USAGE REPORT V2-----")
    );

    // --- The vendor checks it and invoices it.
    let v = d.ok_at(
        "2027-01-02 10:00:00",
        &vendor_cmd("verify-report", "dec.rpt"),
    );
    assert!(v.starts_with("VALID usage report"), "{v}");
    assert!(v.contains("installation key matches"), "{v}");
    let rep = d.json_at(
        "2027-01-02 10:01:00",
        &["vendor", "verify-report", "dec.rpt", "--json"],
    );
    assert_eq!(rep["month"], "2026-12");
    assert_eq!(rep["serial"], "NW-000123");
    assert_eq!(rep["licence_sequence"], 3);
    assert_eq!((&rep["part"], &rep["parts"]), (&1.into(), &1.into()));
    assert_eq!(
        rep["daily_user_days"],
        serde_json::json!([{
            "area": "Jobs",
            "licence": "User",
            "users": [{"user": "dd", "days": [1, 10, 15, 31]}],
        }]),
        "{rep:#}"
    );
    let monthly = rep["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["licence"] == "User" && p["term"] == "monthly")
        .unwrap();
    assert_eq!(monthly["total"], 8);
    assert_eq!(monthly["peak_in_use"], 6, "m1..m6 held seats all month");
    assert_eq!(rep["storage_used_bytes"], 300_000_000_000u64);
    assert_eq!(rep["storage_allowance_gb"], allowance_before + 60);

    let inv = d.json_at(
        "2027-01-02 10:02:00",
        &["vendor", "invoice", "dec.rpt", "--json"],
    );
    assert_eq!(inv["serial"], "NW-000123");
    assert_eq!(inv["month"], "2026-12");
    assert_eq!(inv["billed_ahead"], "2027-01");
    assert_eq!(inv["currency"], "GBP");
    let lines = inv["lines"].as_array().expect("invoice lines");
    let figures: Vec<(u64, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["quantity"].as_u64().expect("quantity"),
                l["unit_price"].as_str().expect("unit price as a string"),
                l["amount"].as_str().expect("amount as a string"),
            )
        })
        .collect();
    assert_eq!(
        figures,
        vec![
            // Seats billed ahead for January: every seat of each pool, daily pools not.
            (25, "45", "1125"),
            (8, "52", "416"),
            (6, "39", "234"),
            (2, "44", "88"),
            (3, "15", "45"),
            // Add-ons and integrations, a month ahead, from the licence.
            (10, "4", "40"),
            (5, "12.5", "62.5"),
            (1, "99", "99"),
            (1, "25", "25"),
            // dd's charged days of December.
            (4, "3.5", "14"),
            // Excess past the thresholds.
            (1002, "0.002", "2.004"),
            (1, "0.003", "0.003"),
        ],
        "{inv:#}"
    );
    for l in &lines[..9] {
        let text = l["description"].as_str().unwrap();
        assert!(
            text.contains("2027-01") && text.contains("billed ahead"),
            "{text}"
        );
    }
    let daily = lines[9]["description"].as_str().unwrap();
    assert!(daily.contains("dd") && daily.contains("2026-12"), "{daily}");
    assert!(
        lines[10]["description"]
            .as_str()
            .unwrap()
            .contains("emails-sent")
    );
    assert!(
        lines[11]["description"]
            .as_str()
            .unwrap()
            .contains("form-submissions")
    );
    // 1908 + 226.5 + 14 + 2.004 + 0.003 = 2150.507, rounded once (line by
    // line it would be 2150.50).
    assert_eq!(inv["total"], "2150.51");
    // An honest report agrees with the ledger: nothing to find.
    assert_eq!(inv["findings"], serde_json::json!([]), "{inv:#}");
    // The ledger holds the invoice as printed.
    let held = d.json_at(
        "2027-01-02 10:02:30",
        &[
            "vendor", "ledger", "invoices", "--month", "2026-12", "--json",
        ],
    );
    assert_eq!(held["invoices"][0]["total"], "2150.51", "{held:#}");
    assert_eq!(held["invoices"][0]["id"], inv["invoice_id"], "{held:#}");

    // The same report again is a replay: refused, not invoiced twice.
    let again = d.run_at("2027-01-02 10:03:00", &vendor_cmd("invoice", "dec.rpt"));
    assert_refused(&again, &["NW-000123-U202612-1", "replay"]);
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));

    let verify = st(&d, "2027-01-02 11:00:00", &["audit", "verify"]);
    assert!(!verify.is_empty());
}

// ---------------------------------------------------------------------------
// 2. The rules, at chosen dates, through the command line.
// ---------------------------------------------------------------------------

#[test]
fn contracted_seats_are_given_back_only_in_the_renewal_window_and_from_renewal() {
    let d = Dir::new();
    // Contract 2026-01-01 to 2026-12-31, renewal window 60 days: from 2026-11-01.
    site_at(&d, "2026-10-01 09:00:00", |_| {});
    let remove = |when: &str, n: &str| {
        st_run(
            &d,
            when,
            &seats_request("Jobs User", "contracted", "--remove", n, &["--json"]),
        )
    };
    let before = site_state(&d, "2026-10-01 09:01:00");
    for when in ["2026-10-01 10:00:00", "2026-10-31 23:00:00"] {
        let out = remove(when, "2");
        assert_refused(&out, &["renewal window", "2026-11-01", "2026-12-31"]);
        // With --json the refusal's code is on standard output; no request is.
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["error"]["code"], "rule", "{v}");
    }
    assert_eq!(site_state(&d, "2026-10-31 23:01:00"), before);
    assert!(!d.path("req.lic").exists());

    // Inside the window (mid-November): 2 seats, from renewal.
    let out = remove("2026-11-15 09:00:00", "2");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["action"], "remove");
    assert_eq!(r["count"], 2);
    assert_eq!(r["effective"], "2027-01-01", "{r:#}");
    assert_eq!(r["total"], "0.00");
    assert!(
        r["lines"][0]["description"]
            .as_str()
            .unwrap()
            .contains("90.00 a month less"),
        "{r:#}"
    );
    let s = status_json(&d, "2026-11-15 09:00:30");
    let p = pool(&s, "Jobs User", "contracted");
    assert_eq!(p["total"], 25, "not before renewal: {p}");
    assert_eq!(
        p["scheduled"],
        serde_json::json!({"seats": 23, "from": "2027-01-01"}),
        "{p}"
    );
    let names = events(&d, "2026-11-15 09:01:00");
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "Seat reduction scheduled")
            .count(),
        1,
        "{names:?}"
    );
    let outbox = st_json(&d, "2026-11-15 09:01:00", &["outbox", "--json"]);
    let subjects: Vec<&str> = outbox
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("give back 2 Jobs User (contracted)")),
        "{subjects:?}"
    );

    // Still in force on the contract's last day; applied at renewal.
    let s = status_json(&d, "2026-12-31 12:00:00");
    assert_eq!(pool(&s, "Jobs User", "contracted")["total"], 25);
    let t = st_json(&d, "2027-01-01 09:00:00", &["tick", "--json"]);
    assert!(t["notices"].to_string().contains("23 seats now"), "{t:#}");
    let s = status_json(&d, "2027-01-01 09:01:00");
    let p = pool(&s, "Jobs User", "contracted");
    assert_eq!(p["total"], 23, "{p}");
    assert_eq!(p["licensed"], 25);
    assert!(p["scheduled"].is_null(), "{p}");
    assert!(
        events(&d, "2027-01-01 09:02:00")
            .iter()
            .any(|e| e == "Seat reduction applied")
    );
}

#[test]
fn monthly_seats_are_given_back_down_to_the_unassigned_from_the_next_month_and_a_purchase_cancels_it()
 {
    let d = Dir::new();
    site_at(&d, "2026-11-10 09:00:00", |_| {});
    let request = |when: &str, term: &str, action: &str, n: &str| {
        st_run(
            &d,
            when,
            &seats_request("Sales Person", term, action, n, &["--json"]),
        )
    };
    // Both monthly Sales Person seats are held.
    for n in ["sp1", "sp2"] {
        st(
            &d,
            "2026-11-10 09:01:00",
            &[
                "users",
                "add",
                n,
                "--role",
                "sales person",
                "--licence",
                "Sales Person",
                "--term",
                "monthly",
            ],
        );
    }
    let before = site_state(&d, "2026-11-15 09:00:00");
    assert_refused(
        &request("2026-11-15 09:01:00", "monthly", "--remove", "1"),
        &["only 0 of the 2", "unassigned"],
    );
    assert_eq!(site_state(&d, "2026-11-15 09:02:00"), before);

    st(&d, "2026-11-15 09:03:00", &["users", "deactivate", "sp2"]);
    let before = site_state(&d, "2026-11-15 09:04:00");
    assert_refused(
        &request("2026-11-15 09:05:00", "monthly", "--remove", "2"),
        &["only 1 of the 2", "unassigned"],
    );
    assert_eq!(site_state(&d, "2026-11-15 09:06:00"), before);

    let out = request("2026-11-15 09:07:00", "monthly", "--remove", "1");
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["effective"], "2026-12-01", "the 1st of next month: {r:#}");
    assert!(
        r["lines"][0]["description"]
            .as_str()
            .unwrap()
            .contains("44.00 a month less"),
        "{r:#}"
    );
    let s = status_json(&d, "2026-11-15 09:08:00");
    let p = pool(&s, "Sales Person", "monthly");
    assert_eq!(p["total"], 2, "{p}");
    assert_eq!(
        p["scheduled"],
        serde_json::json!({"seats": 1, "from": "2026-12-01"})
    );

    // A purchase after the scheduled reduction cancels it.
    let out = request("2026-11-16 09:00:00", "monthly", "--add", "1");
    assert!(out.status.success(), "{}", stderr(&out));
    let s = status_json(&d, "2026-11-16 09:01:00");
    let p = pool(&s, "Sales Person", "monthly");
    assert!(p["scheduled"].is_null(), "{p}");
    assert_eq!(p["pending"], 1);
    let cancelled = events_named(&d, "2026-11-16 09:02:00", "Seat reduction cancelled");
    assert_eq!(cancelled.len(), 1);
    assert!(
        cancelled[0]["message"]
            .as_str()
            .unwrap()
            .contains("NW-000123-R00002"),
        "names the purchase: {}",
        cancelled[0]
    );
    // Nothing is given back on the 1st.
    st(&d, "2026-12-01 09:00:00", &["tick"]);
    let s = status_json(&d, "2026-12-01 09:01:00");
    assert_eq!(pool(&s, "Sales Person", "monthly")["total"], 2);

    // Daily seats only where the licence offers them.
    let before = site_state(&d, "2026-12-01 09:02:00");
    assert_refused(
        &request("2026-12-01 09:03:00", "daily", "--add", "1"),
        &["Sales Person", "daily", "contracted, monthly"],
    );
    assert_eq!(site_state(&d, "2026-12-01 09:04:00"), before);
    // Where offered, they cost nothing now.
    let r = st_json(
        &d,
        "2026-12-01 09:05:00",
        &seats_request("Jobs User", "daily", "--add", "2", &["--json"]),
    );
    assert_eq!(r["total"], "0.00");
    assert!(
        r["lines"][1]["description"]
            .as_str()
            .unwrap()
            .contains("3.50 per charged user-day"),
        "{r:#}"
    );
}

#[test]
fn at_least_one_seat_stays_in_total() {
    let d = Dir::new();
    // A licence of one pool: 2 monthly seats.
    site_at(&d, "2026-11-10 09:00:00", |s| {
        let only: toml::Table = r#"
            [[seat_pools]]
            area = "Jobs"
            licence = "User"
            term = "monthly"
            count = 2
            storage_gb_per_seat = 20
            price = "52.00"
        "#
        .parse()
        .unwrap();
        s.insert("seat_pools".into(), only["seat_pools"].clone());
    });
    let remove = |when: &str, n: &str| {
        st_run(
            &d,
            when,
            &seats_request("Jobs User", "monthly", "--remove", n, &[]),
        )
    };
    let before = site_state(&d, "2026-11-10 09:01:00");
    assert_refused(&remove("2026-11-10 09:02:00", "2"), &["at least one seat"]);
    assert_eq!(site_state(&d, "2026-11-10 09:03:00"), before);
    let out = remove("2026-11-10 09:04:00", "1");
    assert!(out.status.success(), "{}", stderr(&out));
    // A second reduction counts the first: none would be left.
    let before = site_state(&d, "2026-11-10 09:05:00");
    assert_refused(&remove("2026-11-10 09:06:00", "1"), &["at least one seat"]);
    assert_eq!(site_state(&d, "2026-11-10 09:07:00"), before);
    // The one reduction applies on the 1st.
    let t = st_json(&d, "2026-12-01 00:30:00", &["tick", "--json"]);
    assert!(t["notices"].to_string().contains("1 seats now"), "{t:#}");
    let s = status_json(&d, "2026-12-01 00:31:00");
    assert_eq!(pool(&s, "Jobs User", "monthly")["total"], 1);
    assert_refused(&remove("2026-12-01 00:32:00", "1"), &["at least one seat"]);
}

#[test]
fn a_request_not_fulfilled_within_30_days_expires() {
    let d = Dir::new();
    site_at(&d, "2026-11-01 09:00:00", |_| {});
    let r = st_json(
        &d,
        "2026-11-01 10:00:00",
        &seats_request("Jobs User", "monthly", "--add", "2", &["--json"]),
    );
    let id = r["request_id"].as_str().unwrap().to_string();
    // Without --out the signed request travels in the JSON.
    assert!(
        r["request"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN TESSERA LICENCE REQUEST-----")
    );
    // 29 days on: still pending.
    let t = st_json(&d, "2026-11-30 10:00:00", &["tick", "--json"]);
    assert!(!t["notices"].to_string().contains(&id), "{t:#}");
    let s = status_json(&d, "2026-11-30 10:01:00");
    assert_eq!(pool(&s, "Jobs User", "monthly")["pending"], 2);
    // 31 days on: lapsed, reported by the tick, never charged.
    let t = st_json(&d, "2026-12-02 10:00:00", &["tick", "--json"]);
    let notices = t["notices"].to_string();
    assert!(notices.contains(&id) && notices.contains("lapsed"), "{t:#}");
    let s = status_json(&d, "2026-12-02 10:01:00");
    let p = pool(&s, "Jobs User", "monthly");
    assert_eq!(p["pending"], 0, "{p}");
    assert_eq!(p["total"], 5);
    let expired = events_named(&d, "2026-12-02 10:02:00", "Purchase expired");
    assert_eq!(expired.len(), 1);
    assert!(expired[0]["message"].as_str().unwrap().contains(&id));
    // A second tick has nothing more to say about it.
    let t = st_json(&d, "2026-12-02 10:03:00", &["tick", "--json"]);
    assert!(!t["notices"].to_string().contains(&id), "{t:#}");
}

#[test]
fn a_contract_ending_mid_month_prices_its_last_month_by_days() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |s| {
        contract(s, "2026-01-01", "2026-12-15");
    });
    let r = st_json(
        &d,
        "2026-11-22 09:01:00",
        &seats_request("Jobs User", "contracted", "--add", "2", &["--json"]),
    );
    let lines = r["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{r:#}");
    // November: 9 of 30 days x 2 x 45.00 = 27.00.
    assert_eq!(lines[0]["amount"], "27.00");
    assert!(
        lines[0]["description"]
            .as_str()
            .unwrap()
            .contains("9 of 30 days")
    );
    // December: 1 to 15, 15 of 31 days x 90.00 = 43.548…
    assert_eq!(lines[1]["amount"], "43.55");
    let dec = lines[1]["description"].as_str().unwrap();
    assert!(
        dec.contains("15 of 31 days") && dec.contains("2026-12-15"),
        "{dec}"
    );
    // 70.548… rounded once.
    assert_eq!(r["total"], "70.55");
    assert_eq!(r["currency"], "GBP");
}

#[test]
fn a_purchase_on_a_leap_day_charges_a_29th_of_february() {
    let d = Dir::new();
    site_at(&d, "2028-02-29 09:00:00", |s| {
        contract(s, "2028-01-01", "2028-12-31");
    });
    let buy = |when: &str, term: &str| {
        st_json(
            &d,
            when,
            &seats_request("Jobs User", term, "--add", "1", &["--json"]),
        )
    };
    // Monthly: 1 of 29 days x 52.00 = 1.793…
    let r = buy("2028-02-29 09:01:00", "monthly");
    assert_eq!(r["total"], "1.79", "{r:#}");
    let first = r["lines"][0]["description"].as_str().unwrap();
    assert!(
        first.contains("1 of 29 days") && first.contains("2028-02-29 to 2028-02-29"),
        "{first}"
    );
    assert!(
        r["lines"][1]["description"]
            .as_str()
            .unwrap()
            .contains("from 2028-03-01")
    );
    // Contracted: 1/29 of February, then March to December whole: 1.551… + 450.
    let r = buy("2028-02-29 09:02:00", "contracted");
    assert_eq!(r["lines"].as_array().unwrap().len(), 11, "{r:#}");
    assert_eq!(r["total"], "451.55", "{r:#}");
}

// ---------------------------------------------------------------------------
// 3. Bad input: each refused, with a message that says why (exit 1).
// ---------------------------------------------------------------------------

#[test]
fn a_tampered_request_or_report_is_refused() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "1", "req.lic");
    st(
        &d,
        "2026-11-22 09:02:00",
        &usage_report("2026-11", "nov.rpt"),
    );
    current_spec(&d, "2026-11-22 09:03:00", "site.lic", "current.json");
    let when = "2026-11-22 10:00:00";
    for (file, verify, act) in [
        ("req.lic", "verify-request", "fulfil"),
        ("nov.rpt", "verify-report", "invoice"),
    ] {
        let refused = |bad: &str, words: &[&str]| {
            let out = d.run_at(when, &vendor_cmd(verify, bad));
            assert_refused(&out, words);
            let out = if act == "fulfil" {
                fulfil(&d, when, "current.json", bad, "next.lic")
            } else {
                d.run_at(when, &vendor_cmd("invoice", bad))
            };
            assert_refused(&out, words);
            assert!(stdout(&out).is_empty(), "{}", stdout(&out));
            assert!(!d.path("next.lic").exists(), "nothing issued from {bad}");
        };
        // One base64 character of the signature changed (the last full line
        // of the body ends in the signature's 64 bytes).
        let lines = full_body_lines(&d, file);
        assert!(lines >= 4, "{file}: {lines} body lines");
        tamper(&d, file, "tampered.txt", lines - 1, 50);
        refused(
            "tampered.txt",
            &["tampered.txt", "signature does not match", "altered"],
        );
        // One character anywhere in the body: refused, whatever it hit.
        for line in 0..lines {
            for col in [5, 37] {
                tamper(&d, file, "tampered.txt", line, col);
                refused("tampered.txt", &["tampered.txt"]);
            }
        }
    }
    // Nothing tampered reached the ledger: no installation key, no request, no report.
    let i = installations(&d, when);
    assert_eq!(i[0]["key_id"], Value::Null, "{i:#}");
    assert_eq!(i[0]["reports"], 0, "{i:#}");
    // The untouched files are good.
    d.ok_at(when, &vendor_cmd("verify-request", "req.lic"));
    d.ok_at(when, &vendor_cmd("verify-report", "nov.rpt"));
}

#[test]
fn a_request_from_another_installation_is_refused_unless_its_key_is_accepted() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    // A second store from the same licence file has its own installation key.
    d.ok_at(
        "2026-11-22 09:00:00",
        &["--store", "st2", "init", "--licence", "site.lic"],
    );
    let ask = |store: &str, out: &str| {
        d.ok_at(
            "2026-11-22 09:01:00",
            &[
                &["--store", store][..],
                &seats_request("Jobs User", "monthly", "--add", "1", &["--out", out]),
            ]
            .concat(),
        );
    };
    ask(STORE, "req1.lic");
    ask("st2", "req2.lic");
    let key_id = |file: &str| {
        d.json_at("2026-11-22 09:02:00", &["inspect", "--json", file])["inspect"]["key_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (k1, k2) = (key_id("req1.lic"), key_id("req2.lic"));
    assert_ne!(k1, k2, "two installations, two keys");

    let when = "2026-11-22 10:00:00";
    let v = d.ok_at(when, &vendor_cmd("verify-request", "req1.lic"));
    assert!(v.contains("first file from this serial"), "{v}");
    let before = installations(&d, when);
    let out = d.run_at(when, &vendor_cmd("verify-request", "req2.lic"));
    assert_refused(
        &out,
        &["NW-000123", &k1, &k2, "another installation", "accept"],
    );
    current_spec(&d, when, "site.lic", "current.json");
    let out = fulfil(&d, when, "current.json", "req2.lic", "next.lic");
    assert_refused(&out, &[&k1, &k2]);
    assert!(!d.path("next.lic").exists());
    assert_eq!(installations(&d, when), before, "the ledger is unchanged");
    assert_eq!(before[0]["key_id"], k1.as_str());

    // A reinstalled site: the vendor accepts the new key explicitly.
    let v = d.ok_at(
        when,
        &["vendor", "verify-request", "req2.lic", "--accept-new-key"],
    );
    assert!(v.starts_with("VALID licence request"), "{v}");
    assert!(v.contains("REPLACED"), "{v}");
    assert_eq!(installations(&d, when)[0]["key_id"], k2.as_str());
    // Now the old installation's files are the strangers.
    let out = d.run_at(when, &vendor_cmd("verify-request", "req1.lic"));
    assert_refused(&out, &[&k1, &k2]);
    fulfilled(&d, when, "current.json", "req2.lic", "next.lic");
}

#[test]
fn a_request_for_another_serial_or_another_sequence_is_refused() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "1", "req.lic");
    let when = "2026-11-22 10:00:00";
    // Another site's licence as the spec.
    d.spec("other.toml", |s| {
        s.insert("serial".into(), toml::Value::String("NW-000999".into()));
        s.insert(
            "licence_id".into(),
            toml::Value::String("NW-000999-0002".into()),
        );
    });
    let out = fulfil(&d, when, "other.toml", "req.lic", "next.lic");
    assert_refused(&out, &["serial NW-000123", "serial NW-000999"]);
    assert!(!d.path("next.lic").exists());
    // The site's licence, but older than the one the request was made against.
    // (A newer one is fine: another request was fulfilled since; see
    // `a_second_request_is_fulfilled_on_top_of_the_first`.)
    {
        let seq = 1;
        let spec = format!("seq{seq}.toml");
        d.spec(&spec, |s| {
            s.insert("sequence".into(), toml::Value::Integer(seq));
            s.insert(
                "licence_id".into(),
                toml::Value::String(format!("NW-000123-{seq:04}")),
            );
        });
        let out = fulfil(&d, when, &spec, "req.lic", "next.lic");
        assert_refused(
            &out,
            &["sequence 2", &format!("sequence {seq}"), "in force"],
        );
        assert!(!d.path("next.lic").exists());
    }
    // None of that used the request up: against the right licence it is fulfilled.
    current_spec(&d, when, "site.lic", "current.json");
    fulfilled(&d, when, "current.json", "req.lic", "next.lic");
}

/// Two requests made against the same licence: the vendor fulfils the first,
/// then the second on top of it, and the site ends with both purchases.
#[test]
fn a_second_request_is_fulfilled_on_top_of_the_first() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    for (n, out) in [("3", "req1.lic"), ("2", "req2.lic")] {
        ask_for_monthly_seats(&d, "2026-11-22 09:01:00", n, out);
    }
    let when = "2026-11-22 10:00:00";
    current_spec(&d, when, "site.lic", "current.json");
    fulfilled(&d, when, "current.json", "req1.lic", "next1.lic");
    current_spec(&d, when, "next1.lic", "next1.json");
    let out = fulfilled(&d, when, "next1.json", "req2.lic", "next2.lic");
    assert!(
        stderr(&out).contains("applied on top of sequence 3"),
        "{}",
        stderr(&out)
    );
    // The site imports the second licence: 5 + 3 + 2 monthly seats, nothing pending.
    st(&d, "2026-11-22 11:00:00", &["import", "next2.lic"]);
    let status: serde_json::Value =
        serde_json::from_str(&st(&d, "2026-11-22 11:01:00", &["status", "--json"])).unwrap();
    let monthly = status["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["licence"] == "Jobs User" && p["term"] == "monthly")
        .unwrap()
        .clone();
    assert_eq!(monthly["total"], 10);
    assert_eq!(monthly["pending"], 0);
}

#[test]
fn a_fulfilled_request_is_not_fulfilled_again() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "2", "req.lic");
    let when = "2026-11-22 10:00:00";
    current_spec(&d, when, "site.lic", "current.json");
    fulfilled(&d, when, "current.json", "req.lic", "next.lic");
    let before = installations(&d, when);
    let out = fulfil(&d, when, "current.json", "req.lic", "again.lic");
    assert_refused(&out, &["NW-000123-R00001", "already done", "by ", "replay"]);
    assert!(!d.path("again.lic").exists(), "no second licence");
    assert_eq!(installations(&d, when), before);
    // Checking it again says so too.
    let out = d.ok_at(when, &vendor_cmd("verify-request", "req.lic"));
    assert!(out.contains("ALREADY FULFILLED by"), "{out}");
    // The site imports the one licence; the same file again changes nothing.
    st(&d, "2026-11-22 11:00:00", &["import", "next.lic"]);
    let out = st(&d, "2026-11-22 11:01:00", &["import", "next.lic"]);
    assert!(out.contains("already imported"), "{out}");
    let s = status_json(&d, "2026-11-22 11:02:00");
    assert_eq!(pool(&s, "Jobs User", "monthly")["total"], 7);
}

#[test]
fn a_report_is_not_a_request_and_a_request_is_not_a_report() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "1", "req.lic");
    st(
        &d,
        "2026-11-22 09:02:00",
        &usage_report("2026-11", "nov.rpt"),
    );
    let when = "2026-11-22 10:00:00";
    current_spec(&d, when, "site.lic", "current.json");
    let out = d.run_at(when, &vendor_cmd("verify-request", "nov.rpt"));
    assert_refused(&out, &["nov.rpt", "usage report", "not a licence request"]);
    let out = fulfil(&d, when, "current.json", "nov.rpt", "next.lic");
    assert_refused(&out, &["nov.rpt", "usage report", "not a licence request"]);
    assert!(!d.path("next.lic").exists());
    for cmd in ["verify-report", "invoice"] {
        let out = d.run_at(when, &vendor_cmd(cmd, "req.lic"));
        assert_refused(&out, &["req.lic", "licence request", "not a usage report"]);
    }
    let out = d.run_at(when, &["vendor", "verify-request", "site.lic"]);
    assert_refused(&out, &["site.lic", "licence", "not a licence request"]);
    let i = installations(&d, when);
    assert_eq!(i[0]["key_id"], Value::Null, "nothing was recorded: {i:#}");
}

// ---------------------------------------------------------------------------
// Bugs found while writing the above: each test states what a user relies on.
// ---------------------------------------------------------------------------

/// Two purchases of one pool before the vendor answers: the licence that grants
/// the first must not also mark the second as fulfilled.
#[test]
fn two_pending_purchases_of_one_pool_are_fulfilled_one_licence_at_a_time() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    for (when, n, out) in [
        ("2026-11-22 09:01:00", "3", "r1.lic"),
        ("2026-11-22 09:02:00", "2", "r2.lic"),
    ] {
        ask_for_monthly_seats(&d, when, n, out);
    }
    let s = status_json(&d, "2026-11-22 09:03:00");
    assert_eq!(pool(&s, "Jobs User", "monthly")["pending"], 5);
    // The vendor fulfils the first: 5 + 3 = 8 seats.
    current_spec(&d, "2026-11-22 10:00:00", "site.lic", "current.json");
    fulfilled(
        &d,
        "2026-11-22 10:00:00",
        "current.json",
        "r1.lic",
        "next.lic",
    );
    st(&d, "2026-11-22 11:00:00", &["import", "next.lic"]);
    let s = status_json(&d, "2026-11-22 11:01:00");
    let p = pool(&s, "Jobs User", "monthly");
    assert_eq!(p["total"], 8);
    let fulfilled = events_named(&d, "2026-11-22 11:02:00", "Purchase fulfilled");
    let messages: Vec<&str> = fulfilled
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        p["pending"], 2,
        "the licence granted 8 seats, request R00001's 3 on the 5; R00002's 2 are still owed, yet: {messages:?}"
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("NW-000123-R00001"), "{messages:?}");
}

/// A fulfilment that writes no licence (here: --out names an existing file)
/// must not use the request up in the ledger.
#[test]
fn a_fulfilment_that_writes_no_licence_leaves_the_request_unfulfilled() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "1", "req.lic");
    let when = "2026-11-22 10:00:00";
    current_spec(&d, when, "site.lic", "current.json");
    d.write("taken.lic", "someone else's file\n");
    let out = fulfil(&d, when, "current.json", "req.lic", "taken.lic");
    assert_refused(&out, &["taken.lic", "already exists"]);
    assert_eq!(d.read("taken.lic"), "someone else's file\n");
    // Nothing was issued, so the request is still to be fulfilled.
    let out = fulfil(&d, when, "current.json", "req.lic", "next.lic");
    assert!(
        out.status.success(),
        "the retry is refused although no licence was ever issued: {}",
        stderr(&out)
    );
    assert!(d.path("next.lic").exists());
}

/// Seats the site gives back from 1 January (contracted at renewal, monthly
/// from the 1st) are billed ahead for January from the licence the vendor
/// issued, not from the totals the site reports: until the vendor issues the
/// licence with fewer seats, the difference is a finding on the invoice.
#[test]
fn seats_given_back_are_billed_from_the_ledger_until_the_vendor_issues_fewer() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    let remove = |when: &str, term: &str, n: &str| {
        let r = st_json(
            &d,
            when,
            &seats_request("Jobs User", term, "--remove", n, &["--json"]),
        );
        assert_eq!(r["effective"], "2027-01-01", "{r:#}");
    };
    remove("2026-11-22 09:01:00", "contracted", "2");
    remove("2026-12-10 09:00:00", "monthly", "1");
    st(&d, "2027-01-02 09:00:00", &["tick"]);
    let s = status_json(&d, "2027-01-02 09:01:00");
    assert_eq!(pool(&s, "Jobs User", "contracted")["total"], 23);
    assert_eq!(pool(&s, "Jobs User", "monthly")["total"], 4);
    st(
        &d,
        "2027-01-02 09:02:00",
        &usage_report("2026-12", "dec.rpt"),
    );
    let inv = d.json_at(
        "2027-01-02 10:00:00",
        &["vendor", "invoice", "dec.rpt", "--json"],
    );
    assert_eq!(inv["billed_ahead"], "2027-01");
    let seats = |term: &str| {
        inv["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| {
                l["description"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("Jobs User ({term}) seats"))
            })
            .unwrap_or_else(|| panic!("no {term} line in {inv:#}"))["quantity"]
            .clone()
    };
    assert_eq!(
        (seats("contracted"), seats("monthly")),
        (Value::from(25), Value::from(5)),
        "January is billed for the seats the licence grants: {inv:#}"
    );
    let findings: Vec<&str> = inv["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f.as_str().expect("text"))
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("23 seats of Jobs User (contracted), the licence 25")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.contains("4 seats of Jobs User (monthly), the licence 5")),
        "{findings:?}"
    );
}

/// A month is invoiced once: a second report of the same
/// month (a new report id) must not bill the seats ahead a second time.
#[test]
fn a_month_is_invoiced_once_even_from_a_second_report() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    st(
        &d,
        "2027-01-02 09:00:00",
        &usage_report("2026-12", "dec.rpt"),
    );
    st(
        &d,
        "2027-01-02 09:01:00",
        &usage_report("2026-12", "dec2.rpt"),
    );
    d.ok_at("2027-01-02 10:00:00", &vendor_cmd("invoice", "dec.rpt"));
    let out = d.run_at("2027-01-02 10:01:00", &vendor_cmd("invoice", "dec2.rpt"));
    assert_refused(&out, &["2026-12", "NW-000123-U202612-1"]);
}

/// Two reductions of one pool from the same day (the renewal): the status shows
/// the seats left after both, as the tick will apply them.
#[test]
fn two_reductions_from_one_day_are_shown_together_in_the_status() {
    let d = Dir::new();
    site_at(&d, "2026-11-01 09:00:00", |_| {});
    let remove = |when: &str, n: &str| {
        st(
            &d,
            when,
            &seats_request("Jobs User", "contracted", "--remove", n, &[]),
        )
    };
    // The window's first day, then mid-November.
    remove("2026-11-01 09:01:00", "1");
    remove("2026-11-15 09:00:00", "2");
    let s = status_json(&d, "2026-11-15 09:01:00");
    let shown = pool(&s, "Jobs User", "contracted")["scheduled"].clone();
    // What the tick does at renewal.
    st(&d, "2027-01-01 09:00:00", &["tick"]);
    let s = status_json(&d, "2027-01-01 09:01:00");
    assert_eq!(pool(&s, "Jobs User", "contracted")["total"], 22);
    assert_eq!(
        shown,
        serde_json::json!({"seats": 22, "from": "2027-01-01"}),
        "25 less 1 less 2 from renewal"
    );
}

/// A request changed in transit is refused as altered or damaged wherever the
/// change falls: its signature is checked before what it says is believed.
/// Today a change that still decodes is judged on its content first, so the
/// vendor reads "serial \"NT\\r000123\" must be…", "the readable header says
/// Licensee … but the signed content says …", or "upgrade Tessera".
#[test]
fn a_request_changed_anywhere_is_refused_as_altered() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});
    ask_for_monthly_seats(&d, "2026-11-22 09:01:00", "1", "req.lic");
    let mut misleading = Vec::new();
    for line in 0..full_body_lines(&d, "req.lic") {
        for col in (0..64).step_by(3) {
            tamper(&d, "req.lic", "tampered.txt", line, col);
            let out = d
                .cmd(&["vendor", "verify-request", "tampered.txt"])
                .output()
                .unwrap();
            assert_refused(&out, &["tampered.txt"]);
            let err = stderr(&out);
            let says_altered = err.contains("altered") || err.contains("damaged");
            if !says_altered || err.contains("signed content") || err.contains("upgrade") {
                misleading.push(format!("line {line} column {col}: {}", err.trim()));
            }
        }
    }
    assert!(
        misleading.is_empty(),
        "{} one-character changes are not called altered:\n{}",
        misleading.len(),
        misleading.join("\n")
    );
}

/// A large site's month does not fit one document: the report comes in
/// numbered parts, each a signed file under the size limit, and the vendor
/// invoices them together, every part once.
#[test]
fn a_large_sites_report_comes_in_parts_and_is_invoiced_whole() {
    let d = Dir::new();
    let when = "2026-11-22 09:00:00";
    st(
        &d,
        when,
        &["demo", "--users", "30000", "--months", "2", "--no-console"],
    );
    // The demo licence was not issued through this ledger: the vendor
    // records the site's licence files (here from its contracts export) first.
    record_contracts(&d, when);
    let said = st(
        &d,
        "2026-11-22 09:01:00",
        &usage_report("2026-10", "oct.rpt"),
    );
    assert!(said.contains("send the vendor every part"), "{said}");
    assert!(!d.path("oct.rpt").exists(), "the parts, not one file");
    let names: Vec<String> = (1..=9)
        .map(|k| format!("oct.part{k}-of-2.rpt"))
        .filter(|n| d.path(n).exists())
        .collect();
    assert_eq!(
        names,
        ["oct.part1-of-2.rpt", "oct.part2-of-2.rpt"],
        "{said}"
    );
    for n in &names {
        let size = std::fs::metadata(d.path(n)).expect("part").len();
        assert!(size <= 64 * 1024, "{n} is {size} bytes");
    }

    // Each part is checked on its own; only part 1 carries the seats.
    let parts: Vec<Value> = names
        .iter()
        .map(|n| d.json_at(when, &["vendor", "verify-report", n, "--json"]))
        .collect();
    assert_eq!(
        (&parts[0]["part"], &parts[0]["parts"]),
        (&1.into(), &2.into())
    );
    assert_eq!(
        (&parts[1]["part"], &parts[1]["parts"]),
        (&2.into(), &2.into())
    );
    assert!(!parts[0]["pools"].as_array().unwrap().is_empty());
    assert!(parts[1]["pools"].as_array().unwrap().is_empty());
    assert_eq!(parts[0]["report_id"], parts[1]["report_id"]);
    let mut users = std::collections::BTreeSet::new();
    let mut days = 0u64;
    for p in &parts {
        for g in p["daily_user_days"].as_array().unwrap() {
            for u in g["users"].as_array().unwrap() {
                assert!(users.insert(u["user"].as_str().unwrap().to_string()));
                days += u["days"].as_array().unwrap().len() as u64;
            }
        }
    }
    assert!(
        said.contains(&format!("{days} daily user-days")),
        "{days}: {said}"
    );

    // Not every part: refused, naming the part that is missing, ledger untouched.
    let out = d.run_at(when, &vendor_cmd("invoice", "oct.part2-of-2.rpt"));
    assert_refused(&out, &["part 1", "missing"]);
    assert_eq!(installations(&d, when)[0]["reports"], 0);
    let out = d.run_at(
        when,
        &[
            "vendor",
            "invoice",
            "oct.part1-of-2.rpt",
            "oct.part1-of-2.rpt",
        ],
    );
    assert_refused(&out, &["part 1", "twice"]);

    // Every part, in any order: one invoice with every user-day of both.
    let inv = d.json_at(
        when,
        &[
            "vendor",
            "invoice",
            "oct.part2-of-2.rpt",
            "oct.part1-of-2.rpt",
            "--json",
        ],
    );
    let lines = inv["lines"].as_array().expect("lines");
    let daily: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["description"]
                .as_str()
                .unwrap()
                .contains("daily user-days of")
        })
        .collect();
    assert_eq!(daily.len(), users.len());
    assert_eq!(
        daily
            .iter()
            .map(|l| l["quantity"].as_u64().unwrap())
            .sum::<u64>(),
        days
    );
    assert!(
        lines
            .iter()
            .any(|l| l["description"].as_str().unwrap().contains("billed ahead"))
    );

    // Invoiced once: a part again is a replay.
    let out = d.run_at(
        when,
        &[
            "vendor",
            "invoice",
            "oct.part1-of-2.rpt",
            "oct.part2-of-2.rpt",
        ],
    );
    assert_refused(&out, &["replay"]);

    // A second report of the month does not mix with the first's parts.
    let out = st_run(
        &d,
        "2026-11-22 09:02:00",
        &usage_report("2026-10", "oct.rpt"),
    );
    assert_refused(&out, &["oct.part", "earlier report"]);

    // Without --out the parts follow one another on standard output, and
    // standard error says that the vendor needs each in its own file.
    let out = st_run(
        &d,
        "2026-11-22 09:03:00",
        &["report", "usage", "--month", "2026-10"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out)
            .matches("-----BEGIN TESSERA USAGE REPORT V2-----")
            .count(),
        2
    );
    assert!(stderr(&out).contains("in 2 parts"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--out FILE"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------
// Add-ons and integrations by count (seed 003), the same loop.
// ---------------------------------------------------------------------------

#[test]
fn an_add_on_purchase_travels_to_the_vendor_and_back_in_a_format_2_request() {
    let d = Dir::new();
    site_at(&d, "2026-11-22 09:00:00", |_| {});

    // An integration that follows the standard seats cannot be bought by itself.
    let out = st_run(
        &d,
        "2026-11-22 09:01:00",
        &[
            "request",
            "integration",
            "--name",
            "business central",
            "--add",
            "1",
        ],
    );
    assert_refused(
        &out,
        &["follows the standard seat count", "standard seats instead"],
    );

    // Two more Outlook connector licences: 9 of 30 days of November and
    // December, at 4.00, a commitment to the contract end.
    let r = st_json(
        &d,
        "2026-11-22 09:05:00",
        &[
            "request",
            "add-on",
            "--name",
            "outlook connector",
            "--add",
            "2",
            "--out",
            "req.lic",
            "--json",
        ],
    );
    assert_eq!(r["pool"], "Outlook connector add-on", "{r:#}");
    assert_eq!(r["total"], "10.40");
    assert!(r["email"].is_string(), "{r:#}");
    assert!(
        d.read("req.lic")
            .starts_with("-----BEGIN TESSERA LICENCE REQUEST V2-----"),
        "{}",
        d.read("req.lic")
    );
    assert!(
        events(&d, "2026-11-22 09:06:00")
            .iter()
            .any(|e| e == "Add-on licences requested")
    );

    // The vendor reads what it asks, and issues the licence granting it.
    let v = d.ok_at(
        "2026-11-22 10:00:00",
        &vendor_cmd("verify-request", "req.lic"),
    );
    assert!(
        v.contains("add 2 Outlook connector add-on licences from 2026-11-22"),
        "{v}"
    );
    current_spec(&d, "2026-11-22 10:01:00", "site.lic", "current.json");
    fulfilled(
        &d,
        "2026-11-22 10:05:00",
        "current.json",
        "req.lic",
        "next.lic",
    );
    let current: Value = serde_json::from_str(&d.read("current.json")).unwrap();
    let next = d.json_at("2026-11-22 10:06:00", &["inspect", "--json", "next.lic"]);
    assert_eq!(next["add_ons"][0]["name"], "Outlook connector");
    assert_eq!(next["add_ons"][0]["count"], 12, "{next:#}");
    assert_eq!(next["add_ons"][1], current["add_ons"][1]);
    assert_eq!(next["integrations"], current["integrations"]);
    assert_eq!(next["seat_pools"], current["seat_pools"]);

    // The site imports it: the purchase is fulfilled.
    st(&d, "2026-11-22 11:00:00", &["import", "next.lic"]);
    assert!(
        events(&d, "2026-11-22 11:01:00")
            .iter()
            .any(|e| e == "Add-on purchase fulfilled")
    );
}
