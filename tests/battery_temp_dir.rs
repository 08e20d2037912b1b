//! `contextlib::tokio::temp_dir` against the real file system: the directory exists during the
//! block and is gone after every exit — success, error, panic, and cancellation at every poll.
#[path = "support/runtime.rs"]
mod runtime;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll};
use contextlib::tokio::{temp_dir, wait_for_teardowns};
use contextlib::{ExitStack, async_with};
use runtime::multi_thread_runtime;

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[tokio::test]
async fn the_directory_lives_for_the_block_and_is_removed_on_success() {
    let path = async_with!(temp_dir("contextlib-battery-ok-") => |dir| {
        assert!(dir.is_dir());
        assert!(dir.file_name().unwrap().to_str().unwrap().starts_with("contextlib-battery-ok-"));
        assert!(dir.starts_with(std::env::temp_dir()));
        tokio::fs::create_dir(dir.join("nested")).await?;
        tokio::fs::write(dir.join("nested/file"), "content").await?;
        Ok::<_, std::io::Error>(dir.to_path_buf())
    })
    .unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn two_directories_with_one_prefix_are_distinct() {
    let (a, b) =
        async_with!((temp_dir("contextlib-battery-same-"), temp_dir("contextlib-battery-same-")) => |(a, b)| {
            (a.to_path_buf(), b.to_path_buf())
        })
        .unwrap();
    assert_ne!(a, b);
    assert!(!a.exists() && !b.exists());
}

#[tokio::test]
async fn removed_when_the_block_fails() {
    let mut seen = None;
    let result: std::io::Result<()> = async_with!(temp_dir("contextlib-battery-err-") => |dir| {
        seen = Some(dir.to_path_buf());
        tokio::fs::write(dir.join("partial"), "x").await?;
        Err(std::io::Error::other("the block failed"))
    });
    assert_eq!(result.unwrap_err().to_string(), "the block failed");
    assert!(!seen.unwrap().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_when_the_block_panics_in_a_spawned_task() {
    let (sender, receiver) = std::sync::mpsc::channel::<PathBuf>();
    let task = tokio::spawn(assert_send(async move {
        let _: std::io::Result<()> = async_with!(temp_dir("contextlib-battery-panic-") => |dir| {
            tokio::fs::write(dir.join("file"), "x").await.unwrap();
            sender.send(dir.to_path_buf()).unwrap();
            panic!("the block panicked");
        });
    }));
    assert!(task.await.unwrap_err().is_panic());
    assert!(!receiver.recv().unwrap().exists());
}

#[tokio::test]
async fn on_an_exit_stack() {
    let path = async_with!(ExitStack::<std::io::Error>::new() => |stack| {
        let dir = stack.enter(temp_dir("contextlib-battery-stack-")).await?;
        Ok::<_, std::io::Error>(dir.to_path_buf())
    })
    .unwrap();
    assert!(!path.exists());
}

#[test]
fn removed_wherever_the_future_is_dropped() {
    let runtime = multi_thread_runtime();
    let _context = runtime.enter();
    let probe = Probe::default();
    let seen = Mutex::new(None::<PathBuf>);
    let polls = cancel_at_every_poll(
        || async {
            async_with!(probe.observe(temp_dir("contextlib-battery-cancel-")) => |dir| {
                *seen.lock().unwrap() = Some(dir.to_path_buf());
                tokio::fs::write(dir.join("file"), "x").await?; // suspends on the blocking pool
                tokio::task::yield_now().await;
                Ok::<_, std::io::Error>(())
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            assert!(wait_for_teardowns(Duration::from_secs(10)));
            if let Some(dir) = seen.lock().unwrap().take() {
                assert!(!dir.exists(), "{dir:?} left after {run:?}");
            }
            match run {
                Run::Dropped { polls: 0 } => assert!(teardowns.is_empty()),
                Run::Dropped { .. } => assert_eq!(teardowns.len(), 1),
                Run::Completed { output, .. } => {
                    output.unwrap();
                    assert_eq!(teardowns, [Observed::Ok]);
                }
            }
        },
    );
    assert!(polls >= 3, "{polls}");
}

#[test]
fn removed_in_place_without_a_runtime() {
    let path = futures_executor::block_on(async {
        async_with!(temp_dir("contextlib-battery-no-runtime-") => |dir| {
            std::fs::write(dir.join("file"), "x").unwrap();
            dir.to_path_buf()
        })
    })
    .unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn a_failed_removal_is_the_exit_error() {
    let result = async_with!(temp_dir("contextlib-battery-gone-") => |dir| {
        std::fs::remove_dir(dir).unwrap(); // someone else removed it
    });
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}
