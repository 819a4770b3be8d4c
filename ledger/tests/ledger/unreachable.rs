//! A ledger that cannot be reached is refused with a message that says what
//! to do, and nothing is written anywhere.

use ledger::{Ledger, LedgerError, Location};

use crate::harness::{Backend, PG_VAR, place, with_schema};

crate::on_both!(an_unreachable_ledger_says_what_is_wrong);

fn refused(loc: &Location) -> (String, String) {
    match Ledger::open(loc) {
        Err(e @ LedgerError::Unreachable { .. }) => {
            let LedgerError::Unreachable { what, .. } = &e else {
                unreachable!()
            };
            assert_eq!(e.code(), "unreachable");
            (what.clone(), e.to_string())
        }
        Err(other) => panic!("{loc}: expected unreachable, got {other:?}"),
        Ok(_) => panic!("{loc}: opened"),
    }
}

fn an_unreachable_ledger_says_what_is_wrong(b: Backend) {
    let Some(p) = place(b, "unreachable") else {
        return;
    };
    match b {
        Backend::Sqlite => sqlite(&p),
        Backend::Postgres => postgres(&p),
    }
}

fn sqlite(p: &crate::harness::Place) {
    let dir = p.scratch();
    let path = |name: &str| dir.path().join(name);

    let (_, msg) = refused(&Location::Sqlite(path("no/such/dir/ledger.sqlite")));
    assert!(
        msg.contains("does not exist") && msg.contains("--ledger"),
        "{msg}"
    );
    assert!(!path("no").exists());

    let (_, msg) = refused(&Location::Sqlite(dir.path().to_path_buf()));
    assert!(msg.contains("is a directory"), "{msg}");

    // installations.json given where the ledger goes: the hint is to import it.
    std::fs::write(path("installations.json"), b"{\"installations\": {}}").expect("write");
    let (_, msg) = refused(&Location::Sqlite(path("installations.json")));
    assert!(msg.contains("tessera vendor ledger import"), "{msg}");
    assert_eq!(
        std::fs::read(path("installations.json")).expect("read"),
        b"{\"installations\": {}}",
        "left as it was"
    );

    let junk = vec![0x5a_u8; 4096];
    std::fs::write(path("junk"), &junk).expect("write");
    let (what, msg) = refused(&Location::Sqlite(path("junk")));
    assert_eq!(what, path("junk").display().to_string());
    assert!(msg.contains("not a SQLite ledger"), "{msg}");
    assert_eq!(std::fs::read(path("junk")).expect("read"), junk);

    // Another program's SQLite database is not taken over.
    let other = path("other.sqlite");
    rusqlite::Connection::open(&other)
        .and_then(|c| c.execute_batch("CREATE TABLE customers (name TEXT)"))
        .expect("make another database");
    let (_, msg) = refused(&Location::Sqlite(other.clone()));
    assert!(
        msg.contains("not a Tessera ledger") && msg.contains("customers"),
        "{msg}"
    );

    // A new ledger is private to its owner.
    use std::os::unix::fs::PermissionsExt as _;
    drop(p.open());
    let mode = std::fs::metadata(p.file())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
}

fn postgres(p: &crate::harness::Place) {
    let Location::Postgres(url) = &p.loc else {
        panic!("a PostgreSQL place")
    };
    let base = std::env::var(PG_VAR).expect("set, since the place was made");
    let config: ::postgres::Config = base.parse().expect("the test URL parses");
    let user = config.get_user().expect("a user in the URL").to_string();
    let password = String::from_utf8(config.get_password().expect("a password").to_vec())
        .expect("a UTF-8 password");
    let host = match config.get_hosts().first() {
        Some(::postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .expect("a database in the URL")
        .to_string();

    // A wrong password: refused, and the message never shows a password.
    let wrong = format!("postgresql://{user}:not-the-{password}@{host}:{port}/{db}");
    let (what, msg) = refused(&Location::Postgres(wrong));
    assert!(msg.contains("password"), "{msg}");
    assert!(msg.contains("check the user and password"), "{msg}");
    assert!(!msg.contains(&password), "the password is not shown: {msg}");
    assert!(what.contains(":***@"), "{what}");

    // Nothing listening there (port 1 on the loopback address).
    let down = format!("postgresql://{user}:{password}@127.0.0.1:1/{db}");
    let (_, msg) = refused(&Location::Postgres(down));
    assert!(msg.contains("is the server running"), "{msg}");
    assert!(!msg.contains(&password), "{msg}");

    // A database that does not exist.
    let missing = format!("postgresql://{user}:{password}@{host}:{port}/no_such_db_for_tessera");
    let (_, msg) = refused(&Location::Postgres(missing));
    assert!(msg.contains("create the database"), "{msg}");

    // Not a URL it can read.
    let (_, msg) = refused(&Location::Postgres("postgresql://a:b@host:port/db".into()));
    assert!(msg.contains("not a PostgreSQL URL"), "{msg}");

    // The test's own ledger opens, and nothing was made by the refusals.
    let mut l = Ledger::open(&Location::Postgres(with_schema(&base, schema_of(url))))
        .expect("the good URL");
    assert_eq!(l.transaction(|tx| tx.installations()), Ok(vec![]));
}

fn schema_of(url: &str) -> &str {
    url.rsplit("search_path%3D").next().expect("a schema")
}
