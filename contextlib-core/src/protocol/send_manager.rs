//! The `Send` variant of [`AsyncContextManager`]: a manager whose enter and exit futures are
//! named and `Send`. Stable Rust cannot state that an arbitrary manager's futures are `Send`
//! (auto traits do not leak from an opaque type's methods), so a manager opts in; contextlib's
//! own managers do, and generated ones do whenever their state is `Send`.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::protocol::{AsyncContextManager, Exit, Target};

/// A boxed, `Send` exit future whose error is already converted into the stack's error `E`.
///
/// What [`SendAsyncContextManager::exit_into`] returns, and what an
/// [`ExitStack`](crate::ExitStack) keeps for each manager it holds.
///
/// ```
/// use core::pin::pin;
/// use contextlib::{nullcontext, AsyncContextManager, BoxError, BoxExit, Exit, SendAsyncContextManager};
///
/// # futures_executor::block_on(async {
/// let mut manager = pin!(nullcontext(7));
/// assert_eq!(manager.as_mut().enter().await.unwrap(), 7);
/// let exit: BoxExit<'_, BoxError> = manager.as_mut().exit_into::<BoxError>(Exit::Ok);
/// assert!(exit.await.is_ok());
/// # });
/// ```
pub type BoxExit<'x, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'x>>;

/// An [`AsyncContextManager`] whose enter and exit futures are named and `Send` (the `Send`
/// variant, named as `trait-variant` names them).
///
/// What it gives: [`async_with!`](crate::async_with) over a manager known only by this bound
/// (a generic parameter, or an `impl SendAsyncContextManager<..>` returned by a trait method)
/// is a `Send` future, so `tokio::spawn` accepts it; through `impl AsyncContextManager` alone
/// stable Rust cannot prove that. An [`ExitStack`](crate::ExitStack) holds managers of this
/// trait.
///
/// Generated managers ([`Generated`](crate::Generated), when what they hold is `Send`),
/// tuples, [`concurrent`](crate::concurrent), [`nullcontext`](crate::nullcontext),
/// [`closing`](crate::closing), [`Either`](crate::Either), `contextlib::tokio::Detached`,
/// stacks themselves and `contextlib::testing::Watched` implement it. A hand-written manager
/// implements it in a few lines, boxing its futures if they have no name; the compiler then
/// checks that they really are `Send` (no `unsafe` taken on faith):
///
/// ```
/// use std::convert::Infallible;
/// use std::pin::Pin;
/// use contextlib::{async_with, AsyncContextManager, BoxExit, Exit, ExitStack, Lend, SendAsyncContextManager};
///
/// struct Counter(u32);
///
/// impl<'a> Lend<'a> for Counter {
///     type Target = &'a mut u32;
/// }
///
/// impl AsyncContextManager for Counter {
///     type Error = Infallible;
///     async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, Infallible> {
///         Ok(&mut self.get_mut().0)
///     }
///     async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
///         Ok(())
///     }
/// }
///
/// impl SendAsyncContextManager for Counter {
///     type EnterFuture<'m> = Pin<Box<
///         dyn Future<Output = Result<&'m mut u32, Infallible>> + Send + 'm
///     >>;
///     type ExitFuture<'x> = BoxExit<'x, Infallible>;
///     fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
///         Box::pin(self.enter())
///     }
///     fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, Infallible> {
///         Box::pin(self.exit(exit))
///     }
/// }
///
/// # futures_executor::block_on(async {
/// let total = async_with!(ExitStack::<Infallible>::new() => |stack| {
///     let a = stack.enter(Counter(1)).await.unwrap();
///     let b = stack.enter(Counter(2)).await.unwrap();
///     *a + *b
/// });
/// assert_eq!(total, Ok(3));
/// # });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `SendAsyncContextManager`: its futures are not known to be `Send`",
    note = "a generated manager is one when its arguments and the locals it holds across `.await` are `Send`",
    note = "a hand-written manager opts in by naming its futures, boxed if need be (see the trait's documentation)"
)]
pub trait SendAsyncContextManager: AsyncContextManager + Send {
    /// The future of [`enter_send`](Self::enter_send).
    type EnterFuture<'m>: Future<Output = Result<Target<'m, Self>, Self::Error>> + Send
    where
        Self: 'm;

    /// The future of [`exit_send`](Self::exit_send).
    type ExitFuture<'x>: Future<Output = Result<(), Self::Error>> + Send
    where
        Self: 'x;

    /// [`enter`](AsyncContextManager::enter), as a named `Send` future.
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_>;

    /// [`exit`](AsyncContextManager::exit), as a named `Send` future.
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x>;

    /// [`exit_send`](Self::exit_send), boxed, its error converted (what an
    /// [`ExitStack`](crate::ExitStack) holds).
    fn exit_into<'x, E: From<Self::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> BoxExit<'x, E>
    where
        Self::Error: 'x,
    {
        Box::pin(MapErr::<_, E>::new(self.exit_send(exit)))
    }
}

pin_project_lite::pin_project! {
    /// A future whose error is converted into `E`.
    pub(crate) struct MapErr<F, E> {
        #[pin]
        future: F,
        _error: core::marker::PhantomData<fn() -> E>,
    }
}

impl<F, E> MapErr<F, E> {
    pub(crate) fn new(future: F) -> Self {
        MapErr {
            future,
            _error: core::marker::PhantomData,
        }
    }
}

impl<F: Future<Output = Result<(), M>>, M, E: From<M>> Future for MapErr<F, E> {
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.project()
            .future
            .poll(cx)
            .map(|result| result.map_err(E::from))
    }
}
