//! The `AsyncContextManager` trait: Python's `__aenter__` / `__aexit__`.

use core::future::Future;
use core::pin::Pin;

use crate::protocol::Exit;

pub(crate) use sealed::{Bound, Sealed};

mod sealed {
    /// Only [`Bound`] implements it: the second parameter of [`Lend`](super::Lend) is never
    /// written by hand.
    pub trait Sealed {}

    /// The default second parameter of [`Lend`](super::Lend): naming `&'a Self` gives every
    /// impl and bound the implied `Self: 'a`, so a higher-ranked bound `for<'a> Lend<'a, ..>`
    /// does not require `Self: 'static`.
    pub struct Bound<T: ?Sized>(core::marker::PhantomData<T>);

    impl<T: ?Sized> Sealed for Bound<T> {}
}

/// The target a manager lends for the borrow `'a` of itself: `Target<'a, M>`.
///
/// A lifetime trait rather than a generic associated type, so that a bound can name the target
/// of any manager, also one that borrows its arguments: `M: AsyncContextManager + for<'a>
/// Lend<'a, Target = &'a mut Vec<u8>>`. (With a generic associated type declared `where Self:
/// 'a`, such a bound implies `M: 'static`, a limitation of the type system.) The second
/// parameter is never written: its default gives the implied bound `Self: 'a`.
///
/// Implement it next to [`AsyncContextManager`], one line:
///
/// ```
/// # use std::{convert::Infallible, pin::Pin};
/// # use contextlib::{AsyncContextManager, Exit, Lend};
/// struct Counter(u32);
///
/// impl<'a> Lend<'a> for Counter {
///     type Target = &'a mut u32;
/// }
/// # impl AsyncContextManager for Counter {
/// #     type Error = Infallible;
/// #     async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, Infallible> { Ok(&mut self.get_mut().0) }
/// #     async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> { Ok(()) }
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say what it lends: it implements no `Lend<'a>`",
    label = "no `Lend` impl",
    note = "a hand-written manager says what it lends in one line next to its `AsyncContextManager` impl: `impl<'a> Lend<'a> for {Self} {{ type Target = ..; }}` (it replaces the former `type Target<'a> = ..`)"
)]
pub trait Lend<'a, ImplicitBound: sealed::Sealed = sealed::Bound<&'a Self>> {
    /// What the with-block receives for the borrow `'a` of the manager: owned, or borrowed
    /// from it.
    type Target;
}

/// The target manager `M` lends for the borrow `'a`: `contextlib::Target<'a, M>`.
///
/// ```
/// use std::convert::Infallible;
/// use contextlib::{async_context_manager, async_with, AsyncContextManager, Lend, Target};
///
/// #[async_context_manager]
/// async fn buffer(size: usize) -> &mut Vec<u8> {
///     let mut buffer = vec![0; size];
///     r#yield!(&mut buffer);
/// }
///
/// /// Any manager that lends `&mut Vec<u8>`: Python's `AsyncContextManager[bytearray]`.
/// async fn fill<M>(manager: M) -> Result<usize, Infallible>
/// where
///     M: AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
/// {
///     async_with!(manager => |buffer| {
///         let buffer: Target<'_, M> = buffer; // the same type, named
///         buffer.push(1);
///         buffer.len()
///     })
/// }
///
/// # futures_executor::block_on(async {
/// assert_eq!(fill(buffer(2)).await, Ok(3));
/// # });
/// ```
pub type Target<'a, M> = <M as Lend<'a>>::Target;

/// An asynchronous context manager: async setup that hands the with-block a target, and async
/// teardown that learns how the block ended.
///
/// This is Python's `__aenter__` / `__aexit__`. `#[async_context_manager]` implements it for
/// you from one `async fn`; implementing it by hand is just as easy, and [`async_with!`](crate::async_with)
/// treats both kinds alike.
///
/// # The contract
/// - `enter` is called once, on a pinned manager. If it returns `Err`, nothing was entered and
///   `exit` is not called.
/// - After a successful `enter`, the target lives for the block, then `exit` is called exactly
///   once with the block's [`Exit`]. Its error, if any, wins over the block's (as in Python);
///   the manager saw the block's error through `Exit` and can chain it.
/// - The target borrows the manager ([`Target<'a, Self>`](Target), named by [`Lend`], for
///   `Pin<&'a mut Self>`), so it cannot outlive the block.
///
/// # Implementing it by hand
/// ```
/// use std::convert::Infallible;
/// use std::pin::Pin;
/// use contextlib::{async_with, AsyncContextManager, Exit, Lend};
///
/// /// The seed's `SimpleAsyncContextManager`: hands out a value, logs enter and exit.
/// struct Simple<T> {
///     value: T,
///     log: Vec<String>,
/// }
///
/// impl<'a, T> Lend<'a> for Simple<T> {
///     type Target = &'a mut T;
/// }
///
/// impl<T: Unpin> AsyncContextManager for Simple<T> {
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a context manager",
    label = "not an `AsyncContextManager`",
    note = "write the manager as an `#[async_context_manager] async fn`, or implement `AsyncContextManager` for it",
    note = "a tuple is a manager when each of its elements is one and they share one error type"
)]
pub trait AsyncContextManager: for<'a> Lend<'a> {
    /// The error of a failed enter or exit. `core::convert::Infallible` for managers that
    /// cannot fail.
    type Error;

    /// Sets up; on success, hands out the target. (`__aenter__`.) `async_with!` calls it;
    /// you can too, on a pinned manager:
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{async_context_manager, AsyncContextManager, Exit};
    ///
    /// #[async_context_manager]
    /// async fn lend() -> &mut Vec<u8> {
    ///     let mut buffer = vec![1];
    ///     r#yield!(&mut buffer);
    ///     assert_eq!(buffer, [1, 2]);
    /// }
    ///
    /// # futures_executor::block_on(async {
    /// let mut manager = pin!(lend());
    /// let buffer = manager.as_mut().enter().await.unwrap();
    /// buffer.push(2);
    /// manager.as_mut().exit(Exit::Ok).await.unwrap();
    /// # });
    /// ```
    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>>;

    /// Tears down, knowing how the block ended. (`__aexit__`.) Its error is what
    /// `async_with!` returns, even if the block failed too (the block's error was visible
    /// through `exit`). See [`enter`](Self::enter) for an example of calling it directly.
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>>;

    /// Runs the teardown of a cancelled block: `async_with!` calls it, exactly once, when the
    /// future running the block is dropped between a successful `enter` and the `exit`.
    /// It runs in `Drop`, so it must not block.
    ///
    /// The default runs `exit(Exit::Cancelled)` in place, polling it until it completes or is
    /// evidently waiting (on I/O, a timer); a teardown that fails or cannot finish that way is
    /// reported to the [teardown hook](crate::set_teardown_hook). Override it to hand the
    /// teardown to something that can await it, as `contextlib::tokio::detach_on_cancel` does.
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{async_context_manager, AsyncContextManager, Exit};
    ///
    /// #[async_context_manager]
    /// async fn note(seen: &mut Vec<String>) -> u8 {
    ///     let exit = r#yield!(1);
    ///     seen.push(format!("{exit:?}"));
    /// }
    ///
    /// let mut seen = Vec::new();
    /// {
    ///     let mut manager = pin!(note(&mut seen));
    ///     futures_executor::block_on(manager.as_mut().enter()).unwrap();
    ///     manager.as_mut().cancel(); // what `async_with!` does when its future is dropped
    /// }
    /// assert_eq!(seen, ["Cancelled"]);
    /// ```
    fn cancel(self: Pin<&mut Self>) {
        crate::protocol::teardown::finish_in_place(self.exit(Exit::Cancelled), Self::name());
    }

    /// Whether this manager's exit future finishes the teardown by itself even if it is
    /// dropped early — from the moment `exit` is called, even before its first poll (as
    /// [`contextlib::tokio::Detached`]'s does: the exit runs elsewhere; and as a tuple's does:
    /// it finishes each of its managers' exits). If not (the default), `async_with!` finishes a
    /// dropped exit in place as far as it can, and reports it if it cannot. Claiming `true` for
    /// an exit that does nothing until polled loses the teardown of a dropped exit.
    ///
    /// [`contextlib::tokio::Detached`]: https://docs.rs/contextlib/latest/contextlib/tokio/struct.Detached.html
    ///
    /// ```
    /// use contextlib::AsyncContextManager;
    /// fn finishes_by_itself<M: AsyncContextManager>(_: &M) -> bool {
    ///     M::EXIT_FINISHES_WHEN_DROPPED
    /// }
    /// #[contextlib::async_context_manager]
    /// async fn local() -> u8 { r#yield!(1); }
    /// assert!(!finishes_by_itself(&local()));
    /// ```
    const EXIT_FINISHES_WHEN_DROPPED: bool = false;

    /// A name for this kind of manager in teardown reports. The default is the type's name; a
    /// generated manager is named after its fn.
    ///
    /// ```
    /// use contextlib::AsyncContextManager;
    /// fn name_of<M: AsyncContextManager>(_: &M) -> &'static str {
    ///     M::name()
    /// }
    /// #[contextlib::async_context_manager]
    /// async fn connection() -> u8 { r#yield!(1); }
    /// assert!(name_of(&connection()).ends_with("connection"));
    /// ```
    fn name() -> &'static str {
        core::any::type_name::<Self>()
    }
}

impl<'a, M: AsyncContextManager + ?Sized> Lend<'a> for &mut M {
    type Target = Target<'a, M>;
}

impl<M: AsyncContextManager + Unpin + ?Sized> AsyncContextManager for &mut M {
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>> {
        Pin::new(&mut **self.get_mut()).enter()
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        Pin::new(&mut **self.get_mut()).exit(exit)
    }

    fn cancel(self: Pin<&mut Self>) {
        Pin::new(&mut **self.get_mut()).cancel()
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = M::EXIT_FINISHES_WHEN_DROPPED;

    fn name() -> &'static str {
        M::name()
    }
}

impl<'a, M: AsyncContextManager + ?Sized> Lend<'a> for Pin<&mut M> {
    type Target = Target<'a, M>;
}

impl<M: AsyncContextManager + ?Sized> AsyncContextManager for Pin<&mut M> {
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>> {
        self.get_mut().as_mut().enter()
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        self.get_mut().as_mut().exit(exit)
    }

    fn cancel(self: Pin<&mut Self>) {
        self.get_mut().as_mut().cancel()
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = M::EXIT_FINISHES_WHEN_DROPPED;

    fn name() -> &'static str {
        M::name()
    }
}

impl<M: crate::protocol::SendAsyncContextManager + Unpin + ?Sized>
    crate::protocol::SendAsyncContextManager for &mut M
{
    type EnterFuture<'m>
        = M::EnterFuture<'m>
    where
        Self: 'm;
    type ExitFuture<'x>
        = M::ExitFuture<'x>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        Pin::new(&mut **self.get_mut()).enter_send()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        Pin::new(&mut **self.get_mut()).exit_send(exit)
    }

    fn exit_into<'x, E: From<Self::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> crate::protocol::BoxExit<'x, E>
    where
        Self::Error: 'x,
    {
        Pin::new(&mut **self.get_mut()).exit_into(exit)
    }
}

impl<M: crate::protocol::SendAsyncContextManager + ?Sized> crate::protocol::SendAsyncContextManager
    for Pin<&mut M>
{
    type EnterFuture<'m>
        = M::EnterFuture<'m>
    where
        Self: 'm;
    type ExitFuture<'x>
        = M::ExitFuture<'x>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.get_mut().as_mut().enter_send()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        self.get_mut().as_mut().exit_send(exit)
    }

    fn exit_into<'x, E: From<Self::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> crate::protocol::BoxExit<'x, E>
    where
        Self::Error: 'x,
    {
        self.get_mut().as_mut().exit_into(exit)
    }
}
