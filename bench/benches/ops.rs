//! In-process costs of the store's operations on a demo store of
//! `TESSERA_BENCH_USERS` users (default 100,000) with a year of history.
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench ops`. Building the store
//! takes a while (about 20 s for 100,000 users); it is made once per run in a
//! temporary directory.

use std::sync::Arc;
use store::ApiExt as _;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use licfile::Document;
use store::usage::UsageKind;
use store::views::UserQuery;
use store::{Store, SystemClock};

fn users() -> usize {
    std::env::var("TESSERA_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store");
    let n = users();
    let store =
        store::demo::create_demo(&path, n, 12, "owner", Arc::new(SystemClock)).expect("demo store");
    let owner = "owner";
    let mut group = c.benchmark_group(format!("store-{n}-users"));
    group.sample_size(30);

    group.bench_function("check", |b| {
        b.iter(|| store.check("alice.morgan").expect("check"))
    });
    group.bench_function("status", |b| b.iter(|| store.status().expect("status")));
    group.bench_function("users_page_50", |b| {
        b.iter(|| {
            store
                .users_page(&UserQuery {
                    limit: 50,
                    ..Default::default()
                })
                .expect("page")
        })
    });
    group.bench_function("users_page_filtered_50", |b| {
        b.iter(|| {
            store
                .users_page(&UserQuery {
                    licence: Some("Jobs User".into()),
                    term: Some(licfile::Term::Monthly),
                    limit: 50,
                    ..Default::default()
                })
                .expect("page")
        })
    });

    // The console's reads: a bounded number of point reads and short
    // ranges, whatever the number of users or the length of the history.
    group.bench_function("history_90_days", |b| {
        b.iter(|| store.history(90).expect("history"))
    });
    let events = store.event_total().expect("events");
    group.bench_function("notifications_page_50_midway", |b| {
        b.iter(|| {
            store
                .notifications(&store::notifications::NotificationQuery {
                    before: None,
                    offset: events / 2,
                    limit: 50,
                })
                .expect("notifications")
        })
    });
    group.bench_function("user_detail", |b| {
        b.iter(|| store.user_detail("alice.morgan").expect("detail"))
    });

    // Import: a new licence each time (the sequence must grow); signing is set-up, not measured.
    let key = store::trust::demo_secret().expect("demo key");
    let base = store.vendor_licence().expect("licence").licence;
    let mut seq = base.sequence;
    group.bench_function("import", |b| {
        b.iter_batched(
            || {
                seq += 1;
                let mut l = base.clone();
                l.sequence = seq;
                l.licence_id = format!("{}-{seq}", l.serial);
                licfile::signed::sign(&Document::Licence(l), &key, None).expect("sign")
            },
            |text| store.as_user(owner).import(text).expect("import"),
            BatchSize::SmallInput,
        )
    });

    // A write acknowledged to the product: one batch, flush and fdatasync.
    group.bench_function("usage_metered", |b| {
        b.iter(|| {
            store
                .as_user("owner")
                .record_metered("emails-sent", 1)
                .expect("metered")
        })
    });
    let daily = store
        .users_page(&UserQuery {
            licence: Some("Jobs User".into()),
            term: Some(licfile::Term::Daily),
            limit: 1,
            ..Default::default()
        })
        .expect("daily users")
        .users
        .first()
        .map(|u| u.name.clone())
        .expect("a daily user");
    // The first record of the day charges; the rest find the charge and write nothing new.
    group.bench_function("usage_record_daily", |b| {
        b.iter(|| {
            store
                .as_user("owner")
                .record_usage(&daily, UsageKind::Login, None)
                .expect("usage")
        })
    });
    group.finish();
    drop(store);
    let reopen = std::time::Instant::now();
    let s = Store::open(&path, Arc::new(SystemClock)).expect("open");
    eprintln!(
        "open of the {n}-user store in this process: {:?}",
        reopen.elapsed()
    );
    drop(s);
}

criterion_group!(benches, bench);
criterion_main!(benches);
