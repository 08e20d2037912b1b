//! A tuple of managers: entered left to right, exited right to left, failures unwound.
mod common;

use common::{Failure, Fault, Log, NAMES, Outcome, block_on_catching, faulty, owned};
use contextlib::{async_context_manager, async_with};
use futures_executor::block_on;

/// How the managers are grouped.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `(a, b)` or `(a, b, c)`.
    Flat,
    /// `((a, b), c)`: tuples nest.
    Nested,
}

/// How the block ends, after it logs `block`.
#[derive(Clone, Copy, Debug)]
enum Block {
    /// Returns the targets joined.
    Joins,
    Fails,
    Panics,
}

/// The log of `a`, `b` and `c` around a block that succeeds, flat or nested alike.
const ENTERED_THEN_EXITED_IN_REVERSE: &[&str] = &[
    "enter a",
    "enter b",
    "enter c",
    "block",
    "exit c: ok",
    "exit b: ok",
    "exit a: ok",
];

/// A row: its name, one fault per manager (named `a`, `b`, `c` in order), how they are grouped,
/// how the block ends, the outcome, the log.
type Row = (
    &'static str,
    &'static [Fault],
    Shape,
    Block,
    Outcome<&'static str>,
    &'static [&'static str],
);

#[rustfmt::skip]
const CASES: &[Row] = &[
    ("enters left to right and exits right to left", &[Fault::None, Fault::None, Fault::None], Shape::Flat, Block::Joins, Ok(Ok("abc")), ENTERED_THEN_EXITED_IN_REVERSE),
    ("a failed enter exits the managers already entered with that error", &[Fault::None, Fault::None, Fault::EnterLogged], Shape::Flat, Block::Joins, Ok(Err(Failure("c"))),
        &["enter a", "enter b", "enter c", "exit b: err failure: c", "exit a: err failure: c"]),
    ("a panicking enter exits the managers already entered then resumes", &[Fault::None, Fault::EnterPanicLogged], Shape::Flat, Block::Joins, Err("b panicked entering"),
        &["enter a", "enter b", "exit a: panic b panicked entering"]),
    ("each exit sees the newest error and the newest error wins", &[Fault::Exit, Fault::Exit, Fault::None], Shape::Flat, Block::Fails, Ok(Err(Failure("a"))),
        &["enter a", "enter b", "enter c", "block", "exit c: err failure: block", "exit b: err failure: block", "exit a: err failure: b"]),
    ("a block panic reaches every exit", &[Fault::None, Fault::None], Shape::Flat, Block::Panics, Err("block panicked"),
        &["enter a", "enter b", "block", "exit b: panic block panicked", "exit a: panic block panicked"]),
    ("tuples nest", &[Fault::None, Fault::None, Fault::None], Shape::Nested, Block::Joins, Ok(Ok("abc")), ENTERED_THEN_EXITED_IN_REVERSE),
];

/// The block of every case: logs `block`, then ends as `block` says.
fn end(log: &Log, block: Block, targets: &[&str]) -> Result<String, Failure> {
    log.push("block");
    match block {
        Block::Joins => Ok(targets.concat()),
        Block::Fails => Err(Failure("block")),
        Block::Panics => panic!("block panicked"),
    }
}

async fn run(faults: &[Fault], shape: Shape, block: Block, log: &Log) -> Result<String, Failure> {
    let step = |index: usize| faulty(log.clone(), NAMES[index], faults[index]);
    match (shape, faults.len()) {
        (Shape::Flat, 2) => {
            async_with!((step(0), step(1)) => |(a, b)| end(log, block, &[a, b]))
        }
        (Shape::Flat, 3) => {
            async_with!((step(0), step(1), step(2)) => |(a, b, c)| end(log, block, &[a, b, c]))
        }
        (Shape::Nested, 3) => {
            async_with!(((step(0), step(1)), step(2)) => |((a, b), c)| end(log, block, &[a, b, c]))
        }
        _ => unreachable!(),
    }
}

#[test]
fn a_tuple_enters_left_to_right_exits_right_to_left_and_unwinds_failures() {
    for (name, faults, shape, block, outcome, expected_log) in CASES {
        let log = Log::default();
        let got = block_on_catching(run(faults, *shape, *block, &log));
        assert_eq!(got, owned(outcome), "{name}");
        assert_eq!(log.take(), *expected_log, "{name}");
    }
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
