//! Hostile, safe-code attacks on the combinators' public surface (`BoxManager`/`SendBoxManager`,
//! `Either`/`SameTarget`, `Option<M>`, `ExitStack::push_async_exit`/`OnExit`/`enter_infallible`)
//! and on the `SendAsyncContextManager` impls of `&mut M`, `Pin<&mut M>` and `closing`: managers
//! whose enter/exit/cancel/Drop panic, futures dropped (or leaked) at every poll, `Either`
//! switched between variants, boxes in `Either`s on a stack, exit callbacks that panic. Each
//! asserts exactly-once teardown, or a clear panic, and never UB (run under Miri, both models).
mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::block_on_catching;
use contextlib::testing::{Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{
    AsyncContextManager, BoxManager, Either, Exit, ExitStack, Lend, OnExit,
    SendAsyncContextManager, SendBoxManager, async_with, closing, nullcontext,
};
use futures_executor::block_on;

// ---------------------------------------------------------------------------------------------
// A hostile hand-written manager: counts everything, panics where told.
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Counts {
    enters: AtomicUsize,
    exits: AtomicUsize,
    cancels: AtomicUsize,
    drops: AtomicUsize,
    last_exit: Mutex<String>,
}

impl Counts {
    fn get(&self) -> [usize; 4] {
        [
            self.enters.load(SeqCst),
            self.exits.load(SeqCst),
            self.cancels.load(SeqCst),
            self.drops.load(SeqCst),
        ]
    }
    fn reset(&self) {
        for c in [&self.enters, &self.exits, &self.cancels, &self.drops] {
            c.store(0, SeqCst);
        }
    }
}

/// Where a [`Counted`] panics: nowhere, or in one of its steps.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Panics {
    Nowhere,
    Entering,
    Exiting,
    Cancelling,
    Dropping,
}
use Panics::*;

struct Counted {
    id: u32,
    counts: Arc<Counts>,
    panics: Panics,
}

fn counted(id: u32, counts: &Arc<Counts>, panics: Panics) -> Counted {
    Counted {
        id,
        counts: counts.clone(),
        panics,
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts.drops.fetch_add(1, SeqCst);
        if self.panics == Dropping && !std::thread::panicking() {
            panic!("Counted {} panicked in Drop", self.id);
        }
    }
}

impl<'a> Lend<'a> for Counted {
    type Target = u32;
}

type Fut<'m, T> = Pin<Box<dyn Future<Output = Result<T, Infallible>> + Send + 'm>>;

impl AsyncContextManager for Counted {
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        self.enter_send().await
    }
    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        self.exit_send(exit).await
    }
    fn cancel(self: Pin<&mut Self>) {
        self.counts.cancels.fetch_add(1, SeqCst);
        *self.counts.last_exit.lock().unwrap() = "Cancelled".into();
        if self.panics == Cancelling {
            panic!("Counted {} panicked in cancel", self.id);
        }
    }
    fn name() -> &'static str {
        "Counted"
    }
}

impl SendAsyncContextManager for Counted {
    type EnterFuture<'m> = Fut<'m, u32>;
    type ExitFuture<'x> = Fut<'x, ()>;

    fn enter_send(self: Pin<&mut Self>) -> Fut<'_, u32> {
        let this = self.get_mut();
        Box::pin(async move {
            yield_now().await;
            if this.panics == Entering {
                panic!("Counted {} panicked entering", this.id);
            }
            this.counts.enters.fetch_add(1, SeqCst);
            Ok(this.id)
        })
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Fut<'x, ()> {
        let this = self.get_mut();
        Box::pin(async move {
            yield_now().await;
            this.counts.exits.fetch_add(1, SeqCst);
            *this.counts.last_exit.lock().unwrap() = format!("{exit:?}");
            if this.panics == Exiting {
                panic!("Counted {} panicked exiting", this.id);
            }
            Ok(())
        })
    }
}

impl Unpin for Counted {}

/// Every run that entered tore down exactly once (an exit or a cancel), and the manager was
/// dropped exactly once.
fn assert_once(counts: &Counts, what: &str) {
    let [enters, exits, cancels, drops] = counts.get();
    if drops == 0 {
        // Never made (the scenario was dropped before its first poll).
        assert_eq!(counts.get(), [0, 0, 0, 0], "{what}: used but never dropped");
        return;
    }
    assert!(enters <= 1, "{what}: entered {enters} times");
    assert_eq!(drops, 1, "{what}: dropped {drops} times");
    if enters == 1 {
        assert_eq!(
            exits + cancels,
            1,
            "{what}: {exits} exits + {cancels} cancels"
        );
    }
    counts.reset();
}

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

/// `async_with!` over `manager`, suspending once in the block, which gives back the target.
async fn with_a_yield<M, T>(manager: M) -> Result<T, Infallible>
where
    M: AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = T>,
{
    async_with!(manager => |n| {
        yield_now().await;
        n
    })
}

/// A run that panicked: `caught` holds the panic's message, and the manager's counts are
/// `after` (`[enters, exits, cancels, drops]`).
fn assert_panicked<T>(
    what: &str,
    caught: Result<T, String>,
    message: &str,
    counts: &Counts,
    after: [usize; 4],
) {
    assert_eq!(caught.err().as_deref(), Some(message), "{what}");
    assert_eq!(counts.get(), after, "{what}");
}

// ---------------------------------------------------------------------------------------------
// Either
// ---------------------------------------------------------------------------------------------

#[test]
fn either_each_side_cancelled_at_every_poll_tears_down_once() {
    // Both are reset by each run's check.
    let counts = Arc::new(Counts::default());
    let probe = Probe::default();
    for left in [true, false] {
        cancel_at_every_poll(
            || async {
                let m = if left {
                    Either::Left(counted(1, &counts, Nowhere))
                } else {
                    Either::Right(nullcontext(2u32))
                };
                with_a_yield(probe.observe(m)).await
            },
            |run| {
                probe.assert_torn_down_once(&run);
                if left {
                    assert_once(&counts, "Either::Left");
                }
                if let Run::Completed { output, .. } = run {
                    assert_eq!(output, Ok(if left { 1 } else { 2 }));
                }
            },
        );
    }
}

/// Entered as `Left`, then `Pin::set` to `Right` (drops `Left` in place), then exited: the exit
/// goes to the never-entered `Right`. A protocol misuse, but with no UB, no double drop.
#[test]
fn either_switched_to_the_other_variant_between_enter_and_exit() {
    let left = Arc::new(Counts::default());
    let right = Arc::new(Counts::default());
    block_on(async {
        let mut m = pin!(Either::<Counted, Counted>::Left(counted(1, &left, Nowhere)));
        assert_eq!(m.as_mut().enter().await, Ok(1));
        m.set(Either::Right(counted(2, &right, Nowhere)));
        assert_eq!(
            left.get(),
            [1, 0, 0, 1],
            "Left dropped in place once, never exited"
        );
        m.as_mut().exit(Exit::Ok).await.unwrap();
        m.set(Either::Left(counted(3, &left, Nowhere)));
    });
    assert_eq!(left.get(), [1, 0, 0, 2]);
    assert_eq!(
        right.get(),
        [0, 1, 0, 1],
        "the exit went to the (never entered) Right"
    );
}

/// An `Either` side whose `cancel` panics, dropped at every poll: the panic is contained
/// (reported, not propagated), and the side is still dropped once.
#[test]
fn either_side_whose_cancel_panics_is_contained_at_every_poll() {
    let counts = Arc::new(Counts::default());
    cancel_at_every_poll(
        || async {
            let m: Either<nullcontext_t::N, Counted> =
                Either::Right(counted(1, &counts, Cancelling));
            with_a_yield(m).await
        },
        |_run| assert_once(&counts, "cancel panics"),
    );
}

mod nullcontext_t {
    pub type N = contextlib::NullContext<u32>;
}

/// Where the managed value is held: an `Either` side, or a `BoxManager`.
#[derive(Clone, Copy, Debug)]
enum Holder {
    EitherLeft,
    Boxed,
}

/// A manager whose exit or `Drop` panics after a clean block, held in an `Either` or a
/// `BoxManager`: the panic propagates once; the manager entered, exited and was dropped once.
#[test]
fn a_panic_in_exit_or_drop_propagates_once() {
    for (what, holder, id, panics, message) in [
        (
            "Either side whose exit panics",
            Holder::EitherLeft,
            7,
            Exiting,
            "Counted 7 panicked exiting",
        ),
        (
            "Either side whose Drop panics after a clean exit",
            Holder::EitherLeft,
            8,
            Dropping,
            "Counted 8 panicked in Drop",
        ),
        // The box is freed, the manager dropped once (Miri: no leak, no double free).
        (
            "BoxManager whose manager panics in Drop",
            Holder::Boxed,
            4,
            Dropping,
            "Counted 4 panicked in Drop",
        ),
    ] {
        let counts = Arc::new(Counts::default());
        let manager = counted(id, &counts, panics);
        let caught = block_on_catching(async {
            match holder {
                Holder::EitherLeft => {
                    let m: Either<Counted, nullcontext_t::N> = Either::Left(manager);
                    async_with!(m => |n| n)
                }
                Holder::Boxed => {
                    let m: BoxManager<'_, U32, Infallible> = BoxManager::new(manager);
                    async_with!(m => |n| n)
                }
            }
        });
        assert_panicked(what, caught, message, &counts, [1, 1, 0, 1]);
    }
}

/// An `Either` exit future dropped before its first poll still finishes the side's exit
/// (`EXIT_FINISHES_WHEN_DROPPED = true`), for a side that does nothing until polled.
#[test]
fn either_exit_future_dropped_unpolled_still_exits() {
    let counts = Arc::new(Counts::default());
    {
        let mut m = pin!(Either::<Counted, Counted>::Right(counted(
            1, &counts, Nowhere
        )));
        assert_eq!(block_on(m.as_mut().enter()), Ok(1));
        drop(m.as_mut().exit(Exit::Cancelled));
        assert_eq!(counts.get(), [1, 1, 0, 0]);
        assert_eq!(*counts.last_exit.lock().unwrap(), "Cancelled");
    }
    assert_eq!(counts.get(), [1, 1, 0, 1]);
}

// ---------------------------------------------------------------------------------------------
// BoxManager / SendBoxManager, nested in Either, on an ExitStack
// ---------------------------------------------------------------------------------------------

type U32 = fn(&()) -> u32;

#[test]
fn send_box_in_either_on_an_exit_stack_at_every_poll() {
    for left in [true, false] {
        let boxed = Arc::new(Counts::default());
        let plain = Arc::new(Counts::default());
        let probe = Probe::default();
        cancel_at_every_poll(
            || async {
                async_with!(ExitStack::<Infallible>::new() => |stack| {
                    let m: Either<SendBoxManager<'_, U32, Infallible>, Counted> = if left {
                        Either::Left(SendBoxManager::new(probe.observe(counted(1, &boxed, Nowhere))))
                    } else {
                        Either::Right(counted(2, &plain, Nowhere))
                    };
                    let a = stack.enter(m).await.unwrap();
                    yield_now().await;
                    let b = stack.enter(Either::<Counted, SendBoxManager<'_, U32, Infallible>>::Right(
                        SendBoxManager::new(BoxedOpt(nullcontext(10u32))),
                    )).await.unwrap();
                    yield_now().await;
                    a + b
                })
            },
            |run| {
                if left {
                    probe.assert_torn_down_once(&run);
                    assert_once(&boxed, "boxed side");
                } else {
                    assert_once(&plain, "plain side");
                }
                if let Run::Completed { output, .. } = run {
                    assert_eq!(output.unwrap(), if left { 11 } else { 12 });
                }
            },
        );
    }
}

/// A manager with target u32 made from a `NullContext<u32>` (so it boxes to `U32`).
struct BoxedOpt(contextlib::NullContext<u32>);
impl<'a> Lend<'a> for BoxedOpt {
    type Target = u32;
}
impl AsyncContextManager for BoxedOpt {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        // SAFETY-free: NullContext is Unpin.
        let inner = Pin::new(&mut self.get_mut().0);
        inner.enter().await
    }
    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        Pin::new(&mut self.get_mut().0).exit(exit).await
    }
}
impl SendAsyncContextManager for BoxedOpt {
    type EnterFuture<'m> = Fut<'m, u32>;
    type ExitFuture<'x> = Fut<'x, ()>;
    fn enter_send(self: Pin<&mut Self>) -> Fut<'_, u32> {
        Box::pin(self.enter())
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Fut<'x, ()> {
        Box::pin(self.exit(exit))
    }
}

/// A (non-Send) `BoxManager` in an `Either` in an `Option`, entered by `async_with!`, cancelled
/// at every poll; the inner manager's enter panics, exit panics, cancel panics in turn. (A
/// `BoxManager` whose manager panics in `Drop` is a row of
/// `a_panic_in_exit_or_drop_propagates_once`.)
#[test]
fn box_manager_in_either_in_option_with_each_fault() {
    // A panic in enter or exit surfaces, with these counts after it; the others are cut at
    // every poll.
    for (panics, surfaces) in [
        (Nowhere, None),
        (
            Entering,
            Some(("Counted 3 panicked entering", [0, 0, 0, 1])),
        ),
        (Exiting, Some(("Counted 3 panicked exiting", [1, 1, 0, 1]))),
        (Cancelling, None),
    ] {
        let counts = Arc::new(Counts::default());
        let probe = Probe::default();
        let scenario = || async {
            let inner = probe.observe(counted(3, &counts, panics));
            let m: Option<Either<BoxManager<'_, U32, Infallible>, Counted>> =
                Some(Either::Left(BoxManager::new(inner)));
            with_a_yield(m).await
        };
        if let Some((message, after)) = surfaces {
            let what = format!("{panics:?}");
            assert_panicked(
                &what,
                block_on_catching(scenario()),
                message,
                &counts,
                after,
            );
            continue;
        }
        cancel_at_every_poll(scenario, |run| {
            if panics != Cancelling {
                probe.assert_torn_down_once(&run);
            }
            assert_once(&counts, &format!("boxed in either in option, {panics:?}"));
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(Some(3)), "{panics:?}");
            }
        });
    }
}

/// `BoxManager`'s `exit` is lazy (the inner exit is called at its first poll): dropped unpolled,
/// is the inner manager still torn down? (`EXIT_FINISHES_WHEN_DROPPED` is `false` for it, so a
/// caller must finish it in place; `async_with!` does. Called by hand, the exit is lost — as
/// for any manager whose exit does nothing until polled.)
#[test]
fn box_manager_exit_future_dropped_unpolled_inside_either() {
    let counts = Arc::new(Counts::default());
    {
        // Inside `Either` (which claims its exit finishes when dropped) the box's lazy exit is
        // finished in place by `Either`'s `Finishing`.
        let mut m = pin!(Either::<BoxManager<'_, U32, Infallible>, Counted>::Left(
            BoxManager::new(counted(5, &counts, Nowhere))
        ));
        assert_eq!(block_on(m.as_mut().enter()), Ok(5));
        drop(m.as_mut().exit(Exit::Ok));
        assert_eq!(
            counts.get(),
            [1, 1, 0, 0],
            "the box's exit finished when dropped"
        );
    }
    assert_eq!(counts.get(), [1, 1, 0, 1]);
}

// ---------------------------------------------------------------------------------------------
// ExitStack::push_async_exit / OnExit
// ---------------------------------------------------------------------------------------------

#[test]
fn push_async_exit_callback_that_panics_when_called() {
    let counts = Arc::new(Counts::default());
    let r = block_on_catching(async {
        async_with!(ExitStack::<Infallible>::new() => |stack| {
            stack.enter(counted(1, &counts, Nowhere)).await.unwrap();
            stack.push_async_exit(|_exit| panic!("callback panicked"));
        })
    });
    assert_eq!(r.unwrap_err(), "callback panicked");
    assert_eq!(
        counts.get(),
        [1, 1, 0, 1],
        "the manager below still exits once"
    );
    let last = counts.last_exit.lock().unwrap().clone();
    assert!(last.starts_with("Panic"), "the manager below saw {last}");
}

#[test]
fn push_async_exit_future_that_panics_midway() {
    let counts = Arc::new(Counts::default());
    let started = AtomicUsize::new(0);
    let r = block_on_catching(async {
        async_with!(ExitStack::<Infallible>::new() => |stack| {
            stack.enter(counted(1, &counts, Nowhere)).await.unwrap();
            let started = &started;
            stack.push_async_exit(move |_exit| OnExit::new(async move {
                started.fetch_add(1, SeqCst);
                yield_now().await;
                if started.load(SeqCst) > 0 {
                    panic!("callback future panicked");
                }
            }));
        })
    });
    assert_eq!(r.unwrap_err(), "callback future panicked");
    assert_eq!(started.load(SeqCst), 1);
    assert_eq!(
        counts.get(),
        [1, 1, 0, 1],
        "the manager below still exits once"
    );
    assert!(
        counts.last_exit.lock().unwrap().starts_with("Panic"),
        "{}",
        counts.last_exit.lock().unwrap()
    );
}

/// The stack (with a callback that holds its `Exit` across two suspensions, and managers
/// below and above it) dropped at every poll: the callback runs exactly once, to its end,
/// whenever it was pushed; every manager tears down once.
#[test]
fn push_async_exit_dropped_at_every_poll_runs_callback_once_to_completion() {
    let below = Arc::new(Counts::default());
    let above = Arc::new(Counts::default());
    let pushed = AtomicUsize::new(0);
    let started = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let seen = Mutex::new(Vec::<String>::new());
    let polls = cancel_at_every_poll(
        || async {
            async_with!(ExitStack::<Infallible>::new() => |stack| {
                stack.enter(counted(1, &below, Nowhere)).await.unwrap();
                let (started, finished, seen) = (&started, &finished, &seen);
                stack.push_async_exit(move |exit| OnExit::new(async move {
                    started.fetch_add(1, SeqCst);
                    yield_now().await;
                    yield_now().await;
                    seen.lock().unwrap().push(format!("{exit:?}"));
                    finished.fetch_add(1, SeqCst);
                }));
                pushed.fetch_add(1, SeqCst);
                stack.enter_infallible(counted(2, &above, Nowhere)).await;
                yield_now().await;
            })
        },
        |run| {
            let p = pushed.swap(0, SeqCst);
            let s = started.swap(0, SeqCst);
            let f = finished.swap(0, SeqCst);
            let seen = std::mem::take(&mut *seen.lock().unwrap());
            assert_eq!(
                (s, f),
                (p, p),
                "{run:?}: pushed {p}, started {s}, finished {f}"
            );
            if let Run::Completed { .. } = run {
                assert_eq!(seen, ["Ok"]);
            } else if p == 1 {
                // Cancelled mid-block, or dropped while the stack's exit was under way (the
                // callback already called with `Ok` is finished in place).
                assert!(seen == ["Cancelled"] || seen == ["Ok"], "{run:?}: {seen:?}");
            }
            // `below` is dropped once whenever its enter future was made; `above` likewise.
            for (c, what) in [(&below, "below"), (&above, "above")] {
                if c.get()[3] == 1 {
                    assert_once(c, what);
                } else {
                    assert_eq!(c.get(), [0, 0, 0, 0], "{what}");
                }
            }
        },
    );
    assert!(polls > 4);
}

/// A stack never exited (dropped by hand) with a pushed callback: the callback is called with
/// `Exit::Cancelled`, not silently dropped.
#[test]
fn push_async_exit_on_a_dropped_stack_sees_cancelled() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let stack = ExitStack::<Infallible>::new();
        let s = seen.clone();
        stack.push_async_exit(move |exit| {
            let s2 = s.clone();
            OnExit::new(async move {
                yield_now().await;
                s2.lock().unwrap().push(format!("{exit:?}"));
            })
        });
    }
    assert_eq!(*seen.lock().unwrap(), ["Cancelled"]);
}

/// A callback that panics while the stack is being *dropped* (cancelled): contained.
#[test]
fn push_async_exit_callback_panicking_during_cancellation_is_contained() {
    let counts = Arc::new(Counts::default());
    {
        let mut stack = ExitStack::<Infallible>::new();
        block_on(stack.enter(counted(1, &counts, Nowhere))).unwrap();
        stack.push_async_exit(|_| panic!("callback panicked in cancellation"));
        block_on(stack.enter(counted(2, &counts, Nowhere))).unwrap();
        let _kept = stack.pop_all();
    }
    let [e, x, c, d] = counts.get();
    assert_eq!((e, x + c, d), (2, 2, 2));
}

/// `OnExit` polled after completion: a clear panic, not UB.
#[test]
fn on_exit_polled_again_after_completion_panics_clearly() {
    let mut f = pin!(OnExit::<'_, '_, Infallible>::new(async {}));
    assert!(matches!(
        f.as_mut().poll(&mut noop_cx()),
        Poll::Ready(Ok(()))
    ));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = f.as_mut().poll(&mut noop_cx());
    }));
    assert!(r.is_err());
}

// ---------------------------------------------------------------------------------------------
// enter_infallible
// ---------------------------------------------------------------------------------------------

#[test]
fn enter_infallible_dropped_at_every_poll_and_panicking() {
    for panics in [Nowhere, Cancelling] {
        let counts = Arc::new(Counts::default());
        let probe = Probe::default();
        cancel_at_every_poll(
            || async {
                async_with!(ExitStack::<String>::new() => |stack| {
                    let a = stack.enter_infallible(probe.observe(counted(9, &counts, panics))).await;
                    let b = stack.enter_infallible(Either::<Counted, _>::Right(nullcontext(1u32))).await;
                    yield_now().await;
                    Ok::<u32, String>(a + b)
                })
            },
            |run| {
                if panics != Cancelling {
                    probe.assert_torn_down_once(&run);
                }
                if counts.get()[3] == 1 {
                    assert_once(&counts, &format!("enter_infallible, {panics:?}"));
                }
                if let Run::Completed { output, .. } = run {
                    assert_eq!(output, Ok(10), "{panics:?}");
                }
            },
        );
    }
    // Enter panics: the manager is dropped once, never exited, the panic surfaces.
    let counts = Arc::new(Counts::default());
    let caught = block_on_catching(async {
        async_with!(ExitStack::<String>::new() => |stack| {
            stack.enter_infallible(counted(9, &counts, Entering)).await;
            Ok::<(), String>(())
        })
    });
    let message = "Counted 9 panicked entering";
    assert_panicked("enter panics", caught, message, &counts, [0, 0, 0, 1]);
}

/// An `enter_infallible` future polled once then dropped, by hand, outside `async_with!`.
#[test]
fn enter_infallible_future_dropped_mid_enter_by_hand() {
    let counts = Arc::new(Counts::default());
    let stack = ExitStack::<String>::new();
    {
        let mut f = pin!(stack.enter_infallible(counted(1, &counts, Nowhere)));
        assert!(f.as_mut().poll(&mut noop_cx()).is_pending());
    }
    assert_eq!(counts.get(), [0, 0, 0, 1], "never entered, dropped once");
    assert!(stack.is_empty());
    drop(stack);
    assert_eq!(counts.get(), [0, 0, 0, 1]);
}

// ---------------------------------------------------------------------------------------------
// &mut M, Pin<&mut M>, closing as SendAsyncContextManager
// ---------------------------------------------------------------------------------------------

#[test]
fn borrowed_managers_on_a_stack_at_every_poll() {
    let a = Arc::new(Counts::default());
    let b = Arc::new(Counts::default());
    let closed = AtomicUsize::new(0);
    let polls = cancel_at_every_poll(
        || async {
            let mut ma = counted(1, &a, Nowhere);
            let mut mb = pin!(counted(2, &b, Nowhere));
            let closed = &closed;
            let out = async_with!(ExitStack::<Infallible>::new() => |stack| {
                let x = stack.enter(&mut ma).await.unwrap();
                let y = stack.enter(mb.as_mut()).await.unwrap();
                let z = stack.enter(closing(5u32, move |v| async move {
                    yield_now().await;
                    closed.fetch_add(v as usize, SeqCst);
                    Ok::<(), Infallible>(())
                })).await.unwrap();
                yield_now().await;
                x + y + *z
            });
            // The borrowed managers are still usable (and not torn down twice) afterwards.
            let _ = (&mut ma, &mut mb);
            out
        },
        |run| {
            for (c, what) in [(&a, "&mut M"), (&b, "Pin<&mut M>")] {
                assert_once(c, what);
            }
            let closed = closed.swap(0, SeqCst);
            assert!(closed == 0 || closed == 5, "closed {closed}");
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(8));
                assert_eq!(closed, 5);
            }
        },
    );
    assert!(polls > 3);
}

/// `closing` entered twice through `&mut` (one-shot): a clear panic naming the misuse.
#[test]
fn closing_through_mut_entered_twice_panics_clearly() {
    let mut c = closing(1u8, |_| async { Ok::<(), Infallible>(()) });
    block_on(async { async_with!(&mut c => |_v| ()) }).unwrap();
    let r = block_on_catching(async { async_with!(&mut c => |_v| ()) });
    assert!(r.unwrap_err().contains("one-shot"));
}

/// An `async_with!` over a borrowed manager, leaked (`mem::forget` of the boxed future) mid-block:
/// the borrow ends, the manager is usable and droppable again; no UB. (Leaks memory on purpose.)
#[test]
#[cfg_attr(
    miri,
    ignore = "leaks the future's memory on purpose; run with -Zmiri-ignore-leaks"
)]
fn leaked_async_with_over_a_borrowed_either_box() {
    let counts = Arc::new(Counts::default());
    let mut m: Either<SendBoxManager<'_, U32, Infallible>, Counted> =
        Either::Left(SendBoxManager::new(counted(1, &counts, Nowhere)));
    for polls in 1..4 {
        let mut f = Box::pin(with_a_yield(&mut m));
        for _ in 0..polls {
            let _ = f.as_mut().poll(&mut noop_cx());
        }
        std::mem::forget(f);
        // The borrow is over: cancel by hand (the leaked future never runs again).
        Pin::new(&mut m).cancel();
    }
    drop(m);
    let [_, _, _, d] = counts.get();
    assert_eq!(d, 1);
}
