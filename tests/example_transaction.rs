//! examples/managers/transaction.rs against a real SQLite file through sqlx: committed on Ok,
//! rolled back on error and on panic (the journal shows the rollback ran; the row count
//! shows it took effect).

// `connect` (which honours DATABASE_URL) is for the examples; the tests use their own file.
#[allow(dead_code)]
#[path = "../examples/managers/transaction.rs"]
mod transaction;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

use acm::async_with;
use futures_util::FutureExt;
use sqlx::SqlitePool;
use transaction::{Journal, connect_file, count_notes, db_transaction, insert_note};

/// A fresh SQLite database file (this test's own, whatever `DATABASE_URL` says).
struct Db {
    dir: PathBuf,
    pool: SqlitePool,
}

impl Db {
    async fn new(name: &str) -> Db {
        let dir = std::env::temp_dir().join(format!("acm-test-db-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = connect_file(&dir.join("test.db")).await.unwrap();
        Db { dir, pool }
    }

    async fn close(self) {
        self.pool.close().await;
        std::fs::remove_dir_all(&self.dir).unwrap();
    }
}

#[tokio::test]
async fn commits_when_the_block_succeeds() {
    let db = Db::new("ok").await;
    let journal = Arc::new(Journal::default());
    let pool = &db.pool;
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
    db.close().await;
}

#[tokio::test]
async fn rolls_back_when_the_block_fails() {
    let db = Db::new("err").await;
    let journal = Arc::new(Journal::default());
    let pool = &db.pool;
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
    db.close().await;
}

#[tokio::test]
async fn rolls_back_when_the_block_panics() {
    let db = Db::new("panic").await;
    let journal = Arc::new(Journal::default());
    let pool = &db.pool;
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
    db.close().await;
}

#[tokio::test]
async fn a_failed_begin_does_not_run_the_block() {
    let db = Db::new("closed").await;
    let journal = Arc::new(Journal::default());
    db.pool.close().await;
    let mut ran = false;
    let result = async_with!(db_transaction(db.pool.clone(), journal.clone()) => |_tx| {
        ran = true;
    });
    assert!(matches!(result, Err(sqlx::Error::PoolClosed)), "{result:?}");
    assert!(!ran);
    assert!(journal.steps().is_empty());
    std::fs::remove_dir_all(&db.dir).unwrap();
}
