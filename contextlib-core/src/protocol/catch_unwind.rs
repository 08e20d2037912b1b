//! A future adapter that turns a panic while polling into a value, so that the manager's exit
//! can run before the panic resumes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A panic payload, as `std::panic::catch_unwind` returns it.
pub type Payload = Box<dyn Any + Send + 'static>;

/// Drops a panic payload that will not be resumed, without letting a payload whose own `Drop`
/// panics unwind out of the destructor that is discarding it. (The payloads of such panics are
/// dropped the same way; past a few levels of that, the last one is leaked.)
pub(crate) fn discard(payload: Payload) {
    let mut next = payload;
    for _ in 0..3 {
        match catch_unwind(AssertUnwindSafe(|| drop(next))) {
            Ok(()) => return,
            Err(payload) => next = payload,
        }
    }
    core::mem::forget(next);
}

pin_project_lite::pin_project! {
    /// Polls `F`, catching panics.
    pub struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> CatchUnwind<F> {
    /// Wraps `future`.
    #[inline(always)]
    pub fn new(future: F) -> Self {
        CatchUnwind { future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Payload>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        // The future is not polled again after a panic (the outcome is final), so observing
        // it in a broken state is impossible: asserting unwind safety is sound.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}
