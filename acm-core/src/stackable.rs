//! What an [`ExitStack`](crate::ExitStack) needs of a manager it holds: futures it can name and
//! send to another thread. Stable Rust cannot state that an arbitrary manager's `enter` and
//! `exit` futures are `Send`, so a manager opts in by implementing [`Stackable`]; contextlib's
//! own managers do.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::family::Family;
use crate::generated::Body;
use crate::output::BodyOutput;
use crate::{AsyncContextManager, Exit, Target};

/// A boxed, `Send` exit future whose error is already converted into the stack's error `E`.
pub type BoxExit<'x, E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send + 'x>>;

/// A manager an [`ExitStack`](crate::ExitStack) can hold: its enter future has a name and is
/// `Send`, and its exit can be boxed as a `Send` future.
///
/// Generated managers ([`Generated`](crate::Generated), when what they hold is `Send`),
/// `contextlib::tokio::Detached`, stacks themselves and `contextlib::testing::Watched`
/// implement it. A hand-written manager implements it in a few lines, boxing its futures; the
/// compiler then checks that they really are `Send` (no `unsafe` taken on faith):
///
/// ```
/// use std::convert::Infallible;
/// use std::pin::Pin;
/// use contextlib::{async_with, AsyncContextManager, BoxExit, Exit, ExitStack, Lend, Stackable};
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
/// impl Stackable for Counter {
///     type EnterFuture<'m> = Pin<Box<
///         dyn Future<Output = Result<&'m mut u32, Infallible>> + Send + 'm
///     >>;
///     fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
///         Box::pin(self.enter())
///     }
///     fn exit_into<'x, E: From<Infallible> + Send + 'x>(
///         self: Pin<&'x mut Self>,
///         exit: Exit<'x>,
///     ) -> BoxExit<'x, E> {
///         Box::pin(async move { self.exit(exit).await.map_err(E::from) })
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
    message = "`{Self}` cannot be held by an `ExitStack`: it is not `Stackable`",
    note = "a stack is `Send`, so what it holds must be: a generated manager is `Stackable` when its arguments and the locals it holds across `.await` are `Send`",
    note = "a hand-written manager implements `Stackable` by boxing its futures (see the trait's documentation)"
)]
pub trait Stackable: AsyncContextManager + Send {
    /// The future of [`enter_send`](Self::enter_send).
    type EnterFuture<'m>: Future<Output = Result<Target<'m, Self>, Self::Error>> + Send
    where
        Self: 'm;

    /// [`enter`](AsyncContextManager::enter), as a named `Send` future.
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_>;

    /// [`exit`](AsyncContextManager::exit), boxed as a `Send` future, its error converted.
    fn exit_into<'x, E: From<Self::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> BoxExit<'x, E>;
}

/// A future whose error is converted into `E`.
pub(crate) struct MapErr<F, E> {
    future: F,
    _error: core::marker::PhantomData<fn() -> E>,
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
        // SAFETY: `future` is structurally pinned: never moved out, dropped in place.
        // Exercised by tests/exit_stack.rs under Miri.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.future) };
        future.poll(cx).map(|result| result.map_err(E::from))
    }
}

impl<Fam, B> Stackable for crate::Generated<Fam, B>
where
    Fam: for<'a> Family<'a>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
    Self: Send,
{
    type EnterFuture<'m>
        = crate::__private::EnterFuture<'m, Fam, B>
    where
        Self: 'm;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_into<'x, E: From<Self::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> BoxExit<'x, E> {
        Box::pin(MapErr::<_, E>::new(self.exit(exit)))
    }
}
