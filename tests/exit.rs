//! How the manager sees the block's outcome, and the lifetime of what `Exit` borrows.
mod common;
#[path = "support/rerun.rs"]
mod rerun;

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::{Failure, Log};
use contextlib::{AsyncContextManager, BlockError, Exit, async_context_manager, async_with};
use futures_executor::block_on;
use rerun::rerun_in_a_child;

#[async_context_manager]
async fn observe(log: Log) -> u8 {
    match r#yield!(1) {
        Exit::Ok => log.push("ok"),
        Exit::Err(error) => log.push(format!(
            "err display=[{error}] debug=[{error:?}] type={} failure={:?}",
            error.type_name(),
            error.downcast_ref::<Failure>()
        )),
        Exit::Panic(panic) => log.push(format!("panic [{}]", panic.message())),
        _ => log.push("cancelled"),
    }
}

/// Runs a block failing with `$error` in `async_with!` on `observe`: what it returned, and the
/// one line `observe` logged. A macro, not a generic fn: `async_with!` chooses how to show the
/// error by its type where it expands, so the block must name that type (a generic `E` there
/// would be shown by type name only).
macro_rules! observe_error {
    ($error:expr) => {{
        let log = Log::default();
        let result = block_on(async { async_with!(observe(log.clone()) => |_| Err::<u8, _>($error)) });
        let [seen]: [String; 1] = log.take().try_into().unwrap();
        (result, seen)
    }};
}

#[test]
fn downcast_recovers_the_block_error() {
    let (result, seen) = observe_error!(Failure("boom"));
    assert_eq!(result, Err(Failure("boom")));
    assert_eq!(
        seen,
        "err display=[failure: boom] debug=[Failure(\"boom\")] type=exit::common::Failure failure=Some(Failure(\"boom\"))"
    );
}

#[test]
fn errors_that_cannot_be_shared_are_formatted() {
    // `Box<dyn Error>` is not `Sync`: the manager sees its text. (The block names its error
    // type: `async_with!` chooses how to show the error before the surrounding code is read.)
    let (result, seen) = observe_error!(Box::<dyn std::error::Error>::from("not shareable"));
    assert_eq!(result.unwrap_err().to_string(), "not shareable");
    let display_and_debug = "err display=[not shareable] debug=[\"not shareable\"]";
    assert!(seen.starts_with(display_and_debug), "{seen:?}");
    assert!(seen.ends_with("failure=None"), "{seen:?}");
}

#[test]
fn errors_without_display_show_through_debug_and_others_by_type_name() {
    #[derive(Debug)]
    struct DebugOnly(#[allow(dead_code)] u8);
    struct Nameless;
    let (_, debug_only) = observe_error!(DebugOnly(4));
    let by_debug = "err display=[DebugOnly(4)] debug=[DebugOnly(4)]";
    assert!(debug_only.starts_with(by_debug), "{debug_only:?}");
    let (_, nameless) = observe_error!(Nameless);
    let by_type_name = "err display=[an error of type `exit::errors_without_display_show_through_debug_and_others_by_type_name::Nameless`]";
    assert!(nameless.starts_with(by_type_name), "{nameless:?}");
}

#[test]
fn panic_message_is_readable() {
    let log = Log::default();
    let panicked = common::block_on_catching(async {
        async_with!(observe(log.clone()) => |n| {
            if n == 1 {
                panic!("the block failed with {}", n);
            }
            n
        })
    });
    assert_eq!(panicked.unwrap_err(), "the block failed with 1");
    assert_eq!(log.take(), ["panic [the block failed with 1]"]);
}

#[test]
fn block_error_view_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let error = Failure("x");
    let exit = Exit::Err(BlockError::new(&error));
    assert_send_sync(&exit);
    assert!(exit.error().unwrap().is::<Failure>());
}

/// A teardown that suspends (at a pending future) after reading the `Exit`, and reads it again
/// when resumed: if it ever outlived the block error, Miri would report a use after free.
#[async_context_manager]
async fn slow_teardown(log: Log) -> u8 {
    let exit = r#yield!(1);
    std::future::pending::<()>().await;
    log.push(format!("never: {exit:?}"));
}

struct ReadsExitOnDrop<'a, 'l>(Exit<'a>, &'l Log);
impl Drop for ReadsExitOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.1.push(format!(
            "dropped with {}",
            self.0.error().map(|e| e.to_string()).unwrap_or_default()
        ));
    }
}

#[async_context_manager]
async fn holds_exit_in_a_local(log: &Log) -> u8 {
    let exit = r#yield!(1);
    let _guard = ReadsExitOnDrop(exit, log);
    std::future::pending::<()>().await;
}

#[test]
fn dropped_exit_ends_the_teardown() {
    let log = Log::default();
    let mut manager = Box::pin(holds_exit_in_a_local(&log));
    let mut cx = Context::from_waker(Waker::noop());
    let entered = pin!(manager.as_mut().enter()).poll(&mut cx);
    assert!(matches!(entered, Poll::Ready(Ok(1))));
    {
        let error = Failure("gone soon");
        let mut exit = Box::pin(manager.as_mut().exit(Exit::Err(BlockError::new(&error))));
        assert!(exit.as_mut().poll(&mut cx).is_pending());
        drop(exit); // the teardown's locals drop here, while `error` is alive
        assert_eq!(log.take(), ["dropped with failure: gone soon"]);
    }
    drop(manager);
    assert!(log.take().is_empty());
}

/// Leaks an exit future mid-teardown, then drops its manager: the process must abort (the
/// teardown can be neither finished nor dropped soundly, see `Generated`'s `Drop`).
fn leak_the_exit_then_drop_the_manager() {
    let log = Log::default();
    let mut manager = Box::pin(holds_exit_in_a_local(&log));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pin!(manager.as_mut().enter()).poll(&mut cx).is_ready());
    {
        let error = Failure("freed");
        let mut exit =
            std::mem::ManuallyDrop::new(manager.as_mut().exit(Exit::Err(BlockError::new(&error))));
        assert!(std::pin::Pin::new(&mut *exit).poll(&mut cx).is_pending());
    } // `error` is gone; the suspended teardown still holds an `Exit` borrowing it
    drop(manager);
    unreachable!("dropping the manager must abort");
}

#[test]
#[cfg_attr(miri, ignore = "spawns a child process, which Miri cannot")]
fn dropping_a_manager_whose_exit_future_leaked_aborts() {
    let test = "dropping_a_manager_whose_exit_future_leaked_aborts";
    let Some(child) = rerun_in_a_child(test, "CONTEXTLIB_TEST_LEAKED_EXIT_CHILD") else {
        leak_the_exit_then_drop_the_manager();
        return;
    };
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(!child.status.success(), "the child did not abort: {stderr}");
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&child.status),
        Some(6), // SIGABRT
        "{stderr}"
    );
    assert!(
        stderr.contains("holds_exit_in_a_local` was dropped while its teardown was suspended")
            && stderr.contains("aborting"),
        "{stderr}"
    );
}

#[test]
fn slow_teardown_is_dropped_in_place_when_the_exit_is_dropped() {
    let log = Log::default();
    let mut manager = pin!(slow_teardown(log.clone()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(pin!(manager.as_mut().enter()).poll(&mut cx).is_ready());
    let error = Failure("x");
    let mut exit = Box::pin(manager.as_mut().exit(Exit::Err(BlockError::new(&error))));
    assert!(exit.as_mut().poll(&mut cx).is_pending());
    drop(exit);
    // A second exit is refused rather than resuming a teardown that was given another Exit.
    let again = common::block_on_catching(manager.as_mut().exit(Exit::Ok));
    assert!(
        again
            .unwrap_err()
            .contains("cannot be exited now: it has already exited")
    );
    assert!(log.take().is_empty());
}

/// Logs the block's outcome with `Exit`'s `Display`, as a teardown that logs `{exit}` does.
#[async_context_manager]
async fn logs_exit(log: Log) -> u8 {
    let exit = r#yield!(1);
    log.push(format!("{exit}"));
}

/// Issue 22, item 5: `Exit` displays as `ok`, `error: ..`, `panic: ..` or `cancelled`.
#[test]
fn exit_displays_how_the_block_ended() {
    let log = Log::default();
    let ok = block_on(async { async_with!(logs_exit(log.clone()) => |n| n + 1) });
    assert_eq!(ok, Ok(2));
    let err: Result<u8, Failure> =
        block_on(async { async_with!(logs_exit(log.clone()) => |_| Err(Failure("boom"))) });
    assert_eq!(err, Err(Failure("boom")));
    let boxed: Result<u8, Box<dyn std::error::Error>> = block_on(async {
        async_with!(logs_exit(log.clone()) => |_| Err::<u8, Box<dyn std::error::Error>>("not sync".into()))
    });
    assert!(boxed.is_err());
    let panicked = common::block_on_catching(async {
        let never: Result<u8, std::convert::Infallible> =
            async_with!(logs_exit(log.clone()) => |_| panic!("index {} out of bounds", 3));
        never
    });
    assert_eq!(panicked.unwrap_err(), "index 3 out of bounds");
    {
        let mut cancelled = Box::pin(async {
            async_with!(logs_exit(log.clone()) => |_| {
                std::future::pending::<()>().await;
            })
        });
        let mut cx = Context::from_waker(Waker::noop());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(
        log.take(),
        [
            "ok",
            "error: failure: boom",
            "error: not sync",
            "panic: index 3 out of bounds",
            "cancelled",
        ]
    );
}
