//! `contextlib::tokio::child` against real processes: `true` is waited for on success; `sleep
//! 30` is killed and reaped when the block fails, panics or is cancelled (at every poll).
#![cfg(unix)]
#[path = "support/runtime.rs"]
mod runtime;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll};
use contextlib::tokio::{child, wait_for_teardowns};
use contextlib::{ExitStack, async_with};
use runtime::multi_thread_runtime;
use tokio::process::Command;

fn sleeper() -> Command {
    let mut command = Command::new("sleep");
    command.arg("30");
    command
}

/// Whether process `pid` exists (a zombie counts: it was not reaped).
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Polls until `pid` is gone (killed and reaped), for up to 10 seconds.
fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while exists(pid) {
        assert!(
            Instant::now() < deadline,
            "process {pid} outlived its block"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test]
async fn waited_for_on_success() {
    let mut pid = 0;
    let result = async_with!(child(Command::new("true")) => |process| {
        pid = process.id().unwrap();
    });
    result.unwrap();
    assert!(!exists(pid), "waited for and reaped by the exit");
}

#[tokio::test]
async fn a_successful_block_waits_for_the_process_to_end() {
    let started = Instant::now();
    let mut command = Command::new("sleep");
    command.arg("0.2");
    async_with!(child(command) => |_process| ()).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn the_block_can_wait_itself_and_see_the_status() {
    let status = async_with!(child(Command::new("false")) => |process| process.wait().await);
    assert!(!status.unwrap().success());
}

#[tokio::test]
async fn killed_when_the_block_fails() {
    let started = Instant::now();
    let mut pid = 0;
    let result: std::io::Result<()> = async_with!(child(sleeper()) => |process| {
        pid = process.id().unwrap();
        Err(std::io::Error::other("the block failed"))
    });
    assert_eq!(result.unwrap_err().to_string(), "the block failed");
    assert!(!exists(pid), "killed and reaped by the exit");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_when_the_block_panics_in_a_spawned_task() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let task = tokio::spawn(async move {
        let _: std::io::Result<()> = async_with!(child(sleeper()) => |process| {
            sender.send(process.id().unwrap()).unwrap();
            panic!("the block panicked");
        });
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(!exists(receiver.recv().unwrap()));
}

#[tokio::test]
async fn a_command_that_cannot_start_is_the_enter_error() {
    let result: std::io::Result<()> =
        async_with!(child(Command::new("/no/such/program")) => |_process| unreachable!());
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn on_an_exit_stack_from_a_std_command() {
    let mut pid = 0;
    let result: std::io::Result<()> = async_with!(ExitStack::<std::io::Error>::new() => |stack| {
        let process = stack.enter(child(std::process::Command::new("true"))).await?;
        pid = process.id().unwrap();
        Ok(())
    });
    result.unwrap();
    assert!(!exists(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_cancelling_the_block_kills_the_process() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let cut = tokio::time::timeout(Duration::from_millis(50), async {
        async_with!(child(sleeper()) => |process| {
            sender.send(process.id().unwrap()).unwrap();
            std::future::pending::<()>().await;
        })
    })
    .await;
    assert!(cut.is_err());
    let pid = receiver.recv().unwrap();
    assert!(wait_for_teardowns(Duration::from_secs(10)));
    assert_gone(pid);
}

#[test]
fn no_process_outlives_the_block_wherever_the_future_is_dropped() {
    let runtime = multi_thread_runtime();
    let _context = runtime.enter();
    let probe = Probe::default();
    let pid = Mutex::new(None);
    for succeed in [true, false] {
        let polls = cancel_at_every_poll(
            || async {
                let command = if succeed {
                    Command::new("true")
                } else {
                    sleeper()
                };
                async_with!(probe.observe(child(command)) => |process| {
                    *pid.lock().unwrap() = process.id();
                    tokio::task::yield_now().await;
                    if succeed { Ok(()) } else { Err(std::io::Error::other("give up")) }
                })
            },
            |run| {
                let teardowns = probe.assert_torn_down_once(&run);
                assert!(wait_for_teardowns(Duration::from_secs(10)));
                if let Some(pid) = pid.lock().unwrap().take() {
                    assert_gone(pid);
                }
                match run {
                    Run::Dropped { polls: 0 } => assert!(teardowns.is_empty()),
                    Run::Dropped { .. } => assert_eq!(teardowns.len(), 1),
                    Run::Completed { output, .. } => {
                        assert_eq!(output.is_ok(), succeed);
                        let expected = if succeed { Observed::Ok } else { Observed::Err };
                        assert_eq!(teardowns, [expected]);
                    }
                }
            },
        );
        assert!(polls >= 2, "{polls}");
    }
}
