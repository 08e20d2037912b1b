//! Issue 22, item 4: a block whose error type is `Infallible` counts as a plain value, so an
//! infallible manager nests inside a fallible one without ceremony, in either order, and `?`
//! inside the blocks works as it does in one `async_with!`.
mod common;

use std::convert::Infallible;

use common::{Failure, Log, block_on_catching, describe};
use contextlib::{IntoValue, async_context_manager, async_with};
use futures_executor::block_on;

/// A fallible manager: fails to enter when `enter_fails`, its exit fails when `exit_fails`.
#[async_context_manager]
async fn opened(log: Log, enter_fails: bool, exit_fails: bool) -> Result<u32, Failure> {
    if enter_fails {
        log.push("opened: enter failed");
        return Err(Failure("enter"));
    }
    log.push("opened: enter");
    let exit = r#yield!(1);
    log.push(format!("opened: exit {}", describe(&exit)));
    if exit_fails {
        return Err(Failure("exit"));
    }
    Ok(())
}

/// An infallible manager.
#[async_context_manager]
async fn plain(log: Log, name: &'static str, value: u32) -> u32 {
    log.push(format!("{name}: enter"));
    let exit = r#yield!(value);
    log.push(format!("{name}: exit {}", describe(&exit)));
}

fn check(n: u32) -> Result<u32, Failure> {
    if n > 100 {
        Err(Failure("too big"))
    } else {
        Ok(n)
    }
}

/// The log of `outer` around `inner`: both enter, then both see the block end as `seen`.
fn nested(outer: &str, inner: &str, seen: &str) -> Vec<String> {
    vec![
        format!("{outer}: enter"),
        format!("{inner}: enter"),
        format!("{inner}: exit {seen}"),
        format!("{outer}: exit {seen}"),
    ]
}

/// `plain` (lending 2) inside `opened` (lending 1), the inner block `x + y`.
#[allow(clippy::let_and_return)] // the `let` is the check: see below
fn plain_inside_opened(log: &Log, enter_fails: bool, exit_fails: bool) -> Result<u32, Failure> {
    // Inferred without an expected type, then returned: `Result<u32, Failure>`, not
    // `Result<Result<u32, Infallible>, Failure>`.
    let n = block_on(async {
        async_with!(opened(log.clone(), enter_fails, exit_fails) => |x| {
            async_with!(plain(log.clone(), "plain", 2) => |y| x + y)
        })
    });
    n
}

/// An infallible manager nests in a fallible one as a plain value, and a fallible one nests in
/// an infallible one.
#[test]
fn managers_of_either_kind_nest_in_the_other() {
    type Nesting = fn(&Log) -> Result<u32, Failure>;
    let infallible_inside: Nesting = |log| plain_inside_opened(log, false, false);
    let fallible_inside: Nesting = |log| {
        block_on(async {
            async_with!(plain(log.clone(), "plain", 2) => |y| {
                async_with!(opened(log.clone(), false, false) => |x| x + y)
            })
        })
    };
    for (order, nesting, outer, inner) in [
        ("infallible inside", infallible_inside, "opened", "plain"),
        ("fallible inside", fallible_inside, "plain", "opened"),
    ] {
        let log = Log::default();
        assert_eq!(nesting(&log), Ok(3), "{order}");
        assert_eq!(log.take(), nested(outer, inner, "ok"), "{order}");
    }
}

#[test]
fn three_levels_nest_with_the_fallible_manager_outermost() {
    let log = Log::default();
    let n: Result<u32, Failure> = block_on(async {
        async_with!(opened(log.clone(), false, false) => |x| {
            async_with!(plain(log.clone(), "a", 10) => |y| {
                async_with!(plain(log.clone(), "b", 100) => |z| x + y + z)
            })
        })
    });
    assert_eq!(n, Ok(111));
    assert_eq!(
        log.take(),
        [
            "opened: enter",
            "a: enter",
            "b: enter",
            "b: exit ok",
            "a: exit ok",
            "opened: exit ok"
        ]
    );
}

#[test]
fn the_outer_managers_errors_are_the_results() {
    let log = Log::default();
    let enter = plain_inside_opened(&log, true, false);
    assert_eq!(enter, Err(Failure("enter")));
    assert_eq!(log.take(), ["opened: enter failed"]);

    let exit = plain_inside_opened(&log, false, true);
    assert_eq!(exit, Err(Failure("exit")));
    assert_eq!(log.take(), nested("opened", "plain", "ok"));
}

/// `?` inside the inner block, in either order: the inner block is fallible, the inner
/// `async_with!` gives its `Result<u32, Failure>`, and both managers see the error.
#[test]
fn question_mark_in_the_inner_block_reaches_both_managers() {
    type Nesting = fn(&Log, u32) -> Result<u32, Failure>;
    let fallible_outside: Nesting = |log, value| {
        block_on(async {
            async_with!(opened(log.clone(), false, false) => |x| {
                async_with!(plain(log.clone(), "plain", value) => |y| {
                    let y = check(y)?;
                    Ok(x + y)
                })
            })
        })
    };
    // The other order: `?` in the block of the fallible manager inside the infallible one.
    let infallible_outside: Nesting = |log, value| {
        block_on(async {
            async_with!(plain(log.clone(), "plain", value) => |y| {
                async_with!(opened(log.clone(), false, false) => |x| {
                    let y = check(y)?;
                    Ok(x + y)
                })
            })
        })
    };
    for (order, nesting, outer, inner) in [
        ("fallible outside", fallible_outside, "opened", "plain"),
        ("infallible outside", infallible_outside, "plain", "opened"),
    ] {
        for (value, expected, seen) in [
            (2, Ok(3), "ok"),
            (200, Err(Failure("too big")), "err failure: too big"),
        ] {
            let log = Log::default();
            assert_eq!(nesting(&log, value), expected, "{order}, {value}");
            assert_eq!(log.take(), nested(outer, inner, seen), "{order}, {value}");
        }
    }
}

/// `?` on the inner `async_with!` itself needs `From<Infallible>` for the block's error type,
/// which a user's error type does not have; `.into_value()` is the plain value.
#[test]
fn question_mark_before_an_inner_plain_async_with_uses_into_value() {
    let log = Log::default();
    let n: Result<u32, Failure> = block_on(async {
        async_with!(opened(log.clone(), false, false) => |x| {
            let x = check(x)?;
            let sum = async_with!(plain(log.clone(), "plain", 2) => |y| x + y).into_value();
            Ok(sum * 10)
        })
    });
    assert_eq!(n, Ok(30));
}

#[test]
fn a_block_written_as_result_of_infallible_is_a_plain_value() {
    let log = Log::default();
    let n: Result<u32, Failure> = block_on(async {
        async_with!(opened(log.clone(), false, false) => |x| Ok::<_, Infallible>(x + 1))
    });
    assert_eq!(n, Ok(2));
}

#[test]
fn a_panic_in_the_inner_block_reaches_both_managers() {
    let log = Log::default();
    let caught = block_on_catching(async {
        let n: Result<u32, Failure> = async_with!(opened(log.clone(), false, false) => |x| {
            async_with!(plain(log.clone(), "plain", 2) => |y| {
                if x + y == 3 {
                    panic!("inner");
                }
                x + y
            })
        });
        n
    });
    assert_eq!(caught.unwrap_err(), "inner");
    assert_eq!(log.take(), nested("opened", "plain", "panic inner"));
}

/// What did not change: a block whose error type only the code around `async_with!` tells is
/// still a fallible block with that error type (the dispatch must not take it for
/// `Infallible`), including `Err(..)?` and `.into()` inside it.
#[derive(Debug, PartialEq)]
enum AppError {
    Failure(Failure),
    Message(&'static str),
}

impl From<Failure> for AppError {
    fn from(failure: Failure) -> Self {
        AppError::Failure(failure)
    }
}

impl From<&'static str> for AppError {
    fn from(message: &'static str) -> Self {
        AppError::Message(message)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[test]
fn a_block_error_inferred_from_the_context_stays_the_blocks() {
    let log = Log::default();
    let question: Result<u32, Failure> = block_on(async {
        async_with!(opened(log.clone(), false, false) => |x| {
            Err(Failure("early"))?;
            Ok(x)
        })
    });
    assert_eq!(question, Err(Failure("early")));

    let into: Result<u32, AppError> = block_on(async {
        async_with!(opened(log.clone(), false, false) => |x| {
            if x == 1 { Err("one".into()) } else { Ok(x) }
        })
    });
    assert_eq!(into, Err(AppError::Message("one")));

    let converted: Result<u32, AppError> =
        block_on(async { async_with!(opened(log.clone(), true, false) => |x| Ok(x)) });
    assert_eq!(converted, Err(AppError::Failure(Failure("enter"))));
}
