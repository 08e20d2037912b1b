//! On a real tokio runtime, every way a block gets cancelled still completes a teardown that
//! awaits real work (a timer, then a file write), through `contextlib::tokio::detach_on_cancel`.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use contextlib::{Exit, async_context_manager, async_with};

/// Writes how the block ended into `record`, after awaiting a timer: a teardown that cannot
/// finish inside `Drop`.
#[async_context_manager]
async fn recorded(
    record: PathBuf,
    entered: Option<tokio::sync::mpsc::Sender<()>>,
) -> std::io::Result<()> {
    if let Some(entered) = entered {
        let _ = entered.send(()).await;
    }
    let exit = r#yield!(());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let outcome = match exit {
        Exit::Ok => "ok",
        Exit::Cancelled => "cancelled",
        _ => "failed",
    };
    tokio::fs::write(&record, outcome).await
}

fn record_path(test: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "contextlib-tokio-cancellation-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{test}-{}", NEXT.fetch_add(1, Ordering::SeqCst)))
}

fn assert_torn_down(record: &Path, expected: &str) {
    assert!(
        wait_for_teardowns(Duration::from_secs(10)),
        "teardowns did not finish"
    );
    assert_eq!(std::fs::read_to_string(record).unwrap(), expected);
}

async fn block_forever(record: PathBuf, entered: Option<tokio::sync::mpsc::Sender<()>>) {
    let _ = async_with!(detach_on_cancel(recorded(record, entered)) => |()| {
        std::future::pending::<()>().await;
    });
    unreachable!("the block never ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_expiring_inside_the_block() {
    let record = record_path("timeout");
    let result = tokio::time::timeout(
        Duration::from_millis(20),
        block_forever(record.clone(), None),
    )
    .await;
    assert!(result.is_err());
    assert_torn_down(&record, "cancelled");
}

#[tokio::test]
async fn losing_branch_of_select() {
    let record = record_path("select");
    tokio::select! {
        _ = block_forever(record.clone(), None) => unreachable!(),
        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
    }
    assert_torn_down(&record, "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_of_a_spawned_task() {
    let record = record_path("abort");
    let (entered, mut on_entered) = tokio::sync::mpsc::channel(1);
    let task = tokio::spawn(block_forever(record.clone(), Some(entered)));
    on_entered.recv().await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_torn_down(&record, "cancelled");
}

#[test]
fn runtime_shutdown_with_tasks_in_the_block() {
    let records: Vec<_> = (0..3).map(|_| record_path("shutdown")).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (entered, mut on_entered) = tokio::sync::mpsc::channel(3);
        for record in &records {
            tokio::spawn(block_forever(record.clone(), Some(entered.clone())));
        }
        for _ in &records {
            on_entered.recv().await.unwrap();
        }
    });
    drop(runtime); // drops the three tasks mid-block
    for record in &records {
        assert_torn_down(record, "cancelled");
    }
}

#[tokio::test]
async fn a_detached_manager_that_is_not_cancelled_exits_in_place() {
    let record = record_path("completed");
    let result = async_with!(detach_on_cancel(recorded(record.clone(), None)) => |()| 5);
    assert_eq!(result.unwrap(), 5);
    // The exit ran inline: the record is there without waiting for detached teardowns.
    assert_eq!(std::fs::read_to_string(&record).unwrap(), "ok");
}

/// A teardown that takes a while even when the block succeeds (a commit in flight).
#[async_context_manager]
async fn slow_commit(record: PathBuf) -> std::io::Result<()> {
    let exit = r#yield!(());
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::fs::write(
        &record,
        if exit.is_ok() {
            "committed"
        } else {
            "rolled back"
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_expiring_during_the_exit() {
    let record = record_path("during-exit");
    let cut = tokio::time::timeout(Duration::from_millis(10), async {
        async_with!(detach_on_cancel(slow_commit(record.clone())) => |()| 1)
    })
    .await;
    assert!(cut.is_err(), "the timeout hit while the exit was running");
    assert_torn_down(&record, "committed");
}

#[tokio::test]
async fn a_detached_exit_sees_the_block_error_as_text() {
    #[async_context_manager]
    async fn seen_error(record: PathBuf) -> std::io::Result<()> {
        let exit = r#yield!(());
        let text = match exit {
            Exit::Err(error) => format!(
                "{error} / {error:?} / downcast: {}",
                error.is::<std::fmt::Error>()
            ),
            _ => "no error".to_string(),
        };
        tokio::fs::write(&record, text).await
    }
    let record = record_path("error-text");
    let result: Result<(), std::io::Error> = async_with!(detach_on_cancel(seen_error(record.clone())) => |()| {
        Err(std::io::Error::other("disk full"))
    });
    assert_eq!(result.unwrap_err().to_string(), "disk full");
    let seen = std::fs::read_to_string(&record).unwrap();
    assert!(seen.starts_with("disk full / Custom"), "{seen}");
    assert!(seen.ends_with("downcast: false"), "{seen}");
}

#[test]
fn a_detached_teardown_that_panics_is_reported_and_the_waiting_exit_panics() {
    #[async_context_manager]
    async fn panicking_teardown() -> u8 {
        r#yield!(1);
        panic!("rollback exploded");
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async { async_with!(detach_on_cancel(panicking_teardown()) => |n| n) })
    }));
    let message = result.unwrap_err();
    let message = message
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| message.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("");
    assert!(
        message.contains("the exit of a detached manager panicked"),
        "{message}"
    );
    assert!(wait_for_teardowns(Duration::from_secs(5)));
}

/// Issue 9, hole 4: a timeout hitting while a tuple of detached managers exits used to hand off
/// only the exit in flight; the other manager was dropped while entered, with no teardown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_expiring_during_the_exits_of_a_tuple_of_detached_managers() {
    for size in [2, 3] {
        let records: Vec<_> = (0..size)
            .map(|_| record_path("tuple-during-exit"))
            .collect();
        let cut = tokio::time::timeout(Duration::from_millis(10), async {
            let manager = |index: usize| detach_on_cancel(slow_commit(records[index].clone()));
            if size == 2 {
                async_with!((manager(0), manager(1)) => |_| 1)
            } else {
                async_with!((manager(0), manager(1), manager(2)) => |_| 1)
            }
        })
        .await;
        assert!(cut.is_err(), "the timeout hit while the exits were running");
        assert!(
            wait_for_teardowns(Duration::from_secs(10)),
            "teardowns did not finish"
        );
        let seen: Vec<_> = records
            .iter()
            .map(|record| std::fs::read_to_string(record).unwrap_or_else(|_| "no teardown".into()))
            .collect();
        // Every manager's exit runs with the block's outcome, as a single manager's does when
        // a timeout hits its exit: all commit.
        assert_eq!(seen, vec!["committed"; size], "a tuple of {size}");
    }
}

/// Fails to enter after a real wait.
#[async_context_manager]
async fn refused(_record: PathBuf) -> std::io::Result<()> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    Err(std::io::Error::other("refused"))?;
    r#yield!(());
    Ok(())
}

fn not_reached() -> u8 {
    unreachable!("the enter failed")
}

/// Issue 9, hole 3 on a real timer: the second manager fails to enter, so the tuple's enter runs
/// the first one's exit; a timeout hits while that exit waits on its timer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_expiring_during_the_unwinding_of_a_failed_tuple_enter() {
    let record = record_path("tuple-unwinding");
    let cut = tokio::time::timeout(Duration::from_millis(15), async {
        async_with!((
            detach_on_cancel(slow_commit(record.clone())),
            detach_on_cancel(refused(record.clone()))
        ) => |_| not_reached())
    })
    .await;
    assert!(
        cut.is_err(),
        "the timeout hit while the first manager exited"
    );
    assert_torn_down(&record, "rolled back");
}

/// The same without `detach_on_cancel`: a teardown waiting on a timer cannot finish in place,
/// so it is reported under its own manager's name — never dropped silently.
#[test]
fn an_unwinding_exit_that_cannot_finish_in_place_is_reported_by_name() {
    static REPORTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    fn collect(report: &contextlib::TeardownReport) {
        REPORTS.lock().unwrap().push(report.to_string());
    }
    let previous = contextlib::set_teardown_hook(collect);
    let record = record_path("tuple-unwinding-in-place");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cut = runtime.block_on(async {
        tokio::time::timeout(Duration::from_millis(15), async {
            async_with!((slow_commit(record.clone()), refused(record.clone())) => |_| not_reached())
        })
        .await
    });
    contextlib::set_teardown_hook(previous);
    assert!(cut.is_err());
    let reports = REPORTS.lock().unwrap();
    assert!(
        reports
            .iter()
            .any(|report| report.contains("slow_commit`") && report.contains("was still waiting")),
        "{reports:?}"
    );
}
