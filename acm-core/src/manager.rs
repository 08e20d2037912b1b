//! The `AsyncContextManager` trait: Python's `__aenter__` / `__aexit__`.

use core::future::Future;
use core::pin::Pin;

use crate::Exit;

/// An asynchronous context manager: async setup that hands the with-block a target, and async
/// teardown that learns how the block ended.
///
/// This is Python's `__aenter__` / `__aexit__`. `#[async_context_manager]` implements it for
/// you from one `async fn`; implementing it by hand is just as easy, and [`async_with!`]
/// treats both kinds alike.
///
/// # The contract
/// - `enter` is called once, on a pinned manager. If it returns `Err`, nothing was entered and
///   `exit` is not called.
/// - After a successful `enter`, the target lives for the block, then `exit` is called exactly
///   once with the block's [`Exit`]. Its error, if any, wins over the block's (as in Python);
///   the manager saw the block's error through `Exit` and can chain it.
/// - The target borrows the manager (`Target<'a>` for `Pin<&'a mut Self>`), so it cannot
///   outlive the block.
///
/// # Implementing it by hand
/// ```
/// use std::convert::Infallible;
/// use std::pin::Pin;
/// use acm::{async_with, AsyncContextManager, Exit};
///
/// /// The seed's `SimpleAsyncContextManager`: hands out a value, logs enter and exit.
/// struct Simple<T> {
///     value: T,
///     log: Vec<String>,
/// }
///
/// impl<T: Unpin> AsyncContextManager for Simple<T> {
///     type Target<'a> = &'a mut T where Self: 'a;
///     type Error = Infallible;
///
///     async fn enter(self: Pin<&mut Self>) -> Result<&mut T, Infallible> {
///         let this = self.get_mut();
///         this.log.push("enter".into());
///         Ok(&mut this.value)
///     }
///
///     async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
///         self.get_mut().log.push(format!("exit ok={}", exit.is_ok()));
///         Ok(())
///     }
/// }
///
/// # futures_executor::block_on(async {
/// let mut manager = Simple { value: 1, log: Vec::new() };
/// let doubled = async_with!(&mut manager => |value| {
///     *value *= 2;
///     *value
/// });
/// assert_eq!(doubled, Ok(2));
/// assert_eq!(manager.log, ["enter", "exit ok=true"]);
/// # });
/// ```
///
/// (`&mut M` is a manager whenever `M: Unpin` is, so a manager can be inspected afterwards.)
pub trait AsyncContextManager {
    /// What the with-block receives: owned, or borrowed from the manager for the block.
    type Target<'a>
    where
        Self: 'a;

    /// The error of a failed enter or exit. `core::convert::Infallible` for managers that
    /// cannot fail.
    type Error;

    /// Sets up; on success, hands out the target. (`__aenter__`.)
    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target<'_>, Self::Error>>;

    /// Tears down, knowing how the block ended. (`__aexit__`.)
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>>;
}

impl<M: AsyncContextManager + Unpin + ?Sized> AsyncContextManager for &mut M {
    type Target<'a>
        = M::Target<'a>
    where
        Self: 'a;
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target<'_>, Self::Error>> {
        Pin::new(&mut **self.get_mut()).enter()
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        Pin::new(&mut **self.get_mut()).exit(exit)
    }
}

impl<M: AsyncContextManager + ?Sized> AsyncContextManager for Pin<&mut M> {
    type Target<'a>
        = M::Target<'a>
    where
        Self: 'a;
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Self::Target<'_>, Self::Error>> {
        self.get_mut().as_mut().enter()
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        self.get_mut().as_mut().exit(exit)
    }
}
