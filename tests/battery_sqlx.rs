//! `contextlib::sqlx::transaction(&pool)` against real databases, through `sqlx::Any`: SQLite (a
//! file in a temporary directory; always) and PostgreSQL (a schema of its own in the database
//! named by `CONTEXTLIB_TEST_POSTGRES_URL`; `ignored`, with the reason, when it is unset at build time;
//! `.ci/run` starts a server with `.ci/postgres` and sets it). Success, error, panic, a failed
//! commit, cancellation at every poll (0 rows written, 0 sessions idle in transaction
//! afterwards), a stress run under random cancellations, and the allocations compared with
//! plain sqlx.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;
#[path = "support/runtime.rs"]
mod runtime;
#[allow(dead_code, unused_macros, unused_imports)]
#[path = "support/test_db.rs"]
mod test_db;
#[allow(dead_code)]
#[path = "../examples/managers/transaction.rs"]
mod transaction;

use std::any::Any;
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contextlib::testing::{Run, cancel_at_every_poll};
use contextlib::{AsyncContextManager, TeardownReport, async_with, set_teardown_hook};
use counting_allocator::allocations;
use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use runtime::multi_thread_runtime;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection};
use test_db::{Backend, TestDb, on_both_backends};

/// Teardown reports seen (a failed or unfinished detached rollback or commit would be one).
static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records teardown reports, and keeps the panics the tests cause out of the output.
fn record_reports() {
    fn hook(report: &TeardownReport) {
        REPORTS.lock().unwrap().push(report.to_string());
    }
    set_teardown_hook(hook);
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.payload().downcast_ref::<&str>().copied();
            if !matches!(message, Some("a random panic" | "the block panics")) {
                default(info);
            }
        }));
    });
}

/// A test's database and a pool of `size` connections on it, named so that its sessions can
/// be found in `pg_stat_activity`.
struct Db {
    /// The test's (or table row's) name, for the messages.
    name: String,
    db: TestDb,
    backend: Backend,
    pool: AnyPool,
    application: String,
}

impl Db {
    async fn new(backend: Backend, name: &str, size: u32) -> Option<Db> {
        record_reports();
        let db = TestDb::new(backend, name).await?;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let application = format!(
            "contextlib_sqlx_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let url = match backend {
            Backend::Sqlite => db.url.clone(),
            Backend::Postgres => format!("{}&application_name={application}", db.url),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE notes (body TEXT);
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .execute(&pool)
        .await
        .unwrap();
        Some(Db {
            name: name.to_owned(),
            db,
            backend,
            pool,
            application,
        })
    }

    async fn notes(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM notes")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// Waits until every connection of the pool is back in it (the detached rollbacks done).
    async fn settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.pool.num_idle() < self.pool.size() as usize {
            assert!(
                Instant::now() < deadline,
                "{}: connections did not return to the pool",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// PostgreSQL: the pool's sessions that are idle in a transaction (0 on SQLite).
    async fn idle_in_transaction(&self) -> i64 {
        if self.backend != Backend::Postgres {
            return 0;
        }
        let mut admin = AnyConnection::connect(&self.db.url).await.unwrap();
        let count = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        )
        .bind(&self.application)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        admin.close().await.unwrap();
        count
    }

    /// Every connection back, none in a transaction, and the pool usable: a transaction on
    /// each connection at once sees a clean session.
    async fn assert_clean(&self) {
        self.settled().await;
        assert_eq!(
            self.idle_in_transaction().await,
            0,
            "{}: a session idle in transaction",
            self.name
        );
        let mut held = Vec::new();
        for _ in 0..self.pool.size() {
            let mut tx = self.pool.begin().await.unwrap();
            sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
            held.push(tx);
        }
        for tx in held {
            tx.rollback().await.unwrap();
        }
    }

    async fn remove(self) {
        self.pool.close().await;
        self.db.remove().await;
    }
}

async fn insert(tx: &mut sqlx::Transaction<'static, sqlx::Any>, body: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO notes (body) VALUES ($1)")
        .bind(body.to_owned())
        .execute(&mut **tx)
        .await
        .map(drop)
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

// The blocks of the `CASES`.

async fn inserts(tx: &mut Tx) -> sqlx::Result<()> {
    insert(tx, "kept").await
}

async fn inserts_then_fails(tx: &mut Tx) -> sqlx::Result<()> {
    insert(tx, "lost").await?;
    Err(sqlx::Error::RowNotFound)
}

async fn inserts_then_panics(tx: &mut Tx) -> sqlx::Result<()> {
    insert(tx, "lost").await.unwrap();
    panic!("the block panics");
}

/// Succeeds, with a row the foreign key (checked at commit) refuses.
async fn inserts_an_orphan(tx: &mut Tx) -> sqlx::Result<()> {
    insert(tx, "lost").await?;
    sqlx::query("INSERT INTO child (parent_id) VALUES (42)")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Nested `async_with!` on a target: a savepoint, through `Acquire::begin`, rolled back.
async fn inserts_and_undoes_a_savepoint(tx: &mut Tx) -> sqlx::Result<()> {
    insert(tx, "kept").await?;
    let mut savepoint = sqlx::Acquire::begin(&mut **tx).await?;
    sqlx::query("INSERT INTO notes (body) VALUES ('undone')")
        .execute(&mut *savepoint)
        .await?;
    savepoint.rollback().await
}

/// How `async_with!` ends.
#[derive(Debug)]
enum Ends {
    Ok,
    /// With the block's error.
    BlockError,
    /// Resuming the block's panic.
    Panic,
    /// With the commit's error: a foreign key violation.
    CommitError,
}

impl Ends {
    /// Whether `outcome` (what `async_with!` returned, or the panic it resumed) is this end.
    fn is(&self, outcome: &Result<sqlx::Result<()>, Box<dyn Any + Send>>) -> bool {
        match (self, outcome) {
            (Ends::Ok, Ok(Ok(()))) => true,
            (Ends::BlockError, Ok(Err(sqlx::Error::RowNotFound))) => true,
            (Ends::Panic, Err(panic)) => panic.downcast_ref() == Some(&"the block panics"),
            (Ends::CommitError, Ok(Err(sqlx::Error::Database(error)))) => {
                error.is_foreign_key_violation()
            }
            _ => false,
        }
    }
}

/// A block run in `contextlib::sqlx::transaction` on a fresh database (named after the case),
/// how `async_with!` ends, and the notes left: 1 if the transaction committed, 0 if not.
struct Case {
    name: &'static str,
    block: for<'t> fn(&'t mut Tx) -> LocalBoxFuture<'t, sqlx::Result<()>>,
    ends: Ends,
    notes: i64,
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "commits_on_ok", block: |tx| Box::pin(inserts(tx)), ends: Ends::Ok, notes: 1 },
    Case { name: "rolls_back_on_error", block: |tx| Box::pin(inserts_then_fails(tx)), ends: Ends::BlockError, notes: 0 },
    Case { name: "rolls_back_on_panic", block: |tx| Box::pin(inserts_then_panics(tx)), ends: Ends::Panic, notes: 0 },
    // A foreign key checked at commit (`DEFERRABLE INITIALLY DEFERRED`): the block succeeds, the
    // commit fails, and that failure is what `async_with!` returns.
    Case { name: "a_failed_commit_is_the_exit_error", block: |tx| Box::pin(inserts_an_orphan(tx)), ends: Ends::CommitError, notes: 0 },
    // sqlx's savepoints work inside the block; the battery's transaction is the outer one.
    Case { name: "savepoints_inside_the_block", block: |tx| Box::pin(inserts_and_undoes_a_savepoint(tx)), ends: Ends::Ok, notes: 1 },
];

/// Every [`Case`]: `async_with!` returns (or resumes) what the block and the commit say, the
/// notes show whether it committed, and every connection is back in the pool, clean.
async fn commits_or_rolls_back_as_the_block_and_the_commit_end(backend: Backend) {
    for case in CASES {
        let Some(db) = Db::new(backend, case.name, 1).await else {
            return;
        };
        let outcome = AssertUnwindSafe(async {
            async_with!(contextlib::sqlx::transaction(&db.pool) => |tx| (case.block)(tx).await)
        })
        .catch_unwind()
        .await;
        let ends = &case.ends;
        assert!(
            ends.is(&outcome),
            "{}: {outcome:?}, not {ends:?}",
            case.name
        );
        assert_eq!(db.notes().await, case.notes, "{}: the notes", case.name);
        db.assert_clean().await;
        db.remove().await;
    }
}
on_both_backends!(async commits_or_rolls_back_as_the_block_and_the_commit_end);

/// The future running the block is dropped at each of its polls in turn (during the acquire,
/// the `BEGIN`, the inserts, the commit), on a real runtime; after each, the connection is back
/// in the pool, clean, and nothing was written, unless the block had ended: then its commit,
/// started, was finished on the runtime.
fn cancelled_at_every_poll(backend: Backend) {
    let runtime = multi_thread_runtime();
    let Some(db) = runtime.block_on(Db::new(backend, "cancelled_at_every_poll", 1)) else {
        return;
    };
    let db = Arc::new(db);
    let block_ended = AtomicBool::new(false);
    let mut dropped_in_the_commit = 0;
    let polls = {
        let _inside = runtime.enter(); // the detached rollbacks go to this runtime
        cancel_at_every_poll(
            || async {
                block_ended.store(false, Ordering::SeqCst);
                async_with!(contextlib::sqlx::transaction(&db.pool) => |tx| {
                    insert(tx, "cancelled?").await?;
                    insert(tx, "cancelled?").await?;
                    block_ended.store(true, Ordering::SeqCst);
                    Ok::<_, sqlx::Error>(())
                })
            },
            |run| {
                assert!(contextlib::tokio::wait_for_teardowns(Duration::from_secs(
                    10
                )));
                runtime.block_on(async {
                    db.settled().await;
                    let described = format!("{run:?}");
                    let expected = match run {
                        Run::Dropped { .. } if block_ended.load(Ordering::SeqCst) => {
                            dropped_in_the_commit += 1;
                            2
                        }
                        Run::Dropped { .. } => 0,
                        Run::Completed { output, .. } => {
                            assert!(matches!(output, Ok(())), "{output:?}");
                            2
                        }
                    };
                    let ended = block_ended.load(Ordering::SeqCst);
                    let context = format!("after {described}, block ended: {ended}");
                    assert_eq!(db.notes().await, expected, "rows {context}");
                    assert_eq!(db.idle_in_transaction().await, 0, "{context}");
                    sqlx::query("DELETE FROM notes")
                        .execute(&db.pool)
                        .await
                        .unwrap();
                });
            },
        )
    };
    eprintln!(
        "cancelled_at_every_poll({backend:?}): {polls} polls, {dropped_in_the_commit} of them in the commit"
    );
    // How many polls the run takes depends on how fast the database answers (2 to 8 here),
    // so it is reported, not asserted.
    runtime.block_on(async {
        db.assert_clean().await;
        Arc::into_inner(db).unwrap().remove().await;
    });
}
on_both_backends!(sync cancelled_at_every_poll);

/// xorshift: a seeded generator, so a failing run can be replayed (`CONTEXTLIB_STRESS_SEED`).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

const STRESS_TASKS: usize = 16;
const STRESS_PER_TASK: usize = 60;
const STRESS_BUDGET: Duration = Duration::from_secs(30);

/// 16 tasks × 60 transactions on a pool of 4, with random block errors (1 in 10), panics (1 in
/// 10), and cancellations (1 in 3: a timeout of 0–3 ms, hitting the acquire, the `BEGIN`, the
/// block or the commit): afterwards, every committed row is there, no row of a failed block,
/// and a cancelled transaction's row only if its commit had started; no session is idle in a
/// transaction and every connection is back in the pool.
async fn stress_under_random_cancellations(backend: Backend) {
    let Some(db) = Db::new(backend, "stress_under_random_cancellations", 4).await else {
        return;
    };
    let db = Arc::new(db);
    let seed = std::env::var("CONTEXTLIB_STRESS_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15_u64);
    let started = Instant::now();
    let committed = Arc::new(Mutex::new(HashSet::new()));
    let ended = Arc::new(Mutex::new(HashSet::new())); // blocks that ended Ok (commit started)
    let outcomes = Arc::new(Mutex::new([0usize; 5])); // ok, error, panic, cancelled, failed commit
    let mut tasks = Vec::new();
    for task in 0..STRESS_TASKS {
        let (db, committed, ended, outcomes) = (
            db.clone(),
            committed.clone(),
            ended.clone(),
            outcomes.clone(),
        );
        let mut state = seed ^ (task as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
        tasks.push(tokio::spawn(async move {
            for n in 0..STRESS_PER_TASK {
                if started.elapsed() > STRESS_BUDGET {
                    break;
                }
                let body = format!("{task}-{n}");
                let roll = next(&mut state) % 10;
                let cancel = next(&mut state) % 3 == 0;
                let delay = Duration::from_micros(next(&mut state) % 3000);
                let run = AssertUnwindSafe(async {
                    async_with!(contextlib::sqlx::transaction(&db.pool) => |tx| {
                        insert(tx, &body).await?;
                        match roll {
                            0 => Err(sqlx::Error::RowNotFound),
                            1 => panic!("a random panic"),
                            _ => {
                                ended.lock().unwrap().insert(body.clone());
                                Ok(())
                            }
                        }
                    })
                })
                .catch_unwind();
                let outcome = if cancel {
                    tokio::time::timeout(delay, run).await
                } else {
                    Ok(run.await)
                };
                let slot = match outcome {
                    Err(_) => 3,
                    Ok(Err(_)) => 2,
                    Ok(Ok(Ok(()))) => {
                        committed.lock().unwrap().insert(body.clone());
                        0
                    }
                    Ok(Ok(Err(sqlx::Error::RowNotFound))) => 1,
                    Ok(Ok(Err(error))) => {
                        eprintln!("stress({backend:?}): a failed commit: {error}");
                        4
                    }
                };
                outcomes.lock().unwrap()[slot] += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    db.assert_clean().await;
    let idle_in_transaction = db.idle_in_transaction().await;
    let rows: HashSet<String> = sqlx::query_scalar("SELECT body FROM notes")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let outcomes = *outcomes.lock().unwrap();
    let committed = std::mem::take(&mut *committed.lock().unwrap());
    let ended = std::mem::take(&mut *ended.lock().unwrap());
    eprintln!(
        "stress({backend:?}): {} transactions in {elapsed:.2?}: {} committed, {} failed blocks, \
         {} panics, {} cancelled ({} of them committed: cancelled in the commit), {} failed \
         commits; {} rows, {idle_in_transaction} sessions idle in transaction",
        outcomes.iter().sum::<usize>(),
        outcomes[0],
        outcomes[1],
        outcomes[2],
        outcomes[3],
        rows.len() - committed.len(),
        outcomes[4],
        rows.len(),
    );
    assert!(committed.is_subset(&rows), "a committed row is missing");
    assert!(
        rows.is_subset(&ended),
        "a row of a failed or cancelled block was kept"
    );
    assert_eq!(idle_in_transaction, 0);
    assert!(outcomes[3] > 0, "no cancellation happened: {outcomes:?}");
    assert_eq!(outcomes[4], 0);
    // No detached rollback or commit failed (no test of this file expects one).
    assert_eq!(*REPORTS.lock().unwrap(), Vec::<String>::new());
    Arc::into_inner(db).unwrap().remove().await;
}

mod stress_under_random_cancellations {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::stress_under_random_cancellations(Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(contextlib_test_postgres),
        ignore = "the PostgreSQL variant needs CONTEXTLIB_TEST_POSTGRES_URL (CI sets it; `eval \"$(bash .ci/postgres start)\"` starts a throwaway server)"
    )]
    async fn postgres() {
        super::stress_under_random_cancellations(Backend::Postgres).await;
    }
}

/// The battery allocates no more than the plain sqlx code it replaces (`pool.begin()`, the
/// block, `tx.commit()`), but the one box of its exit future (what lets a dropped commit be
/// finished on the runtime). Counted on this thread (SQLite's worker thread is not counted
/// either way).
#[tokio::test(flavor = "current_thread")]
async fn allocates_what_plain_sqlx_does_plus_the_exit_box() {
    let Some(db) = Db::new(Backend::Sqlite, "allocations", 1).await else {
        unreachable!("SQLite always runs");
    };
    let plain = || async {
        let mut tx = db.pool.begin().await?;
        sqlx::query("SELECT 1").execute(&mut *tx).await?;
        tx.commit().await
    };
    let battery = || async {
        async_with!(contextlib::sqlx::transaction(&db.pool) => |tx| {
            sqlx::query("SELECT 1").execute(&mut **tx).await.map(drop)
        })
    };
    // Warm up both paths (prepared statement caches, the pool's first connection).
    for _ in 0..3 {
        plain().await.unwrap();
        battery().await.unwrap();
    }
    let direct = || async {
        let mut manager = std::pin::pin!(contextlib::sqlx::transaction(&db.pool));
        let tx = manager.as_mut().enter().await?;
        sqlx::query("SELECT 1").execute(&mut **tx).await?;
        manager.as_mut().exit(contextlib::Exit::Ok).await
    };
    direct().await.unwrap();
    let mut counts = [usize::MAX; 3];
    for _ in 0..5 {
        let before = allocations();
        plain().await.unwrap();
        counts[0] = counts[0].min(allocations() - before);
        let before = allocations();
        direct().await.unwrap();
        counts[1] = counts[1].min(allocations() - before);
        let before = allocations();
        battery().await.unwrap();
        counts[2] = counts[2].min(allocations() - before);
    }
    eprintln!(
        "allocations: plain sqlx {}, the manager's enter and exit {}, async_with! {}",
        counts[0], counts[1], counts[2]
    );
    assert!(counts[1] <= counts[0] + 1, "{counts:?}");
    db.remove().await;
}

/// `Send` and `'static`: in `tokio::spawn`, and on an `ExitStack` (two transactions, each on a
/// connection of its own, both committed at the stack's exit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_and_on_an_exit_stack() {
    let Some(db) = Db::new(Backend::Sqlite, "spawned_and_on_an_exit_stack", 2).await else {
        unreachable!("SQLite always runs");
    };
    let pool = db.pool.clone();
    let spawned = tokio::spawn(async move {
        async_with!(contextlib::sqlx::transaction(&pool) => |tx| insert(tx, "spawned").await)
    });
    spawned.await.unwrap().unwrap();
    let pool = db.pool.clone();
    let stacked = tokio::spawn(async move {
        async_with!(contextlib::ExitStack::<sqlx::Error>::new() => |stack| {
            let first = stack.enter(contextlib::sqlx::transaction(&pool)).await?;
            insert(first, "first").await?;
            let second = stack.enter(contextlib::sqlx::transaction(&pool)).await?;
            sqlx::query("SELECT COUNT(*) FROM parent").execute(&mut **second).await?;
            Ok::<_, sqlx::Error>(())
        })
    });
    stacked.await.unwrap().unwrap();
    assert_eq!(db.notes().await, 2);
    db.assert_clean().await;
    db.remove().await;
}
