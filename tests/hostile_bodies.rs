//! Bodies that misuse their yield handle, built by calling contextlib's hidden constructor
//! directly, as a hostile crate can: `generated` is a safe fn, so nothing may rest on what its
//! caller does. Each misuse gets a clear panic (or, for a witness that lends something else, a
//! valid value of the target type), never undefined behaviour: these tests run under Miri in
//! both borrow models (.ci/miri).

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use contextlib::__private::{Generated, generated};
use contextlib::expansion::{Body, Lent, TargetMustBeCovariantInTheManagerBorrow, Yielder};
use contextlib::{AsyncContextManager, Exit, async_with};
use futures_executor::block_on;

mod common;
use common::panic_message;

/// The family of an owned target `T`, which borrows nothing from the manager.
type Own<T> = for<'a, 'b> fn(&'a (), &'b ()) -> T;
type Owned = Own<u32>;
type OwnedString = Own<String>;
type OwnedCell = for<'a, 'b> fn(&'a (), &'b ()) -> Cell<&'a str>;

/// Enters `manager` with `async_with!` and returns the panic message, which must contain
/// `expected`.
fn assert_entering_panics<M>(manager: M, expected: &str)
where
    M: AsyncContextManager,
    for<'a> contextlib::Target<'a, M>: std::fmt::Debug,
{
    let message = panic_message(|| {
        let _ = block_on(async { async_with!(manager => |target| format!("{target:?}")) });
    });
    assert!(message.contains(expected), "{message}");
}

/// The honest witness of an owned target: lends what the body yields, as it is.
fn honest<'s, 'l, T>(
    _: TargetMustBeCovariantInTheManagerBorrow<'s, 'l>,
    Lent(value, _): Lent<'l, Own<T>>,
) -> Lent<'s, Own<T>> {
    Lent(value, PhantomData)
}

/// `honest` as a fn pointer, so that the yield handle of a manager using it can be named.
type Honest<T> = for<'s, 'l> fn(
    TargetMustBeCovariantInTheManagerBorrow<'s, 'l>,
    Lent<'l, Own<T>>,
) -> Lent<'s, Own<T>>;

/// The yield handle of a manager lending an owned `T` through the honest witness.
type HonestYielder<T> = Yielder<Own<T>, Honest<T>>;

/// Enters a manager lending an owned `T` (honestly) whose body is `body`, which misuses its
/// yield handle: entering must panic with a message containing `expected`.
fn assert_body_panics<T: std::fmt::Debug, Fut: Future<Output = ()>>(
    expected: &str,
    body: impl FnOnce(HonestYielder<T>) -> Fut,
) {
    assert_entering_panics(generated::<Own<T>, Honest<T>, _, _>(honest, body), expected);
}

/// A manager whose body puts its yield handle in `stash` (an escape), then waits forever.
fn stashing(
    stash: &RefCell<Option<HonestYielder<u32>>>,
) -> Generated<Owned, impl Body<Fut = impl Future<Output = ()>>> {
    generated::<Owned, Honest<u32>, _, _>(honest, |yielder| {
        *stash.borrow_mut() = Some(yielder);
        std::future::pending::<()>()
    })
}

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_yield_handle_that_escaped_cannot_yield_outside_its_manager() {
    let stash = RefCell::new(None);
    let mut manager = pin!(stashing(&stash));
    assert!(poll_once(pin!(manager.as_mut().enter())).is_pending());
    let mut yielder = stash.borrow_mut().take().expect("the body ran");
    let message = panic_message(|| {
        let _ = poll_once(pin!(yielder.yield_(7)));
    });
    assert!(
        message.contains("outside its manager's `enter` and `exit`"),
        "{message}"
    );
}

#[test]
fn a_yield_handle_of_one_manager_cannot_yield_in_another() {
    let stash = RefCell::new(None);
    let mut victim = pin!(stashing(&stash));
    assert!(poll_once(pin!(victim.as_mut().enter())).is_pending());
    // The thief lends a `String`: the stolen handle would put the `u32` 0x1000 where the
    // thief's driver reads a `String`.
    assert_body_panics::<String, _>("inside another manager", |_own_yielder| async {
        let mut stolen = stash.borrow_mut().take().expect("the victim ran");
        stolen.yield_(0x1000).await;
    });
}

#[test]
fn a_yield_point_awaited_on_the_heap_is_refused() {
    assert_body_panics::<u32, _>(
        "other than its manager's own body",
        |mut yielder| async move {
            Box::pin(yielder.yield_(1)).await;
        },
    );
}

#[test]
fn a_yield_handle_moved_to_the_heap_is_refused() {
    assert_body_panics::<u32, _>("other than its manager's own body", |yielder| async move {
        let mut boxed = Box::new(yielder);
        boxed.yield_(1).await;
    });
}

#[test]
fn a_yield_point_polled_twice_within_one_enter_panics() {
    assert_body_panics::<String, _>("twice within one poll", |mut yielder| async move {
        let mut point = pin!(yielder.yield_(String::from("lent once")));
        poll_fn(|cx| {
            let _ = point.as_mut().poll(cx); // lends the target
            let _ = point.as_mut().poll(cx); // would read the target as an `Exit`
            Poll::Ready(())
        })
        .await;
    });
}

#[test]
fn a_yield_dropped_after_lending_takes_its_offer_back() {
    let log = RefCell::new(Vec::new());
    let log_ref = &log;
    let manager = generated::<OwnedString, _, _, _>(honest, move |mut yielder| async move {
        {
            let mut abandoned = pin!(yielder.yield_(String::from("abandoned")));
            poll_fn(|cx| {
                assert!(abandoned.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        } // dropped: its target goes with it, never lent
        let exit = yielder.yield_(String::from("lent")).await;
        log_ref.borrow_mut().push(format!("{exit:?}"));
    });
    let len = block_on(async { async_with!(manager => |text| text.clone()) });
    assert_eq!(len, Ok(String::from("lent")));
    assert_eq!(*log.borrow(), ["Ok"]);
}

#[test]
fn a_second_yield_in_the_teardown_panics() {
    assert_body_panics::<u32, _>(
        "reached a second `r#yield!` in one run",
        |mut yielder| async move {
            let exit = yielder.yield_(1).await;
            assert!(matches!(exit, Exit::Ok));
            yielder.yield_(2).await;
        },
    );
}

/// An invariant target with a witness that does not return its argument: the library lends
/// what the witness returns, a fresh cell, never the body's own (which the block could
/// otherwise fill with a borrow shorter than the body's).
#[test]
fn a_witness_that_returns_something_else_lends_that() {
    let seen = RefCell::new(String::new());
    let seen_ref = &seen;
    let manager = generated::<OwnedCell, _, _, _>(
        |_, Lent(_, _)| Lent(Cell::new("fresh from the witness"), PhantomData),
        move |mut yielder| async move {
            let own = String::from("the body's own");
            let exit = yielder.yield_(Cell::new(own.as_str())).await;
            assert!(matches!(exit, Exit::Ok));
            seen_ref.borrow_mut().push_str(&own);
        },
    );
    let lent = block_on(async { async_with!(manager => |cell| cell.get().to_string()) });
    assert_eq!(lent, Ok(String::from("fresh from the witness")));
    assert_eq!(*seen.borrow(), "the body's own");
}
