//! A database transaction as a context manager (feature `sqlx`, which needs Rust 1.94 as sqlx 0.9
//! does): [`transaction`], for any sqlx database (PostgreSQL, SQLite, MySQL, `Any`).
//!
//! Python's `async with conn.transaction():` (asyncpg) in one line, safer than the plain sqlx
//! code it replaces: the transaction commits when the block succeeds, rolls back when it fails
//! or panics, and when the block is *cancelled* (a timeout, a lost `select!` branch, an aborted
//! task) the rollback is awaited on the tokio runtime, so the connection goes back to the pool
//! clean: no session left *idle in transaction*, no poisoned pool (sqlx issues #2054, #4385,
//! #4393, where a `Pool::begin` cancelled during its `BEGIN` leaves the connection inside a
//! transaction that nothing ends).
//!
//! ```
//! use contextlib::async_with;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sqlx::Error> {
//! let pool = sqlx::sqlite::SqlitePoolOptions::new()
//!     .max_connections(1)
//!     .connect("sqlite::memory:")
//!     .await?;
//! sqlx::query("CREATE TABLE notes (body TEXT)").execute(&pool).await?;
//!
//! async_with!(contextlib::sqlx::transaction(&pool) => |tx| {
//!     sqlx::query("INSERT INTO notes VALUES ('kept')").execute(&mut **tx).await
//! })?; // the block's error, or the commit's
//!
//! let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes").fetch_one(&pool).await?;
//! assert_eq!(count, 1);
//! # Ok(())
//! # }
//! ```

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sqlx::{Database, Pool};

use crate::protocol::teardown::{TeardownOutcome, TeardownReport, report};
use crate::protocol::{AsyncContextManager, Exit, Lend};

/// sqlx's boxed futures (`futures_core::future::BoxFuture`).
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The name of the manager in teardown reports.
const NAME: &str = "contextlib::sqlx::transaction";

/// A transaction on a connection of `pool`: lends `&mut sqlx::Transaction<'static, DB>`, commits
/// on [`Exit::Ok`], rolls back otherwise.
///
/// - **Success**: the exit commits; a failed commit (a deferred constraint, a serialization
///   failure, a lost connection) is the exit's error, so `async_with!` returns it.
/// - **Error or panic** in the block: the exit rolls back (and the panic resumes).
/// - **Cancellation** of the block (its future dropped): the rollback is spawned on the current
///   tokio runtime and awaited there, so the connection returns to the pool clean
///   (`contextlib::tokio::wait_for_teardowns` waits for it). Cancellation during the `BEGIN`
///   itself is also covered: the `BEGIN` is finished and rolled back the same way.
/// - **Cancellation of the exit** (the future dropped mid-commit or mid-rollback, e.g. by a
///   timeout): the commit or rollback is finished on the runtime, so a block that succeeded and
///   whose commit had started is committed; a failure nobody can receive is reported to the
///   [teardown hook](crate::set_teardown_hook). Without a tokio runtime to finish it (a future
///   dropped outside one), it is reported and dropped (sqlx queues the rollback; the
///   connection, which cannot be returned to the pool without a runtime, is closed).
///
/// The manager owns a clone of the pool, so it is `'static` and `Send`: it can go on an
/// [`ExitStack`](crate::ExitStack), into `tokio::spawn`, into
/// `contextlib::tokio::detach_on_cancel` (not needed: it finishes its own teardowns).
///
/// ```
/// use contextlib::async_with;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = sqlx::sqlite::SqlitePoolOptions::new()
///     .max_connections(1)
///     .connect("sqlite::memory:")
///     .await?;
/// sqlx::query("CREATE TABLE notes (body TEXT)").execute(&pool).await?;
///
/// // The block fails: nothing it wrote is kept.
/// let result = async_with!(contextlib::sqlx::transaction(&pool) => |tx| {
///     sqlx::query("INSERT INTO notes VALUES ('lost')").execute(&mut **tx).await?;
///     Err::<(), _>(sqlx::Error::RowNotFound)
/// });
/// assert!(matches!(result, Err(sqlx::Error::RowNotFound))); // the block's error
///
/// let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes").fetch_one(&pool).await?;
/// assert_eq!(count, 0);
/// # Ok(())
/// # }
/// ```
pub fn transaction<DB: Database>(pool: &Pool<DB>) -> Transaction<DB> {
    Transaction {
        pool: pool.clone(),
        transaction: None,
    }
}

/// The manager [`transaction`] returns. Its target is `&mut sqlx::Transaction<'static, DB>`,
/// which is an executor (`&mut **tx`) and derefs to the connection.
///
/// ```
/// use contextlib::{Lend, SendAsyncContextManager};
///
/// fn lends<M>(_: &M)
/// where
///     M: SendAsyncContextManager + 'static,
///     M: for<'a> Lend<'a, Target = &'a mut sqlx::Transaction<'static, sqlx::Sqlite>>,
/// {
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
/// let manager: contextlib::sqlx::Transaction<sqlx::Sqlite> = contextlib::sqlx::transaction(&pool);
/// lends(&manager); // Send + 'static: it can go on an ExitStack or into tokio::spawn
/// # }
/// ```
pub struct Transaction<DB: Database> {
    pool: Pool<DB>,
    transaction: Option<sqlx::Transaction<'static, DB>>,
}

impl<DB: Database> core::fmt::Debug for Transaction<DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transaction")
            .field("entered", &self.transaction.is_some())
            .finish_non_exhaustive()
    }
}

// Nothing is pinned structurally: the transaction is lent by `&mut` and moved out at the exit.
impl<DB: Database> Unpin for Transaction<DB> {}

impl<'a, DB: Database> Lend<'a> for Transaction<DB> {
    type Target = &'a mut sqlx::Transaction<'static, DB>;
}

impl<DB: Database> AsyncContextManager for Transaction<DB> {
    type Error = sqlx::Error;

    /// Acquires a connection and begins the transaction (as `Pool::begin` does, with the same
    /// allocations); if this future is dropped during the `BEGIN`, the `BEGIN` is finished and
    /// rolled back on the runtime.
    async fn enter(
        self: Pin<&mut Self>,
    ) -> Result<&mut sqlx::Transaction<'static, DB>, sqlx::Error> {
        let this = self.get_mut();
        let connection = this.pool.acquire().await?;
        // What `Pool::begin` does, through a guard that finishes a cancelled `BEGIN`.
        let begun = Begin(Some(sqlx::Transaction::begin(connection, None))).await?;
        Ok(this.transaction.insert(begun))
    }

    /// Commits on [`Exit::Ok`], rolls back otherwise. The returned future finishes the commit
    /// or rollback on the tokio runtime if it is dropped early.
    #[allow(refining_impl_trait)] // `Finish` is named: it is also the `Send` exit future
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Finish {
        let transaction = self.get_mut().transaction.take();
        Finish(transaction.map(
            |transaction| -> BoxFuture<'static, Result<(), sqlx::Error>> {
                if exit.is_ok() {
                    Box::pin(transaction.commit())
                } else {
                    Box::pin(transaction.rollback())
                }
            },
        ))
    }

    /// Spawns the rollback on the current tokio runtime, which awaits it.
    fn cancel(self: Pin<&mut Self>) {
        if let Some(transaction) = self.get_mut().transaction.take() {
            finish_elsewhere(transaction.rollback());
        }
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        NAME
    }
}

// Its own enter is concrete, its named `Send` one boxed.
crate::entering::drive::driven_directly! {
    impl[DB: Database] for Transaction<DB>;
}

impl<DB: Database> crate::protocol::SendAsyncContextManager for Transaction<DB> {
    type EnterFuture<'m> =
        BoxFuture<'m, Result<&'m mut sqlx::Transaction<'static, DB>, sqlx::Error>>;
    type ExitFuture<'x> = Finish;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        Box::pin(self.enter())
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Finish {
        self.exit(exit)
    }
}

/// The exit of a [`Transaction`]: its commit or rollback, which is finished on the tokio runtime
/// if this future is dropped before it completes.
///
/// ```
/// use contextlib::{AsyncContextManager, Exit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let mut manager = std::pin::pin!(contextlib::sqlx::transaction(&pool));
/// manager.as_mut().enter().await?;
/// let finish: contextlib::sqlx::Finish = manager.as_mut().exit(Exit::Ok);
/// finish.await?; // committed
/// # Ok(())
/// # }
/// ```
#[must_use = "a dropped exit is finished on the runtime, but its result is lost"]
pub struct Finish(Option<BoxFuture<'static, Result<(), sqlx::Error>>>);

impl core::fmt::Debug for Finish {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Finish")
            .field("finished", &self.0.is_none())
            .finish()
    }
}

impl Future for Finish {
    type Output = Result<(), sqlx::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(future) = this.0.as_mut() else {
            return Poll::Ready(Ok(())); // not entered, or polled after completion
        };
        let result = core::task::ready!(future.as_mut().poll(cx));
        this.0 = None;
        Poll::Ready(result)
    }
}

impl Drop for Finish {
    fn drop(&mut self) {
        if let Some(future) = self.0.take() {
            finish_elsewhere(future);
        }
    }
}

/// `Transaction::begin`'s future; if dropped before it completes, it is finished on the runtime
/// and the transaction rolled back.
struct Begin<DB: Database>(
    Option<BoxFuture<'static, Result<sqlx::Transaction<'static, DB>, sqlx::Error>>>,
);

impl<DB: Database> Future for Begin<DB> {
    type Output = Result<sqlx::Transaction<'static, DB>, sqlx::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let future = this
            .0
            .as_mut()
            .expect("contextlib: a BEGIN polled after completion");
        let result = core::task::ready!(future.as_mut().poll(cx));
        this.0 = None;
        Poll::Ready(result)
    }
}

impl<DB: Database> Drop for Begin<DB> {
    fn drop(&mut self) {
        if let Some(begin) = self.0.take() {
            finish_elsewhere(async move {
                match begin.await {
                    Ok(transaction) => transaction.rollback().await,
                    // It did not begin: nothing to roll back (sqlx closes a broken connection).
                    Err(_) => Ok(()),
                }
            });
        }
    }
}

/// Awaits `teardown` on the current tokio runtime (counted by
/// `contextlib::tokio::wait_for_teardowns`); a failure nobody receives is reported. With
/// no runtime to await it, it is reported and dropped (sqlx then queues the rollback, and, with
/// no runtime to return the connection to the pool, the connection is closed).
fn finish_elsewhere(teardown: impl Future<Output = Result<(), sqlx::Error>> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            // Counted by `contextlib::tokio::pending_teardowns` until it ends.
            let tracked = crate::runtimes::tokio::Tracked::new();
            runtime.spawn(async move {
                let _tracked = tracked;
                if teardown.await.is_err() {
                    report(TeardownReport {
                        manager: NAME,
                        outcome: TeardownOutcome::Failed,
                    });
                }
            });
        }
        Err(_) => {
            report(TeardownReport {
                manager: NAME,
                outcome: TeardownOutcome::Unfinished,
            });
            // sqlx's connection panics in `Drop` without a runtime to return it to the pool.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(teardown))) {
                crate::protocol::catch_unwind::discard(payload);
            }
        }
    }
}
