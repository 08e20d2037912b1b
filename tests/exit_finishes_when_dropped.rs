//! Every manager of contextlib that claims `EXIT_FINISHES_WHEN_DROPPED` keeps the claim: its exit
//! future, dropped before its first poll or midway, still tears down everything it owes (or has
//! it reported). `async_with!`, tuples and `concurrent` rely on the claim to drop such an exit
//! without finishing it themselves (issue 20, item 3: `ExitStack` took its entries only at the
//! first poll, so a dropped exit lost them, and `&mut ExitStack` forwarded the claim).
//!
//! The table below has one row per impl that claims it: `ExitStack`, `&mut ExitStack`,
//! `Pin<&mut ExitStack>`, a stack held by a stack (its `SendAsyncContextManager::exit_into`), tuples,
//! `concurrent`, `Either`, `Option<M>`, `testing::Watched` and `tokio::Detached` (natively only: its
//! teardown runtime is a thread, which Miri's leak check refuses). The tokio batteries and
//! `sqlx::transaction`, which claim it too, hand a dropped exit to that runtime as `Detached`
//! does; their own files (`battery_*.rs`) cut the block's future at every poll, in the exit
//! too, on real files, processes and databases. Each row enters the manager, has it
//! hold managers watched by a `Probe` (whose teardowns wait once, so that a dropped exit has
//! something left to finish), calls `exit`, drops the exit future after 0 and after 1 poll, and
//! checks that every watched manager was torn down once, with the `Exit` given, and that the
//! teardown ended.
use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::Duration;

use contextlib::testing::{Observed, Probe, Run, yield_now};
use contextlib::{
    AsyncContextManager, BlockError, Either, Exit, ExitStack, async_context_manager, async_with,
    concurrent,
};
use futures_executor::block_on;

/// A manager whose teardown waits once.
#[async_context_manager]
async fn slow() -> u8 {
    r#yield!(1);
    yield_now().await;
}

/// Enters `count` slow managers, watched by `probe`, on `stack`.
async fn enter_watched<'a>(stack: &ExitStack<'a, Infallible>, probe: &'a Probe, count: usize) {
    for _ in 0..count {
        stack.enter(probe.observe(slow())).await.unwrap();
    }
}

fn claims<M: AsyncContextManager>(_: &M) -> bool {
    M::EXIT_FINISHES_WHEN_DROPPED
}

/// The exit every row's manager is given: an error, so that a teardown run later with another
/// `Exit` (as `close()` would, with `Exit::Ok`) does not pass for this one.
fn failed_block() -> Exit<'static> {
    static ERROR: &str = "the block failed";
    Exit::Err(BlockError::new(&ERROR))
}

/// One row: enters `$manager`, runs `$setup` with its target (entering `$watched` managers the
/// probe sees), drops the target, calls `exit` and drops its future after `polls` polls.
macro_rules! row {
    ($name:literal, $probe:ident, $watched:literal, $manager:expr, |$target:ident| $setup:expr $(, then $settle:ident)?) => {
        for polls in [0, 1] {
            let mut manager = pin!($manager);
            assert!(claims(&*manager), "{}: the row is for an impl that claims it", $name);
            block_on(async {
                let $target = manager.as_mut().enter().await.unwrap();
                $setup
            });
            {
                let mut exit = pin!(manager.as_mut().exit(failed_block()));
                // A detached exit (a row with `then settle`) runs on the teardown runtime's
                // thread, which may finish it before this poll: only the others must be pending.
                let runs_elsewhere = false $(|| { let _ = $settle; true })?;
                for _ in 0..polls {
                    let mut cx = Context::from_waker(Waker::noop());
                    let pending = exit.as_mut().poll(&mut cx).is_pending();
                    assert!(
                        pending || runs_elsewhere,
                        "{}: a teardown waits once, so the exit cannot be done after one poll",
                        $name
                    );
                }
            } // dropped: before its first poll, or midway
            $($settle();)?
            let teardowns = $probe.assert_torn_down_once(&Run::<()>::Dropped { polls });
            assert_eq!(
                teardowns,
                vec![Observed::Err; $watched],
                "{}: exit dropped after {} poll(s)",
                $name,
                polls
            );
        }
    };
}

/// Waits for the teardowns handed to contextlib's teardown runtime (the `Detached` row).
fn settle() {
    assert!(contextlib::tokio::wait_for_teardowns(Duration::from_secs(
        10
    )));
}

#[test]
fn every_impl_that_claims_it_finishes_a_dropped_exit() {
    let probe = Probe::default();

    row!(
        "ExitStack",
        probe,
        2,
        ExitStack::<Infallible>::new(),
        |stack| enter_watched(stack, &probe, 2).await
    );

    let mut by_mut = ExitStack::<Infallible>::new();
    row!("&mut ExitStack", probe, 2, &mut by_mut, |stack| {
        enter_watched(stack, &probe, 2).await
    });
    assert!(
        by_mut.is_empty(),
        "the dropped exit took the entries with it"
    );

    let mut pinned = pin!(ExitStack::<Infallible>::new());
    row!("Pin<&mut ExitStack>", probe, 1, pinned.as_mut(), |stack| {
        enter_watched(stack, &probe, 1).await
    });
    assert!(pinned.is_empty());

    row!(
        "ExitStack in an ExitStack",
        probe,
        2,
        ExitStack::<Infallible>::new(),
        |stack| {
            enter_watched(stack, &probe, 1).await;
            let inner = stack.enter(ExitStack::<Infallible>::new()).await.unwrap();
            enter_watched(inner, &probe, 1).await;
        }
    );

    row!(
        "tuple of 2",
        probe,
        2,
        (probe.observe(slow()), probe.observe(slow())),
        |_targets| ()
    );
    row!(
        "tuple of 3, a stack in it",
        probe,
        3,
        (
            probe.observe(slow()),
            ExitStack::<Infallible>::new(),
            probe.observe(slow())
        ),
        |targets| enter_watched(targets.1, &probe, 1).await
    );

    row!(
        "concurrent",
        probe,
        2,
        concurrent((probe.observe(slow()), probe.observe(slow()))),
        |_targets| ()
    );
    row!(
        "concurrent with a stack",
        probe,
        2,
        concurrent((ExitStack::<Infallible>::new(), probe.observe(slow()))),
        |targets| enter_watched(targets.0, &probe, 1).await
    );

    row!(
        "Either, a stack on the left",
        probe,
        2,
        Either::<ExitStack<Infallible>, ExitStack<Infallible>>::Left(ExitStack::new()),
        |stack| enter_watched(stack, &probe, 2).await
    );
    // `Option<M>` forwards the claim of its `M`.
    row!(
        "Option<ExitStack>",
        probe,
        2,
        Some(ExitStack::<Infallible>::new()),
        |stack| enter_watched(stack.expect("Some"), &probe, 2).await
    );

    // `Watched` forwards the claim of what it wraps: the outer probe sees the stack's own
    // teardown, the inner one the managers on the stack.
    let inner = Probe::default();
    let outer = Probe::default();
    row!(
        "Watched<ExitStack>",
        outer,
        1,
        outer.observe(ExitStack::<Infallible>::new()),
        |stack| enter_watched(stack, &inner, 2).await
    );
    assert_eq!(
        inner.assert_torn_down_once(&Run::<()>::Dropped { polls: 0 }),
        [Observed::Err; 4]
    );
}

/// The `tokio::Detached` row: it hands the exit to contextlib's teardown runtime as `exit` is
/// called; the row waits for that runtime before it looks.
#[test]
#[cfg_attr(
    miri,
    ignore = "the teardown runtime is a thread that outlives the test; the other rows run under Miri"
)]
fn detached_finishes_a_dropped_exit() {
    let detached: &'static Probe = Box::leak(Box::default());
    row!(
        "tokio::Detached",
        detached,
        1,
        contextlib::tokio::detach_on_cancel(detached.observe(slow())),
        |_n| (),
        then settle
    );
}

/// Issue 20's reproducer: `&mut ExitStack` in a tuple, the future running `async_with!` dropped
/// while the member to the stack's right is in its teardown. The stacked manager is torn down
/// then, with the block's outcome, and the stack is left empty.
#[async_context_manager]
async fn noted(log: &Mutex<Vec<String>>, name: &'static str) -> u8 {
    let exit = r#yield!(1);
    yield_now().await; // the teardown waits once
    log.lock()
        .unwrap()
        .push(format!("{name} torn down with {exit:?}"));
}

#[test]
fn a_stack_lent_to_a_tuple_tears_down_when_the_tuple_is_dropped_mid_exit() {
    let log = Mutex::new(Vec::new());
    let mut stack = ExitStack::<Infallible>::new();
    {
        let mut running = pin!(async {
            async_with!((&mut stack, noted(&log, "right")) => |(stack, _)| {
                stack.enter(noted(&log, "stacked")).await.unwrap();
            })
        });
        let mut cx = Context::from_waker(Waker::noop());
        // One poll: enter both, run the block, start the exits right to left: "right" waits.
        assert!(running.as_mut().poll(&mut cx).is_pending());
        assert!(log.lock().unwrap().is_empty());
    } // dropped mid-exit (a timeout, a lost select!, an abort)
    assert_eq!(
        *log.lock().unwrap(),
        ["right torn down with Ok", "stacked torn down with Ok"]
    );
    assert!(
        stack.is_empty(),
        "nothing is left for a later close() to exit with Exit::Ok"
    );
    block_on(stack.close()).unwrap();
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn a_stack_in_a_concurrent_or_a_nested_tuple_tears_down_when_dropped_mid_exit() {
    let log = Mutex::new(Vec::new());
    let mut cx = Context::from_waker(Waker::noop());
    let mut s1 = ExitStack::<Infallible>::new();
    {
        let mut running = pin!(async {
            async_with!((concurrent((&mut s1, contextlib::nullcontext(0u8))), noted(&log, "right")) => |((stack, _), _)| {
                stack.enter(noted(&log, "stacked-in-concurrent")).await.unwrap();
            })
        });
        assert!(running.as_mut().poll(&mut cx).is_pending());
    }
    let mut s2 = ExitStack::<Infallible>::new();
    {
        let mut running = pin!(async {
            async_with!(((&mut s2, contextlib::nullcontext(0u8)), noted(&log, "right")) => |((stack, _), _)| {
                stack.enter(noted(&log, "stacked-in-nested-tuple")).await.unwrap();
            })
        });
        assert!(running.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!((s1.len(), s2.len()), (0, 0));
    assert_eq!(
        *log.lock().unwrap(),
        [
            "right torn down with Ok",
            "stacked-in-concurrent torn down with Ok",
            "right torn down with Ok",
            "stacked-in-nested-tuple torn down with Ok",
        ]
    );
}

/// An exit future of a stack, dropped unpolled, does not leave its entries for the stack's own
/// `Drop` (which would cancel them, `Exit::Cancelled`): they see the `Exit` the exit was given.
#[test]
fn a_stack_exit_dropped_unpolled_gives_its_entries_the_exit_it_was_given() {
    let probe = Probe::default();
    let mut stack = ExitStack::<Infallible>::new();
    block_on(async {
        let target = Pin::new(&mut stack).enter().await.unwrap();
        enter_watched(target, &probe, 1).await;
    });
    drop(Pin::new(&mut stack).exit(failed_block()));
    assert!(stack.is_empty());
    drop(stack);
    assert_eq!(
        probe.assert_torn_down_once(&Run::<()>::Dropped { polls: 0 }),
        [Observed::Err]
    );
}
