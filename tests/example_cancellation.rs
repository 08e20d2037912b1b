//! Every example manager (examples/managers/*.rs), cancelled at every point of a realistic
//! block: `contextlib::testing::cancel_at_every_poll` drops the future running `async_with!` after
//! 0, 1, 2, ... polls, and each run checks the manager's real effects.
//!
//! - Dropped during the enter: no teardown (nothing was entered).
//! - Dropped inside the block: the teardown runs once with `Exit::Cancelled`. Managers whose
//!   teardown awaits real I/O (temp dir, file, transaction, server) are wrapped in
//!   `contextlib::tokio::detach_on_cancel` and checked after `wait_for_teardowns`; the ones whose
//!   teardown never waits (hand-written, generated, timer, HTTP session) finish in place.
//! - Dropped while the exit runs: the exit is finished in place as far as it goes (documented
//!   behaviour); a teardown still waiting on I/O is reported to the hook, never lost silently.
//! - Completed: the teardown ran once with `Exit::Ok` and the block's value is returned.
//!
//! In every run, no teardown may be reported to the teardown hook, except the documented
//! exit-in-flight case. The tests of this file run one at a time: they share the process-wide
//! hook and `wait_for_teardowns`.
//!
//! Last, a real-runtime case: `tokio::time::timeout` expiring inside a transaction.
//!
//! The transaction tests run on a fresh SQLite file (`<test>::sqlite`) and, when
//! `CONTEXTLIB_TEST_POSTGRES_URL` is set, in a fresh schema of that PostgreSQL database
//! (`<test>::postgres`; skipped, and passing, otherwise). See tests/support/test_db.rs.

#[path = "../examples/managers/file.rs"]
mod file;
#[path = "../examples/managers/hand_written.rs"]
mod hand_written;
#[path = "../examples/managers/http_session.rs"]
mod http_session;
#[path = "support/runtime.rs"]
mod runtime;
#[path = "../examples/managers/temp_dir.rs"]
mod temp_dir;
#[path = "support/test_db.rs"]
mod test_db;
#[path = "../examples/managers/timer.rs"]
mod timer;
// `connect` (which honours DATABASE_URL) is for the examples; the tests use their own database.
#[allow(dead_code)]
#[path = "../examples/managers/transaction.rs"]
mod transaction;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use contextlib::testing::{Probe, Run, Watched, cancel_at_every_poll, yield_now};
use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use contextlib::{AsyncContextManager, TeardownOutcome, TeardownReport, async_with};
use sqlx::Connection;
use tokio::io::AsyncWriteExt;

use file::file_handler;
use hand_written::{Seen, SimpleAsyncContextManager, create_async_context};
use http_session::{api_session, serve_api, wait_until_no_connections};
use runtime::multi_thread_runtime;
use temp_dir::temp_directory;
use test_db::{Backend, TestDb, on_both_backends};
use timer::measure_async_time;
use transaction::{Journal, connect_url, count_notes, db_transaction, insert_note};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A short real wait inside the blocks: a tokio timer, driven by the runtime's worker threads.
const NAP: Duration = Duration::from_millis(3);

// ---------------------------------------------------------------------------------------------
// Shared machinery

/// Teardowns reported to the hook: (manager, outcome).
static REPORTS: Mutex<Vec<(String, TeardownOutcome)>> = Mutex::new(Vec::new());

fn record_report(report: &TeardownReport) {
    REPORTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((report.manager.to_string(), report.outcome));
}

/// Runs the tests of this file one at a time, with the recording hook installed.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    contextlib::set_teardown_hook(record_report);
    assert!(
        settle(),
        "detached teardowns of an earlier test did not finish"
    );
    take_reports();
    guard
}

fn take_reports() -> Vec<(String, TeardownOutcome)> {
    std::mem::take(&mut *REPORTS.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Waits for the detached teardowns (of this process) to finish.
fn settle() -> bool {
    wait_for_teardowns(Duration::from_secs(10))
}

/// A test's turn ([`serial`]) and a multi-thread runtime: its workers drive timers and I/O
/// while the harness polls the scenario on the test thread (inside `runtime.enter()`). Bound as
/// `let (_serial, runtime) = ...`, the runtime is dropped before the turn passes.
fn serial_runtime() -> (MutexGuard<'static, ()>, tokio::runtime::Runtime) {
    (serial(), multi_thread_runtime())
}

/// What a block got to do before its future was dropped (its progress marks, in order), and
/// the `Probe` that checks contextlib's rule (entered => torn down exactly once) in every run.
#[derive(Default)]
struct Watch {
    marks: Mutex<Vec<&'static str>>,
    probe: Probe,
}

impl Watch {
    fn mark(&self, step: &'static str) {
        self.marks.lock().unwrap().push(step);
    }
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.marks.lock().unwrap())
    }
    fn observe<M: AsyncContextManager>(&self, manager: M) -> Watched<'_, M> {
        self.probe.observe(manager)
    }
}

/// Where a run was dropped, from the block's progress marks ("entered" first, "finished"
/// last).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Phase {
    /// Before the enter finished: nothing was entered.
    Enter,
    /// Inside the block.
    Block,
    /// After the block's last step: while the exit ran.
    Exit,
    /// The future completed.
    Completed,
}

/// The shape every test here shares: `scenario` cut after every number of polls (on the test
/// thread, inside the test's runtime); after each run, contextlib's rule (entered => torn down
/// exactly once) is checked, and `check` gets the run's phase, the run and a name for its
/// messages; at the end, every phase must have been seen.
fn at_every_poll<F: Future<Output: std::fmt::Debug>>(
    watch: &Watch,
    scenario: impl FnMut() -> F,
    mut check: impl FnMut(Phase, Run<F::Output>, &str),
) {
    let mut coverage = Coverage::default();
    cancel_at_every_poll(scenario, |run| {
        watch.probe.assert_torn_down_once(&run);
        let progress = watch.take();
        let phase = phase(&run, &progress);
        coverage.count(phase);
        let name = format!("{run:?} {progress:?}");
        check(phase, run, &name);
    });
    coverage.assert_covered();
}

/// The output of a run that completed.
fn output_of<T>(run: Run<T>) -> T {
    let Run::Completed { output, .. } = run else {
        unreachable!("the run completed")
    };
    output
}

fn phase<T>(run: &Run<T>, progress: &[&'static str]) -> Phase {
    match run {
        Run::Completed { .. } => Phase::Completed,
        Run::Dropped { .. } if !progress.contains(&"entered") => Phase::Enter,
        Run::Dropped { .. } if !progress.contains(&"finished") => Phase::Block,
        Run::Dropped { .. } => Phase::Exit,
    }
}

/// The reports of one run: none, except that a run dropped while its exit awaited I/O may
/// report that exit (and only it) as unfinished — finished in place as far as it could be.
/// Returns whether such a report was made.
fn check_reports(phase: Phase, manager: &str, run: &str) -> bool {
    let reports = take_reports();
    if phase == Phase::Exit && reports.len() == 1 {
        let (name, outcome) = &reports[0];
        assert!(name.contains(manager), "{run}: {reports:?}");
        assert_eq!(*outcome, TeardownOutcome::Unfinished, "{run}");
        return true;
    }
    assert!(reports.is_empty(), "{run}: unexpected reports {reports:?}");
    false
}

/// Counts the phases seen over all runs, to check the harness covered them all.
#[derive(Default, Debug)]
struct Coverage {
    enter: usize,
    block: usize,
    exit: usize,
    completed: usize,
}

impl Coverage {
    fn count(&mut self, phase: Phase) {
        match phase {
            Phase::Enter => self.enter += 1,
            Phase::Block => self.block += 1,
            Phase::Exit => self.exit += 1,
            Phase::Completed => self.completed += 1,
        }
    }
    /// How many runs land in each phase depends on I/O timings (an operation may be done by
    /// its first poll); every block has a `yield_now` so that at least one run is cut there.
    fn assert_covered(&self) {
        assert!(self.enter >= 1, "{self:?}");
        assert!(self.block >= 1, "{self:?}");
        assert_eq!(self.completed, 1, "{self:?}");
    }
}

/// Values written by a manager's teardown into a borrowed slot, handed to the test when the
/// scenario's future is dropped — after the `async_with!` inside it, hence after the cancel.
struct Sink<'a, T> {
    value: Option<T>,
    out: &'a Mutex<Vec<T>>,
}

impl<'a, T> Sink<'a, T> {
    fn new(value: T, out: &'a Mutex<Vec<T>>) -> Self {
        Sink {
            value: Some(value),
            out,
        }
    }
    fn get(&mut self) -> &mut T {
        self.value.as_mut().unwrap()
    }
}

impl<T> Drop for Sink<'_, T> {
    fn drop(&mut self) {
        let value = self.value.take().unwrap();
        self.out
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(value);
    }
}

/// What the run's sink received; `None` if the scenario's future was never polled.
fn take_one<T>(out: &Mutex<Vec<T>>) -> Option<T> {
    let mut values = std::mem::take(&mut *out.lock().unwrap());
    assert!(values.len() <= 1, "one scenario per run");
    values.pop()
}

/// A scratch directory of this test, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "contextlib-test-cancel-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits (up to 5 s) until `done` holds; whether it does.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

// ---------------------------------------------------------------------------------------------
// temp_directory

/// The prefix of this file's temporary directories (`temp_directory` adds `-<pid>-...`).
const TEMP_PREFIX: &str = "contextlib-cancel";

/// The directories `temp_directory(TEMP_PREFIX)` created in this process and did not remove.
fn leftover_temp_dirs() -> Vec<PathBuf> {
    let mine = format!("{TEMP_PREFIX}-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&mine))
        .map(|entry| entry.path())
        .collect()
}

#[test]
fn temp_directory_is_removed_wherever_its_block_is_cancelled() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let watch = &Watch::default();
    let seen_dir: Mutex<Option<PathBuf>> = Mutex::new(None);
    at_every_poll(
        watch,
        || async {
            async_with!(watch.observe(detach_on_cancel(temp_directory(TEMP_PREFIX))) => |dir| {
                watch.mark("entered");
                *seen_dir.lock().unwrap() = Some(dir.to_path_buf());
                tokio::fs::write(dir.join("scratch.txt"), b"work in progress").await?;
                watch.mark("wrote");
                yield_now().await; // a suspension point whatever the I/O timings
                tokio::time::sleep(NAP).await;
                tokio::fs::create_dir(dir.join("sub")).await?;
                watch.mark("finished");
                Ok::<_, io::Error>(dir.to_path_buf())
            })
        },
        |phase, run, name| {
            assert!(settle(), "{name}");
            let dir = seen_dir.lock().unwrap().take();
            let reported = check_reports(phase, "::temp_directory", name);
            match phase {
                Phase::Enter => assert!(dir.is_none(), "{name}"),
                Phase::Block => {
                    let dir = dir.unwrap();
                    assert!(!dir.exists(), "{name}: {} is still there", dir.display());
                }
                // Finished in place, or reported: the removal was already handed to tokio's
                // blocking pool, which completes it.
                Phase::Exit => {
                    let dir = dir.unwrap();
                    assert!(
                        eventually(|| !dir.exists()),
                        "{name} (reported: {reported})"
                    );
                }
                Phase::Completed => {
                    let returned = output_of(run).unwrap();
                    assert_eq!(Some(&returned), dir.as_ref());
                    assert!(!returned.exists(), "{name}");
                }
            }
            // Not one directory left behind, including by runs cancelled during the enter.
            let mut leftovers = Vec::new();
            let gone = eventually(|| {
                leftovers = leftover_temp_dirs();
                leftovers.is_empty()
            });
            assert!(gone, "{name}: left behind {leftovers:?}");
        },
    );
}

// ---------------------------------------------------------------------------------------------
// file_handler

#[test]
fn file_handler_flushes_what_the_block_wrote_wherever_it_is_cancelled() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let scratch = Scratch::new("file");
    let watch = &Watch::default();
    let attempt = AtomicUsize::new(0);
    let path_of = |n: usize| scratch.0.join(format!("out-{n}.txt"));
    at_every_poll(
        watch,
        || {
            let path = path_of(attempt.fetch_add(1, Ordering::SeqCst));
            async move {
                async_with!(watch.observe(detach_on_cancel(file_handler(path))) => |file| {
                    watch.mark("entered");
                    file.write_all(b"first ").await?;
                    watch.mark("wrote first");
                    yield_now().await; // a suspension point whatever the I/O timings
                    // Still buffered; the block now waits on something real.
                    tokio::time::sleep(NAP).await;
                    file.write_all(b"second").await?;
                    watch.mark("finished");
                    Ok::<_, io::Error>(file.buffer().len())
                })
            }
        },
        |phase, run, name| {
            assert!(settle(), "{name}");
            let path = path_of(attempt.load(Ordering::SeqCst) - 1);
            let reported = check_reports(phase, "::file_handler", name);
            let on_disk = || std::fs::read(&path).unwrap_or_default();
            match phase {
                // The file may have been created (tokio's blocking pool finishes the open),
                // but nothing was written to it.
                Phase::Enter => assert_eq!(on_disk(), b"", "{name}"),
                // Flushed by the detached teardown: what the block wrote is on disk.
                Phase::Block => assert_eq!(on_disk(), b"first ", "{name}"),
                // The flush was under way: it lands whole (or the report said it may not).
                Phase::Exit => {
                    let landed = eventually(|| on_disk() == b"first second");
                    assert!(landed || reported, "{name}: {:?}", on_disk());
                }
                Phase::Completed => {
                    assert_eq!(
                        output_of(run).unwrap(),
                        12,
                        "both writes were still buffered"
                    );
                    assert_eq!(on_disk(), b"first second", "{name}");
                }
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// db_transaction

/// The committed notes with `body`, counted through a fresh connection (not the pool the
/// manager used).
async fn committed_on_a_fresh_connection(db: &TestDb, body: &str) -> i64 {
    let mut connection = db.fresh_connection().await;
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE body = $1")
        .bind(body)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    count
}

on_both_backends!(sync db_transaction_rolls_back_wherever_its_block_is_cancelled);
fn db_transaction_rolls_back_wherever_its_block_is_cancelled(backend: Backend) {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let name = "db_transaction_rolls_back_wherever_its_block_is_cancelled";
    let Some(db) = runtime.block_on(TestDb::new(backend, name)) else {
        return;
    };
    let pool = runtime.block_on(connect_url(&db.url)).unwrap();
    let watch = &Watch::default();
    let journal = Mutex::new(Arc::new(Journal::default()));
    // Each run inserts its own rows.
    let body_of = |n: usize| format!("run {n}");
    let attempt = AtomicUsize::new(0);
    at_every_poll(
        watch,
        || {
            let body = body_of(attempt.fetch_add(1, Ordering::SeqCst));
            let journal = journal.lock().unwrap().clone();
            let pool = pool.clone();
            async move {
                async_with!(watch.observe(detach_on_cancel(db_transaction(pool.clone(), journal))) => |tx| {
                    watch.mark("entered");
                    insert_note(tx, &body).await?;
                    watch.mark("inserted");
                    yield_now().await; // a suspension point whatever the I/O timings
                    tokio::time::sleep(NAP).await;
                    insert_note(tx, &body).await?;
                    // Not committed yet: other connections do not see the rows.
                    assert_eq!(count_notes(&pool, &body).await?, 0);
                    watch.mark("finished");
                    Ok::<_, sqlx::Error>(2)
                })
            }
        },
        |phase, run, name| {
            assert!(settle(), "{name}");
            let body = body_of(attempt.load(Ordering::SeqCst) - 1);
            // (and every run gets a fresh journal)
            let steps = std::mem::take(&mut *journal.lock().unwrap()).steps();
            let reported = check_reports(phase, "::db_transaction", name);
            let committed = runtime.block_on(committed_on_a_fresh_connection(&db, &body));
            match phase {
                Phase::Enter => {
                    assert!(steps.is_empty() || steps == ["begin"], "{name}: {steps:?}");
                    // A begun transaction that was never lent is dropped, and sqlx rolls it
                    // back; nothing was inserted anyway.
                    assert_eq!(committed, 0, "{name}");
                }
                Phase::Block => {
                    // The detached teardown ran the rollback to the end, exactly once.
                    assert_eq!(steps, ["begin", "rollback (cancelled)"], "{name}");
                    assert_eq!(committed, 0, "{name}");
                }
                // The commit was under way: it finished in place (and is journaled), or was
                // reported unfinished; either way the transaction is all or nothing.
                Phase::Exit => {
                    if reported {
                        assert_eq!(steps, ["begin"], "{name}");
                    } else {
                        assert_eq!(steps, ["begin", "commit"], "{name}");
                        assert_eq!(committed, 2, "{name}");
                    }
                    assert!(committed == 0 || committed == 2, "{name}: {committed}");
                }
                Phase::Completed => {
                    assert_eq!(output_of(run).unwrap(), 2);
                    assert_eq!(steps, ["begin", "commit"], "{name}");
                    assert_eq!(committed, 2, "{name}");
                }
            }
        },
    );
    runtime.block_on(pool.close());
    runtime.block_on(db.remove());
}

on_both_backends!(sync a_timeout_inside_a_transaction_rolls_it_back_for_real);
/// The real thing: a `tokio::time::timeout` expiring inside a transaction block that inserted
/// rows. The detached teardown rolls back for real.
fn a_timeout_inside_a_transaction_rolls_it_back_for_real(backend: Backend) {
    let (_serial, runtime) = serial_runtime();
    let journal = Arc::new(Journal::default());
    let name = "a_timeout_inside_a_transaction_rolls_it_back_for_real";
    let Some(db) = runtime.block_on(TestDb::new(backend, name)) else {
        return;
    };
    let pool = runtime.block_on(connect_url(&db.url)).unwrap();
    let start = std::time::Instant::now();
    let seen_in_block = runtime.block_on(async {
        let mut seen_in_block = 0;
        let result = tokio::time::timeout(Duration::from_millis(100), async {
            async_with!(detach_on_cancel(db_transaction(pool.clone(), journal.clone())) => |tx| {
                for _ in 0..3 {
                    insert_note(tx, "timed out").await?;
                }
                seen_in_block = sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM notes WHERE body = 'timed out'",
                )
                .fetch_one(&mut **tx)
                .await?;
                // A slow call the timeout cuts short.
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .await;
        assert!(result.is_err(), "the timeout expired: {result:?}");
        seen_in_block
    });
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the block was cut"
    );
    assert_eq!(
        seen_in_block, 3,
        "the rows were inserted in the transaction"
    );
    assert!(settle(), "the detached rollback finished");
    assert_eq!(journal.steps(), ["begin", "rollback (cancelled)"]);
    assert_eq!(
        runtime.block_on(committed_on_a_fresh_connection(&db, "timed out")),
        0,
        "no row was committed"
    );
    assert_eq!(take_reports(), []);
    runtime.block_on(pool.close());
    runtime.block_on(db.remove());
}

// ---------------------------------------------------------------------------------------------
// SimpleAsyncContextManager and create_async_context: teardowns that never wait

#[test]
fn hand_written_and_generated_managers_see_cancelled_exactly_once_in_place() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let watch = &Watch::default();
    let by_hand: Mutex<Vec<SimpleAsyncContextManager<&'static str>>> = Mutex::new(Vec::new());
    let generated: Mutex<Vec<Vec<Seen>>> = Mutex::new(Vec::new());
    at_every_poll(
        watch,
        || async {
            let mut manager = Sink::new(SimpleAsyncContextManager::new("Hello"), &by_hand);
            let mut seen = Sink::new(Vec::new(), &generated);
            // No `detach_on_cancel`: both teardowns finish in place.
            async_with!((watch.observe(manager.get()), watch.observe(create_async_context("World", seen.get()))) => |(hello, world)| {
                watch.mark("entered");
                tokio::time::sleep(NAP).await;
                let greeting = format!("{hello}, {world}!");
                tokio::time::sleep(NAP).await;
                watch.mark("finished");
                greeting
            })
        },
        |phase, run, name| {
            // Nothing was detached, nothing is reported: the exits never wait.
            assert_eq!(take_reports(), [], "{name}");
            let by_hand = take_one(&by_hand).map(|m| m.seen).unwrap_or_default();
            let generated = take_one(&generated).unwrap_or_default();
            match phase {
                Phase::Enter => {
                    assert_eq!(by_hand, [], "{name}");
                    assert_eq!(generated, [], "{name}");
                }
                Phase::Block => {
                    assert_eq!(by_hand, [Seen::Cancelled], "{name}");
                    assert_eq!(generated, [Seen::Cancelled], "{name}");
                }
                Phase::Exit => {
                    unreachable!("{name}: the exits finish in the poll that starts them")
                }
                Phase::Completed => {
                    assert_eq!(output_of(run).unwrap(), "Hello, World!");
                    assert_eq!(by_hand, [Seen::Ok], "{name}");
                    assert_eq!(generated, [Seen::Ok], "{name}");
                }
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// measure_async_time: a teardown that only reads the clock

#[test]
fn the_timer_reports_once_in_place_wherever_its_block_is_cancelled() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let watch = &Watch::default();
    let reported: Mutex<Vec<Option<Duration>>> = Mutex::new(Vec::new());
    let naps = AtomicUsize::new(0);
    at_every_poll(
        watch,
        || async {
            let mut elapsed = Sink::new(None, &reported);
            // No `detach_on_cancel`: the teardown finishes in place.
            async_with!(watch.observe(measure_async_time("cancellable", elapsed.get())) => |start| {
                watch.mark("entered");
                for _ in 0..3 {
                    tokio::time::sleep(NAP).await;
                    naps.fetch_add(1, Ordering::SeqCst);
                }
                watch.mark("finished");
                start.elapsed()
            })
        },
        |phase, run, name| {
            assert_eq!(take_reports(), [], "{name}");
            let elapsed = take_one(&reported).flatten();
            let naps = naps.swap(0, Ordering::SeqCst) as u32;
            match phase {
                Phase::Enter => assert_eq!(elapsed, None, "{name}"),
                Phase::Block => {
                    // Reported by the cancelled block's teardown: the time it did run.
                    let elapsed = elapsed.expect("reported when cancelled");
                    assert!(elapsed >= NAP * naps, "{name}: {elapsed:?}");
                }
                Phase::Exit => unreachable!("{name}: the exit finishes in the poll that starts it"),
                Phase::Completed => {
                    let inner = output_of(run).unwrap();
                    let elapsed = elapsed.expect("reported");
                    assert!(inner >= NAP * 3, "{name}: {inner:?}");
                    assert!(elapsed >= inner, "{name}: {elapsed:?} < {inner:?}");
                }
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// serve_api and api_session

/// A server running in a task: its base URL, its counters, the sender that stops it, the task.
type RunningServer = (
    String,
    Arc<http_session::ServerStats>,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), io::Error>>,
);

/// Runs `serve_api()` in a task of `runtime` until the returned sender is used.
fn start_server(runtime: &tokio::runtime::Runtime) -> RunningServer {
    let (ready, on_ready) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(async move {
        async_with!(serve_api() => |server| {
            let _ = ready.send((server.base_url.clone(), server.stats.clone()));
            let _ = stopped.await;
        })
    });
    let (base_url, stats) = runtime.block_on(on_ready).unwrap();
    (base_url, stats, stop, task)
}

#[test]
fn api_session_closes_its_connections_wherever_its_block_is_cancelled() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let (base_url, stats, stop, server) = start_server(&runtime);
    let watch = &Watch::default();
    at_every_poll(
        watch,
        || async {
            // No `detach_on_cancel`: closing the session never waits.
            async_with!(watch.observe(api_session(&base_url)) => |session| {
                watch.mark("entered");
                assert_eq!(session.base_url(), base_url);
                let hello = session.get("/hello").await?;
                watch.mark("got /hello");
                yield_now().await; // a suspension point whatever the I/O timings
                tokio::time::sleep(NAP).await;
                let hits = session.get("/hits").await?;
                watch.mark("finished");
                Ok::<_, BoxError>(format!("{hello} {hits}"))
            })
        },
        |phase, run, name| {
            assert_eq!(take_reports(), [], "{name}");
            // The session (and a request it had in flight) is gone: so are its connections.
            let open = runtime.block_on(wait_until_no_connections(&stats, Duration::from_secs(5)));
            assert_eq!(open, 0, "{name}");
            match phase {
                Phase::Enter | Phase::Block => {}
                Phase::Exit => unreachable!("{name}: the exit finishes in the poll that starts it"),
                Phase::Completed => {
                    let body = output_of(run).unwrap();
                    assert!(body.starts_with("hello from contextlib "), "{body}");
                }
            }
        },
    );
    stop.send(()).unwrap();
    runtime.block_on(server).unwrap().unwrap();
}

#[test]
fn serve_api_stops_the_server_wherever_its_block_is_cancelled() {
    let (_serial, runtime) = serial_runtime();
    let _context = runtime.enter();
    let watch = &Watch::default();
    let server: Mutex<Option<(String, Arc<http_session::ServerStats>)>> = Mutex::new(None);
    at_every_poll(
        watch,
        || async {
            async_with!(watch.observe(detach_on_cancel(serve_api())) => |api| {
                watch.mark("entered");
                *server.lock().unwrap() = Some((api.base_url.clone(), api.stats.clone()));
                let client = reqwest::Client::new();
                let hello = client.get(format!("{}/hello", api.base_url)).send().await?;
                let hello = hello.text().await?;
                watch.mark("got /hello");
                yield_now().await; // a suspension point whatever the I/O timings
                drop(client);
                tokio::time::sleep(NAP).await;
                watch.mark("finished");
                Ok::<_, BoxError>(hello)
            })
        },
        |phase, run, name| {
            assert!(settle(), "{name}");
            let reported = check_reports(phase, "::serve_api", name);
            let server = server.lock().unwrap().take();
            if phase == Phase::Enter {
                assert!(server.is_none(), "{name}");
                return;
            }
            let (base_url, stats) = server.unwrap();
            // Stopped: nothing listens any more, no connection is left open.
            let address = base_url.trim_start_matches("http://").to_string();
            let stopped = || std::net::TcpStream::connect(&address).is_err();
            if phase == Phase::Exit && reported {
                // Told to stop before the exit was dropped; the server task still ends.
                assert!(eventually(stopped), "{name}");
            } else {
                assert!(stopped(), "{name}: {base_url} still accepts connections");
            }
            assert_eq!(stats.open_connections.load(Ordering::SeqCst), 0, "{name}");
            if let Run::Completed { output, .. } = run {
                assert_eq!(output.unwrap(), "hello from contextlib");
                assert_eq!(stats.hits.load(Ordering::SeqCst), 1);
            }
        },
    );
}
