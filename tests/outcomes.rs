//! Every pairing of how the enter, the block and the exit end, and what `async_with!` returns.
mod common;

use common::{Failure, Log, block_on_catching};
use contextlib::{Exit, async_context_manager, async_with};
use futures_executor::block_on;

#[derive(Clone, Copy, Debug)]
enum Plan {
    Succeed,
    FailEnter,
    PanicEnter,
    FailExit,
    PanicExit,
}

/// Records how each block ended, and fails or panics where the plan says.
#[async_context_manager]
async fn planned(log: Log, plan: Plan) -> Result<u32, Failure> {
    log.push("enter");
    match plan {
        Plan::FailEnter => return Err(Failure("enter")),
        Plan::PanicEnter => panic!("enter panicked"),
        _ => {}
    }
    let exit = r#yield!(7);
    log.push(match exit {
        Exit::Ok => "exit: ok".to_string(),
        Exit::Err(error) => format!("exit: error {error}"),
        Exit::Panic(panic) => format!("exit: panic {panic}"),
        _ => "exit: cancelled".to_string(),
    });
    match plan {
        Plan::FailExit => Err(Failure("exit")),
        Plan::PanicExit => panic!("exit panicked"),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, Debug)]
enum Block {
    Value,
    Fails,
    Panics,
}

fn run(plan: Plan, block: Block) -> (Result<Result<u32, Failure>, String>, Vec<String>) {
    let log = Log::default();
    let result = block_on_catching(async {
        async_with!(planned(log.clone(), plan) => |n| {
            log.push("block");
            match block {
                Block::Value => Ok(n + 1),
                Block::Fails => Err(Failure("block")),
                Block::Panics => panic!("block panicked"),
            }
        })
    });
    (result, log.take())
}

#[test]
fn block_ok_exit_ok() {
    assert_eq!(
        run(Plan::Succeed, Block::Value),
        (
            Ok(Ok(8)),
            vec!["enter".into(), "block".into(), "exit: ok".into()]
        )
    );
}

#[test]
fn block_error_exit_ok_returns_the_block_error() {
    let (result, log) = run(Plan::Succeed, Block::Fails);
    assert_eq!(result, Ok(Err(Failure("block"))));
    assert_eq!(log, ["enter", "block", "exit: error failure: block"]);
}

#[test]
fn block_ok_exit_error_returns_the_exit_error() {
    let (result, log) = run(Plan::FailExit, Block::Value);
    assert_eq!(result, Ok(Err(Failure("exit"))));
    assert_eq!(log, ["enter", "block", "exit: ok"]);
}

#[test]
fn block_error_exit_error_the_exit_error_wins_after_seeing_the_block_error() {
    let (result, log) = run(Plan::FailExit, Block::Fails);
    assert_eq!(result, Ok(Err(Failure("exit"))));
    assert_eq!(log, ["enter", "block", "exit: error failure: block"]);
}

#[test]
fn block_panic_runs_the_exit_then_resumes() {
    let (result, log) = run(Plan::Succeed, Block::Panics);
    assert_eq!(result, Err("block panicked".to_string()));
    assert_eq!(log, ["enter", "block", "exit: panic block panicked"]);
}

#[test]
fn block_panic_and_exit_error_the_panic_resumes() {
    let (result, log) = run(Plan::FailExit, Block::Panics);
    assert_eq!(result, Err("block panicked".to_string()));
    assert_eq!(log, ["enter", "block", "exit: panic block panicked"]);
}

#[test]
fn exit_panic_propagates() {
    for block in [Block::Value, Block::Fails] {
        let (result, log) = run(Plan::PanicExit, block);
        assert_eq!(result, Err("exit panicked".to_string()), "{block:?}");
        assert_eq!(log.len(), 3, "{log:?}");
    }
}

#[test]
fn block_panic_and_exit_panic_the_exit_panic_propagates() {
    let (result, log) = run(Plan::PanicExit, Block::Panics);
    assert_eq!(result, Err("exit panicked".to_string()));
    assert_eq!(log, ["enter", "block", "exit: panic block panicked"]);
}

#[test]
fn failed_enter_skips_block_and_exit() {
    for block in [Block::Value, Block::Fails, Block::Panics] {
        let (result, log) = run(Plan::FailEnter, block);
        assert_eq!(result, Ok(Err(Failure("enter"))), "{block:?}");
        assert_eq!(log, ["enter"]);
    }
}

#[test]
fn enter_panic_propagates_without_block_or_exit() {
    let (result, log) = run(Plan::PanicEnter, Block::Value);
    assert_eq!(result, Err("enter panicked".to_string()));
    assert_eq!(log, ["enter"]);
}

#[test]
fn value_block_gives_result_of_value_and_manager_error() {
    block_on(async {
        let log = Log::default();
        let ok: Result<&str, Failure> =
            async_with!(planned(log.clone(), Plan::Succeed) => |_| "done");
        assert_eq!(ok, Ok("done"));
        let failed = async_with!(planned(log.clone(), Plan::FailExit) => |_| "done");
        assert_eq!(failed, Err(Failure("exit")));
        let not_entered = async_with!(planned(log.clone(), Plan::FailEnter) => |_| "done");
        assert_eq!(not_entered, Err(Failure("enter")));
    });
}

/// The block's error type differs from the manager's: manager errors convert with `From`.
#[derive(Debug, PartialEq)]
enum AppError {
    Manager(Failure),
    Parse(std::num::ParseIntError),
}

impl From<Failure> for AppError {
    fn from(error: Failure) -> Self {
        AppError::Manager(error)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[test]
fn manager_errors_convert_into_the_block_error_type() {
    block_on(async {
        let log = Log::default();
        let parsed: Result<u32, AppError> = async_with!(planned(log.clone(), Plan::Succeed) => |n| {
            let m: u32 = "x".parse().map_err(AppError::Parse)?;
            Ok(n + m)
        });
        assert!(matches!(parsed, Err(AppError::Parse(_))));
        let exit_failed: Result<u32, AppError> =
            async_with!(planned(log.clone(), Plan::FailExit) => |n| Ok(n));
        assert_eq!(exit_failed, Err(AppError::Manager(Failure("exit"))));
        let enter_failed: Result<u32, AppError> =
            async_with!(planned(log.clone(), Plan::FailEnter) => |n| Ok(n));
        assert_eq!(enter_failed, Err(AppError::Manager(Failure("enter"))));
        assert!(
            log.take()
                .contains(&"exit: error Parse(ParseIntError { kind: InvalidDigit })".to_string())
        );
    });
}

#[async_context_manager]
async fn infallible(log: Log) -> u32 {
    let exit = r#yield!(1);
    log.push(format!("infallible exit ok={}", exit.is_ok()));
}

#[test]
fn infallible_manager_keeps_the_block_error_type() {
    block_on(async {
        let log = Log::default();
        // `Failure` does not implement `From<Infallible>`: it does not have to.
        let result: Result<u32, Failure> = async_with!(infallible(log.clone()) => |n| {
            if n == 1 { return Err(Failure("block")); }
            Ok(n)
        });
        assert_eq!(result, Err(Failure("block")));
        let Ok(value) = async_with!(infallible(log.clone()) => |n| n * 10);
        assert_eq!(value, 10);
        assert_eq!(
            log.take(),
            ["infallible exit ok=false", "infallible exit ok=true"]
        );
    });
}

#[test]
fn nested_async_with_is_one_level_of_result() {
    block_on(async {
        let log = Log::default();
        let inner_failed: Result<u32, Failure> = async_with!(planned(log.clone(), Plan::Succeed) => |a| {
            async_with!(planned(log.clone(), Plan::Succeed) => |b| {
                if a == b { return Err(Failure("inner")); }
                Ok(a + b)
            })
        });
        assert_eq!(inner_failed, Err(Failure("inner")));
        // The outer manager saw the inner block's error: the inner result is the outer block's.
        assert_eq!(
            log.take(),
            [
                "enter",
                "enter",
                "exit: error failure: inner",
                "exit: error failure: inner"
            ]
        );
        let sum = async_with!(planned(log.clone(), Plan::Succeed) => |a| {
            async_with!(infallible(log.clone()) => |b| Ok::<_, Failure>(a + b))
        });
        assert_eq!(sum, Ok(8));
    });
}

#[test]
fn block_return_and_question_mark_leave_the_block_only() {
    async fn body(log: Log) -> Result<&'static str, Failure> {
        let early: Result<u32, Failure> = async_with!(planned(log.clone(), Plan::Succeed) => |n| {
            if n == 7 {
                return Ok(0);
            }
            Ok(n)
        });
        assert_eq!(early, Ok(0));
        Ok("after")
    }
    let log = Log::default();
    assert_eq!(block_on(body(log.clone())), Ok("after"));
    assert_eq!(log.take(), ["enter", "exit: ok"]);
}
