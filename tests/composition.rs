//! Managers built from managers: `r#yield!` inside `async_with!` in a manager's body (Python's
//! `async with` inside an `@asynccontextmanager`).
mod common;

use common::{
    Failure, Fault, Log, Outcome, block_on_catching, count_starting, describe, faulty, owned,
    spawned,
};
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

/// How the block on the transaction's rows ends, after it logs `block`.
#[derive(Clone, Copy)]
enum Block {
    /// Pushes 1, returns how many rows.
    PushesOne,
    /// Returns how many rows.
    Counts,
    /// Fails with `constraint`.
    Fails,
    /// Panics with `block exploded`.
    Panics,
}

/// A row: its name, how the transaction's setup goes, whether the inner connection fails to
/// enter, how the block ends, what `async_with!` returns (or the message it panics with), the
/// log.
type Row = (
    &'static str,
    Setup,
    bool,
    Block,
    Outcome<usize>,
    &'static [&'static str],
);

#[rustfmt::skip]
const CASES: &[Row] = &[
    ("the inner manager sees the outer block's success", Setup::Fine, false, Block::PushesOne, Ok(Ok(2)),
        &["connect", "begin on 7", "block", "commit with [7, 1]", "release: ok"]),
    ("the inner manager sees the outer block's error", Setup::Fine, false, Block::Fails, Ok(Err(Failure("constraint"))),
        &["connect", "begin on 7", "block", "rollback with [7]", "release: err failure: constraint"]),
    ("the inner manager sees the outer block's panic", Setup::Fine, false, Block::Panics, Err("block exploded"),
        &["connect", "begin on 7", "block", "rollback with [7]", "release: panic block exploded"]),
    ("a failure after the yield is what the inner manager sees", Setup::FailsAfterYield, false, Block::Counts, Ok(Err(Failure("commit failed"))),
        &["connect", "begin on 7", "block", "commit with [7]", "release: err failure: commit failed"]),
    ("a failure before the yield exits the inner manager and fails the enter", Setup::FailsBeforeYield, false, Block::Counts, Ok(Err(Failure("begin failed"))),
        &["connect", "begin on 7", "release: err failure: begin failed"]),
    ("a failed inner enter fails the outer enter", Setup::Fine, true, Block::Counts, Ok(Err(Failure("no connection"))),
        &[]),
];

#[test]
fn the_inner_manager_sees_what_the_outer_block_and_setup_did() {
    for (name, setup, connection_fails, block, outcome, expected_log) in CASES {
        let log = Log::default();
        let got = block_on_catching(async {
            async_with!(transaction(log.clone(), *setup, *connection_fails) => |rows| {
                log.push("block");
                match block {
                    Block::PushesOne => rows.push(1),
                    Block::Counts => {}
                    Block::Fails => return Err(Failure("constraint")),
                    Block::Panics => panic!("block exploded"),
                }
                Ok(rows.len())
            })
        });
        assert_eq!(got, owned(outcome), "{name}");
        assert_eq!(log.take(), *expected_log, "{name}");
    }
}

/// Two levels and a tuple: a session on a (lock, connection) pair inside a scope.
#[async_context_manager]
async fn session(log: Log) -> Result<String, Failure> {
    async_with!(faulty(log.clone(), "outer", Fault::None) => |outer| {
        async_with!((faulty(log.clone(), "lock", Fault::None), faulty(log.clone(), "conn", Fault::None)) => |(lock, conn)| {
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
#[cfg_attr(miri, ignore = "multi-thread tokio; Miri runs the same logic above")]
async fn a_composed_manager_is_send_when_its_parts_are() {
    let (result, seen) = spawned(|log| async move {
        async_with!(transaction(log.clone(), Setup::Fine, false) => |rows| {
            tokio::task::yield_now().await;
            Ok::<_, Failure>(rows.len())
        })
    })
    .await;
    assert_eq!(result, Ok(1));
    assert_eq!(seen.last().map(String::as_str), Some("release: ok"));
}

/// The composed managers dropped at every poll.
#[derive(Clone, Copy)]
enum Composed {
    /// `transaction` on its inner `connection`.
    Transaction,
    /// `session`: a scope, and a (lock, connection) tuple inside it.
    Session,
}

/// A row: its name, the composed manager, the events its inner managers log when entered and
/// the prefix of those they log when exited, what a completed run returns (the length of the
/// target), and the name of the teardown that ends last.
type DropRow = (
    &'static str,
    Composed,
    &'static [(&'static str, &'static str)],
    usize,
    &'static str,
);

#[rustfmt::skip]
const DROPPED: &[DropRow] = &[
    ("a composed manager is torn down wherever it is dropped", Composed::Transaction, &[("connect", "release")], 1, "release"),
    ("nested and tuple managers around the yield are torn down wherever dropped", Composed::Session,
        &[("enter outer", "exit outer:"), ("enter lock", "exit lock:"), ("enter conn", "exit conn:")], "outer/lock/conn".len(), "exit outer"),
];

async fn pause_then_count(len: usize) -> Result<usize, Failure> {
    yield_now().await;
    Ok(len)
}

#[test]
fn composed_managers_are_torn_down_wherever_they_are_dropped() {
    for (name, composed, pairs, len, last) in DROPPED {
        let probe = Probe::default();
        let log = Log::default();
        cancel_at_every_poll(
            || async {
                match composed {
                    Composed::Transaction => {
                        async_with!(probe.observe(transaction(log.clone(), Setup::Fine, false)) => |rows| pause_then_count(rows.len()).await)
                    }
                    Composed::Session => {
                        async_with!(probe.observe(session(log.clone())) => |path| pause_then_count(path.len()).await)
                    }
                }
            },
            |run| {
                let teardowns = probe.assert_torn_down_once(&run);
                let seen = log.take();
                // The inner managers are exited exactly as often as they were entered.
                for (entered, exited) in *pairs {
                    let count = count_starting(&seen, entered);
                    assert_eq!(
                        count,
                        count_starting(&seen, exited),
                        "{name}: {entered}: {seen:?}"
                    );
                }
                let ended_last = seen.last().map(String::as_str);
                match run {
                    Run::Completed { output, .. } => {
                        assert_eq!(output, Ok(*len), "{name}");
                        assert_eq!(teardowns, [Observed::Ok], "{name}");
                        assert_eq!(ended_last, Some(&*format!("{last}: ok")), "{name}");
                    }
                    Run::Dropped { .. } if teardowns == [Observed::Cancelled] => {
                        assert_eq!(ended_last, Some(&*format!("{last}: cancelled")), "{name}");
                    }
                    Run::Dropped { .. } => {}
                }
            },
        );
    }
}
