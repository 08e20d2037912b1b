//! What `async_with!` holds while a manager is entered: on drop, it makes sure the teardown
//! runs exactly once even if the future running `async_with!` is dropped (cancelled).

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::protocol::AsyncContextManager;
use crate::protocol::catch_unwind::discard;
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, poll_in_place, report};

/// A pinned manager and whether it owes an exit.
pub struct Guard<'m, M: AsyncContextManager + ?Sized> {
    manager: Pin<&'m mut M>,
    armed: bool,
}

impl<'m, M: AsyncContextManager + ?Sized> Guard<'m, M> {
    /// Guards `manager`, which is not entered yet.
    #[inline(always)]
    pub fn new(manager: Pin<&'m mut M>) -> Self {
        Guard {
            manager,
            armed: false,
        }
    }

    /// The manager to enter, and the flag [`ArmOnSuccess`] sets once it is entered. The flag
    /// is an [`Arm`], not a `&mut bool`: nothing but a successful enter arms the guard, so a
    /// guard never cancels (and reports) a manager that did not enter
    /// (tests/hidden_items_report_no_false_teardowns.rs).
    ///
    /// (Concrete future types, not `async fn`s, keep the caller's future provably `Send`: an
    /// opaque future mentioning the target's lifetime is not.)
    #[inline(always)]
    pub fn entering(&mut self) -> (Pin<&mut M>, Arm<'_>) {
        (self.manager.as_mut(), Arm(&mut self.armed))
    }

    /// The manager to exit, and what [`Finishing`] needs to know about it. From here on the
    /// exit future owns the teardown: wrapped in `Finishing`, it finishes the teardown in place
    /// if dropped early (unless the manager's exit does that by itself).
    #[inline(always)]
    pub fn exiting(&mut self) -> (Pin<&mut M>, TeardownOf<M>) {
        self.armed = false;
        (self.manager.as_mut(), Teardown::of::<M>())
    }
}

/// Whether a manager owes an exit: set only by [`ArmOnSuccess`], once the enter it wraps
/// succeeds; it cannot be set by hand.
pub struct Arm<'g>(&'g mut bool);

impl<'g> Arm<'g> {
    /// The flag of a member of `concurrent`.
    #[inline(always)]
    pub(crate) fn new(flag: &'g mut bool) -> Self {
        Arm(flag)
    }
}

pin_project_lite::pin_project! {
    /// An enter future that marks its guard as owing an exit once the enter succeeds.
    pub struct ArmOnSuccess<'g, F> {
        #[pin]
        enter: F,
        armed: Arm<'g>,
    }
}

impl<'g, F> ArmOnSuccess<'g, F> {
    /// Wraps `enter`.
    #[inline(always)]
    pub fn new((enter, armed): (F, Arm<'g>)) -> Self {
        ArmOnSuccess { enter, armed }
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> Future for ArmOnSuccess<'_, F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.enter.poll(cx);
        if let Poll::Ready(Ok(_)) = &polled {
            *this.armed.0 = true;
        }
        polled
    }
}

impl<M: AsyncContextManager + ?Sized> Drop for Guard<'_, M> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.armed {
            self.cancel();
        }
    }
}

impl<M: AsyncContextManager + ?Sized> Guard<'_, M> {
    #[cold]
    #[inline(never)]
    /// Dropped between a successful enter and the exit: the block was cancelled.
    fn cancel(&mut self) {
        self.armed = false;
        let manager = self.manager.as_mut();
        let name = M::name();
        // A panicking teardown must not abort the process if this drop runs during unwinding.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| manager.cancel())) {
            discard(payload);
            report(TeardownReport {
                manager: name,
                outcome: TeardownOutcome::Panicked,
            });
        }
    }
}

/// A future that ends a teardown: `Result<(), Error>`.
pub trait TeardownFuture: Future<Output = Result<(), Self::Error>> {
    /// The manager's error.
    type Error;
}

impl<F: Future<Output = Result<(), E>>, E> TeardownFuture for F {
    type Error = E;
}

/// What a [`Finishing`] needs to know about the manager whose exit it runs.
pub trait Describe {
    /// The manager's name, asked only when there is something to report.
    fn manager_name(&self) -> &'static str;
    /// Whether a dropped, unfinished exit must be finished here (in place).
    fn in_place(&self) -> bool;
}

/// About a manager known only at run time (a stacked one, or a deferred cleanup).
#[derive(Clone, Copy)]
pub struct Teardown {
    manager: fn() -> &'static str,
    in_place: bool,
}

impl Teardown {
    /// About a manager named by `manager`, whose dropped exit must be finished in place or not.
    #[inline]
    pub(crate) fn new(manager: fn() -> &'static str, in_place: bool) -> Self {
        Teardown { manager, in_place }
    }

    /// About a manager of type `M`, known at compile time: nothing is stored.
    #[inline(always)]
    pub fn of<M: AsyncContextManager + ?Sized>() -> TeardownOf<M> {
        TeardownOf(PhantomData)
    }
}

impl Describe for Teardown {
    fn manager_name(&self) -> &'static str {
        (self.manager)()
    }
    #[inline(always)]
    fn in_place(&self) -> bool {
        self.in_place
    }
}

/// About a manager of type `M`: a zero-sized [`Describe`].
pub struct TeardownOf<M: ?Sized>(PhantomData<fn() -> *const M>);

impl<M: AsyncContextManager + ?Sized> Describe for TeardownOf<M> {
    fn manager_name(&self) -> &'static str {
        M::name()
    }
    #[inline(always)]
    fn in_place(&self) -> bool {
        !M::EXIT_FINISHES_WHEN_DROPPED
    }
}

pin_project_lite::pin_project! {
    /// An exit future that, dropped before completion, finishes its teardown in place.
    pub struct Finishing<F: TeardownFuture, D: Describe = Teardown> {
        #[pin]
        future: F,
        done: bool,
        teardown: D,
    }

    impl<F: TeardownFuture, D: Describe> PinnedDrop for Finishing<F, D> {
        #[inline(always)]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.teardown.in_place() && !*this.done {
                finish_in_place(this.future, &*this.teardown);
            }
        }
    }
}

impl<F: TeardownFuture, D: Describe> Finishing<F, D> {
    /// Wraps the exit future of the manager `teardown` describes.
    #[inline(always)]
    pub fn new(future: F, teardown: D) -> Self {
        Finishing {
            future,
            done: !teardown.in_place(),
            teardown,
        }
    }
}

impl<F: TeardownFuture, D: Describe> Future for Finishing<F, D> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !this.teardown.in_place() {
            return this.future.poll(cx);
        }
        let was_done = core::mem::replace(this.done, true);
        // (A teardown that panics is over: its panic propagates, and it is not resumed.)
        let polled = this.future.poll(cx);
        *this.done = was_done || polled.is_ready();
        polled
    }
}

/// Finishes a dropped exit future's teardown in place, reporting what does not end well.
#[cold]
#[inline(never)]
fn finish_in_place<F: TeardownFuture, D: Describe>(future: Pin<&mut F>, teardown: &D) {
    let outcome = match catch_unwind(AssertUnwindSafe(|| poll_in_place(future))) {
        Ok(outcome) => outcome,
        Err(payload) => {
            discard(payload);
            Some(TeardownOutcome::Panicked)
        }
    };
    if let Some(outcome) = outcome {
        report(TeardownReport {
            manager: teardown.manager_name(),
            outcome,
        });
    }
}
