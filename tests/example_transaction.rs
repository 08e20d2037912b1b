//! examples/managers/transaction.rs against a real database through sqlx: committed on Ok,
//! rolled back on error and on panic (the journal shows the rollback ran; the row count
//! shows it took effect).
//!
//! Every test runs on a fresh SQLite file (`<test>::sqlite`) and, when `CONTEXTLIB_TEST_POSTGRES_URL`
//! is set, in a fresh schema of that PostgreSQL database (`<test>::postgres`; skipped, and
//! passing, otherwise). See tests/support/test_db.rs.

// `connect` (which honours DATABASE_URL) is for the examples; the tests use their own database.
#[allow(dead_code)]
#[path = "../examples/managers/transaction.rs"]
mod transaction;
// (`fresh_connection` is for tests/example_cancellation.rs.)
#[allow(dead_code)]
#[path = "support/test_db.rs"]
mod test_db;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use contextlib::async_with;
use futures_util::FutureExt;
use sqlx::AnyPool;
use test_db::{Backend, TestDb, on_both_backends};
use transaction::{Journal, connect_url, count_notes, db_transaction, insert_note};

/// Runs `test` on a pool connected to a fresh database of `backend`, with a fresh journal (on
/// PostgreSQL without `CONTEXTLIB_TEST_POSTGRES_URL`: skipped); then closes the pool and removes the
/// database.
async fn fresh_db(backend: Backend, name: &str, test: impl AsyncFnOnce(&AnyPool, &Arc<Journal>)) {
    let Some(db) = TestDb::new(backend, name).await else {
        return;
    };
    let pool = connect_url(&db.url).await.unwrap();
    test(&pool, &Arc::new(Journal::default())).await;
    pool.close().await;
    db.remove().await;
}

/// Declares the test `$test` (`<test>::sqlite`, `<test>::postgres`): `$body`, with `$pool` and
/// `$journal`, on a [`fresh_db`] named after it. (A macro: it declares the test functions.)
macro_rules! on_a_fresh_db {
    ($test:ident, |$pool:ident, $journal:ident| $body:block) => {
        on_both_backends!(async $test);
        async fn $test(backend: Backend) {
            fresh_db(backend, stringify!($test), async |$pool, $journal| $body).await;
        }
    };
}

on_a_fresh_db!(commits_when_the_block_succeeds, |pool, journal| {
    let inserted = async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
        insert_note(tx, "a").await?;
        insert_note(tx, "a").await?;
        // Not committed yet: another connection does not see the rows.
        assert_eq!(count_notes(pool, "a").await?, 0);
        Ok::<_, sqlx::Error>(2)
    });
    assert_eq!(inserted.unwrap(), 2);
    assert_eq!(count_notes(pool, "a").await.unwrap(), 2);
    assert_eq!(journal.steps(), ["begin", "commit"]);
});

on_a_fresh_db!(rolls_back_when_the_block_fails, |pool, journal| {
    let result: Result<(), sqlx::Error> = async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
        insert_note(tx, "b").await?;
        // A real database error: the table does not exist.
        sqlx::query("INSERT INTO no_such_table VALUES (1)").execute(&mut **tx).await?;
        Ok(())
    });
    let error = result.unwrap_err();
    assert!(error.to_string().contains("no_such_table"), "{error}");
    assert_eq!(count_notes(pool, "b").await.unwrap(), 0);
    let steps = journal.steps();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0], "begin");
    assert_eq!(steps[1], format!("rollback (error: {error})"));
});

on_a_fresh_db!(rolls_back_when_the_block_panics, |pool, journal| {
    let caught = AssertUnwindSafe(async {
        async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
            insert_note(tx, "c").await?;
            if count_notes(pool, "c").await? == 0 {
                panic!("invariant violated");
            }
            Ok::<_, sqlx::Error>(())
        })
    })
    .catch_unwind()
    .await;
    assert_eq!(
        caught.unwrap_err().downcast_ref::<&str>(),
        Some(&"invariant violated")
    );
    assert_eq!(count_notes(pool, "c").await.unwrap(), 0);
    assert_eq!(
        journal.steps(),
        ["begin", "rollback (panic: invariant violated)"]
    );
});

on_a_fresh_db!(a_failed_begin_does_not_run_the_block, |pool, journal| {
    pool.close().await;
    let mut ran = false;
    let result = async_with!(db_transaction(pool.clone(), journal.clone()) => |_tx| {
        ran = true;
    });
    assert!(matches!(result, Err(sqlx::Error::PoolClosed)), "{result:?}");
    assert!(!ran);
    assert!(journal.steps().is_empty());
});
