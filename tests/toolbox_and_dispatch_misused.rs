//! Safe-code attacks on how `async_with!` chooses its way to drive a manager (autoref dispatch,
//! the sealed `DrivenDirectly` and `Chosen`), on `nullcontext` and `closing`, which are `Unpin`
//! whatever they hold (entered through `&mut`, moved and swapped between enter and exit,
//! entered twice), and on `CatchUnwind` (polled after a caught panic, dropped or leaked
//! mid-poll). Each test asserts what must happen: a clear panic or the right value, each
//! entered manager torn down once. Runs under Miri in both borrow models (.ci/miri).
#![forbid(unsafe_code)]

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::{Log, block_on_catching, panic_message};
use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{AsyncContextManager, Exit, async_with, closing, nullcontext};
use futures_executor::block_on;

/// A `closing` whose close logs `closed VALUE` and succeeds.
fn logged_closing(
    log: &Log,
    value: &str,
) -> contextlib::Closing<
    String,
    impl FnOnce(String) -> std::future::Ready<Result<(), Infallible>> + use<>,
> {
    let log = log.clone();
    closing(value.to_string(), move |value| {
        log.push(format!("closed {value}"));
        std::future::ready(Ok(()))
    })
}

/// A value that cannot move once pinned, and says so if it is dropped.
struct Pinned {
    name: &'static str,
    log: Log,
    _pin: PhantomPinned,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        self.log.push(format!("dropped {}", self.name));
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The drive: a hostile `__acm_drive` in scope.
// ---------------------------------------------------------------------------------------------

/// A `Send` manager that says which of its futures was called.
struct Which(Log);

impl<'a> contextlib::Lend<'a> for Which {
    type Target = u8;
}

impl AsyncContextManager for Which {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<u8, Infallible> {
        self.0.push("enter");
        Ok(1)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        self.0.push("exit");
        Ok(())
    }
}

impl contextlib::SendAsyncContextManager for Which {
    type EnterFuture<'m> = Pin<Box<dyn Future<Output = Result<u8, Infallible>> + Send + 'm>>;
    type ExitFuture<'x> = contextlib::BoxExit<'x, Infallible>;
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.0.push("enter_send");
        Box::pin(std::future::ready(Ok(1)))
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, _: Exit<'x>) -> contextlib::BoxExit<'x, Infallible> {
        self.0.push("exit_send");
        Box::pin(std::future::ready(Ok(())))
    }
}

fn drive_which(log: &Log) -> Result<u8, Infallible> {
    block_on(async { async_with!(Which(log.clone()) => |n| n) })
}

/// A crate's own `__acm_drive` that returns contextlib's hidden `Direct` (reachable through
/// `DirectDriveKind`) is taken: `Direct` is one of contextlib's ways. It drives a
/// `SendAsyncContextManager` through its own `enter`/`exit` instead of the named `Send`
/// futures, which changes only whether the `async_with!` future is `Send`: the manager is
/// entered and exited once. (A drive of the crate's own making is a compile error:
/// `ui/hijacked_dispatch_is_refused`.)
#[test]
fn a_crate_can_choose_only_contextlibs_own_drive() {
    use contextlib::__private::{DirectDriveKind, Drive, Guard};
    let log = Log::default();
    // Without the hijack (in a fn outside this one's scope): the named `Send` futures.
    assert_eq!(drive_which(&log), Ok(1));
    assert_eq!(log.take(), ["enter_send", "exit_send"]);

    // `Direct` is not exported, but its name and a value are reachable through the hidden
    // `DirectDriveKind`.
    type Direct = <&'static Drive<contextlib::NullContext<()>> as DirectDriveKind>::Out;
    fn direct() -> Direct {
        let manager = pin!(nullcontext(()));
        let guard = Guard::new(manager);
        DirectDriveKind::__acm_drive(&&Drive::of(&guard))
    }
    trait ChooseDirect {
        fn __acm_drive(&self) -> Direct {
            direct()
        }
    }
    impl<T: ?Sized> ChooseDirect for T {}
    let chosen = block_on(async { async_with!(Which(log.clone()) => |n| n) });
    assert_eq!(chosen, Ok(1));
    assert_eq!(log.take(), ["enter", "exit"]);
}

/// A hijack of the drive is a compile error (`ui/hijacked_dispatch_is_refused`; over a
/// `DrivenDirectly` manager, `ui/hijacked_drive_on_driven_directly`). Here: a tuple of the
/// `Unpin` toolbox managers, driven directly, closes both once.
#[test]
fn a_tuple_of_unpin_toolbox_managers_is_driven_directly_and_closes_each_once() {
    let log = Log::default();
    let mut a = logged_closing(&log, "a");
    let mut b = nullcontext(PhantomPinned);
    let out = block_on(async { async_with!((&mut a, &mut b) => |(a, _b)| a.len()) });
    assert_eq!(out, Ok(1));
    assert_eq!(log.take(), ["closed a"]);
    // Both were one-shot: entering the tuple again panics on the first member, before any
    // exit, and nothing is closed twice.
    let message = block_on_catching(async { async_with!((&mut a, &mut b) => |_| ()) })
        .expect_err("a second enter must panic");
    assert!(message.contains("one-shot"), "{message}");
    assert!(log.take().is_empty());
}

/// The `async_with!` over a tuple of `Send` `Unpin` toolbox managers is `Send` (tuples are
/// driven through their own concrete futures): spawned on a multi-thread runtime.
#[test]
fn a_tuple_of_borrowed_toolbox_managers_is_send() {
    fn send<F: Future + Send>(future: F) -> F {
        future
    }
    let log = Log::default();
    let mut a = logged_closing(&log, "a");
    let mut b = nullcontext(String::from("b"));
    let out = block_on(send(async {
        async_with!((&mut a, &mut b) => |(a, b)| format!("{a}{b}"))
    }));
    assert_eq!(out.as_deref(), Ok("ab"));
    assert_eq!(log.take(), ["closed a"]);
}

/// A trait in scope whose `__acm_drive` is not a method for the drive (implemented for an
/// unrelated type) changes nothing: the drive is contextlib's and the exit runs.
#[test]
fn an_unrelated_acm_drive_in_scope_changes_nothing() {
    trait Decoy {
        fn __acm_drive(&self) -> u8;
    }
    impl Decoy for u8 {
        fn __acm_drive(&self) -> u8 {
            0
        }
    }
    let _ = 0u8.__acm_drive();
    let log = Log::default();
    let out = block_on(async { async_with!(logged_closing(&log, "x") => |x| x.len()) });
    assert_eq!(out, Ok(1));
    assert_eq!(log.take(), ["closed x"]);
}

// ---------------------------------------------------------------------------------------------
// 2. `NullContext` and `Closing`: `Unpin` whatever they hold.
// ---------------------------------------------------------------------------------------------

/// A nullcontext holding a `!Unpin` value, entered through `&mut` twice: the first lends the
/// value (moved out, never pinned in the manager), the second panics clearly.
#[test]
fn a_nullcontext_entered_twice_through_mut_panics_and_lends_once() {
    let log = Log::default();
    let mut manager = nullcontext(Pinned {
        name: "v",
        log: log.clone(),
        _pin: PhantomPinned,
    });
    let first = block_on(async { async_with!(&mut manager => |v| v.name) });
    assert_eq!(first, Ok("v"));
    assert_eq!(log.take(), ["dropped v"]);
    let message = block_on_catching(async { async_with!(&mut manager => |v| v.name) })
        .expect_err("the second enter must panic");
    assert!(message.contains("nullcontext is one-shot"), "{message}");
    assert!(log.take().is_empty());
}

/// A nullcontext lending a `!Unpin` future (an async block that borrows its own local across
/// an await): the block pins it in place and awaits it; moving the manager before the enter is
/// fine because the value is only pinned after it leaves the manager.
#[test]
fn a_nullcontext_lends_a_self_borrowing_future_that_the_block_awaits() {
    let future = async {
        let local = [1u32, 2, 3];
        let borrowed = &local;
        yield_now().await;
        borrowed.iter().sum::<u32>()
    };
    let manager = nullcontext(future);
    let moved = Box::new(manager); // moved before use, as an Unpin manager may be
    let out = block_on(async { async_with!(*moved => |future| future.await) });
    assert_eq!(out, Ok(6));
}

/// A `closing` entered by hand, moved (it is `Unpin`) between its enter and its exit: the value
/// is closed once, by the moved manager; a second exit panics clearly at its poll.
#[test]
fn a_closing_moved_between_enter_and_exit_closes_once() {
    let log = Log::default();
    let mut manager = logged_closing(&log, "moved");
    let lent = block_on(Pin::new(&mut manager).enter()).unwrap();
    assert_eq!(*lent, "moved");
    let mut moved = Box::new(manager);
    let mut other = logged_closing(&log, "other");
    std::mem::swap(&mut *moved, &mut other); // `other` now holds the entered one
    block_on(Pin::new(&mut other).exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed moved"]);
    let message = panic_message(|| {
        let _ = block_on(Pin::new(&mut other).exit(Exit::Ok));
    });
    assert!(message.contains("already closed"), "{message}");
    // The manager swapped in was never entered; its exit still closes its value (once).
    block_on(Pin::new(&mut *moved).exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed other"]);
}

/// Two `closing`s entered by hand and swapped through `&mut` while both are entered: each value
/// follows its manager and is closed once, with the value it lent.
#[test]
fn two_entered_closings_swapped_close_their_own_values_once() {
    let log = Log::default();
    let mut a = logged_closing(&log, "a");
    let mut b = logged_closing(&log, "b");
    block_on(Pin::new(&mut a).enter()).unwrap();
    block_on(Pin::new(&mut b).enter()).unwrap();
    std::mem::swap(&mut a, &mut b);
    block_on(Pin::new(&mut a).exit(Exit::Ok)).unwrap();
    block_on(Pin::new(&mut b).exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed b", "closed a"]);
}

/// A `closing` exited before it was ever entered closes its value; entering it afterwards
/// panics clearly instead of lending a closed value.
#[test]
fn a_closing_exited_before_entered_refuses_the_enter() {
    let log = Log::default();
    let mut manager = logged_closing(&log, "early");
    block_on(Pin::new(&mut manager).exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed early"]);
    let message = block_on_catching(async { async_with!(&mut manager => |v| v.len()) })
        .expect_err("entering a closed closing must panic");
    assert!(message.contains("already closed"), "{message}");
    assert!(log.take().is_empty());
}

/// Enters the `closing` that `manager` makes, through `&mut` and watched by a probe, around a
/// block that waits once and returns the value's length, and cuts that at every poll: a run
/// dropped before its first poll closed nothing; every other run logged `closed` once (checked
/// by `cut` where the block was cut), and the completed one returned `completed`, its teardown
/// seen as `Ok`. Returns the polls of the completed run.
fn closed_once_at_every_cut<M, E>(
    manager: impl Fn(&Log) -> M,
    closed: &[&str],
    cut: impl Fn(&[Observed]),
    completed: Result<usize, E>,
) -> usize
where
    M: AsyncContextManager<Error = E>
        + Unpin
        + for<'a> contextlib::Lend<'a, Target = &'a mut String>,
    E: PartialEq + std::fmt::Debug + std::fmt::Display + Sync + 'static,
{
    let log = Log::default();
    let probe = Probe::default();
    cancel_at_every_poll(
        || {
            let mut manager = manager(&log);
            let probe = &probe;
            async move {
                async_with!(probe.observe(&mut manager) => |value| {
                    yield_now().await;
                    value.len()
                })
            }
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let seen = log.take();
            match &run {
                Run::Dropped { polls: 0 } => assert!(seen.is_empty(), "{seen:?}"),
                Run::Dropped { .. } => {
                    assert_eq!(seen, closed);
                    cut(&teardowns);
                }
                Run::Completed { output, .. } => {
                    assert_eq!(*output, completed);
                    assert_eq!(seen, closed);
                    assert_eq!(teardowns, [Observed::Ok]);
                }
            }
        },
    )
}

/// A `closing` entered through `&mut`, its `async_with!` future dropped at every poll: the
/// value is closed exactly once (as `Cancelled` where the block was cut), never where the
/// future was dropped before its first poll.
#[test]
fn a_closing_through_mut_cut_at_every_poll_closes_once() {
    let polls = closed_once_at_every_cut(
        |log| logged_closing(log, "c"),
        &["closed c"],
        |teardowns| assert_eq!(teardowns, [Observed::Cancelled]),
        Ok(1),
    );
    assert_eq!(polls, 2);
}

/// The completing run of the previous scenario: the second enter of the same `&mut closing`
/// panics clearly, after the first closed the value once.
#[test]
fn a_closing_through_mut_reentered_after_a_completed_block_panics() {
    let log = Log::default();
    let probe = Probe::default();
    let mut manager = logged_closing(&log, "c");
    let message = block_on_catching(async {
        let out = async_with!(probe.observe(&mut manager) => |c| {
            yield_now().await;
            c.len()
        });
        assert_eq!(out, Ok(1));
        async_with!(&mut manager => |c| c.len())
    })
    .expect_err("the second enter must panic");
    assert!(message.contains("closing manager is one-shot"), "{message}");
    assert_eq!(log.take(), ["closed c"]);
    let run = Run::Completed {
        polls: 2,
        output: (),
    };
    assert_eq!(probe.assert_torn_down_once(&run), [Observed::Ok]);
}

// ---------------------------------------------------------------------------------------------
// 3. `CatchUnwind`, reached through its hidden path.
// ---------------------------------------------------------------------------------------------

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polled again after it returned a caught panic (the macro never does; a hostile caller may):
/// the async block it wraps panics with "resumed after panicking", which is caught again. No
/// state of the broken future is observed.
#[test]
fn catch_unwind_polled_after_a_caught_panic_catches_the_resume_panic() {
    let mut caught = pin!(contextlib::__private::CatchUnwind::new(async {
        yield_now().await;
        panic!("first");
    }));
    assert!(poll_once(caught.as_mut()).is_pending());
    let first = match poll_once(caught.as_mut()) {
        Poll::Ready(Err(payload)) => common::text_of(&*payload),
        other => panic!(
            "expected a caught panic, got {:?}",
            other.map(|r| r.is_ok())
        ),
    };
    assert_eq!(first, "first");
    let second = match poll_once(caught.as_mut()) {
        Poll::Ready(Err(payload)) => common::text_of(&*payload),
        other => panic!(
            "expected a caught panic, got {:?}",
            other.map(|r| r.is_ok())
        ),
    };
    assert!(second.contains("resumed after panicking"), "{second}");
}

/// A self-borrowing future in a `CatchUnwind`, boxed (pinned on the heap) and polled to the
/// end: the projection keeps it in place; its output is right and its locals dropped once.
#[test]
fn catch_unwind_projects_a_self_borrowing_future() {
    let log = Log::default();
    let inner_log = log.clone();
    let mut caught = Box::pin(contextlib::__private::CatchUnwind::new(async move {
        let value = Pinned {
            name: "local",
            log: inner_log.clone(),
            _pin: PhantomPinned,
        };
        let borrowed = &value;
        yield_now().await;
        borrowed.name.len()
    }));
    assert!(poll_once(caught.as_mut()).is_pending());
    match poll_once(caught.as_mut()) {
        Poll::Ready(Ok(n)) => assert_eq!(n, 5),
        other => panic!("expected the output, got {:?}", other.map(|r| r.is_ok())),
    }
    assert_eq!(log.take(), ["dropped local"]);
    drop(caught);
    assert!(log.take().is_empty());
}

fn parked_catch_unwind(
    log: &Log,
    name: &'static str,
) -> impl Future<Output = Result<(), contextlib::__private::Payload>> {
    let log = log.clone();
    contextlib::__private::CatchUnwind::new(async move {
        let _held = Pinned {
            name,
            log,
            _pin: PhantomPinned,
        };
        yield_now().await;
        std::future::pending::<()>().await;
    })
}

/// A `CatchUnwind` dropped mid-poll drops the future it holds exactly once.
#[test]
fn catch_unwind_dropped_mid_poll_drops_its_future_once() {
    let log = Log::default();
    let mut dropped = Box::pin(parked_catch_unwind(&log, "dropped"));
    assert!(poll_once(dropped.as_mut()).is_pending());
    assert!(poll_once(dropped.as_mut()).is_pending());
    assert!(log.take().is_empty());
    drop(dropped);
    assert_eq!(log.take(), ["dropped dropped"]);
}

/// A `CatchUnwind` leaked mid-poll drops nothing, and nothing else happens. (Leaks on purpose:
/// under Miri, alone with `MIRIFLAGS=-Zmiri-ignore-leaks ... -- --ignored leaked`.)
#[test]
#[cfg_attr(miri, ignore = "leaks the future's memory on purpose")]
fn leaked_catch_unwind_mid_poll_drops_nothing() {
    let log = Log::default();
    let mut leaked = Box::pin(parked_catch_unwind(&log, "leaked"));
    assert!(poll_once(leaked.as_mut()).is_pending());
    std::mem::forget(leaked);
    assert!(log.take().is_empty());
}

/// The `async_with!` future over `&mut closing` (now a manager whatever the closing holds)
/// leaked in the middle of its block, while it holds the lent `&mut T`: the borrow ends for the
/// borrow checker, the manager is still entered and never exited by the leaked future; the
/// owner can exit it by hand (closed once), and a second enter is a clear panic, not a second
/// loan. (Leaks on purpose: under Miri with `-Zmiri-ignore-leaks ... -- --ignored leaked`.)
#[test]
#[cfg_attr(miri, ignore = "leaks the future's memory on purpose")]
fn leaked_async_with_over_mut_closing_leaves_it_entered_once() {
    let log = Log::default();
    let mut manager = closing(
        Pinned {
            name: "value",
            log: log.clone(),
            _pin: PhantomPinned,
        },
        {
            let log = log.clone();
            move |value: Pinned| {
                log.push(format!("closed {}", value.name));
                std::future::ready(Ok::<_, Infallible>(()))
            }
        },
    );
    let mut leaked = Box::pin(async {
        async_with!(&mut manager => |value| {
            yield_now().await;
            value.name
        })
    });
    assert!(poll_once(leaked.as_mut()).is_pending());
    std::mem::forget(leaked);
    assert!(log.take().is_empty(), "the leaked future tore nothing down");
    let message = block_on_catching(async { async_with!(&mut manager => |v| v.name) })
        .expect_err("a second enter must panic");
    assert!(message.contains("already entered"), "{message}");
    block_on(Pin::new(&mut manager).exit(Exit::Ok)).unwrap();
    assert_eq!(log.take(), ["closed value", "dropped value"]);
}

/// A `closing` whose close yields (and fails) entered through `&mut` and cut at every poll,
/// including inside the close: the close runs to its end exactly once in every run that
/// entered (finished in place where the exit was dropped), and its error is the result.
#[test]
fn a_yielding_failing_close_through_mut_cut_at_every_poll_runs_once() {
    let polls = closed_once_at_every_cut(
        |log| {
            let log = log.clone();
            closing(String::from("v"), move |value: String| async move {
                log.push(format!("closing {value}"));
                yield_now().await;
                log.push(format!("closed {value}"));
                Err::<(), _>(common::Failure("close"))
            })
        },
        &["closing v", "closed v"],
        |teardowns| assert_eq!(teardowns.len(), 1),
        Err(common::Failure("close")),
    );
    assert_eq!(polls, 3);
}

/// A panic inside the block of an `async_with!` over a `!Unpin` generated manager whose target
/// borrows it: caught by `CatchUnwind`, the manager's exit sees it, then it resumes.
#[test]
fn a_block_panic_through_catch_unwind_is_seen_by_the_exit_then_resumes() {
    #[contextlib::async_context_manager]
    async fn borrowed(log: Log) -> Rc<str> {
        let owned: Rc<str> = Rc::from("owned");
        let exit = r#yield!(owned.clone());
        log.push(common::describe(&exit));
    }
    let log = Log::default();
    let message = block_on_catching(async {
        async_with!(borrowed(log.clone()) => |s| {
            yield_now().await;
            if s.len() == 5 {
                panic!("in the block");
            }
        })
    })
    .expect_err("the block's panic must resume");
    assert_eq!(message, "in the block");
    assert_eq!(log.take(), ["panic in the block"]);
}
