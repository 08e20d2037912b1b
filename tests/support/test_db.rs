//! The databases of the transaction tests (tests/example_transaction.rs and
//! tests/example_cancellation.rs), whatever `DATABASE_URL` says:
//!
//! - [`Backend::Sqlite`]: a fresh SQLite file in a temporary directory of its own; always run.
//! - [`Backend::Postgres`]: a fresh, uniquely named schema in the PostgreSQL database named by
//!   `CONTEXTLIB_TEST_POSTGRES_URL` (e.g. `postgres://user:password@localhost/database`), so that
//!   runs never collide; dropped at the end. When the variable is unset at build time, the
//!   PostgreSQL variants are `ignored`, with the reason (build.rs); `.ci/run` starts a
//!   throwaway server (`.ci/postgres`) and sets it, so CI runs them.
//!
//! A test connects to [`TestDb::url`] (its connections live in the test's own file or schema).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

/// The environment variable naming the PostgreSQL database of the opt-in test variants.
pub const POSTGRES_URL_VAR: &str = "CONTEXTLIB_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's own database; remove it with [`TestDb::remove`].
pub struct TestDb {
    /// Where to connect: the SQLite file's URL, or the PostgreSQL URL with the test's schema
    /// as `search_path` (so that every connection, pooled or not, works in that schema).
    pub url: String,
    place: Place,
}

enum Place {
    Dir(PathBuf),
    Schema { server_url: String, schema: String },
}

impl TestDb {
    /// A fresh database for the test `name` on `backend`; `None` (after saying so) for the
    /// PostgreSQL variant when `CONTEXTLIB_TEST_POSTGRES_URL` is not set.
    pub async fn new(backend: Backend, name: &str) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let unique = unique_suffix(name);
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("contextlib-test-db-{unique}"));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap();
                let url = super::transaction::sqlite_file_url(&dir.join("test.db"));
                Some(TestDb {
                    url,
                    place: Place::Dir(dir),
                })
            }
            Backend::Postgres => {
                let Some(server_url) = std::env::var(POSTGRES_URL_VAR)
                    .ok()
                    .filter(|url| !url.is_empty())
                else {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "{name}: the PostgreSQL variant cannot be skipped in CI: set \
                         {POSTGRES_URL_VAR} (.ci/run starts a server: bash .ci/postgres start)"
                    );
                    eprintln!(
                        "{name}: SKIPPED the PostgreSQL variant ({POSTGRES_URL_VAR} is not set; \
                         `eval \"$(bash .ci/postgres start)\"` starts a throwaway server)"
                    );
                    return None;
                };
                // Lower-case letters, digits and `_`: a plain identifier, no quoting needed;
                // unique part first, cut to PostgreSQL's 63 bytes (it truncates longer names).
                let schema: String = format!("contextlib_test_{unique}")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        }
                    })
                    .take(63)
                    .collect();
                let mut admin = AnyConnection::connect(&server_url).await.unwrap();
                // The name is generated above, not user input.
                let create = AssertSqlSafe(format!("CREATE SCHEMA {schema}"));
                admin.execute(create).await.unwrap();
                admin.close().await.unwrap();
                // sqlx's `options[search_path]=...` connect parameter (`-c search_path=...`).
                let separator = if server_url.contains('?') { '&' } else { '?' };
                let url = format!("{server_url}{separator}options%5Bsearch_path%5D={schema}");
                Some(TestDb {
                    url,
                    place: Place::Schema { server_url, schema },
                })
            }
        }
    }

    /// A fresh connection (from no pool) to this database.
    pub async fn fresh_connection(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).await.unwrap()
    }

    /// Removes the database: the directory of the SQLite file, or the PostgreSQL schema.
    pub async fn remove(self) {
        match self.place {
            Place::Dir(dir) => std::fs::remove_dir_all(&dir).unwrap(),
            Place::Schema { server_url, schema } => {
                let mut admin = AnyConnection::connect(&server_url).await.unwrap();
                let drop = AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"));
                admin.execute(drop).await.unwrap();
                admin.close().await.unwrap();
            }
        }
    }
}

/// `<pid>-<counter>-<nanos>-<name>`: unique across processes, tests and runs.
fn unique_suffix(name: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}-{}-{nanos}-{name}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Declares `mod $test { sqlite, postgres }`: the test fn `$test(backend)` on each backend.
/// `async`: `#[tokio::test]` variants of an `async fn`; `sync`: `#[test]` variants of a fn.
macro_rules! on_both_backends {
    (async $test:ident) => {
        mod $test {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                super::$test(Backend::Sqlite).await;
            }
            #[tokio::test]
            #[cfg_attr(
                not(contextlib_test_postgres),
                ignore = "the PostgreSQL variant needs CONTEXTLIB_TEST_POSTGRES_URL (CI sets it; `eval \"$(bash .ci/postgres start)\"` starts a throwaway server)"
            )]
            async fn postgres() {
                super::$test(Backend::Postgres).await;
            }
        }
    };
    (sync $test:ident) => {
        mod $test {
            use super::*;
            #[test]
            fn sqlite() {
                super::$test(Backend::Sqlite);
            }
            #[test]
            #[cfg_attr(
                not(contextlib_test_postgres),
                ignore = "the PostgreSQL variant needs CONTEXTLIB_TEST_POSTGRES_URL (CI sets it; `eval \"$(bash .ci/postgres start)\"` starts a throwaway server)"
            )]
            fn postgres() {
                super::$test(Backend::Postgres);
            }
        }
    };
}
pub(crate) use on_both_backends;
