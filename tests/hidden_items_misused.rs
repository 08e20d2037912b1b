//! A hostile review of the design that made `generated` a safe fn (issue 20, item 1): safe
//! programs, as a hostile crate would write them, that call contextlib's public and hidden items
//! directly and in any order, trying to reach undefined behaviour or a silent wrong result. Each
//! test asserts the clear panic or the correct behaviour it gets. They run natively and under
//! Miri in both borrow models (.ci/miri). No `unsafe` in this crate.
//!
//! A test marked `#[ignore = "finding: .."]` is a hole the review found: it fails (natively
//! with a wrong result, under Miri with undefined behaviour) until the design is fixed.
#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use contextlib::__private::{Generated, generated};
use contextlib::expansion::{Body, Lent, TargetMustBeCovariantInTheManagerBorrow};
use contextlib::testing::yield_now;
use contextlib::{AsyncContextManager, Exit, TeardownReport, async_with};
use futures_executor::block_on;

mod common;
use common::panic_message;

/// The family of an owned target `T`, which borrows nothing from the manager.
type Own<T> = for<'a, 'b> fn(&'a (), &'b ()) -> T;
type Owned = Own<u32>;
type OwnedText = Own<String>;
/// Invariant in the manager borrow: `&'a Cell<&'a str>`.
type SharedCell = for<'a, 'b> fn(&'a (), &'b ()) -> &'a Cell<&'a str>;
/// Invariant in the manager borrow: `&'a mut Vec<&'a str>`.
type MutVec = for<'a, 'b> fn(&'a (), &'b ()) -> &'a mut Vec<&'a str>;
/// Invariant in the manager borrow, and lendable without a leak: `&'a mut [&'a str]`.
type MutSlice = for<'a, 'b> fn(&'a (), &'b ()) -> &'a mut [&'a str];

/// Enters `manager` with `async_with!` (a block that ignores its target), which must panic;
/// returns the panic message.
fn entering_panics<M: AsyncContextManager>(manager: M) -> String {
    panic_message(|| {
        let _ = block_on(async { async_with!(manager => |_target| ()) });
    })
}

/// Enters `manager`, which must panic with a message containing `expected`.
fn assert_entering_panics<M: AsyncContextManager>(manager: M, expected: &str) {
    let message = entering_panics(manager);
    assert!(message.contains(expected), "{message}");
}

/// `assert_entering_panics` for a manager whose target counts its drops: it is dropped exactly
/// once, never lent.
fn assert_entering_panics_dropping_the_target_once<M: AsyncContextManager>(
    manager: M,
    expected: &str,
) {
    reset_drops();
    assert_entering_panics(manager, expected);
    assert_eq!(drops(), 1, "{expected}: the target is dropped exactly once");
}

/// The honest witness of an owned target: lends what the body yields, as it is.
fn honest<'s, 'l, T>(
    _: TargetMustBeCovariantInTheManagerBorrow<'s, 'l>,
    Lent(value, _): Lent<'l, Own<T>>,
) -> Lent<'s, Own<T>> {
    Lent(value, PhantomData)
}

/// A body local that polls a yield point, which must not complete, when it is dropped.
struct PollsOnDrop<'p, F: Future>(Pin<&'p mut F>);

impl<F: Future> Drop for PollsOnDrop<'_, F> {
    fn drop(&mut self) {
        assert!(poll_once(self.0.as_mut()).is_pending());
    }
}

/// Polls `point` once from the body's own poll: the yield point publishes its target and is
/// pending; the body goes on without suspending.
async fn publish<F: Future>(mut point: Pin<&mut F>) {
    poll_fn(|cx| {
        assert!(point.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await;
}

/// Panics, as a statement of type `()` (a body's value must be `()`, not `!`).
fn fail(message: String) {
    panic!("{message}")
}

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

thread_local! {
    /// Drops of `Counted` values on this thread (each test runs on its own thread).
    static DROPS: Cell<u32> = const { Cell::new(0) };
}

/// A lent value whose drops are counted, to check it is dropped exactly once.
#[derive(Debug)]
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.set(drops.get() + 1));
    }
}

fn reset_drops() {
    DROPS.with(|drops| drops.set(0));
}

fn drops() -> u32 {
    DROPS.with(Cell::get)
}

type OwnedCounted = Own<Counted>;

// ---------------------------------------------------------------------------------------------
// Hostile covariance witnesses for invariant families.
// ---------------------------------------------------------------------------------------------

/// Memory a witness leaks on purpose, kept reachable (so Miri's leak check does not flag it).
static LEAKED: Mutex<Vec<std::sync::atomic::AtomicPtr<()>>> = Mutex::new(Vec::new());

fn keep_reachable<T>(leaked: &mut T) {
    let address = std::ptr::from_mut(leaked).cast::<()>();
    LEAKED
        .lock()
        .unwrap()
        .push(std::sync::atomic::AtomicPtr::new(address));
}

/// `&'a Cell<&'a str>`: the witness cannot return the body's cell (that does not compile,
/// ui/hostile_witness_returns_invariant_input); the most it can do is lend a fresh cell holding
/// a copy of what the body's cell holds. The block fills that copy with a borrow shorter than
/// the body's; the body's own cell is untouched, and reads what it held.
#[test]
fn a_witness_deriving_a_fresh_cell_from_the_input_leaves_the_body_cell_alone() {
    let seen = RefCell::new(String::new());
    let seen_ref = &seen;
    let manager = generated::<SharedCell, _, _, _>(
        |_, Lent(cell, _)| {
            let copy = Box::leak(Box::new(Cell::new(cell.get())));
            keep_reachable(copy);
            Lent(&*copy, PhantomData)
        },
        move |mut yielder| async move {
            let cell = Cell::new("the body's text");
            let exit = yielder.yield_(&cell).await;
            assert!(matches!(exit, Exit::Ok));
            seen_ref.borrow_mut().push_str(cell.get());
        },
    );
    let block_saw = block_on(async {
        let short = String::from("a borrow of the block's");
        async_with!(manager => |cell| {
            let before = cell.get().to_string();
            cell.set(&short);
            before
        })
    });
    assert_eq!(block_saw, Ok(String::from("the body's text")));
    assert_eq!(*seen.borrow(), "the body's text");
}

/// `&'a mut Vec<&'a str>`: a witness that steals the body's elements into a fresh vector, which
/// is what the block gets (with the body's elements) and pushes a short borrow into.
#[test]
fn a_witness_stealing_the_elements_of_an_invariant_vec_lends_only_its_own_vec() {
    let manager = generated::<MutVec, _, _, _>(
        |_, Lent(items, _)| {
            let stolen = Box::leak(Box::new(std::mem::take(items)));
            keep_reachable(stolen);
            Lent(stolen, PhantomData)
        },
        |mut yielder| async move {
            let mut items = vec!["one", "two"];
            let exit = yielder.yield_(&mut items).await;
            assert!(matches!(exit, Exit::Ok));
        },
    );
    let lent = block_on(async {
        let short = String::from("pushed by the block");
        async_with!(manager => |items| {
            items.push(&short);
            items.join(", ")
        })
    });
    assert_eq!(lent, Ok(String::from("one, two, pushed by the block")));
}

/// `&'a mut [&'a str]` with a witness that lends an empty slice (no allocation at all).
#[test]
fn a_witness_lending_an_empty_slice_for_an_invariant_family_is_what_the_block_gets() {
    let manager = generated::<MutSlice, _, _, _>(
        |_, Lent(_, _)| Lent(<&mut [&str]>::default(), PhantomData),
        |mut yielder| async move {
            let mut items = ["kept"];
            yielder.yield_(&mut items).await;
        },
    );
    let len = block_on(async { async_with!(manager => |items| items.len()) });
    assert_eq!(len, Ok(0));
}

/// A witness that panics: the target it was given is dropped once (while unwinding), the enter
/// panics with the witness's message, and the manager drops cleanly afterwards.
#[test]
fn a_panicking_witness_drops_the_target_once_and_the_enter_panics() {
    let manager = generated::<OwnedCounted, _, _, _>(
        |_, _| panic!("the witness refuses"),
        |mut yielder| async move {
            yielder.yield_(Counted).await;
        },
    );
    assert_entering_panics_dropping_the_target_once(manager, "the witness refuses");
}

/// A witness with state (an `Fn` counting its calls): the library calls it exactly once per
/// lent target.
#[test]
fn a_stateful_witness_is_called_once_per_yield() {
    let calls = Rc::new(Cell::new(0));
    let calls_in_witness = Rc::clone(&calls);
    let manager = generated::<Owned, _, _, _>(
        move |_, Lent(value, _)| {
            calls_in_witness.set(calls_in_witness.get() + 1);
            Lent(value + calls_in_witness.get(), PhantomData)
        },
        |mut yielder| async move {
            yielder.yield_(40).await;
        },
    );
    assert_eq!(block_on(async { async_with!(manager => |n| n) }), Ok(41));
    assert_eq!(calls.get(), 1);
}

// ---------------------------------------------------------------------------------------------
// Yield handles and yield points in the wrong place.
// ---------------------------------------------------------------------------------------------

/// ABA: a manager escapes its yield handle and is dropped; a new manager is built in the very
/// same place (a loop's pinned local). The old handle, moved into the new manager's body, is
/// refused: identities are never reused, addresses do not matter.
#[test]
fn a_yield_handle_of_a_dropped_manager_is_refused_by_a_new_one_in_the_same_place() {
    let stash = RefCell::new(None);
    let stash_ref = &stash;
    let mut messages = Vec::new();
    for round in 0..2 {
        let manager = generated::<Owned, _, _, _>(honest, move |yielder| async move {
            // Stores this round's handle and takes the previous round's.
            let stashed = stash_ref.replace(Some(yielder));
            match stashed {
                // Round 1: yield through the previous manager's handle, not our own.
                Some(mut old) => {
                    old.yield_(round).await;
                }
                None => std::future::pending::<()>().await,
            }
        });
        let mut manager = pin!(manager);
        if round == 0 {
            assert!(poll_once(pin!(manager.as_mut().enter())).is_pending());
        } else {
            messages.push(panic_message(|| {
                let _ = poll_once(pin!(manager.as_mut().enter()));
            }));
        }
    }
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("inside another manager"),
        "{}",
        messages[0]
    );
}

/// A yield handle that left its body and came back (through a channel) is its own manager's
/// again: the yield works, from inside the coroutine.
#[test]
fn a_yield_handle_that_left_and_came_back_into_its_own_body_works() {
    let mailbox = RefCell::new(None);
    let mailbox_ref = &mailbox;
    let manager = generated::<Owned, _, _, _>(honest, move |yielder| async move {
        *mailbox_ref.borrow_mut() = Some(yielder);
        yield_now().await;
        let mut back = mailbox_ref.borrow_mut().take().expect("sent back");
        let exit = back.yield_(7).await;
        assert!(matches!(exit, Exit::Ok));
    });
    let lent = block_on(async {
        let mut manager = pin!(manager);
        let enter = manager.as_mut().enter();
        let mut enter = pin!(enter);
        assert!(poll_once(enter.as_mut()).is_pending()); // the handle is in the mailbox now
        assert!(mailbox.borrow().is_some());
        let lent = enter.await.expect("entered");
        manager.as_mut().exit(Exit::Ok).await.expect("exited");
        lent
    });
    assert_eq!(lent, 7);
}

/// Nested managers: the outer body hands its yield handle to an inner manager's body, which
/// yields through it while the inner manager polls. Refused: the inner manager is polling.
#[test]
fn an_outer_yield_handle_used_inside_a_nested_manager_body_is_refused() {
    let outer = generated::<Owned, _, _, _>(honest, |mut outer_yielder| async move {
        let outer_yielder = &mut outer_yielder;
        let inner = generated::<Owned, _, _, _>(honest, move |_inner_yielder| async move {
            outer_yielder.yield_(1).await;
        });
        let _ = async_with!(inner => |n| n);
    });
    assert_entering_panics(outer, "inside another manager");
}

/// Nested managers the other way round: an inner manager lives in the outer coroutine's memory,
/// and the outer body polls the inner manager's escaped yield point. Refused by identity (the
/// address lies inside the outer coroutine, and that is not enough).
#[test]
fn an_inner_yield_point_polled_by_the_outer_body_is_refused() {
    let stash = RefCell::new(None);
    let stash_ref = &stash;
    let outer = generated::<Owned, _, _, _>(honest, move |_outer_yielder| async move {
        let inner = generated::<Owned, _, _, _>(honest, move |yielder| async move {
            *stash_ref.borrow_mut() = Some(yielder);
            std::future::pending::<()>().await;
        });
        let mut inner = pin!(inner);
        let _ = poll_once(pin!(inner.as_mut().enter()));
        let mut stolen = stash_ref.borrow_mut().take().expect("the inner body ran");
        // The handle now lives in the outer coroutine, next to the inner manager.
        stolen.yield_(5).await;
    });
    assert_entering_panics(outer, "inside another manager");
}

/// A yield point polled from a scoped thread the body starts: the thread has no manager
/// polling, so the yield point refuses.
#[test]
fn a_yield_point_polled_from_another_thread_is_refused() {
    let manager = generated::<Owned, _, _, _>(honest, |mut yielder| async move {
        let mut point = pin!(yielder.yield_(3));
        let point = point.as_mut();
        let message = std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    panic_message(move || {
                        let _ = poll_once(point);
                    })
                })
                .join()
                .expect("the thread returns the message")
        });
        fail(format!("relayed: {message}"));
    });
    let message = entering_panics(manager);
    assert!(
        message.contains("relayed") && message.contains("outside its manager's `enter` and `exit`"),
        "{message}"
    );
}

/// An escaped yield handle used by a task on another thread, while its manager is entering on
/// this one: that thread has no manager polling.
#[test]
fn an_escaped_yield_handle_used_on_another_thread_is_refused() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let manager = generated::<Owned, _, _, _>(honest, move |yielder| {
        sender.send(yielder).expect("the receiver waits");
        std::future::pending::<()>()
    });
    let mut manager = pin!(manager);
    assert!(poll_once(pin!(manager.as_mut().enter())).is_pending());
    let message = std::thread::spawn(move || {
        let mut yielder = receiver.recv().expect("sent");
        panic_message(move || {
            block_on(async move {
                yielder.yield_(9).await;
            });
        })
    })
    .join()
    .expect("the thread returns the message");
    assert!(
        message.contains("outside its manager's `enter` and `exit`"),
        "{message}"
    );
}

/// A hand-written future as the body (not an `async` block) that keeps the yield handle inline
/// and yields from its own `poll`: the yield point can only live on the stack of that poll, and
/// is refused.
#[test]
fn a_hand_written_body_future_yielding_from_its_poll_is_refused() {
    struct HandWritten<Y>(Y);
    impl<W> Future for HandWritten<contextlib::expansion::Yielder<Owned, W>>
    where
        W: for<'long, 'short> Fn(
                contextlib::expansion::TargetMustBeCovariantInTheManagerBorrow<'short, 'long>,
                Lent<'long, Owned>,
            ) -> Lent<'short, Owned>
            + Unpin,
    {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            let point = pin!(this.0.yield_(11));
            point.poll(cx).map(drop)
        }
    }
    let manager = generated::<Owned, _, _, _>(honest, HandWritten);
    assert_entering_panics(manager, "other than its manager's own body");
}

// ---------------------------------------------------------------------------------------------
// join/select in a body, offers taken back, panics and drops at every step.
// ---------------------------------------------------------------------------------------------

/// Polls `first`, then `second`, until one is ready; drops the other (a hand-written select).
async fn select<A: Future, B: Future>(first: A, second: B) -> Result<A::Output, B::Output> {
    let mut first = pin!(first);
    let mut second = pin!(second);
    poll_fn(|cx| {
        if let Poll::Ready(value) = first.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        second.as_mut().poll(cx).map(Err)
    })
    .await
}

/// Polls both to completion (a hand-written join).
async fn join<A: Future, B: Future>(first: A, second: B) -> (A::Output, B::Output) {
    let mut first = pin!(first);
    let mut second = pin!(second);
    let mut first_out = None;
    let mut second_out = None;
    poll_fn(|cx| {
        if first_out.is_none() {
            if let Poll::Ready(value) = first.as_mut().poll(cx) {
                first_out = Some(value);
            }
        }
        if second_out.is_none() {
            if let Poll::Ready(value) = second.as_mut().poll(cx) {
                second_out = Some(value);
            }
        }
        if first_out.is_some() && second_out.is_some() {
            Poll::Ready((first_out.take().unwrap(), second_out.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// The yield joined with a future that finishes during the teardown: the target is lent, the
/// block's outcome comes back, the joined future ran in both phases.
#[test]
fn a_yield_joined_with_another_future_lends_once_and_sees_the_outcome() {
    let log = RefCell::new(Vec::new());
    let log_ref = &log;
    let manager = generated::<OwnedText, _, _, _>(honest, move |mut yielder| async move {
        let side = async {
            log_ref.borrow_mut().push("side started");
            yield_now().await;
            yield_now().await;
            log_ref.borrow_mut().push("side done");
        };
        let (exit, ()) = join(yielder.yield_(String::from("joined")), side).await;
        log_ref.borrow_mut().push(if matches!(exit, Exit::Err(_)) {
            "saw the error"
        } else {
            "saw something else"
        });
    });
    let result: Result<usize, String> = block_on(async {
        async_with!(manager => |text| Err::<usize, _>(format!("{text} failed")))
    });
    assert_eq!(result, Err(String::from("joined failed")));
    assert_eq!(
        *log.borrow(),
        ["side started", "side done", "saw the error"]
    );
}

/// The yield raced against a future that wins in the same enter poll, after the yield point
/// published its target: the yield point is dropped, its offer taken back (the target dropped
/// once, never lent), and the body, which then returns, gets the "returned before its yield
/// point" panic.
#[test]
fn a_yield_that_loses_a_select_after_publishing_takes_its_offer_back() {
    let manager = generated::<OwnedCounted, _, _, _>(honest, |mut yielder| async move {
        let won = select(
            yielder.yield_(Counted),
            std::future::ready("the other branch"),
        )
        .await;
        assert!(won.is_err());
    });
    assert_entering_panics_dropping_the_target_once(manager, "returned before its yield point");
}

/// A yield point of the outer manager lives in an inner manager's coroutine (inside the outer
/// one's memory) and is polled by a `Drop` there while the outer body drops the inner manager:
/// that is the outer manager's own enter poll, so the yield point publishes, and is then dropped
/// with the inner coroutine, taking its offer back. The outer body then yields for real.
#[test]
fn an_outer_yield_point_published_from_an_inner_coroutine_drop_is_taken_back() {
    reset_drops();
    let outer = generated::<OwnedCounted, _, _, _>(honest, |mut outer_yielder| async move {
        {
            let outer_yielder = &mut outer_yielder;
            let inner = generated::<Owned, _, _, _>(honest, move |_inner_yielder| async move {
                let point = pin!(outer_yielder.yield_(Counted));
                let _bomb = PollsOnDrop(point);
                std::future::pending::<()>().await;
            });
            let mut inner = pin!(inner);
            assert!(poll_once(pin!(inner.as_mut().enter())).is_pending());
            // Held across a suspension: the inner manager lives in the outer coroutine.
            yield_now().await;
        } // the inner manager is dropped here, in the outer enter poll
        assert_eq!(drops(), 1, "the offer was taken back, its target dropped");
        let exit = outer_yielder.yield_(Counted).await;
        assert!(matches!(exit, Exit::Ok));
    });
    let result = block_on(async { async_with!(outer => |_counted| drops()) });
    assert_eq!(result, Ok(1));
    assert_eq!(drops(), 2);
}

/// The body publishes its target, then panics in the same enter poll (before the driver took
/// the target): the target is dropped exactly once, by the unwinding yield point.
#[test]
fn a_body_panicking_after_publishing_drops_the_target_once() {
    let manager = generated::<OwnedCounted, _, _, _>(honest, |mut yielder| async move {
        let mut point = pin!(yielder.yield_(Counted));
        publish(point.as_mut()).await;
        fail(String::from("after publishing"));
    });
    assert_entering_panics_dropping_the_target_once(manager, "after publishing");
}

/// A target whose `Drop` panics when the yield point takes its offer back: the enter panics
/// with that message; nothing is dropped twice and the manager drops cleanly.
#[test]
fn a_target_panicking_in_drop_while_its_offer_is_taken_back_panics_clearly() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            DROPS.with(|drops| drops.set(drops.get() + 1));
            panic!("the target's drop panics");
        }
    }
    let manager = generated::<Own<PanicsOnDrop>, _, _, _>(honest, |mut yielder| async move {
        {
            let mut point = pin!(yielder.yield_(PanicsOnDrop));
            publish(point.as_mut()).await;
        } // the yield point takes its offer back: the target's drop panics
        yielder.yield_(PanicsOnDrop).await;
    });
    assert_entering_panics_dropping_the_target_once(manager, "the target's drop panics");
}

/// A body local whose `Drop` polls the yield point while the manager drops the suspended
/// coroutine (outside any poll): refused with a panic, nothing lent.
#[test]
fn a_yield_point_polled_from_a_drop_outside_any_poll_is_refused() {
    let manager = generated::<Owned, _, _, _>(honest, |mut yielder| async move {
        let point = pin!(yielder.yield_(1));
        let _bomb = PollsOnDrop(point);
        std::future::pending::<()>().await;
    });
    let message = panic_message(|| {
        let mut manager = pin!(manager);
        assert!(poll_once(pin!(manager.as_mut().enter())).is_pending());
        // dropped while entering: the coroutine is dropped in place, the bomb polls
    });
    assert!(
        message.contains("outside its manager's `enter` and `exit`"),
        "{message}"
    );
}

/// A yield point polled by a body local's `Drop` while the body unwinds during the teardown:
/// that is still the manager's own exit poll, so it reads the block's `Exit`, which is alive.
#[test]
fn a_yield_point_polled_while_the_teardown_unwinds_reads_the_live_exit() {
    let seen = RefCell::new(String::new());
    let seen_ref = &seen;
    struct ReadsOnDrop<'p, 's, F: Future<Output: std::fmt::Debug>>(
        Pin<&'p mut F>,
        &'s RefCell<String>,
    );
    impl<F: Future<Output: std::fmt::Debug>> Drop for ReadsOnDrop<'_, '_, F> {
        fn drop(&mut self) {
            if let Poll::Ready(exit) = poll_once(self.0.as_mut()) {
                self.1.borrow_mut().push_str(&format!("{exit:?}"));
            }
        }
    }
    let manager = generated::<Owned, _, _, _>(honest, move |mut yielder| async move {
        let point = pin!(yielder.yield_(2));
        let mut reader = ReadsOnDrop(point, seen_ref);
        let mut lent = false;
        poll_fn(|cx| {
            if !lent {
                lent = true;
                assert!(reader.0.as_mut().poll(cx).is_pending());
                return Poll::Pending;
            }
            Poll::Ready(())
        })
        .await;
        fail(String::from("the teardown panics"));
    });
    let message = panic_message(|| {
        let _: Result<u32, u32> =
            block_on(async { async_with!(manager => |n| Err::<u32, u32>(n)) });
    });
    assert!(message.contains("the teardown panics"), "{message}");
    assert!(seen.borrow().starts_with("Err"), "{}", seen.borrow());
}

// ---------------------------------------------------------------------------------------------
// enter and exit by hand, in any order; leaked and dropped futures.
// ---------------------------------------------------------------------------------------------

fn plain() -> Generated<Owned, impl Body<Fut = impl Future<Output = ()>>> {
    generated::<Owned, _, _, _>(honest, |mut yielder| async move {
        yield_now().await;
        let exit = yielder.yield_(5).await;
        assert!(matches!(exit, Exit::Ok | Exit::Cancelled));
        yield_now().await;
    })
}

/// One call by hand on a manager, in a row of `misordered_calls_by_hand_panic_clearly`.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// `enter`, run to completion.
    Enter,
    /// `exit(Exit::Ok)`, run to completion.
    Exit,
    /// An `enter` polled once, which suspends, then dropped.
    EnterSuspended,
    /// An `enter` run to completion, then the same future polled again.
    EnterPolledAgain,
}

#[test]
fn misordered_calls_by_hand_panic_clearly() {
    const CASES: &[(&str, &[Call], &str)] = &[
        ("exit before enter", &[Call::Exit], "it was never entered"),
        (
            "enter twice",
            &[Call::Enter, Call::Enter],
            "it was already entered",
        ),
        (
            "exit twice",
            &[Call::Enter, Call::Exit, Call::Exit],
            "it has already exited",
        ),
        (
            "exit while a suspended enter is pending",
            &[Call::EnterSuspended, Call::Exit],
            "it was already entered",
        ),
        (
            "an enter future polled again after it completed",
            &[Call::EnterPolledAgain],
            "it was already entered",
        ),
    ];
    for &(what, calls, expected) in CASES {
        let message = panic_message(|| {
            let mut manager = pin!(plain());
            for call in calls {
                match call {
                    Call::Enter => {
                        let _ = block_on(manager.as_mut().enter());
                    }
                    Call::Exit => {
                        let _ = block_on(manager.as_mut().exit(Exit::Ok));
                    }
                    Call::EnterSuspended => {
                        assert!(poll_once(pin!(manager.as_mut().enter())).is_pending());
                    }
                    Call::EnterPolledAgain => {
                        let mut enter = pin!(manager.as_mut().enter());
                        let _ = block_on(enter.as_mut());
                        let _ = poll_once(enter.as_mut());
                    }
                }
            }
        });
        assert!(message.contains(expected), "{what}: {message}");
    }
}

/// An enter future leaked (`mem::forget`) mid-way: a new enter future resumes the same
/// coroutine; the manager then exits normally.
#[test]
fn a_leaked_enter_future_mid_way_is_resumed_by_the_next() {
    let lent = block_on(async {
        let mut manager = pin!(plain());
        let mut first = manager.as_mut().enter();
        assert!(poll_once(Pin::new(&mut first)).is_pending());
        // Leaked, as a hostile caller would: that `EnterFuture` has no `Drop` of its own (so a
        // leak is a drop today) is exactly what must not be relied on.
        #[allow(clippy::forget_non_drop)]
        std::mem::forget(first);
        let lent = manager.as_mut().enter().await.expect("entered");
        manager.as_mut().exit(Exit::Ok).await.expect("exited");
        lent
    });
    assert_eq!(lent, 5);
}

/// An exit future dropped mid-teardown ends the teardown in place; a new exit then panics.
#[test]
fn an_exit_future_dropped_mid_teardown_ends_it_and_a_second_exit_panics() {
    let message = panic_message(|| {
        block_on(async {
            let mut manager = pin!(plain());
            manager.as_mut().enter().await.expect("entered");
            {
                let mut exit = pin!(manager.as_mut().exit(Exit::Ok));
                assert!(poll_once(exit.as_mut()).is_pending());
            }
            let _ = manager.as_mut().exit(Exit::Ok).await;
        });
    });
    assert!(message.contains("it has already exited"), "{message}");
}

/// An exit future leaked (`mem::forget`) mid-teardown: a second exit panics ("another exit
/// already started its teardown"), it does not resume the teardown with its own `Exit`. (The
/// manager is leaked too: dropping it would abort, tests/exit.rs.)
#[test]
fn a_second_exit_after_a_leaked_exit_future_panics() {
    let leaked = Box::leak(Box::new(plain()));
    keep_reachable(leaked);
    let mut manager = Pin::static_mut(leaked);
    let message = panic_message(move || {
        block_on(async move {
            manager.as_mut().enter().await.expect("entered");
            let mut exit = manager.as_mut().exit(Exit::Ok);
            assert!(poll_once(Pin::new(&mut exit)).is_pending());
            std::mem::forget(exit);
            let _ = manager.as_mut().exit(Exit::Cancelled).await;
        });
    });
    assert!(
        message.contains("another exit already started its teardown"),
        "{message}"
    );
}

/// Entered on one thread, exited on another (the manager is `Send`): the yield point's checks
/// follow the thread that polls.
#[test]
fn a_manager_entered_on_one_thread_exits_on_another() {
    let mut manager = Box::pin(generated::<OwnedText, _, _, _>(
        honest,
        |mut yielder| async move {
            let exit = yielder.yield_(String::from("moved")).await;
            if matches!(exit, Exit::Ok) {
                Ok(())
            } else {
                Err(String::from("not Ok"))
            }
        },
    ));
    let text = block_on(manager.as_mut().enter()).expect("entered");
    assert_eq!(text, "moved");
    let outcome = std::thread::spawn(move || block_on(manager.as_mut().exit(Exit::Ok)))
        .join()
        .expect("the thread ran the teardown");
    assert_eq!(outcome, Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Teardown reports: a nested manager whose teardown is refused by the yield point.
// ---------------------------------------------------------------------------------------------

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn reporter(report: &TeardownReport) {
    REPORTS.lock().unwrap().push(report.to_string());
}

/// An inner manager, dropped while entered inside the outer body, runs its cancelled teardown
/// in place; that teardown yields through the outer manager's handle. The yield point refuses
/// (the inner manager is polling), the inner teardown's panic is reported, never swallowed,
/// and the outer manager still lends and tears down normally.
#[test]
fn a_cancelled_inner_teardown_using_the_outer_yield_handle_is_refused_and_reported() {
    let previous = contextlib::set_teardown_hook(reporter);
    REPORTS.lock().unwrap().clear();
    let outer = generated::<Owned, _, _, _>(honest, |mut outer_yielder| async move {
        {
            let outer_yielder = &mut outer_yielder;
            let inner = generated::<Owned, _, _, _>(honest, move |mut inner_yielder| async move {
                inner_yielder.yield_(0).await;
                outer_yielder.yield_(1).await; // in the inner teardown
            });
            let mut inner = pin!(inner);
            inner
                .as_mut()
                .enter()
                .await
                .expect("the inner manager entered");
        } // dropped while entered: its teardown runs in place, and panics
        outer_yielder.yield_(2).await;
    });
    let lent = block_on(async { async_with!(outer => |n| n) });
    contextlib::set_teardown_hook(previous);
    let reports = std::mem::take(&mut *REPORTS.lock().unwrap());
    assert_eq!(lent, Ok(2));
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("panicked"), "{reports:?}");
}

// The finding of this review (`Generated` was covariant in its family) is now a compile error:
// tests/ui/generated_family_cannot_be_widened.rs.
