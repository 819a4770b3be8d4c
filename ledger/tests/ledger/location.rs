//! Where the ledger is: `--ledger`, `$TESSERA_LEDGER`, the data directory.
//! No database here, so these run once.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use ledger::{Location, redact};

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
    let vars: Vec<(String, OsString)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn urls_are_postgres_and_anything_else_a_file() {
    for url in [
        "postgresql://u:p@h/db",
        "postgres://h/db",
        "PostgreSQL://h/db",
    ] {
        assert_eq!(Location::parse(url), Location::Postgres(url.into()));
    }
    for path in [
        "ledger.sqlite",
        "/srv/ledger",
        "postgres",
        "./postgresql:/x",
    ] {
        assert_eq!(Location::parse(path), Location::Sqlite(PathBuf::from(path)));
    }
}

#[test]
fn the_argument_then_the_variable_then_the_data_directory() {
    let home = tempfile::tempdir().expect("dir");
    let h = home.path().to_str().expect("utf-8");
    let both = env(&[("TESSERA_LEDGER", "postgresql://h/db"), ("HOME", h)]);
    assert_eq!(
        Location::resolve_with(Some("mine.sqlite"), &both),
        Ok(Location::Sqlite("mine.sqlite".into()))
    );
    assert_eq!(
        Location::resolve_with(None, &both),
        Ok(Location::Postgres("postgresql://h/db".into()))
    );
    assert_eq!(
        Location::resolve_with(Some(" "), &both).map_err(|e| e.code()),
        Err("invalid")
    );

    // No variable (or an empty one): the data directory, made private.
    let dir = home.path().join(".local/share/tessera-vendor");
    let got = Location::resolve_with(None, env(&[("TESSERA_LEDGER", ""), ("HOME", h)]));
    assert_eq!(got, Ok(Location::Sqlite(dir.join("ledger.sqlite"))));
    let mode = std::fs::metadata(&dir).expect("made").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    // Beside the site's store directory, never inside it.
    assert!(!home.path().join(".local/share/tessera").exists());

    // $XDG_DATA_HOME first, when absolute.
    let xdg = tempfile::tempdir().expect("dir");
    let x = xdg.path().to_str().expect("utf-8");
    assert_eq!(
        Location::resolve_with(None, env(&[("XDG_DATA_HOME", x), ("HOME", h)])),
        Ok(Location::Sqlite(
            xdg.path().join("tessera-vendor/ledger.sqlite")
        ))
    );
    assert_eq!(
        Location::resolve_with(None, env(&[("XDG_DATA_HOME", "relative"), ("HOME", h)])),
        Ok(Location::Sqlite(dir.join("ledger.sqlite")))
    );
    let e = Location::resolve_with(None, env(&[])).expect_err("no home");
    assert_eq!(e.code(), "unreachable");
    assert!(e.to_string().contains("--ledger"), "{e}");
}

#[test]
fn a_url_is_shown_without_its_password() {
    assert_eq!(
        redact("postgresql://vendor:s3cr/t@db.example:5432/ledger?sslmode=disable"),
        "postgresql://vendor:***@db.example:5432/ledger?sslmode=disable"
    );
    assert_eq!(
        redact("postgres://db.example/ledger?user=v&password=hunter2&x=1"),
        "postgres://db.example/ledger?user=v&password=***&x=1"
    );
    assert_eq!(redact("postgresql://v@h/db"), "postgresql://v@h/db");
    assert_eq!(
        Location::Postgres("postgresql://v:pw@h/db".into()).to_string(),
        "postgresql://v:***@h/db"
    );
}
