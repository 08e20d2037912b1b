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

    /// Polls the future if it is not done; `true` once it is.
    ///
    /// # Safety
    /// `self` is pinned (the future is structurally pinned: never moved while pending).
    pub(crate) unsafe fn poll_done(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            MaybeDone::Pending(future) => {
                // SAFETY: caller; the future stays where it is until replaced right below, once
                // it is done (then it is dropped in place by the assignment).
                match unsafe { Pin::new_unchecked(future) }.poll(cx) {
                    Poll::Ready(output) => {
                        *self = MaybeDone::Done(Some(output));
                        true
                    }
                    Poll::Pending => false,
                }
            }
            MaybeDone::Done(_) => true,
        }
    }

    pub(crate) fn take(&mut self) -> F::Output {
        match self {
            MaybeDone::Done(output) => output.take().expect("contextlib: an output taken twice"),
            MaybeDone::Pending(_) => unreachable!("contextlib: an output taken before it was done"),
        }
    }
}

macro_rules! join {
    ($name:ident: $($F:ident $field:ident),+) => {
        /// Polls its futures together; ready with all their outputs once each is done.
        pub(crate) struct $name<$($F: Future),+> {
            $($field: MaybeDone<$F>,)+
        }

        impl<$($F: Future),+> $name<$($F),+> {
            pub(crate) fn new($($field: $F),+) -> Self {
                $name { $($field: MaybeDone::new($field),)+ }
            }
        }

        impl<$($F: Future),+> Future for $name<$($F),+> {
            type Output = ($($F::Output,)+);

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                // SAFETY: the fields are structurally pinned (`MaybeDone::poll_done`); nothing is
                // moved out of them but finished outputs. Exercised by tests/concurrent.rs
                // under Miri.
                let this = unsafe { self.get_unchecked_mut() };
                let mut all = true;
                // SAFETY: as above.
                $(all &= unsafe { this.$field.poll_done(cx) };)+
                if all {
                    Poll::Ready(($(this.$field.take(),)+))
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
