//! `#[contextlib::with(..)]`, the decorator form (Python's `AsyncContextDecorator`), with
//! CPython's `test_decorator` cases that have a Rust meaning.
mod common;

use common::{Failure, Log, describe};
use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{async_context_manager, with};
use futures_executor::block_on;

#[async_context_manager]
async fn scope(log: Log, name: &'static str) -> Result<&'static str, Failure> {
    log.push(format!("enter {name}"));
    let exit = r#yield!(name);
    log.push(format!("exit {name}: {}", describe(&exit)));
    Ok(())
}

#[async_context_manager]
async fn quiet(log: Log) -> u32 {
    log.push("enter quiet");
    r#yield!(1);
    log.push("exit quiet");
}

#[with(scope(log.clone(), "outer") => outer)]
#[with(scope(log.clone(), "inner") => inner)]
async fn decorated(log: Log, fail: bool) -> Result<String, Failure> {
    if fail {
        return Err(Failure("body"));
    }
    Ok(format!("{outer}/{inner}"))
}

#[test]
fn a_fresh_manager_each_call_and_the_first_attribute_outermost() {
    let log = Log::default();
    assert_eq!(
        block_on(decorated(log.clone(), false)),
        Ok("outer/inner".to_string())
    );
    assert_eq!(block_on(decorated(log.clone(), true)), Err(Failure("body")));
    assert_eq!(
        log.take(),
        [
            "enter outer",
            "enter inner",
            "exit inner: ok",
            "exit outer: ok",
            "enter outer",
            "enter inner",
            "exit inner: err failure: body",
            "exit outer: err failure: body",
        ]
    );
}

#[with(quiet(log.clone()))]
async fn plain_value(log: Log) -> usize {
    log.push("body");
    7
}

#[test]
fn a_fn_not_returning_result_needs_an_infallible_manager_and_returns_its_value() {
    let log = Log::default();
    assert_eq!(block_on(plain_value(log.clone())), 7);
    assert_eq!(log.take(), ["enter quiet", "body", "exit quiet"]);
}

#[async_context_manager]
async fn io_scope() -> std::io::Result<u8> {
    r#yield!(1);
    Ok(())
}

#[derive(Debug)]
#[allow(dead_code)]
struct AppError(String);
impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        AppError(error.to_string())
    }
}

#[with(io_scope() => one)]
async fn converts(n: u8) -> Result<u8, AppError> {
    Ok(one + n)
}

#[with(io_scope())]
async fn aliased() -> std::io::Result<()> {
    Ok(())
}

#[test]
fn manager_errors_convert_and_result_aliases_work() {
    assert_eq!(block_on(converts(1)).unwrap(), 2);
    assert!(block_on(aliased()).is_ok());
}

struct Service {
    log: Log,
}

impl Service {
    #[with(scope(self.log.clone(), "method") => name)]
    async fn call(&self, arg: u32) -> Result<String, Failure> {
        yield_now().await;
        Ok(format!("{name}({arg})"))
    }
}

#[test]
fn methods_see_self_in_the_manager_expression() {
    let service = Service {
        log: Log::default(),
    };
    assert_eq!(block_on(service.call(3)), Ok("method(3)".to_string()));
    assert_eq!(service.log.take(), ["enter method", "exit method: ok"]);
}

#[with(probe.observe(scope(log.clone(), "watched")))]
async fn watched(probe: &Probe, log: Log) -> Result<u8, Failure> {
    yield_now().await;
    Ok(1)
}

#[test]
fn a_decorated_fn_is_torn_down_wherever_it_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    cancel_at_every_poll(
        || watched(&probe, log.clone()),
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let _ = log.take();
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(1));
                assert_eq!(teardowns, [Observed::Ok]);
            }
        },
    );
}

/// `#[with]` above `#[async_context_manager]`: the manager's whole body, yield included, runs
/// inside the decorating manager (composition).
#[with(scope(log.clone(), "around"))]
#[async_context_manager]
async fn wrapped_manager(log: Log) -> Result<u32, Failure> {
    log.push("manager setup");
    let exit = r#yield!(5);
    log.push(format!("manager teardown: {}", describe(&exit)));
    Ok(())
}

#[test]
fn a_decorated_manager_runs_inside_the_decorating_one() {
    let log = Log::default();
    let n = block_on(async { contextlib::async_with!(wrapped_manager(log.clone()) => |n| n + 1) });
    assert_eq!(n, Ok(6));
    assert_eq!(
        log.take(),
        [
            "enter around",
            "manager setup",
            "manager teardown: ok",
            "exit around: ok"
        ]
    );
}
