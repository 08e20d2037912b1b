//! `db_transaction(conn_string)`: commit on success, roll back on error, panic or
//! cancellation (a `tokio::time::timeout` cutting the block), against SQLite or PostgreSQL
//! through `sqlx`.
//!
//! Run with `cargo run --example transaction`. The database is a fresh SQLite file in a
//! temporary directory; set `DATABASE_URL` to use another one: a `sqlite:` URL (e.g.
//! `DATABASE_URL=sqlite:demo.db?mode=rwc`) or a PostgreSQL one (e.g.
//! `DATABASE_URL=postgres://user:password@localhost/database`, no TLS). The `notes` table is
//! created if missing and the rows the example inserts are left there.

#[path = "managers/temp_dir.rs"]
mod temp_dir;
#[path = "managers/transaction.rs"]
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use contextlib::async_with;
use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use temp_dir::temp_directory;
use transaction::{Journal, connect, count_notes, db_transaction, insert_note};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    async_with!(temp_directory("contextlib-db") => |dir| {
        let pool = connect(dir).await?;
        let journal = Arc::new(Journal::default());

        println!("db_transaction, block succeeds:");
        async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
            insert_note(tx, "kept").await?;
            println!("    [block] inserted 'kept'");
            Ok::<_, sqlx::Error>(())
        })?;
        println!("committed rows 'kept': {}", count_notes(&pool, "kept").await?);

        println!("db_transaction, block fails after inserting:");
        let failed: Result<(), BoxError> = async_with!(db_transaction(pool.clone(), journal.clone()) => |tx| {
            insert_note(tx, "discarded").await?;
            println!("    [block] inserted 'discarded', then fails");
            Err("the order total does not match".into())
        });
        println!("result: {}", failed.unwrap_err());
        println!("committed rows 'discarded': {}", count_notes(&pool, "discarded").await?);

        println!("db_transaction, block cut by a timeout after inserting:");
        // Wrapped so that the rollback of a cancelled block is awaited to the end (on contextlib's
        // teardown runtime) rather than dropped unfinished.
        let cut = tokio::time::timeout(Duration::from_millis(50), async {
            async_with!(detach_on_cancel(db_transaction(pool.clone(), journal.clone())) => |tx| {
                insert_note(tx, "abandoned").await?;
                println!("    [block] inserted 'abandoned', then waits on a slow service");
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .await;
        let finished =
            tokio::task::spawn_blocking(|| wait_for_teardowns(Duration::from_secs(5))).await?;
        println!("result: {}; rollback finished: {finished}", cut.unwrap_err());
        println!("committed rows 'abandoned': {}", count_notes(&pool, "abandoned").await?);
        println!("journal: {:?}", journal.steps());
        pool.close().await;
        Ok::<_, BoxError>(())
    })
}
