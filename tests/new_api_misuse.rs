//! Hostile, safe-code attacks on the public surface added with `BoxManager`/`SendBoxManager`,
//! `Either`/`SameTarget`, `Option<M>`, `ExitStack::push_async_exit`/`OnExit`/`enter_infallible`
//! and the `SendAsyncContextManager` impls of `&mut M`, `Pin<&mut M>` and `closing`: managers
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

#[derive(Clone, Copy, Default, PartialEq)]
struct Faults {
    enter_panics: bool,
    exit_panics: bool,
    cancel_panics: bool,
    drop_panics: bool,
}

struct Counted {
    id: u32,
    counts: Arc<Counts>,
    faults: Faults,
}

fn counted(id: u32, counts: &Arc<Counts>, faults: Faults) -> Counted {
    Counted {
        id,
        counts: counts.clone(),
        faults,
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts.drops.fetch_add(1, SeqCst);
        if self.faults.drop_panics && !std::thread::panicking() {
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
        if self.faults.cancel_panics {
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
            if this.faults.enter_panics {
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
            if this.faults.exit_panics {
                panic!("Counted {} panicked exiting", this.id);
            }
            Ok(())
        })
    }
}

impl Unpin for Counted {}

const NONE: Faults = Faults {
    enter_panics: false,
    exit_panics: false,
    cancel_panics: false,
    drop_panics: false,
};

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

// ---------------------------------------------------------------------------------------------
// Either
// ---------------------------------------------------------------------------------------------

#[test]
fn either_each_side_cancelled_at_every_poll_tears_down_once() {
    for left in [true, false] {
        let counts = Arc::new(Counts::default());
        let probe = Probe::default();
        cancel_at_every_poll(
            || async {
                let m = if left {
                    Either::Left(counted(1, &counts, NONE))
                } else {
                    Either::Right(nullcontext(2u32))
                };
                async_with!(probe.observe(m) => |n| {
                    yield_now().await;
                    n
                })
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
        let mut m = pin!(Either::<Counted, Counted>::Left(counted(1, &left, NONE)));
        assert_eq!(m.as_mut().enter().await, Ok(1));
        m.set(Either::Right(counted(2, &right, NONE)));
        assert_eq!(
            left.get(),
            [1, 0, 0, 1],
            "Left dropped in place once, never exited"
        );
        m.as_mut().exit(Exit::Ok).await.unwrap();
        m.set(Either::Left(counted(3, &left, NONE)));
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
    let faults = Faults {
        cancel_panics: true,
        ..NONE
    };
    cancel_at_every_poll(
        || async {
            let m: Either<nullcontext_t::N, Counted> = Either::Right(counted(1, &counts, faults));
            async_with!(m => |n| {
                yield_now().await;
                n
            })
        },
        |_run| assert_once(&counts, "cancel panics"),
    );
}

mod nullcontext_t {
    pub type N = contextlib::NullContext<u32>;
}

#[test]
fn either_side_whose_exit_panics_propagates_once() {
    let counts = Arc::new(Counts::default());
    let faults = Faults {
        exit_panics: true,
        ..NONE
    };
    let r = block_on_catching(async {
        let m: Either<Counted, nullcontext_t::N> = Either::Left(counted(7, &counts, faults));
        async_with!(m => |n| n)
    });
    assert_eq!(r.unwrap_err(), "Counted 7 panicked exiting");
    assert_eq!(counts.get(), [1, 1, 0, 1]);
}

#[test]
fn either_side_whose_drop_panics_after_a_clean_exit() {
    let counts = Arc::new(Counts::default());
    let faults = Faults {
        drop_panics: true,
        ..NONE
    };
    let r = block_on_catching(async {
        let m: Either<Counted, nullcontext_t::N> = Either::Left(counted(8, &counts, faults));
        async_with!(m => |n| n)
    });
    assert_eq!(r.unwrap_err(), "Counted 8 panicked in Drop");
    assert_eq!(counts.get(), [1, 1, 0, 1]);
}

/// An `Either` exit future dropped before its first poll still finishes the side's exit
/// (`EXIT_FINISHES_WHEN_DROPPED = true`), for a side that does nothing until polled.
#[test]
fn either_exit_future_dropped_unpolled_still_exits() {
    let counts = Arc::new(Counts::default());
    {
        let mut m = pin!(Either::<Counted, Counted>::Right(counted(1, &counts, NONE)));
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
                        Either::Left(SendBoxManager::new(probe.observe(counted(1, &boxed, NONE))))
                    } else {
                        Either::Right(counted(2, &plain, NONE))
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
/// at every poll; the inner manager's enter panics, exit panics, Drop panics in turn.
#[test]
fn box_manager_in_either_in_option_with_each_fault() {
    for faults in [
        NONE,
        Faults {
            enter_panics: true,
            ..NONE
        },
        Faults {
            exit_panics: true,
            ..NONE
        },
        Faults {
            cancel_panics: true,
            ..NONE
        },
    ] {
        let counts = Arc::new(Counts::default());
        let probe = Probe::default();
        let scenario = || async {
            let inner = probe.observe(counted(3, &counts, faults));
            let m: Option<Either<BoxManager<'_, U32, Infallible>, Counted>> =
                Some(Either::Left(BoxManager::new(inner)));
            async_with!(m => |n| {
                yield_now().await;
                n
            })
        };
        if faults.enter_panics {
            assert_eq!(
                block_on_catching(scenario()).unwrap_err(),
                "Counted 3 panicked entering"
            );
            assert_eq!(counts.get(), [0, 0, 0, 1]);
            continue;
        }
        if faults.exit_panics {
            assert_eq!(
                block_on_catching(scenario()).unwrap_err(),
                "Counted 3 panicked exiting"
            );
            assert_eq!(counts.get(), [1, 1, 0, 1]);
            continue;
        }
        cancel_at_every_poll(scenario, |run| {
            if !faults.cancel_panics {
                probe.assert_torn_down_once(&run);
            }
            assert_once(&counts, "boxed in either in option");
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(Some(3)));
            }
        });
    }
}

/// The inner manager of a `BoxManager` panics in `Drop`: the panic surfaces once, the box is
/// freed, the manager dropped once (Miri: no leak, no double free).
#[test]
fn box_manager_whose_manager_panics_in_drop() {
    let counts = Arc::new(Counts::default());
    let faults = Faults {
        drop_panics: true,
        ..NONE
    };
    let r = block_on_catching(async {
        let m: BoxManager<'_, U32, Infallible> = BoxManager::new(counted(4, &counts, faults));
        async_with!(m => |n| n)
    });
    assert_eq!(r.unwrap_err(), "Counted 4 panicked in Drop");
    assert_eq!(counts.get(), [1, 1, 0, 1]);
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
            BoxManager::new(counted(5, &counts, NONE))
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
            stack.enter(counted(1, &counts, NONE)).await.unwrap();
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
            stack.enter(counted(1, &counts, NONE)).await.unwrap();
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
                stack.enter(counted(1, &below, NONE)).await.unwrap();
                let (started, finished, seen) = (&started, &finished, &seen);
                stack.push_async_exit(move |exit| OnExit::new(async move {
                    started.fetch_add(1, SeqCst);
                    yield_now().await;
                    yield_now().await;
                    seen.lock().unwrap().push(format!("{exit:?}"));
                    finished.fetch_add(1, SeqCst);
                }));
                pushed.fetch_add(1, SeqCst);
                stack.enter_infallible(counted(2, &above, NONE)).await;
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
        block_on(stack.enter(counted(1, &counts, NONE))).unwrap();
        stack.push_async_exit(|_| panic!("callback panicked in cancellation"));
        block_on(stack.enter(counted(2, &counts, NONE))).unwrap();
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
    for faults in [
        NONE,
        Faults {
            cancel_panics: true,
            ..NONE
        },
    ] {
        let counts = Arc::new(Counts::default());
        let probe = Probe::default();
        cancel_at_every_poll(
            || async {
                async_with!(ExitStack::<String>::new() => |stack| {
                    let a = stack.enter_infallible(probe.observe(counted(9, &counts, faults))).await;
                    let b = stack.enter_infallible(Either::<Counted, _>::Right(nullcontext(1u32))).await;
                    yield_now().await;
                    Ok::<u32, String>(a + b)
                })
            },
            |run| {
                if !faults.cancel_panics {
                    probe.assert_torn_down_once(&run);
                }
                if counts.get()[3] == 1 {
                    assert_once(&counts, "enter_infallible");
                }
                if let Run::Completed { output, .. } = run {
                    assert_eq!(output, Ok(10));
                }
            },
        );
    }
    // Enter panics: the manager is dropped once, never exited, the panic surfaces.
    let counts = Arc::new(Counts::default());
    let r = block_on_catching(async {
        async_with!(ExitStack::<String>::new() => |stack| {
            let faults = Faults { enter_panics: true, ..NONE };
            stack.enter_infallible(counted(9, &counts, faults)).await;
            Ok::<(), String>(())
        })
    });
    assert_eq!(r.unwrap_err(), "Counted 9 panicked entering");
    assert_eq!(counts.get(), [0, 0, 0, 1]);
}

/// An `enter_infallible` future polled once then dropped, by hand, outside `async_with!`.
#[test]
fn enter_infallible_future_dropped_mid_enter_by_hand() {
    let counts = Arc::new(Counts::default());
    let stack = ExitStack::<String>::new();
    {
        let mut f = pin!(stack.enter_infallible(counted(1, &counts, NONE)));
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
            let mut ma = counted(1, &a, NONE);
            let mut mb = pin!(counted(2, &b, NONE));
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
        Either::Left(SendBoxManager::new(counted(1, &counts, NONE)));
    for polls in 1..4 {
        let mut f = Box::pin(async {
            async_with!(&mut m => |n| {
                yield_now().await;
                n
            })
        });
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
