//! Managers built from managers: `r#yield!` inside `async_with!` in a manager's body (Python's
//! `async with` inside an `@asynccontextmanager`).
mod common;

use common::{Failure, Log, block_on_catching, describe};
use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{async_context_manager, async_with};
use futures_executor::block_on;

/// An inner manager: acquires a connection (a number), releases it.
#[async_context_manager]
async fn connection(log: Log, fails: bool) -> Result<u32, Failure> {
    yield_now().await;
    if fails {
        return Err(Failure("no connection"));
    }
    log.push("connect");
    let exit = r#yield!(7);
    yield_now().await;
    log.push(format!("release: {}", describe(&exit)));
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Fine,
    FailsBeforeYield,
    FailsAfterYield,
}

/// The composed manager: a "transaction" on a connection; lends a borrow of its block's local.
#[async_context_manager]
async fn transaction(
    log: Log,
    setup: Setup,
    connection_fails: bool,
) -> Result<&mut Vec<u32>, Failure> {
    async_with!(connection(log.clone(), connection_fails) => |conn| {
        log.push(format!("begin on {conn}"));
        if setup == Setup::FailsBeforeYield {
            return Err(Failure("begin failed"));
        }
        let mut rows = vec![conn];
        let exit = r#yield!(&mut rows);
        log.push(format!("{} with {rows:?}", if exit.is_ok() { "commit" } else { "rollback" }));
        if setup == Setup::FailsAfterYield {
            return Err(Failure("commit failed"));
        }
        Ok(())
    })
}

#[test]
fn the_inner_manager_sees_the_outer_blocks_success() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(transaction(log.clone(), Setup::Fine, false) => |rows| {
            rows.push(1);
            log.push("block");
            Ok::<_, Failure>(rows.len())
        })
    });
    assert_eq!(result, Ok(2));
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "block",
            "commit with [7, 1]",
            "release: ok"
        ]
    );
}

#[test]
fn the_inner_manager_sees_the_outer_blocks_error() {
    let log = Log::default();
    let result: Result<(), Failure> = block_on(async {
        async_with!(transaction(log.clone(), Setup::Fine, false) => |_rows| {
            Err(Failure("constraint"))
        })
    });
    assert_eq!(result, Err(Failure("constraint")));
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "rollback with [7]",
            "release: err failure: constraint"
        ]
    );
}

fn explode() -> Result<(), Failure> {
    panic!("block exploded")
}

#[test]
fn the_inner_manager_sees_the_outer_blocks_panic() {
    let log = Log::default();
    let result = block_on_catching(async {
        async_with!(transaction(log.clone(), Setup::Fine, false) => |_rows| explode())
    });
    assert_eq!(result.unwrap_err(), "block exploded");
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "rollback with [7]",
            "release: panic block exploded"
        ]
    );
}

#[test]
fn a_failure_after_the_yield_is_what_the_inner_manager_sees() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(transaction(log.clone(), Setup::FailsAfterYield, false) => |_rows| 1)
    });
    assert_eq!(result, Err(Failure("commit failed")));
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "commit with [7]",
            "release: err failure: commit failed"
        ]
    );
}

#[test]
fn a_failure_before_the_yield_exits_the_inner_manager_and_fails_the_enter() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(transaction(log.clone(), Setup::FailsBeforeYield, false) => |_rows| {
            log.push("block");
        })
    });
    assert_eq!(result, Err(Failure("begin failed")));
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "release: err failure: begin failed"
        ]
    );
}

#[test]
fn a_failed_inner_enter_fails_the_outer_enter() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(transaction(log.clone(), Setup::Fine, true) => |_rows| log.push("block"))
    });
    assert_eq!(result, Err(Failure("no connection")));
    assert!(log.take().is_empty());
}

/// Two levels and a tuple: a session on a (lock, connection) pair inside a scope.
#[async_context_manager]
async fn scope(log: Log, name: &'static str) -> Result<&'static str, Failure> {
    yield_now().await;
    log.push(format!("enter {name}"));
    let exit = r#yield!(name);
    yield_now().await;
    log.push(format!("exit {name}: {}", describe(&exit)));
    Ok(())
}

#[async_context_manager]
async fn session(log: Log) -> Result<String, Failure> {
    async_with!(scope(log.clone(), "outer") => |outer| {
        async_with!((scope(log.clone(), "lock"), scope(log.clone(), "conn")) => |(lock, conn)| {
            let exit = r#yield!(format!("{outer}/{lock}/{conn}"));
            log.push(format!("session saw {}", describe(&exit)));
            Ok::<_, Failure>(())
        })
    })
}

#[test]
fn nested_and_tuple_managers_around_the_yield_exit_innermost_first() {
    let log = Log::default();
    let result: Result<usize, Failure> = block_on(async {
        async_with!(session(log.clone()) => |path| {
            log.push(format!("block on {path}"));
            Err(Failure("late"))
        })
    });
    assert_eq!(result, Err(Failure("late")));
    assert_eq!(
        log.take(),
        [
            "enter outer",
            "enter lock",
            "enter conn",
            "block on outer/lock/conn",
            "session saw err failure: late",
            "exit conn: err failure: late",
            "exit lock: err failure: late",
            "exit outer: err failure: late",
        ]
    );
}

#[test]
fn a_composed_manager_is_torn_down_wherever_it_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    cancel_at_every_poll(
        || async {
            async_with!(probe.observe(transaction(log.clone(), Setup::Fine, false)) => |rows| {
                yield_now().await;
                Ok::<_, Failure>(rows.len())
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let seen = log.take();
            // The inner connection is released exactly as often as it was connected.
            let connects = seen.iter().filter(|e| *e == "connect").count();
            let releases = seen.iter().filter(|e| e.starts_with("release")).count();
            assert_eq!(connects, releases, "{seen:?}");
            match run {
                Run::Completed { output, .. } => {
                    assert_eq!(output, Ok(1));
                    assert_eq!(teardowns, [Observed::Ok]);
                    assert_eq!(seen.last().map(String::as_str), Some("release: ok"));
                }
                Run::Dropped { .. } if teardowns == [Observed::Cancelled] => {
                    assert_eq!(seen.last().map(String::as_str), Some("release: cancelled"));
                }
                Run::Dropped { .. } => {}
            }
        },
    );
}

#[test]
fn a_generated_manager_dropped_while_entered_runs_its_teardown_with_cancelled() {
    use contextlib::AsyncContextManager;
    use std::pin::pin;
    let log = Log::default();
    {
        let mut manager = pin!(transaction(log.clone(), Setup::Fine, false));
        let rows = block_on(manager.as_mut().enter()).unwrap();
        rows.push(3);
        // dropped here, entered, its exit never called (a hand-written caller's mistake)
    }
    assert_eq!(
        log.take(),
        [
            "connect",
            "begin on 7",
            "rollback with [7, 3]",
            "release: cancelled"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    miri,
    ignore = "a multi-thread tokio runtime; the same logic runs above under Miri"
)]
async fn a_composed_manager_is_send_when_its_parts_are() {
    let log = Log::default();
    let task = tokio::spawn({
        let log = log.clone();
        async move {
            async_with!(transaction(log.clone(), Setup::Fine, false) => |rows| {
                tokio::task::yield_now().await;
                Ok::<_, Failure>(rows.len())
            })
        }
    });
    assert_eq!(task.await.unwrap(), Ok(1));
    assert_eq!(log.take().last().map(String::as_str), Some("release: ok"));
}

#[test]
fn nested_and_tuple_managers_around_the_yield_are_torn_down_wherever_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    cancel_at_every_poll(
        || async {
            async_with!(probe.observe(session(log.clone())) => |path| {
                yield_now().await;
                Ok::<_, Failure>(path.len())
            })
        },
        |run| {
            probe.assert_torn_down_once(&run);
            let seen = log.take();
            for name in ["outer", "lock", "conn"] {
                let entered = seen
                    .iter()
                    .filter(|e| **e == format!("enter {name}"))
                    .count();
                let exited = seen
                    .iter()
                    .filter(|e| e.starts_with(&format!("exit {name}:")))
                    .count();
                assert_eq!(entered, exited, "{name}: {seen:?}");
            }
        },
    );
}
