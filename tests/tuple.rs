//! A tuple of managers: entered left to right, exited right to left, failures unwound.
mod common;

use common::{Failure, Log, block_on_catching};
use contextlib::{Exit, async_context_manager, async_with};
use futures_executor::block_on;

#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    Enter,
    EnterPanic,
    Exit,
}

#[async_context_manager]
async fn step(log: Log, name: &'static str, fault: Fault) -> Result<&'static str, Failure> {
    log.push(format!("enter {name}"));
    match fault {
        Fault::Enter => return Err(Failure(name)),
        Fault::EnterPanic => panic!("{name} panicked"),
        _ => {}
    }
    let exit = r#yield!(name);
    log.push(match exit {
        Exit::Ok => format!("exit {name}: ok"),
        Exit::Err(error) => format!("exit {name}: {error}"),
        Exit::Panic(panic) => format!("exit {name}: panic {panic}"),
        _ => format!("exit {name}: cancelled"),
    });
    if fault == Fault::Exit {
        Err(Failure(name))
    } else {
        Ok(())
    }
}

#[test]
fn enters_left_to_right_and_exits_right_to_left() {
    let log = Log::default();
    let joined = block_on(async {
        async_with!((step(log.clone(), "a", Fault::None), step(log.clone(), "b", Fault::None), step(log.clone(), "c", Fault::None)) => |(a, b, c)| {
            log.push("block");
            format!("{a}{b}{c}")
        })
    });
    assert_eq!(joined, Ok("abc".to_string()));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "block",
            "exit c: ok",
            "exit b: ok",
            "exit a: ok"
        ]
    );
}

#[test]
fn a_failed_enter_exits_the_managers_already_entered_with_that_error() {
    let log = Log::default();
    let result = block_on(async {
        async_with!((step(log.clone(), "a", Fault::None), step(log.clone(), "b", Fault::None), step(log.clone(), "c", Fault::Enter)) => |_| {
            log.push("block");
        })
    });
    assert_eq!(result, Err(Failure("c")));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit b: failure: c",
            "exit a: failure: c"
        ]
    );
}

#[test]
fn a_panicking_enter_exits_the_managers_already_entered_then_resumes() {
    let log = Log::default();
    let result = block_on_catching(async {
        async_with!((step(log.clone(), "a", Fault::None), step(log.clone(), "b", Fault::EnterPanic)) => |_| ())
    });
    assert_eq!(result.unwrap_err(), "b panicked");
    assert_eq!(
        log.take(),
        ["enter a", "enter b", "exit a: panic b panicked"]
    );
}

#[test]
fn each_exit_sees_the_newest_error_and_the_newest_error_wins() {
    let log = Log::default();
    let result: Result<(), Failure> = block_on(async {
        async_with!((step(log.clone(), "a", Fault::Exit), step(log.clone(), "b", Fault::Exit), step(log.clone(), "c", Fault::None)) => |_| {
            Err(Failure("block"))
        })
    });
    assert_eq!(result, Err(Failure("a")));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c: failure: block",
            "exit b: failure: block",
            "exit a: failure: b",
        ]
    );
}

#[test]
fn a_block_panic_reaches_every_exit() {
    let log = Log::default();
    let result = block_on_catching(async {
        async_with!((step(log.clone(), "a", Fault::None), step(log.clone(), "b", Fault::None)) => |(a, _)| {
            if a == "a" {
                panic!("block panicked");
            }
        })
    });
    assert_eq!(result.unwrap_err(), "block panicked");
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "exit b: panic block panicked",
            "exit a: panic block panicked"
        ]
    );
}

#[async_context_manager]
async fn infallible_step(log: Log, name: &'static str) -> &'static str {
    r#yield!(name);
    log.push(format!("exit {name}"));
}

#[test]
fn a_tuple_of_infallible_managers_is_infallible() {
    let log = Log::default();
    let result: Result<usize, Failure> = block_on(async {
        async_with!((infallible_step(log.clone(), "x"), infallible_step(log.clone(), "y")) => |(x, y)| {
            if x == y { return Err(Failure("same")); }
            Ok(x.len() + y.len())
        })
    });
    assert_eq!(result, Ok(2));
    assert_eq!(log.take(), ["exit y", "exit x"]);
}

#[test]
fn tuples_nest() {
    let log = Log::default();
    let result = block_on(async {
        async_with!(((step(log.clone(), "a", Fault::None), step(log.clone(), "b", Fault::None)), step(log.clone(), "c", Fault::None)) => |((a, b), c)| {
            [a, b, c].concat()
        })
    });
    assert_eq!(result, Ok("abc".to_string()));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c: ok",
            "exit b: ok",
            "exit a: ok"
        ]
    );
}
