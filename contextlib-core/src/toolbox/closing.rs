//! [`closing`]: Python's `contextlib.aclosing`, for any value that needs an async close.

use core::future::{Future, Ready, ready};
use core::pin::Pin;

use crate::protocol::{AsyncContextManager, Exit, Lend};

/// A manager that lends `&mut value` to the block and, at every exit, calls `close(value)` and
/// awaits it (Python's `aclosing`): for a value whose cleanup is async and must not be skipped —
/// a `BufWriter` whose buffered bytes are lost if it is dropped unflushed, a pool, a child
/// process. The exit returns `close`'s error; it runs on error, panic and cancellation too.
///
/// ```
/// use contextlib::{async_with, closing};
/// use tokio::io::{AsyncWriteExt, BufWriter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("contextlib-closing-{}", std::process::id()));
/// let file = BufWriter::new(tokio::fs::File::create(&path).await?);
/// async_with!(closing(file, |mut file| async move { file.shutdown().await }) => |file| {
///     file.write_all(b"buffered until the exit flushes it").await
/// })?;
/// assert_eq!(tokio::fs::read_to_string(&path).await?, "buffered until the exit flushes it");
/// # tokio::fs::remove_file(&path).await
/// # }
/// ```
pub fn closing<T, F, Fut, E>(value: T, close: F) -> Closing<T, F>
where
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    Closing {
        value: Some(value),
        close: Some(close),
        entered: false,
    }
}

/// The manager [`closing`] makes. One-shot: entering it a second time panics (it lends its value
/// once), as does an exit after the first.
///
/// ```
/// let manager = contextlib::closing(vec![1], |v| async move { drop(v); Ok::<_, std::io::Error>(()) });
/// # let _ = manager;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub struct Closing<T, F> {
    value: Option<T>,
    close: Option<F>,
    entered: bool,
}

// Nothing in it is ever pinned: the value is lent as `&mut T` (never as `Pin<&mut T>`) and
// moved out only to be closed.
impl<T, F> Unpin for Closing<T, F> {}

impl<'a, T, F> Lend<'a> for Closing<T, F> {
    type Target = &'a mut T;
}

impl<T, F, Fut, E> AsyncContextManager for Closing<T, F>
where
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    type Error = E;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> Ready<Result<&mut T, E>> {
        let this = self.get_mut();
        assert!(
            !core::mem::replace(&mut this.entered, true),
            "contextlib: a closing manager is one-shot: it was already entered"
        );
        let value = this
            .value
            .as_mut()
            .expect("contextlib: a closing manager is one-shot: it was already closed");
        ready(Ok(value))
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> ClosingExit<Fut> {
        let this = self.get_mut();
        let closed = match (this.value.take(), this.close.take()) {
            (Some(value), Some(close)) => Some(close(value)),
            _ => None,
        };
        ClosingExit { closed }
    }

    fn name() -> &'static str {
        "contextlib::closing"
    }
}

pin_project_lite::pin_project! {
    /// The exit future of [`closing`]: the close future, or a one-shot panic.
    pub struct ClosingExit<Fut> {
        #[pin]
        closed: Option<Fut>,
    }
}

impl<Fut: Future> Future for ClosingExit<Fut> {
    type Output = Fut::Output;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Fut::Output> {
        match self.project().closed.as_pin_mut() {
            Some(closed) => closed.poll(cx),
            None => panic!("contextlib: a closing manager is one-shot: it was already closed"),
        }
    }
}

impl<T, F, Fut, E> crate::protocol::SendAsyncContextManager for Closing<T, F>
where
    T: Send,
    F: FnOnce(T) -> Fut + Send,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Send,
{
    type EnterFuture<'m>
        = Ready<Result<&'m mut T, E>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = ClosingExit<Fut>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> ClosingExit<Fut> {
        self.exit(exit)
    }
}
