//! A manager that cannot fail on an `ExitStack<E>` of any error type: `enter_infallible`
//! (issue 22, item 2). `enter` needs `E: From<M::Error>`, which no error type of one's own has
//! for `Infallible` (tests/ui/stack_enter_infallible_without_from.rs).
mod common;

use common::{
    Failure, Fault, Log, assert_holds_nothing, assert_torn_down_wherever_dropped, describe,
    drop_while_pending, faulty, spawned,
};
use contextlib::testing::{Probe, yield_now};
use contextlib::{BoxError, ExitStack, async_context_manager, async_with, nullcontext};
use futures_executor::block_on;

#[async_context_manager]
async fn timer(log: &Log, name: &'static str) -> &'static str {
    yield_now().await;
    log.push(format!("enter {name}"));
    let exit = r#yield!(name);
    yield_now().await;
    log.push(format!("exit {name}: {}", describe(&exit)));
}

#[test]
fn an_infallible_manager_enters_a_stack_of_an_error_type_without_from_infallible() {
    let log = Log::default();
    let result: Result<String, Failure> = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let t = stack.enter_infallible(timer(&log, "timer")).await; // the target itself
            let c = stack.enter(faulty(log.clone(), "failing connection", Fault::Exit)).await?;
            let n = stack.enter_infallible(nullcontext(7)).await;
            Ok(format!("{t} {c} {n}"))
        })
    });
    // The connection's exit fails; the timer, entered before it, sees that error.
    assert_eq!(result, Err(Failure("failing connection")));
    assert_eq!(
        log.take(),
        [
            "enter timer",
            "enter failing connection",
            "exit failing connection: ok",
            "exit timer: err failure: failing connection",
        ]
    );
}

#[test]
fn stacks_whose_error_converts_from_infallible_take_both_ways() {
    let log = Log::default();
    let sum = block_on(async {
        async_with!(ExitStack::<std::convert::Infallible>::new() => |stack| {
            let a = stack.enter(nullcontext(1)).await.unwrap();
            let b = stack.enter_infallible(nullcontext(2)).await;
            a + b
        })
    });
    assert_eq!(sum, Ok(3));
    let result: Result<&str, BoxError> = block_on(async {
        async_with!(ExitStack::<BoxError>::new() => |stack| {
            stack.enter(timer(&log, "a")).await.unwrap();
            Ok::<_, BoxError>(stack.enter_infallible(timer(&log, "b")).await)
        })
    });
    assert_eq!(result.unwrap(), "b");
    assert_eq!(
        log.take(),
        ["enter a", "enter b", "exit b: ok", "exit a: ok"]
    );
}

#[test]
fn a_dropped_infallible_enter_leaves_nothing_to_exit() {
    let log = Log::default();
    let stack = ExitStack::<Failure>::new();
    drop_while_pending(stack.enter_infallible(timer(&log, "a"))); // in its setup
    assert_holds_nothing(stack, &log);
}

#[test]
fn an_infallible_manager_is_torn_down_once_wherever_the_stack_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    assert_torn_down_wherever_dropped(&probe, &log, || async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            stack.enter_infallible(probe.observe(timer(&log, "a"))).await;
            stack.enter(probe.observe(faulty(log.clone(), "b", Fault::None))).await?;
            stack.enter_infallible(probe.observe(timer(&log, "c"))).await;
            yield_now().await;
            Ok::<_, Failure>(())
        })
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(miri, ignore = "multi-thread tokio; Miri runs the same logic above")]
async fn an_infallible_manager_enters_a_stack_in_a_spawned_task() {
    let (result, seen) = spawned(|log| async move {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let a = stack.enter_infallible(timer(&log, "a")).await;
            tokio::task::yield_now().await;
            let b = stack.enter(faulty(log.clone(), "b", Fault::None)).await?;
            tokio::task::yield_now().await;
            Ok::<_, Failure>(format!("{a}{b}"))
        })
    })
    .await;
    assert_eq!(result, Ok("ab".to_string()));
    assert_eq!(seen, ["enter a", "enter b", "exit b: ok", "exit a: ok"]);
}
