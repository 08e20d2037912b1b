//! A future adapter that turns a panic while polling into a value, so that the manager's exit
//! can run before the panic resumes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A panic payload, as `std::panic::catch_unwind` returns it.
pub type Payload = Box<dyn Any + Send + 'static>;

/// Polls `F`, catching panics.
pub struct CatchUnwind<F>(F);

impl<F: Future> CatchUnwind<F> {
    /// Wraps `future`.
    #[inline]
    pub fn new(future: F) -> Self {
        CatchUnwind(future)
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Payload>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field; `CatchUnwind` never moves it out.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        // The future is not polled again after a panic (the outcome is final), so observing
        // it in a broken state is impossible: asserting unwind safety is sound.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
