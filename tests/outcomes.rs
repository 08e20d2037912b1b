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

/// One pairing: how the manager and the block end, what `async_with!` returns (`Err` of a
/// panic's message when it resumes a panic) and what was logged.
struct Case {
    name: &'static str,
    plan: Plan,
    block: Block,
    result: Result<Result<u32, Failure>, &'static str>,
    log: &'static [&'static str],
}

const OK: &[&str] = &["enter", "block", "exit: ok"];
const SAW_THE_ERROR: &[&str] = &["enter", "block", "exit: error failure: block"];
const SAW_THE_PANIC: &[&str] = &["enter", "block", "exit: panic block panicked"];
const NOT_ENTERED: &[&str] = &["enter"];

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "block ok, exit ok", plan: Plan::Succeed, block: Block::Value, result: Ok(Ok(8)), log: OK },
    Case { name: "block error, exit ok: the block error", plan: Plan::Succeed, block: Block::Fails, result: Ok(Err(Failure("block"))), log: SAW_THE_ERROR },
    Case { name: "block ok, exit error: the exit error", plan: Plan::FailExit, block: Block::Value, result: Ok(Err(Failure("exit"))), log: OK },
    Case { name: "block error, exit error: the exit error wins, after seeing the block error", plan: Plan::FailExit, block: Block::Fails, result: Ok(Err(Failure("exit"))), log: SAW_THE_ERROR },
    Case { name: "block panic: the exit runs, then the panic resumes", plan: Plan::Succeed, block: Block::Panics, result: Err("block panicked"), log: SAW_THE_PANIC },
    Case { name: "block panic, exit error: the panic resumes", plan: Plan::FailExit, block: Block::Panics, result: Err("block panicked"), log: SAW_THE_PANIC },
    Case { name: "block ok, exit panic: the exit panic propagates", plan: Plan::PanicExit, block: Block::Value, result: Err("exit panicked"), log: OK },
    Case { name: "block error, exit panic: the exit panic propagates", plan: Plan::PanicExit, block: Block::Fails, result: Err("exit panicked"), log: SAW_THE_ERROR },
    Case { name: "block panic, exit panic: the exit panic propagates", plan: Plan::PanicExit, block: Block::Panics, result: Err("exit panicked"), log: SAW_THE_PANIC },
    // A failed enter skips the block and the exit, whatever the block would have done.
    Case { name: "failed enter, block ok", plan: Plan::FailEnter, block: Block::Value, result: Ok(Err(Failure("enter"))), log: NOT_ENTERED },
    Case { name: "failed enter, block error", plan: Plan::FailEnter, block: Block::Fails, result: Ok(Err(Failure("enter"))), log: NOT_ENTERED },
    Case { name: "failed enter, block panic", plan: Plan::FailEnter, block: Block::Panics, result: Ok(Err(Failure("enter"))), log: NOT_ENTERED },
    Case { name: "enter panic: propagates without block or exit", plan: Plan::PanicEnter, block: Block::Value, result: Err("enter panicked"), log: NOT_ENTERED },
];

#[test]
fn every_pairing_of_enter_block_and_exit_returns_and_logs_what_the_table_says() {
    for case in CASES {
        let (result, log) = run(case.plan, case.block);
        let expected = case.result.clone().map_err(String::from);
        assert_eq!(result, expected, "{}: the result", case.name);
        assert_eq!(log, case.log, "{}: the log", case.name);
    }
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
