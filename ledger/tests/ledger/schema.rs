//! Making the schema, migrating an older ledger, refusing a newer one.

use ledger::schema::MIGRATIONS;
use ledger::{IssuedLicence, Ledger, LedgerError, Migration, SCHEMA_VERSION};

use crate::harness::{Backend, place, t};

crate::on_both!(
    a_new_ledger_gets_the_whole_schema_once,
    an_older_ledger_is_migrated_step_by_step,
    a_ledger_from_a_newer_tessera_is_refused_and_left_alone,
    a_failing_migration_leaves_the_ledger_at_the_version_before,
    a_new_ledger_whose_first_step_fails_is_not_left_half_made,
);

fn licence(serial: &str, sequence: u64) -> IssuedLicence {
    IssuedLicence {
        serial: serial.into(),
        sequence,
        licence_id: format!("{serial}-{sequence:04}"),
        issued_at: t(sequence as i64),
        expiry: None,
        signer_key_id: "0011223344556677".into(),
        signed: "-----BEGIN TESSERA LICENCE-----".into(),
    }
}

/// A step after this build's last: a table of its own and a column added.
fn later(version: u32) -> Migration {
    Migration {
        version,
        description: "a later build's step",
        sql: "CREATE TABLE later_notes (note TEXT NOT NULL); ALTER TABLE licences ADD COLUMN later_note TEXT;",
    }
}

fn with(extra: &[Migration]) -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

fn version(p: &crate::harness::Place) -> String {
    p.raw(
        "SELECT value FROM ledger_meta WHERE name = 'schema_version'",
        "SELECT value FROM ledger_meta WHERE name = 'schema_version'",
    )
    .into_iter()
    .next()
    .flatten()
    .expect("a schema version")
}

fn a_new_ledger_gets_the_whole_schema_once(b: Backend) {
    let Some(p) = place(b, "new_schema") else {
        return;
    };
    assert_eq!(
        SCHEMA_VERSION,
        MIGRATIONS.last().expect("a migration").version
    );
    let mut l = p.open();
    assert_eq!(l.schema_version().expect("version"), SCHEMA_VERSION);
    for table in [
        "installations",
        "installation_keys",
        "licences",
        "requests",
        "fulfilments",
        "reports",
        "invoices",
        "invoice_lines",
        "clock_corrections",
        "endorsements",
    ] {
        assert_eq!(
            p.count(&format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    l.transaction(|tx| tx.record_licence(&licence("S-1", 1)))
        .expect("record");
    drop(l);
    // Opening again migrates nothing and keeps everything.
    let mut l = p.open();
    assert_eq!(l.schema_version().expect("version"), SCHEMA_VERSION);
    let got = l.transaction(|tx| tx.licences("S-1")).expect("licences");
    assert_eq!(got, vec![licence("S-1", 1)]);
    assert!(
        p.raw(
            "SELECT value FROM ledger_meta WHERE name = 'migrated_by'",
            "SELECT value FROM ledger_meta WHERE name = 'migrated_by'"
        )[0]
        .as_deref()
        .is_some_and(|v| v.starts_with("tessera ")),
        "which Tessera migrated it is kept"
    );
}

fn an_older_ledger_is_migrated_step_by_step(b: Backend) {
    let Some(p) = place(b, "older") else {
        return;
    };
    // A build that knew no schema at all, then this one, then a later one.
    let mut none = Ledger::open_with_migrations(&p.loc, &[]).expect("open at version 0");
    assert_eq!(none.schema_version(), Ok(0));
    drop(none);
    let mut l = p.open();
    l.transaction(|tx| tx.record_licence(&licence("S-1", 1)))
        .expect("record");
    drop(l);
    assert_eq!(version(&p), SCHEMA_VERSION.to_string());

    let next = SCHEMA_VERSION + 1;
    let mut l = Ledger::open_with_migrations(&p.loc, &with(&[later(next)])).expect("migrate");
    assert_eq!(l.schema_version().expect("version"), next);
    // What was there is still there, and the step's changes are made.
    let got = l.transaction(|tx| tx.licences("S-1")).expect("licences");
    assert_eq!(got, vec![licence("S-1", 1)]);
    assert_eq!(p.count("SELECT count(*) FROM later_notes"), 0);
    assert_eq!(
        p.count("SELECT count(*) FROM licences WHERE later_note IS NULL"),
        1
    );
}

fn a_ledger_from_a_newer_tessera_is_refused_and_left_alone(b: Backend) {
    let Some(p) = place(b, "newer") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| tx.record_licence(&licence("S-1", 1)))
        .expect("record");
    drop(l);

    // A later build's migration ran: this build does not know version N+1.
    let next = SCHEMA_VERSION + 1;
    drop(Ledger::open_with_migrations(&p.loc, &with(&[later(next)])).expect("migrate"));
    let e = Ledger::open(&p.loc).expect_err("a newer ledger is refused");
    assert_eq!(
        e,
        LedgerError::Newer {
            found: next,
            known: SCHEMA_VERSION
        }
    );
    assert_eq!(e.code(), "newer_ledger");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("version {next}"))
            && msg.contains("newer")
            && msg.contains("Nothing was changed"),
        "{msg}"
    );

    // Whatever number a far newer one wrote, it is refused by it, and nothing is written.
    p.raw_exec("UPDATE ledger_meta SET value = '99' WHERE name = 'schema_version'");
    let e = Ledger::open(&p.loc).expect_err("refused");
    assert_eq!(
        e,
        LedgerError::Newer {
            found: 99,
            known: SCHEMA_VERSION
        }
    );
    assert_eq!(version(&p), "99");
    assert_eq!(p.count("SELECT count(*) FROM licences"), 1);
}

fn a_failing_migration_leaves_the_ledger_at_the_version_before(b: Backend) {
    let Some(p) = place(b, "failing") else {
        return;
    };
    let mut l = p.open();
    l.transaction(|tx| tx.record_licence(&licence("S-1", 1)))
        .expect("record");
    drop(l);
    let two = SCHEMA_VERSION + 1;
    let three = SCHEMA_VERSION + 2;
    // The third step makes a table, then fails.
    let broken = Migration {
        version: three,
        description: "a step that fails half-way",
        sql: "CREATE TABLE half_made (x TEXT); INSERT INTO no_such_table VALUES (1);",
    };
    let e = Ledger::open_with_migrations(&p.loc, &with(&[later(two), broken]))
        .expect_err("the broken step fails");
    match &e {
        LedgerError::Migration { from, to, detail } => {
            assert_eq!((*from, *to), (two, three));
            assert!(detail.contains("no_such_table"), "{detail}");
        }
        other => panic!("expected a failed migration, got {other:?}"),
    }
    assert_eq!(e.code(), "migration_failed");
    // The step before it was kept; nothing of the failed one was.
    assert_eq!(version(&p), two.to_string());
    assert_eq!(p.count("SELECT count(*) FROM later_notes"), 0);
    let half = p.raw(
        "SELECT name FROM sqlite_master WHERE name = 'half_made'",
        "SELECT tablename::text FROM pg_tables WHERE tablename = 'half_made' AND schemaname = current_schema()",
    );
    assert!(half.is_empty(), "the failed step's table is gone: {half:?}");
    let mut l =
        Ledger::open_with_migrations(&p.loc, &with(&[later(two)])).expect("open at version two");
    assert_eq!(
        l.transaction(|tx| tx.licences("S-1")).expect("licences"),
        vec![licence("S-1", 1)]
    );
}

fn a_new_ledger_whose_first_step_fails_is_not_left_half_made(b: Backend) {
    let Some(p) = place(b, "first_fails") else {
        return;
    };
    let broken = Migration {
        version: 1,
        description: "a first step that fails",
        sql: "CREATE TABLE half_made (x TEXT); INSERT INTO no_such_table VALUES (1);",
    };
    let e = Ledger::open_with_migrations(&p.loc, &[broken]).expect_err("fails");
    assert_eq!(e.code(), "migration_failed", "{e}");
    match b {
        // The file it made is taken away again.
        Backend::Sqlite => assert!(!p.file().exists(), "no file is left behind"),
        Backend::Postgres => {
            let left = p.raw(
                "",
                "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
            );
            assert!(left.is_empty(), "no table is left behind: {left:?}");
        }
    }
    // And a good open after it makes the whole ledger.
    let mut l = p.open();
    assert_eq!(l.schema_version().expect("version"), SCHEMA_VERSION);
}
