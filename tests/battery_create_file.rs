//! `contextlib::tokio::create_file` against the real file system: what the block wrote is on
//! disk after every exit — success, error, panic, and cancellation at every poll.
#[path = "support/runtime.rs"]
mod runtime;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll};
use contextlib::tokio::{create_file, wait_for_teardowns};
use contextlib::{ExitStack, async_with};
use runtime::multi_thread_runtime;
use tokio::io::AsyncWriteExt;

fn path(test: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("contextlib-battery-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{test}-{}", NEXT.fetch_add(1, Ordering::SeqCst)))
}

#[tokio::test]
async fn flushed_on_success() {
    let path = path("ok");
    async_with!(create_file(&path) => |file| {
        file.write_all(b"hello ").await?;
        file.write_all(b"world").await // buffered: only the exit's flush writes it
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello world");
}

#[tokio::test]
async fn flushed_when_the_block_fails() {
    let path = path("err");
    let result: std::io::Result<()> = async_with!(create_file(&path) => |file| {
        file.write_all(b"written before the error").await?;
        Err(std::io::Error::other("the block failed"))
    });
    assert_eq!(result.unwrap_err().to_string(), "the block failed");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "written before the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushed_when_the_block_panics_in_a_spawned_task() {
    let path = path("panic");
    let task = tokio::spawn({
        let path = path.clone();
        async move {
            let _: std::io::Result<()> = async_with!(create_file(&path) => |file| {
                file.write_all(b"written before the panic").await.unwrap();
                panic!("the block panicked");
            });
        }
    });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "written before the panic"
    );
}

#[tokio::test]
async fn the_file_is_truncated_and_an_open_error_is_the_enter_error() {
    let path = path("truncate");
    std::fs::write(&path, "old content, longer").unwrap();
    async_with!(create_file(&path) => |file| file.write_all(b"new").await).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");

    let missing = path.join("no-such-dir/file");
    let result: std::io::Result<()> =
        async_with!(create_file(&missing) => |_file| unreachable!("not entered"));
    assert!(result.is_err());
}

#[tokio::test]
async fn on_an_exit_stack() {
    let path = path("stack");
    async_with!(ExitStack::<std::io::Error>::new() => |stack| {
        let file = stack.enter(create_file(&path)).await?;
        file.write_all(b"stacked").await
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "stacked");
}

#[test]
fn what_was_written_is_on_disk_wherever_the_future_is_dropped() {
    let runtime = multi_thread_runtime();
    let _context = runtime.enter();
    let probe = Probe::default();
    let written = AtomicUsize::new(0);
    let current = std::sync::Mutex::new(path("cancel"));
    let polls = cancel_at_every_poll(
        || {
            let path = path("cancel");
            *current.lock().unwrap() = path.clone();
            written.store(0, Ordering::SeqCst);
            let (probe, written) = (&probe, &written);
            async move {
                async_with!(probe.observe(create_file(&path)) => |file| {
                    for line in 0..3 {
                        file.write_all(format!("line {line}\n").as_bytes()).await?;
                        written.fetch_add(1, Ordering::SeqCst);
                        file.flush().await?; // suspends on the blocking pool
                    }
                    file.write_all(b"last, buffered\n").await?;
                    written.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    Ok::<_, std::io::Error>(())
                })
            }
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            assert!(wait_for_teardowns(Duration::from_secs(10)));
            let expected: String = ["line 0\n", "line 1\n", "line 2\n", "last, buffered\n"]
                [..written.load(Ordering::SeqCst)]
                .concat();
            if !teardowns.is_empty() {
                let current = current.lock().unwrap();
                assert_eq!(
                    std::fs::read_to_string(&*current).unwrap(),
                    expected,
                    "{run:?}"
                );
            }
            match run {
                Run::Dropped { polls: 0 } => assert!(teardowns.is_empty()),
                // (Dropped while the file was being created: not entered, nothing written.)
                Run::Dropped { .. } => {
                    assert!(teardowns.len() <= 1);
                    assert!(teardowns.len() == 1 || written.load(Ordering::SeqCst) == 0);
                }
                Run::Completed { output, .. } => {
                    output.unwrap();
                    assert_eq!(teardowns, [Observed::Ok]);
                }
            }
        },
    );
    assert!(polls >= 2, "{polls}"); // (how many depends on how fast the blocking pool is)
}
