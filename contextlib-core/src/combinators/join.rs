//! Polling several futures together until all are done (what `concurrent` needs; no runtime).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A future, then its output.
pub(crate) enum MaybeDone<F: Future> {
    Pending(F),
    Done(Option<F::Output>),
}

impl<F: Future> MaybeDone<F> {
    pub(crate) fn new(future: F) -> Self {
        MaybeDone::Pending(future)
    }

    /// Polls the future if it is not done: `Pending` while it runs, then `Ready(failed)`, with
    /// `failed` as [`Failed::failed`] says of its output.
    ///
    /// Never makes a shared reference covering the future while it is pending: under Stacked
    /// Borrows a shared retag of a self-borrowing future (an `async fn` holding a `&mut` to one
    /// of its locals across an `.await`) invalidates the borrows it holds into itself
    /// (tests/stacked_borrows_self_borrows.rs). Only the output is read, once there is one.
    ///
    /// # Safety
    /// `self` is pinned (the future is structurally pinned: never moved while pending).
    pub(crate) unsafe fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<bool>
    where
        F::Output: Failed,
    {
        match self {
            MaybeDone::Pending(future) => {
                // SAFETY: caller; the future stays where it is until replaced right below, once
                // it is done (then it is dropped in place by the assignment). Checked by
                // tests/stacked_borrows_self_borrows.rs::nested_concurrent_of_generated_managers
                // under Miri.
                match unsafe { Pin::new_unchecked(future) }.poll(cx) {
                    Poll::Ready(output) => {
                        let failed = output.failed();
                        *self = MaybeDone::Done(Some(output));
                        Poll::Ready(failed)
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
            MaybeDone::Done(output) => Poll::Ready(output.as_ref().is_some_and(Failed::failed)),
        }
    }

    /// The output, if the future is done.
    pub(crate) fn take_if_done(&mut self) -> Option<F::Output> {
        match self {
            MaybeDone::Done(output) => output.take(),
            MaybeDone::Pending(_) => None,
        }
    }
}

/// An output that means the others need not finish (an enter that failed or panicked).
pub(crate) trait Failed {
    fn failed(&self) -> bool;
}

impl<T, E, P> Failed for Result<Result<T, E>, P> {
    fn failed(&self) -> bool {
        !matches!(self, Ok(Ok(_)))
    }
}

/// How one exit ended; never a reason to stop the others (every exit runs to its end).
pub(crate) struct Exited<E>(
    pub(crate) Result<Result<(), E>, crate::protocol::catch_unwind::Payload>,
);

impl<E> Failed for Exited<E> {
    fn failed(&self) -> bool {
        false
    }
}

/// An exit started when the manager's exit was called: running, or already panicked in that
/// call (then there is nothing to poll).
pub(crate) enum Started<F> {
    Running(F),
    Panicked(Option<crate::protocol::catch_unwind::Payload>),
}

impl<F, E> Future for Started<F>
where
    F: Future<Output = Result<Result<(), E>, crate::protocol::catch_unwind::Payload>>,
{
    type Output = Exited<E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exited<E>> {
        // SAFETY: `Running`'s future is structurally pinned: never moved out, dropped in place.
        // Exercised by tests/concurrent.rs and tests/stacked_borrows_self_borrows.rs under Miri.
        match unsafe { self.get_unchecked_mut() } {
            // SAFETY: as above. Exercised by
            // tests/concurrent.rs and tests/stacked_borrows_self_borrows.rs under Miri.
            Started::Running(future) => unsafe { Pin::new_unchecked(future) }.poll(cx).map(Exited),
            Started::Panicked(payload) => Poll::Ready(Exited(Err(payload
                .take()
                .expect("contextlib: an exit polled after it ended")))),
        }
    }
}

macro_rules! join {
    ($name:ident: $($F:ident $field:ident),+) => {
        /// Polls its futures together; ready once each is done, or as soon as one has failed
        /// (see [`Failed`]): then the outputs of those not done are `None`, and they are
        /// dropped with the join.
        pub(crate) struct $name<$($F: Future),+> {
            $($field: MaybeDone<$F>,)+
        }

        impl<$($F: Future),+> $name<$($F),+> {
            pub(crate) fn new($($field: $F),+) -> Self {
                $name { $($field: MaybeDone::new($field),)+ }
            }
        }

        impl<$($F: Future),+> Future for $name<$($F),+>
        where
            $($F::Output: Failed,)+
        {
            type Output = ($(Option<$F::Output>,)+);

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                // SAFETY: the fields are structurally pinned (`MaybeDone::poll_done`); nothing is
                // moved out of them but finished outputs. `&mut Self` is not retagged as unique
                // when a member is `!Unpin` (a pending self-borrowing future), and no `&` of a
                // member is made. Exercised by tests/concurrent.rs and
                // tests/stacked_borrows_self_borrows.rs under Miri (both borrow models).
                let this = unsafe { self.get_unchecked_mut() };
                let mut all = true;
                let mut failed = false;
                // (What each member's poll says is kept here: asking a member afterwards would
                // take `&` of one still pending, see `MaybeDone::poll_done`.)
                $(
                    // SAFETY: as above. Exercised by tests/concurrent.rs under Miri.
                    match unsafe { this.$field.poll_done(cx) } {
                        Poll::Ready(member_failed) => failed |= member_failed,
                        Poll::Pending => all = false,
                    }
                )+
                if all || failed {
                    Poll::Ready(($(this.$field.take_if_done(),)+))
                } else {
                    Poll::Pending
                }
            }
        }
    };
}

join!(Join2: A a, B b);
join!(Join3: A a, B b, C c);
join!(Join4: A a, B b, C c, D d);
