//! [`nullcontext`]: Python's `contextlib.nullcontext`.

use core::convert::Infallible;
use core::future::{Ready, ready};
use core::pin::Pin;

use crate::protocol::send_manager::SendAsyncContextManager;
use crate::protocol::{AsyncContextManager, Exit, Lend};

/// A manager whose target is `value` and whose exit does nothing (Python's `nullcontext`):
/// for code that uses a manager only sometimes.
///
/// ```
/// use contextlib::{async_context_manager, async_with, nullcontext, AsyncContextManager};
///
/// #[async_context_manager]
/// async fn locked(n: u32) -> u32 { r#yield!(n); }
///
/// async fn work(lock: bool) -> u32 {
///     // One block for both cases: with a real manager, or with none.
///     if lock {
///         async_with!(locked(1) => |n| n + 1).unwrap()
///     } else {
///         async_with!(nullcontext(1) => |n| n + 1).unwrap()
///     }
/// }
/// # futures_executor::block_on(async {
/// assert_eq!(work(true).await, 2);
/// assert_eq!(work(false).await, 2);
/// # });
/// ```
pub fn nullcontext<T>(value: T) -> NullContext<T> {
    NullContext { value: Some(value) }
}

/// The manager [`nullcontext`] makes. One-shot: its target is moved out at `enter`.
///
/// ```
/// let manager: contextlib::NullContext<&str> = contextlib::nullcontext("unchanged");
/// # let _ = manager;
/// ```
#[derive(Debug)]
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub struct NullContext<T> {
    value: Option<T>,
}

// Nothing in it is ever pinned: the value is moved out on enter, never reached as `Pin<&mut T>`.
impl<T> Unpin for NullContext<T> {}

impl<T> NullContext<T> {
    fn take(self: Pin<&mut Self>) -> T {
        self.get_mut()
            .value
            .take()
            .expect("contextlib: a nullcontext is one-shot: it was already entered")
    }
}

impl<T> Lend<'_> for NullContext<T> {
    type Target = T;
}

impl<T> AsyncContextManager for NullContext<T> {
    type Error = Infallible;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> Ready<Result<T, Infallible>> {
        ready(Ok(self.take()))
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Ready<Result<(), Infallible>> {
        ready(Ok(()))
    }

    fn name() -> &'static str {
        "contextlib::nullcontext"
    }
}

impl<T: Send> SendAsyncContextManager for NullContext<T> {
    type EnterFuture<'m>
        = Ready<Result<T, Infallible>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = Ready<Result<(), Infallible>>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        self.exit(exit)
    }
}
