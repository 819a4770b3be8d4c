//! `licfile::policy::check` on arbitrary bytes, with one trusted root (the key
//! of seed `[1; 32]`, which also signs the seed corpus from
//! `cargo run --example seed_corpus`), an installation serial and a date.
#![no_main]

use std::sync::LazyLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use licfile::{Policy, Roots, SecretKey, Status, policy};

static ROOTS: LazyLock<Roots> = LazyLock::new(|| {
    let root = SecretKey::from_seed(&[1; 32]).expect("seed [1; 32] is a valid key");
    let mut roots = Roots::new();
    roots.add("fuzz root", *root.public());
    roots
});

fuzz_target!(|data: &[u8]| {
    let date = NaiveDate::from_ymd_opt(2026, 6, 1).expect("a real date");
    for serial in [None, Some("NW-000123")] {
        let verdict = policy::check(
            data,
            &Policy {
                roots: &ROOTS,
                serial,
                date,
                expected: None,
            },
        );
        // Whatever the input, the verdict is a checklist that says why.
        assert!(!verdict.checks.is_empty());
        if verdict.is_valid() {
            assert!(verdict.signer.is_some(), "valid without a signer");
            assert!(verdict.document.is_some(), "valid without a document");
        } else {
            let failure = verdict.first_failure().expect("invalid has a failure");
            assert_eq!(failure.status, Status::Fail);
            assert!(!failure.detail.is_empty());
        }
    }
});
