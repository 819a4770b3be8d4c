//! The ledger's tests, one binary. Every test of the database runs twice:
//! once on SQLite (a file in a temporary directory, always) and once on
//! PostgreSQL (a schema of its own in the database `$TESSERA_TEST_POSTGRES`
//! names, dropped afterwards). Without that variable the PostgreSQL half
//! fails under CI and, elsewhere, says on standard error that it did not run
//! (`ledger/ci-postgres.sh` makes a server and prints the variable).

mod harness;

mod bulk;
mod concurrency;
mod import;
mod location;
mod records;
mod schema;
mod unreachable;

/// Runs each named test (a `fn(Backend)` of the module) on both databases:
/// `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::harness::Backend::Sqlite);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::harness::Backend::Postgres);
                }
            )*
        }
    };
}
