//! `Option<M>` as a manager: Python's `cm = a() if c else nullcontext()`.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::protocol::{AsyncContextManager, Exit, Lend, SendAsyncContextManager, Target};

/// `Some(manager)` lends `Some(target)`, `None` lends `None`.
impl<'a, M: Lend<'a>> Lend<'a> for Option<M> {
    type Target = Option<Target<'a, M>>;
}

/// A manager used only sometimes (Python's `cm = a() if c else nullcontext()`): `Some(manager)`
/// enters, exits and cancels as `manager` does and lends `Some(target)`; `None` enters nothing,
/// lends `None` and its exit does nothing. The error type, [`name`](AsyncContextManager::name)
/// and [`EXIT_FINISHES_WHEN_DROPPED`](AsyncContextManager::EXIT_FINISHES_WHEN_DROPPED) are
/// `M`'s. When `M` is a [`SendAsyncContextManager`], so is `Option<M>`, with named futures
/// ([`OptionEnter`], [`OptionExit`]; nothing is boxed).
///
/// ```
/// use contextlib::{async_context_manager, async_with, IntoValue};
///
/// #[async_context_manager]
/// async fn traced(log: &mut Vec<&'static str>) -> &mut Vec<&'static str> {
///     log.push("span opened");
///     r#yield!(&mut *log);
///     log.push("span closed");
/// }
///
/// async fn work(log: &mut Vec<&'static str>, trace: bool) -> usize {
///     let manager = if trace { Some(traced(&mut *log)) } else { None };
///     async_with!(manager => |span| {
///         if let Some(log) = span {
///             log.push("working");
///         }
///         42
///     })
///     .into_value()
/// }
///
/// # futures_executor::block_on(async {
/// let mut log = Vec::new();
/// assert_eq!(work(&mut log, false).await, 42);
/// assert!(log.is_empty());
/// assert_eq!(work(&mut log, true).await, 42);
/// assert_eq!(log, ["span opened", "working", "span closed"]);
/// # });
/// ```
impl<M: AsyncContextManager> AsyncContextManager for Option<M> {
    type Error = M::Error;

    #[inline]
    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>> {
        OptionEnter {
            future: self.as_pin_mut().map(|manager| manager.enter()),
        }
    }

    #[inline]
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        OptionExit {
            future: self.as_pin_mut().map(|manager| manager.exit(exit)),
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        if let Some(manager) = self.as_pin_mut() {
            manager.cancel();
        }
    }

    /// `M`'s: a `None` has no teardown to finish.
    const EXIT_FINISHES_WHEN_DROPPED: bool = M::EXIT_FINISHES_WHEN_DROPPED;

    /// `M`'s: only a `Some(manager)` has a teardown to report.
    fn name() -> &'static str {
        M::name()
    }
}

/// With named futures, nothing boxed: [`OptionEnter`] and [`OptionExit`] of `M`'s.
impl<M: SendAsyncContextManager> SendAsyncContextManager for Option<M> {
    type EnterFuture<'m>
        = OptionEnter<M::EnterFuture<'m>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = OptionExit<M::ExitFuture<'x>>
    where
        Self: 'x;

    #[inline]
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        OptionEnter {
            future: self.as_pin_mut().map(|manager| manager.enter_send()),
        }
    }

    #[inline]
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        OptionExit {
            future: self.as_pin_mut().map(|manager| manager.exit_send(exit)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The enter future of an `Option<M>` manager: `M`'s enter future `F`, its target wrapped in
    /// `Some`, or, for `None`, `Ok(None)` at once.
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{nullcontext, NullContext, OptionEnter, SendAsyncContextManager};
    ///
    /// # futures_executor::block_on(async {
    /// let mut manager = pin!(Some(nullcontext(3)));
    /// let enter: OptionEnter<_> = manager.as_mut().enter_send();
    /// assert_eq!(enter.await, Ok(Some(3)));
    /// let mut nothing = pin!(None::<NullContext<u8>>);
    /// assert_eq!(nothing.as_mut().enter_send().await, Ok(None));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct OptionEnter<F> {
        #[pin]
        future: Option<F>,
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> Future for OptionEnter<F> {
    type Output = Result<Option<T>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().future.as_pin_mut() {
            Some(future) => future.poll(cx).map(|entered| entered.map(Some)),
            None => Poll::Ready(Ok(None)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The exit future of an `Option<M>` manager: `M`'s exit future `F`, or, for `None`, `Ok(())`
    /// at once.
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{nullcontext, Exit, NullContext, OptionExit, SendAsyncContextManager};
    ///
    /// # futures_executor::block_on(async {
    /// let mut nothing = pin!(None::<NullContext<u8>>);
    /// assert_eq!(nothing.as_mut().enter_send().await, Ok(None));
    /// let exit: OptionExit<_> = nothing.as_mut().exit_send(Exit::Ok);
    /// assert_eq!(exit.await, Ok(()));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct OptionExit<F> {
        #[pin]
        future: Option<F>,
    }
}

impl<F: Future<Output = Result<(), E>>, E> Future for OptionExit<F> {
    type Output = Result<(), E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().future.as_pin_mut() {
            Some(future) => future.poll(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}
