//! `ExitStack::push_async_exit`: Python's `AsyncExitStack.push_async_exit`, a callback that
//! sees how the block ended, as an exit does. CPython's `test_async_push` and
//! `test_exit_exception_chaining` (Lib/test/test_contextlib_async.py and the `TestBaseExitStack`
//! mixin it shares with test_contextlib.py), then what Rust adds: panics, cancellation at every
//! poll, a spawned task.
mod common;

use common::{
    Failure, Fault, Log, assert_every_enter_exited, block_on_catching, count_starting, describe,
    faulty, spawned,
};
use contextlib::testing::{Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{Exit, ExitStack, OnExit, async_with};
use futures_executor::block_on;

/// Python's `1/0` in the block.
const ZERO_DIVISION: Failure = Failure("ZeroDivisionError");

/// A callback that logs what it saw under `name`, suspends once (holding the `Exit`) and then
/// ends as `outcome` says.
fn logging<'a>(
    log: &'a Log,
    name: &'static str,
    outcome: Result<(), Failure>,
) -> impl for<'x> FnOnce(Exit<'x>) -> OnExit<'x, 'a, Failure> + Send + 'a {
    move |exit| {
        OnExit::new(async move {
            yield_now().await;
            log.push(format!("{name} saw {}", describe(&exit)));
            outcome
        })
    }
}

/// CPython `test_async_push`: each callback sees the block's exception (`_expect_exc`), or none
/// when the block succeeds (`_expect_ok`). Python's `ExitCM`, an `__aexit__` pushed without its
/// `__aenter__`, has no Rust meaning (a manager is entered with `enter`); a callback stands in.
/// `_suppress_exc` (returning `True`) is deliberately different: no exit can swallow the
/// block's error, so the callbacks pushed before it still see it.
#[test]
fn test_async_push() {
    let log = Log::default();
    let result: Result<(), Failure> = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.push_async_exit(logging(&log, "expect_ok", Ok(())));
            stack.push_async_exit(logging(&log, "suppress_exc", Ok(())));
            stack.push_async_exit(logging(&log, "expect_exc (cm)", Ok(())));
            stack.push_async_exit(logging(&log, "expect_exc 1", Ok(())));
            stack.push_async_exit(logging(&log, "expect_exc 2", Ok(())));
            assert_eq!(stack.len(), 5);
            Err(ZERO_DIVISION)
        })
    });
    assert_eq!(result, Err(ZERO_DIVISION));
    assert_eq!(
        log.take(),
        [
            "expect_exc 2 saw err failure: ZeroDivisionError",
            "expect_exc 1 saw err failure: ZeroDivisionError",
            "expect_exc (cm) saw err failure: ZeroDivisionError",
            "suppress_exc saw err failure: ZeroDivisionError",
            // Python: `None` here, after the suppression.
            "expect_ok saw err failure: ZeroDivisionError",
        ]
    );

    // And with no exception: every callback sees `ok`.
    let result: Result<u8, Failure> = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.push_async_exit(logging(&log, "expect_ok 1", Ok(())));
            stack.push_async_exit(logging(&log, "expect_ok 2", Ok(())));
            Ok(7)
        })
    });
    assert_eq!(result, Ok(7));
    assert_eq!(log.take(), ["expect_ok 2 saw ok", "expect_ok 1 saw ok"]);
}

/// CPython `test_exit_exception_chaining`: each callback sees the exception of the callback
/// pushed after it (Python's `__context__` chain), and the last one raised wins. Python's
/// `suppress_exc` sees `ValueError` here too; the callbacks before it see `ValueError` where
/// Python's would see nothing (no suppression, as above).
#[test]
fn test_exit_exception_chaining() {
    let log = Log::default();
    let result: Result<(), Failure> = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.push_async_exit(logging(&log, "raise IndexError", Err(Failure("IndexError"))));
            stack.push_async_exit(logging(&log, "raise KeyError", Err(Failure("KeyError"))));
            stack.push_async_exit(logging(&log, "raise AttributeError", Err(Failure("AttributeError"))));
            stack.push_async_exit(logging(&log, "suppress_exc", Ok(())));
            stack.push_async_exit(logging(&log, "raise ValueError", Err(Failure("ValueError"))));
            Err(ZERO_DIVISION)
        })
    });
    // `except IndexError as exc`, and its `__context__` chain read from what each one saw.
    assert_eq!(result, Err(Failure("IndexError")));
    assert_eq!(
        log.take(),
        [
            "raise ValueError saw err failure: ZeroDivisionError",
            "suppress_exc saw err failure: ValueError", // saved_details[1]
            "raise AttributeError saw err failure: ValueError",
            "raise KeyError saw err failure: AttributeError",
            "raise IndexError saw err failure: KeyError",
        ]
    );
}

#[test]
fn callbacks_take_their_place_among_managers_and_cleanups_and_errors_chain_through_both() {
    let log = Log::default();
    let result: Result<(), Failure> = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.enter(faulty(log.clone(), "a", Fault::None)).await?;
            stack.push_async_exit(logging(&log, "callback 1", Ok(())));
            let cleanup_log = &log;
            stack.defer(async move { cleanup_log.push("cleanup") });
            stack.enter(faulty(log.clone(), "failing b", Fault::Exit)).await?;
            stack.push_async_exit(logging(&log, "callback 2", Err(Failure("callback 2"))));
            Ok(())
        })
    });
    assert_eq!(result, Err(Failure("failing b")));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter failing b",
            "callback 2 saw ok",
            "exit failing b: err failure: callback 2",
            "cleanup",
            "callback 1 saw err failure: failing b",
            "exit a: err failure: failing b",
        ]
    );
}

#[test]
fn a_callback_error_converts_into_the_stacks_error() {
    #[derive(Debug, PartialEq)]
    struct Wide(&'static str);
    impl std::fmt::Display for Wide {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl From<Failure> for Wide {
        fn from(failure: Failure) -> Self {
            Wide(failure.0)
        }
    }
    let result: Result<(), Wide> = block_on(async {
        async_with!(ExitStack::<Wide>::new() => |stack| {
            stack.push_async_exit(|_| OnExit::new(async { Err::<(), _>(Failure("narrow")) }));
            Ok(())
        })
    });
    assert_eq!(result, Err(Wide("narrow")));
}

#[test]
fn a_panicking_callback_does_not_stop_the_others_and_resumes_after_them() {
    let log = Log::default();
    // Panicking in the call, before its future exists, and inside its future.
    for in_future in [false, true] {
        let result = block_on_catching(async {
            async_with!(ExitStack::<Failure>::new() => |stack| {
                stack.enter(faulty(log.clone(), "a", Fault::None)).await?;
                stack.push_async_exit(logging(&log, "callback 1", Ok(())));
                stack.push_async_exit(move |_| {
                    if !in_future {
                        panic!("the callback panicked");
                    }
                    OnExit::new(async move {
                        yield_now().await;
                        if in_future {
                            panic!("the callback panicked");
                        }
                    })
                });
                Ok::<_, Failure>(())
            })
        });
        assert_eq!(result.unwrap_err(), "the callback panicked");
        assert_eq!(
            log.take(),
            [
                "enter a",
                "callback 1 saw panic the callback panicked",
                "exit a: panic the callback panicked",
            ]
        );
    }
}

#[test]
fn close_runs_the_callbacks_as_after_a_block_that_succeeded() {
    let log = Log::default();
    let mut stack = ExitStack::<Failure>::new();
    stack.push_async_exit(logging(&log, "callback", Err(Failure("callback"))));
    assert_eq!(block_on(stack.close()), Err(Failure("callback")));
    assert!(stack.is_empty());
    assert_eq!(log.take(), ["callback saw ok"]);
}

#[test]
fn a_stack_dropped_while_it_holds_callbacks_runs_them_as_cancelled() {
    let log = Log::default();
    {
        let stack = ExitStack::<Failure>::new();
        block_on(stack.enter(faulty(log.clone(), "a", Fault::None))).unwrap();
        stack.push_async_exit(logging(&log, "callback", Ok(())));
    }
    assert_eq!(
        log.take(),
        ["enter a", "callback saw cancelled", "exit a: cancelled"]
    );
}

#[test]
fn the_pop_all_stack_carries_the_callbacks() {
    let log = Log::default();
    let mut stack = ExitStack::<Failure>::new();
    stack.push_async_exit(logging(&log, "callback", Ok(())));
    let mut kept = stack.pop_all();
    drop(stack);
    assert!(log.take().is_empty());
    block_on(kept.close()).unwrap();
    assert_eq!(log.take(), ["callback saw ok"]);
}

/// Every callback runs exactly once and to its end, wherever the run is dropped, as every
/// manager beside it is torn down exactly once (`Probe`).
#[test]
fn callbacks_run_once_and_finish_wherever_the_stack_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    let polls = cancel_at_every_poll(
        || async {
            async_with!(ExitStack::<Failure>::new() => |stack| {
                stack.enter(probe.observe(faulty(log.clone(), "a", Fault::None))).await?;
                stack.push_async_exit(logging(&log, "callback 1", Ok(())));
                stack.enter(probe.observe(faulty(log.clone(), "b", Fault::None))).await?;
                stack.push_async_exit(logging(&log, "callback 2", Err(Failure("callback 2"))));
                yield_now().await;
                Ok::<_, Failure>(())
            })
        },
        |run| {
            probe.assert_torn_down_once(&run);
            let seen = log.take();
            let entered = assert_every_enter_exited(&seen);
            // Callback 1 is pushed once `a` has entered, callback 2 once `b` has.
            let callbacks = count_starting(&seen, "callback");
            assert_eq!(callbacks, entered, "{seen:?}");
            match run {
                Run::Completed { output, .. } => {
                    assert_eq!(output, Err(Failure("callback 2")));
                    assert_eq!(
                        seen[2..],
                        [
                            "callback 2 saw ok",
                            "exit b: err failure: callback 2",
                            "callback 1 saw err failure: callback 2",
                            "exit a: err failure: callback 2",
                        ]
                    );
                }
                Run::Dropped { .. } if callbacks == 2 => {
                    // Dropped in the block, or midway through the exit: the callbacks still
                    // run, each seeing what it would have seen, or `cancelled`.
                    let first = seen
                        .iter()
                        .position(|e| e.starts_with("callback 2"))
                        .unwrap();
                    assert!(
                        seen[first] == "callback 2 saw cancelled"
                            || seen[first] == "callback 2 saw ok",
                        "{seen:?}"
                    );
                }
                Run::Dropped { .. } => {}
            }
        },
    );
    assert!(polls > 6, "{polls}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(miri, ignore = "multi-thread tokio; Miri runs the same logic above")]
async fn a_callback_holding_the_exit_across_await_runs_in_a_spawned_task() {
    let (result, seen) = spawned(|log| async move {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.enter(faulty(log.clone(), "a", Fault::None)).await?;
            let callback_log = log.clone();
            stack.push_async_exit(move |exit| OnExit::new(async move {
                tokio::task::yield_now().await;
                callback_log.push(format!("callback saw {exit}"));
                Ok::<_, Failure>(())
            }));
            tokio::task::yield_now().await;
            Err::<(), _>(Failure("block"))
        })
    })
    .await;
    assert_eq!(result, Err(Failure("block")));
    assert_eq!(
        seen,
        [
            "enter a",
            "callback saw error: failure: block",
            "exit a: err failure: block"
        ]
    );
}
