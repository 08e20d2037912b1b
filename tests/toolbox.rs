//! `nullcontext` and `closing` (Python's `nullcontext` and `aclosing`), with CPython's cases that
//! have a Rust meaning (`test_nullcontext`, `test_aclosing`, `test_aclosing_error`).
mod common;

use common::{Failure, Log};
use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{AsyncContextManager, Exit, async_with, closing, nullcontext};
use futures_executor::block_on;
use std::pin::pin;

#[test]
fn nullcontext_lends_its_value_and_does_nothing_at_exit() {
    let value = vec![1, 2, 3];
    let len = block_on(async { async_with!(nullcontext(value) => |v| v.len()) });
    assert_eq!(len, Ok(3));
    let failed: Result<(), Failure> =
        block_on(async { async_with!(nullcontext(7) => |_n| Err(Failure("block"))) });
    assert_eq!(failed, Err(Failure("block")));
}

type Cleanup = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Failure>>>>;

fn closer(log: Log, fails: bool) -> impl FnOnce(Vec<u8>) -> Cleanup {
    move |value| {
        Box::pin(async move {
            yield_now().await;
            log.push(format!("closed {value:?}"));
            if fails { Err(Failure("close")) } else { Ok(()) }
        })
    }
}

#[test]
fn closing_closes_once_at_exit() {
    let log = Log::default();
    let n = block_on(async {
        async_with!(closing(vec![1u8], closer(log.clone(), false)) => |v| {
            v.push(2);
            log.push("block");
            Ok::<_, Failure>(v.len())
        })
    });
    assert_eq!(n, Ok(2));
    assert_eq!(log.take(), ["block", "closed [1, 2]"]);
}

#[test]
fn closing_closes_after_a_failing_or_panicking_block_and_its_error_wins() {
    let log = Log::default();
    let failed: Result<(), Failure> = block_on(async {
        async_with!(closing(vec![1u8], closer(log.clone(), false)) => |_v| Err(Failure("block")))
    });
    assert_eq!(failed, Err(Failure("block")));
    assert_eq!(log.take(), ["closed [1]"]);

    let close_failed: Result<(), Failure> = block_on(async {
        async_with!(closing(vec![2u8], closer(log.clone(), true)) => |_v| Err(Failure("block")))
    });
    assert_eq!(close_failed, Err(Failure("close")));
    assert_eq!(log.take(), ["closed [2]"]);

    let panicked = common::block_on_catching(async {
        async_with!(closing(vec![3u8], closer(log.clone(), false)) => |_v| explode())
    });
    assert_eq!(panicked.unwrap_err(), "block panicked");
    assert_eq!(log.take(), ["closed [3]"]);
}

fn explode() -> Result<(), Failure> {
    panic!("block panicked")
}

#[test]
fn both_are_torn_down_wherever_they_are_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    cancel_at_every_poll(
        || async {
            let n = async_with!(probe.observe(nullcontext(1u8)) => |n| n)
                .unwrap_or_else(|never| match never {});
            async_with!(probe.observe(closing(vec![5u8], closer(log.clone(), false))) => |v| {
                yield_now().await;
                Ok::<_, Failure>(usize::from(n) + v.len())
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let closes = log.take();
            let entered_closing = teardowns.len() == 2;
            assert_eq!(closes.len(), usize::from(entered_closing), "{closes:?}");
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(2));
                assert_eq!(teardowns, [Observed::Ok, Observed::Ok]);
            }
        },
    );
}

/// `closing` is one-shot: entered a second time by hand (the value is still there until the
/// exit), it panics instead of lending the value again (issue 20).
#[test]
fn closing_entered_twice_panics_instead_of_lending_again() {
    let log = Log::default();
    let mut manager = pin!(closing(vec![1u8], closer(log.clone(), false)));
    let first = block_on(manager.as_mut().enter()).unwrap();
    first.push(2);
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        drop(manager.as_mut().enter());
    }));
    let message = *again
        .expect_err("a second enter panics")
        .downcast::<&str>()
        .unwrap();
    assert_eq!(
        message,
        "contextlib: a closing manager is one-shot: it was already entered"
    );
    // The first enter still owes its exit, which closes the value once.
    block_on(manager.as_mut().exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed [1, 2]"]);
}

/// Neither pins what it holds (the value is moved out or lent as `&mut`), so both are `Unpin`
/// whatever they hold: they can be entered through `&mut` and moved between uses.
#[test]
fn nullcontext_and_closing_are_unpin_whatever_they_hold() {
    fn unpin<T: Unpin>(_: &T) {}
    unpin(&nullcontext(std::marker::PhantomPinned));
    unpin(&closing(std::marker::PhantomPinned, |_| async {
        Ok::<_, std::convert::Infallible>(())
    }));
    let mut manager = nullcontext(std::marker::PhantomPinned);
    let lent = block_on(async { async_with!(&mut manager => |value| value) });
    assert!(lent.is_ok());
}
