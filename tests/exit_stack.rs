//! `ExitStack`: Python's `AsyncExitStack`, with the cases of CPython's `TestAsyncExitStack` /
//! `TestBaseExitStack` that have a Rust meaning.
mod common;

use common::{
    Failure, Fault, Log, NAMES, Row, assert_holds_nothing, assert_torn_down_wherever_dropped,
    block_on_catching, describe, drop_while_pending, faulty, owned, spawned,
};
use contextlib::testing::{Probe, yield_now};
use contextlib::{BoxError, ExitStack, async_context_manager, async_with};
use futures_executor::block_on;

#[test]
fn managers_and_cleanups_exit_last_in_first_out() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let a = stack.enter(faulty(log.clone(), "a", Fault::None)).await?;
            let cleanup_log = log.clone();
            stack.defer(async move { cleanup_log.push("cleanup 1") });
            let b = stack.enter(faulty(log.clone(), "b", Fault::None)).await?;
            let cleanup_log = log.clone();
            stack.defer(async move {
                yield_now().await;
                cleanup_log.push("cleanup 2");
                Ok::<_, Failure>(())
            });
            log.push(format!("block with {a} and {b}")); // both targets alive at once
            Ok::<_, Failure>(stack.len())
        })
    });
    assert_eq!(result, Ok(4));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "block with a and b",
            "cleanup 2",
            "exit b: ok",
            "cleanup 1",
            "exit a: ok"
        ]
    );
}

/// The rows: each manager is entered on the stack in the block, which then fails or returns the
/// stack's length.
#[rustfmt::skip]
const CASES: &[Row<usize>] = &[
    ("each exit sees the error of the exit after it and the last error wins", &[Fault::Exit, Fault::None, Fault::Exit], true, Ok(Err(Failure("a"))),
        &["enter a", "enter b", "enter c", "exit c: err failure: block", "exit b: err failure: c", "exit a: err failure: c"]),
    ("a panicking exit does not stop the others and resumes after them", &[Fault::None, Fault::ExitPanic], false, Err("b's exit panicked"),
        &["enter a", "enter b", "exit b: ok", "exit a: panic b's exit panicked"]),
    ("a failed enter leaves nothing to exit and the others see its error", &[Fault::None, Fault::Enter], false, Ok(Err(Failure("b"))),
        &["enter a", "exit a: err failure: b"]),
    ("an empty stack exits cleanly", &[], false, Ok(Ok(0)), &[]),
];

#[test]
fn exits_run_in_reverse_each_seeing_the_newest_error_and_a_failed_enter_leaves_nothing() {
    for (name, faults, block_fails, outcome, expected_log) in CASES {
        let log = Log::default();
        let got = block_on_catching(async {
            async_with!(ExitStack::<Failure>::new() => |stack| {
                let mut entered = 0;
                for (fault, manager) in faults.iter().zip(NAMES) {
                    let result = stack.enter(faulty(log.clone(), manager, *fault)).await;
                    entered += usize::from(result.is_ok());
                    assert_eq!(stack.len(), entered, "{name}: a failed enter adds nothing");
                    result?;
                }
                if *block_fails { Err(Failure("block")) } else { Ok(stack.len()) }
            })
        });
        assert_eq!(got, owned(outcome), "{name}");
        assert_eq!(log.take(), *expected_log, "{name}");
    }
}

#[test]
fn close_exits_everything_and_the_stack_can_be_used_again() {
    let log = Log::default();
    block_on(async {
        let mut stack = ExitStack::<Failure>::new();
        stack
            .enter(faulty(log.clone(), "a", Fault::None))
            .await
            .unwrap();
        stack
            .enter(faulty(log.clone(), "b", Fault::None))
            .await
            .unwrap();
        stack.close().await.unwrap();
        assert!(stack.is_empty());
        stack
            .enter(faulty(log.clone(), "c", Fault::None))
            .await
            .unwrap();
        stack.close().await.unwrap();
    });
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "exit b: ok",
            "exit a: ok",
            "enter c",
            "exit c: ok"
        ]
    );
}

/// Python's `pop_all`: enter many, hand them over only if all entered.
async fn open_all(
    log: &Log,
    names: &[&'static str],
    fails: &str,
) -> Result<ExitStack<'static, Failure>, Failure> {
    let mut stack = ExitStack::new();
    for name in names {
        let fault = if *name == fails {
            Fault::Enter
        } else {
            Fault::None
        };
        stack.enter(faulty(log.clone(), name, fault)).await?;
    }
    Ok(stack.pop_all())
}

#[test]
fn pop_all_hands_over_only_when_every_enter_succeeded() {
    let log = Log::default();
    block_on(async {
        let mut kept = open_all(&log, &["a", "b"], "").await.unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(log.take(), ["enter a", "enter b"]); // nothing exited yet
        kept.close().await.unwrap();
        assert_eq!(log.take(), ["exit b: ok", "exit a: ok"]);

        let failed = open_all(&log, &["c", "d", "e"], "e").await;
        assert_eq!(failed.unwrap_err(), Failure("e"));
        // The stack that was not handed over cancelled what it held when it was dropped.
        assert_eq!(
            log.take(),
            [
                "enter c",
                "enter d",
                "exit d: cancelled",
                "exit c: cancelled"
            ]
        );
    });
}

#[async_context_manager]
async fn counted(exits: &std::sync::atomic::AtomicUsize) -> u8 {
    r#yield!(1);
    exits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// CPython's `test_excessive_nesting`: exiting does not recurse.
#[test]
fn ten_thousand_managers_and_cleanups_exit_without_recursion() {
    let count = if cfg!(miri) { 200 } else { 10_000 };
    let exits = std::sync::atomic::AtomicUsize::new(0);
    let result = block_on(async {
        async_with!(ExitStack::<std::convert::Infallible>::new() => |stack| {
            for _ in 0..count {
                stack.enter(counted(&exits)).await.unwrap();
                let exits = &exits;
                stack.defer(async move { exits.fetch_add(1, std::sync::atomic::Ordering::Relaxed); });
            }
            stack.len()
        })
    });
    assert_eq!(result, Ok(2 * count));
    assert_eq!(exits.load(std::sync::atomic::Ordering::Relaxed), 2 * count);
}

#[test]
fn a_stack_is_torn_down_wherever_it_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    assert_torn_down_wherever_dropped(&probe, &log, || async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            for name in ["a", "b", "c"] {
                stack.enter(probe.observe(faulty(log.clone(), name, Fault::None))).await?;
            }
            let cleanup_log = log.clone();
            stack.defer(async move {
                yield_now().await;
                cleanup_log.push("cleanup");
            });
            yield_now().await;
            Ok::<_, Failure>(())
        })
    });
}

#[test]
fn a_stack_dropped_while_it_holds_managers_cancels_them() {
    let log = Log::default();
    {
        let stack = ExitStack::<Failure>::new();
        block_on(stack.enter(faulty(log.clone(), "a", Fault::None))).unwrap();
        block_on(stack.enter(faulty(log.clone(), "b", Fault::None))).unwrap();
    }
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "exit b: cancelled",
            "exit a: cancelled"
        ]
    );
}

#[test]
fn a_dropped_enter_leaves_nothing_to_exit() {
    let log = Log::default();
    let stack = ExitStack::<Failure>::new();
    drop_while_pending(stack.enter(faulty(log.clone(), "a", Fault::None))); // in its setup
    assert_holds_nothing(stack, &log);
}

/// "Open every shard, yield them all": a manager yields from inside a stack's block.
#[async_context_manager]
async fn shards(log: Log, names: &'static [&'static str]) -> Result<Vec<&'static str>, BoxError> {
    async_with!(ExitStack::<BoxError>::new() => |stack| {
        let mut open = Vec::new();
        for name in names {
            open.push(stack.enter(faulty(log.clone(), name, Fault::None)).await?);
        }
        let exit = r#yield!(open);
        log.push(format!("shards saw {}", describe(&exit)));
        Ok::<_, BoxError>(())
    })
}

#[test]
fn a_manager_can_yield_from_inside_a_stack() {
    let log = Log::default();
    let result: Result<usize, BoxError> = block_on(async {
        async_with!(shards(log.clone(), &["s1", "s2"]) => |open| {
            log.push(format!("block on {open:?}"));
            Err::<usize, BoxError>("query failed".into())
        })
    });
    assert_eq!(result.unwrap_err().to_string(), "query failed");
    assert_eq!(
        log.take(),
        [
            "enter s1",
            "enter s2",
            "block on [\"s1\", \"s2\"]",
            "shards saw err query failed",
            "exit s2: err query failed",
            "exit s1: err query failed"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(miri, ignore = "multi-thread tokio; Miri runs the same logic above")]
async fn a_stack_of_generated_and_detached_managers_runs_in_a_spawned_task() {
    let (result, seen) = spawned(|log| async move {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let a = stack.enter(faulty(log.clone(), "a", Fault::None)).await?;
            tokio::task::yield_now().await;
            let b = stack
                .enter(contextlib::tokio::detach_on_cancel(faulty(log.clone(), "b", Fault::None)))
                .await?;
            tokio::task::yield_now().await;
            Ok::<_, Failure>(format!("{a}{b}"))
        })
    })
    .await;
    assert_eq!(result, Ok("ab".to_string()));
    assert_eq!(seen, ["enter a", "enter b", "exit b: ok", "exit a: ok"]);
}
