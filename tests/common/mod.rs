//! Shared by the integration tests: an event log that managers and blocks both write to.
#![allow(dead_code)]

use std::fmt;
use std::sync::{Arc, Mutex};

/// Events in order, shared between a manager, its block and the test.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// How a block ended, in a word and its detail: `ok`, `err ..`, `panic ..`, `cancelled`.
pub fn describe(exit: &contextlib::Exit<'_>) -> String {
    match exit {
        contextlib::Exit::Ok => "ok".into(),
        contextlib::Exit::Err(error) => format!("err {error}"),
        contextlib::Exit::Panic(panic) => format!("panic {panic}"),
        _ => "cancelled".into(),
    }
}

/// A block or manager error with a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub &'static str);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "failure: {}", self.0)
    }
}

impl std::error::Error for Failure {}

/// Runs `future` to completion, catching a panic and returning its message.
pub fn block_on_catching<F: std::future::Future>(future: F) -> Result<F::Output, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(future)
    }))
    .map_err(|payload| text_of(&*payload))
}

/// The message of the panic `run` must raise (a misuse, a hijack): the test fails if it returns.
pub fn panic_message(run: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).expect_err("expected a panic");
    text_of(&*payload)
}

/// A panic payload's text (`panic!` with a literal or with a format), or "" for any other.
pub fn text_of(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// What a [`faulty`] manager does wrong.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Fault {
    None,
    /// Its setup fails (before it logs `enter`).
    Enter,
    /// Its setup panics.
    EnterPanic,
    /// Its setup fails after it logs `enter`: the tuple tests log the attempt too.
    EnterLogged,
    /// Its setup panics after it logs `enter`.
    EnterPanicLogged,
    /// Its teardown fails (after it logs `exit`).
    Exit,
    /// Its teardown panics (after it logs `exit`).
    ExitPanic,
}

/// The fault-injecting manager of the composition tests (stacks, tuples, `concurrent`):
/// suspends (a runtime-free yield) in its setup and its teardown, logs `enter NAME` and
/// `exit NAME: OUTCOME`, lends `name`.
#[contextlib::async_context_manager]
pub async fn faulty(log: Log, name: &'static str, fault: Fault) -> Result<&'static str, Failure> {
    contextlib::testing::yield_now().await;
    if matches!(fault, Fault::EnterLogged | Fault::EnterPanicLogged) {
        log.push(format!("enter {name}"));
    }
    match fault {
        Fault::Enter | Fault::EnterLogged => return Err(Failure(name)),
        Fault::EnterPanic | Fault::EnterPanicLogged => panic!("{name} panicked entering"),
        _ => {}
    }
    log.push(format!("enter {name}"));
    let exit = r#yield!(name);
    contextlib::testing::yield_now().await;
    log.push(format!("exit {name}: {}", describe(&exit)));
    match fault {
        Fault::Exit => Err(Failure(name)),
        Fault::ExitPanic => panic!("{name}'s exit panicked"),
        _ => Ok(()),
    }
}

/// Counts the events of `seen` that start with `prefix`.
pub fn count_starting(seen: &[String], prefix: &str) -> usize {
    seen.iter()
        .filter(|event| event.starts_with(prefix))
        .count()
}

/// Asserts that every `enter ..` of `seen` has its `exit ..`; returns how many entered.
pub fn assert_every_enter_exited(seen: &[String]) -> usize {
    let entered = count_starting(seen, "enter");
    assert_eq!(entered, count_starting(seen, "exit"), "{seen:?}");
    entered
}

/// Polls `future` once, asserts that it is suspended there, and drops it there.
pub fn drop_while_pending(future: impl std::future::Future) {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
}

/// Runs `body` (given a new log) in a task spawned on the current tokio runtime; returns its
/// output and the events it logged: the `Send` tests of the stack and composition files.
pub async fn spawned<F, T>(body: impl FnOnce(Log) -> F) -> (T, Vec<String>)
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let log = Log::default();
    let output = tokio::spawn(body(log.clone())).await.unwrap();
    (output, log.take())
}

/// Cuts `scenario` at every poll (`cancel_at_every_poll`): the managers `probe` watches are
/// torn down once, every `enter` in `log` has its `exit`, and a run that completes hands
/// `completed` its output, the teardowns and its log. Returns how many polls the completed run
/// took.
pub fn cut_at_every_poll<F>(
    probe: &contextlib::testing::Probe,
    log: &Log,
    scenario: impl FnMut() -> F,
    mut completed: impl FnMut(F::Output, Vec<contextlib::testing::Observed>, &[String]),
) -> usize
where
    F: std::future::Future<Output: fmt::Debug>,
{
    contextlib::testing::cancel_at_every_poll(scenario, |run| {
        let teardowns = probe.assert_torn_down_once(&run);
        let seen = log.take();
        assert_every_enter_exited(&seen);
        if let contextlib::testing::Run::Completed { output, .. } = run {
            completed(output, teardowns, &seen);
        }
    })
}

/// [`cut_at_every_poll`] for the composition tests, whose managers log `enter NAME` and
/// `exit NAME: ..` and the first is `a`: a run that completes returns `Ok(())` with `a` exited
/// last.
pub fn assert_torn_down_wherever_dropped<F>(
    probe: &contextlib::testing::Probe,
    log: &Log,
    scenario: impl FnMut() -> F,
) where
    F: std::future::Future<Output = Result<(), Failure>>,
{
    cut_at_every_poll(probe, log, scenario, |output, _, seen| {
        assert_eq!(output, Ok(()));
        assert_eq!(seen.last().map(String::as_str), Some("exit a: ok"));
    });
}

/// After an enter was dropped in its setup: asserts that `stack` holds nothing and that
/// dropping it exits nothing (`log` stays empty).
pub fn assert_holds_nothing<E>(stack: contextlib::ExitStack<'_, E>, log: &Log) {
    assert!(stack.is_empty());
    drop(stack);
    assert!(log.take().is_empty());
}

/// The names of the managers of a table row, in order.
pub const NAMES: [&str; 4] = ["a", "b", "c", "d"];

/// What `async_with!` returns, or the message it panics with (as `block_on_catching` reports).
pub type Outcome<T> = Result<Result<T, Failure>, &'static str>;

/// A table row of the fault-injection tests: its name, one fault per manager (named by
/// [`NAMES`] in order), whether the block fails, the [`Outcome`], and the log.
pub type Row<T> = (
    &'static str,
    &'static [Fault],
    bool,
    Outcome<T>,
    &'static [&'static str],
);

/// `outcome` in the owned form `block_on_catching` returns.
pub fn owned<T: Clone + Into<U>, U>(outcome: &Outcome<T>) -> Result<Result<U, Failure>, String> {
    outcome
        .clone()
        .map(|result| result.map(Into::into))
        .map_err(String::from)
}
