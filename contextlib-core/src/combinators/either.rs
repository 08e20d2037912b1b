//! [`Either`]: one of two managers, chosen at run time (`a() if c else b()`).

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::entering::guard::{Finishing, Teardown, TeardownOf};
use crate::protocol::catch_unwind::discard;
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, report};
use crate::protocol::{AsyncContextManager, Exit, Lend, SendAsyncContextManager, Target};

/// One of two managers, chosen at run time: Python's `cm = a() if cached else b()`.
///
/// `Either<L, R>` is a manager when both sides lend the same target and share one error type.
/// Entering it enters the side it holds; its exit, its [cancellation](AsyncContextManager::cancel)
/// and its teardown reports are that side's. When both sides are
/// [`SendAsyncContextManager`]s, so is `Either`, with named futures (nothing is boxed), so it
/// goes on an [`ExitStack`](crate::ExitStack) and into spawned tasks.
///
/// ```
/// use std::io;
/// use contextlib::{async_context_manager, async_with, Either};
///
/// struct Session(Vec<String>);
///
/// #[async_context_manager]
/// async fn cache_session() -> Result<&mut Session, io::Error> {
///     let mut session = Session(vec!["cache".into()]);
///     r#yield!(&mut session);
///     Ok(())
/// }
///
/// #[async_context_manager]
/// async fn db_session(url: &str) -> Result<&mut Session, io::Error> {
///     let mut session = Session(vec![format!("connect {url}")]);
///     r#yield!(&mut session);
///     Ok(())
/// }
///
/// async fn first_query(cached: bool, url: &str) -> io::Result<String> {
///     let m = if cached { Either::Left(cache_session()) } else { Either::Right(db_session(url)) };
///     async_with!(m => |s| Ok::<_, io::Error>(s.0[0].clone()))
/// }
///
/// # futures_executor::block_on(async {
/// assert_eq!(first_query(true, "db://x").await.unwrap(), "cache");
/// assert_eq!(first_query(false, "db://x").await.unwrap(), "connect db://x");
/// # });
/// ```
///
/// It also goes where a type hint asks for a manager lending a given target:
///
/// ```
/// use std::convert::Infallible;
/// use contextlib::{async_with, nullcontext, AsyncContextManager, Either, IntoValue, Lend};
///
/// fn pick(
///     n: Option<u32>,
/// ) -> impl AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = u32> {
///     match n {
///         Some(n) => Either::Left(nullcontext(n)),
///         None => Either::Right(nullcontext(0)),
///     }
/// }
///
/// # futures_executor::block_on(async {
/// assert_eq!(async_with!(pick(Some(2)) => |n| n + 1).into_value(), 3);
/// # });
/// ```
///
/// # Pinning
/// The side an `Either` holds is structurally pinned: a pinned `Either` never moves it out nor
/// changes side. `Either<L, R>` is `Unpin` when both sides are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub enum Either<L, R> {
    /// The left manager. Its target type is the one `Either` lends.
    Left(L),
    /// The right manager. It lends the same target as the left one.
    Right(R),
}

impl<L, R> Either<L, R> {
    /// The pinned side. The only way the side of a pinned `Either` is reached.
    fn project(self: Pin<&mut Self>) -> Either<Pin<&mut L>, Pin<&mut R>> {
        // (The one `unsafe` of this file: pin-project-lite, which projects the futures below,
        // does not take tuple variants, and `Either::Left(m)` is the public spelling.)
        // SAFETY: the side is structurally pinned: nothing moves it out of a pinned `Either` or
        // overwrites it but `Pin::set` (which drops the old side in place), no method of `Either`
        // takes the side by value under a pin, and `Either` has no `Drop` impl, so the pinned
        // side stays where it is until it is dropped in place. `Either: Unpin` only when both
        // sides are (the auto impl). Exercised under Miri, both borrow models, by
        // tests/either.rs: generated managers (coroutines that borrow themselves across the
        // yield) and hand-written ones on both sides, cancelled at every poll, and on an
        // `ExitStack`. Checked by
        // tests/either.rs::the_side_entered_is_torn_down_once_wherever_the_future_is_dropped
        // under Miri.
        unsafe {
            match self.get_unchecked_mut() {
                Either::Left(left) => Either::Left(Pin::new_unchecked(left)),
                Either::Right(right) => Either::Right(Pin::new_unchecked(right)),
            }
        }
    }
}

mod sealed {
    pub trait Sealed {}

    /// The default last parameter of [`SameTarget`](super::SameTarget): names `&'a Self` and
    /// `&'a L`, so that a bound `for<'a> SameTarget<'a, L>` implies `Self: 'a` and `L: 'a`
    /// instead of requiring them for every `'a` (which would mean `'static`).
    pub struct Bound<T: ?Sized>(core::marker::PhantomData<T>);

    impl<T: ?Sized> Sealed for Bound<T> {}
}

/// `Self` lends, for the borrow `'a`, the same target as `L`: what makes an
/// [`Either<L, R>`](Either) a manager (`R: for<'a> SameTarget<'a, L>`).
///
/// Implemented for every pair of types lending the same target, so there is nothing to implement
/// by hand. (A hand-written impl for types whose targets differ compiles too: its
/// `into_target_of` is a safe fn, so the worst it can do is convert one target into another it
/// chooses, which then becomes the `Either`'s target: tests/combinators_misused.rs.) It states the
/// equality one lifetime at a time, which is what makes it usable: the
/// direct bound `R: for<'a> Lend<'a, Target = Target<'a, L>>` is not provable for generated
/// managers on stable Rust ("one type is more general than the other"); this one is. Generic
/// code that builds an `Either` states it the same way:
///
/// ```
/// use contextlib::{async_context_manager, async_with, nullcontext, AsyncContextManager, Either, IntoValue, SameTarget};
///
/// /// `primary` if it is wanted, else `fallback`: one manager type either way.
/// fn choose<L, R>(want_primary: bool, primary: L, fallback: R) -> Either<L, R>
/// where
///     L: AsyncContextManager,
///     R: AsyncContextManager<Error = L::Error> + for<'a> SameTarget<'a, L>,
/// {
///     if want_primary { Either::Left(primary) } else { Either::Right(fallback) }
/// }
///
/// #[async_context_manager]
/// async fn answer(n: &u32) -> u32 {
///     r#yield!(*n);
/// }
///
/// # futures_executor::block_on(async {
/// let n = 42;
/// let manager = choose(false, answer(&n), nullcontext(7));
/// assert_eq!(async_with!(manager => |n| n).into_value(), 7);
/// # });
/// ```
///
/// The last parameter is never written: its default, of a sealed type, gives the implied bounds
/// `Self: 'a, L: 'a`, as [`Lend`]'s does.
pub trait SameTarget<'a, L, ImplicitBound: sealed::Sealed = sealed::Bound<(&'a Self, &'a L)>> {
    /// The target, as `L`'s target type (the same type).
    ///
    /// ```
    /// use contextlib::{NullContext, SameTarget};
    ///
    /// let n: u32 = <NullContext<u32> as SameTarget<'_, NullContext<u32>>>::into_target_of(7);
    /// assert_eq!(n, 7);
    /// ```
    fn into_target_of(target: Target<'a, Self>) -> Target<'a, L>
    where
        Self: Lend<'a> + 'a,
        L: Lend<'a> + 'a;
}

impl<'a, L: Lend<'a>, R: Lend<'a, Target = Target<'a, L>>> SameTarget<'a, L> for R {
    #[inline(always)]
    fn into_target_of(target: Target<'a, R>) -> Target<'a, L> {
        target
    }
}

/// The target is the left side's target type, which the right side lends too.
impl<'a, L: Lend<'a>, R: Lend<'a> + SameTarget<'a, L>> Lend<'a> for Either<L, R> {
    type Target = Target<'a, L>;
}

/// Enters the side it holds; exits, cancels and reports teardowns as that side does.
impl<L, R> AsyncContextManager for Either<L, R>
where
    L: AsyncContextManager,
    R: AsyncContextManager<Error = L::Error> + for<'a> SameTarget<'a, L>,
{
    type Error = L::Error;

    #[inline]
    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>> {
        EitherEnter::<L, R, _, _>::new(match self.project() {
            Either::Left(left) => Either::Left(left.enter()),
            Either::Right(right) => Either::Right(right.enter()),
        })
    }

    #[inline]
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        EitherExit::<L, R, _, _>::new(match self.project() {
            Either::Left(left) => Either::Left(left.exit(exit)),
            Either::Right(right) => Either::Right(right.exit(exit)),
        })
    }

    fn cancel(self: Pin<&mut Self>) {
        match self.project() {
            Either::Left(left) => cancel_side(left),
            Either::Right(right) => cancel_side(right),
        }
    }

    /// `true`: the exit future finishes the side's teardown if it is dropped early, the way
    /// `async_with!` would for that side alone (in place, unless the side's exit finishes by
    /// itself), and reports it under the side's name. So a dropped exit is finished exactly as
    /// the side entered would have it, though this constant cannot know the side.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    /// `"contextlib::Either"`. (`name` has no `self`, so it cannot name the side entered; the
    /// teardown reports of an `Either`'s own exit and cancellation name the side instead.)
    fn name() -> &'static str {
        "contextlib::Either"
    }
}

/// Cancels one side; a panic is reported under that side's name, not resumed (it runs in a
/// destructor), as `async_with!` would for that side alone.
fn cancel_side<M: AsyncContextManager>(side: Pin<&mut M>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| side.cancel())) {
        discard(payload);
        report(TeardownReport {
            manager: M::name(),
            outcome: TeardownOutcome::Panicked,
        });
    }
}

/// With named futures, nothing boxed: `EnterFuture<'m>` is an [`EitherEnter`] of the sides'
/// `EnterFuture<'m>`s, `ExitFuture<'x>` an [`EitherExit`] of their `ExitFuture<'x>`s.
impl<L, R> SendAsyncContextManager for Either<L, R>
where
    L: SendAsyncContextManager,
    R: SendAsyncContextManager<Error = L::Error> + for<'a> SameTarget<'a, L>,
{
    type EnterFuture<'m>
        = EitherEnter<'m, L, R, L::EnterFuture<'m>, R::EnterFuture<'m>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = EitherExit<L, R, L::ExitFuture<'x>, R::ExitFuture<'x>>
    where
        Self: 'x;

    #[inline]
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        EitherEnter::<L, R, _, _>::new(match self.project() {
            Either::Left(left) => Either::Left(left.enter_send()),
            Either::Right(right) => Either::Right(right.enter_send()),
        })
    }

    #[inline]
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        EitherExit::<L, R, _, _>::new(match self.project() {
            Either::Left(left) => Either::Left(left.exit_send(exit)),
            Either::Right(right) => Either::Right(right.exit_send(exit)),
        })
    }
}

pin_project_lite::pin_project! {
    /// The enter future of an [`Either<L, R>`](Either) borrowed for `'m`: the enter future `A` of
    /// its left side or `B` of its right side; a right target comes out as the left side's target
    /// type (the same type, see [`SameTarget`]).
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{nullcontext, Either, NullContext, SendAsyncContextManager};
    ///
    /// # futures_executor::block_on(async {
    /// let mut manager = pin!(Either::<NullContext<u8>, NullContext<u8>>::Right(nullcontext(4)));
    /// let enter: contextlib::EitherEnter<'_, _, _, _, _> = manager.as_mut().enter_send();
    /// assert_eq!(enter.await, Ok(4));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct EitherEnter<'m, L, R, A, B> {
        #[pin]
        side: Side<A, B>,
        _target: PhantomData<fn() -> (&'m L, &'m R)>,
    }
}

pin_project_lite::pin_project! {
    /// The future of the side entered, pinned in place.
    #[project = SideProj]
    enum Side<A, B> {
        Left { #[pin] future: A },
        Right { #[pin] future: B },
    }
}

impl<A, B> Side<A, B> {
    #[inline(always)]
    fn of(side: Either<A, B>) -> Self {
        match side {
            Either::Left(future) => Side::Left { future },
            Either::Right(future) => Side::Right { future },
        }
    }
}

impl<L, R, A, B> EitherEnter<'_, L, R, A, B> {
    #[inline(always)]
    fn new(side: Either<A, B>) -> Self {
        EitherEnter {
            side: Side::of(side),
            _target: PhantomData,
        }
    }
}

impl<'m, L, R, A, B, E> Future for EitherEnter<'m, L, R, A, B>
where
    L: Lend<'m> + 'm,
    R: Lend<'m> + SameTarget<'m, L> + 'm,
    A: Future<Output = Result<Target<'m, L>, E>>,
    B: Future<Output = Result<Target<'m, R>, E>>,
{
    type Output = Result<Target<'m, L>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().side.project() {
            SideProj::Left { future } => future.poll(cx),
            SideProj::Right { future } => future
                .poll(cx)
                .map(|entered| entered.map(R::into_target_of)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The exit future of an [`Either<L, R>`](Either): the exit future `A` of its left side or `B`
    /// of its right side. Dropped before it completes, it finishes that side's teardown as
    /// `async_with!` would (in place, unless the side's exit finishes by itself) and reports it
    /// under the side's name.
    ///
    /// ```
    /// use std::pin::pin;
    /// use contextlib::{nullcontext, Either, Exit, NullContext, SendAsyncContextManager};
    ///
    /// # futures_executor::block_on(async {
    /// let mut manager = pin!(Either::<NullContext<u8>, NullContext<u8>>::Left(nullcontext(4)));
    /// assert_eq!(manager.as_mut().enter_send().await, Ok(4));
    /// let exit: contextlib::EitherExit<_, _, _, _> = manager.as_mut().exit_send(Exit::Ok);
    /// assert_eq!(exit.await, Ok(()));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct EitherExit<L, R, A, B>
    where
        L: AsyncContextManager,
        R: AsyncContextManager,
        A: Future<Output = Result<(), L::Error>>,
        B: Future<Output = Result<(), R::Error>>,
    {
        #[pin]
        side: Side<Finishing<A, TeardownOf<L>>, Finishing<B, TeardownOf<R>>>,
    }
}

impl<L, R, A, B> EitherExit<L, R, A, B>
where
    L: AsyncContextManager,
    R: AsyncContextManager,
    A: Future<Output = Result<(), L::Error>>,
    B: Future<Output = Result<(), R::Error>>,
{
    #[inline(always)]
    fn new(side: Either<A, B>) -> Self {
        EitherExit {
            side: match side {
                Either::Left(future) => Side::Left {
                    future: Finishing::new(future, Teardown::of::<L>()),
                },
                Either::Right(future) => Side::Right {
                    future: Finishing::new(future, Teardown::of::<R>()),
                },
            },
        }
    }
}

impl<L, R, A, B> Future for EitherExit<L, R, A, B>
where
    L: AsyncContextManager,
    R: AsyncContextManager<Error = L::Error>,
    A: Future<Output = Result<(), L::Error>>,
    B: Future<Output = Result<(), L::Error>>,
{
    type Output = Result<(), L::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().side.project() {
            SideProj::Left { future } => future.poll(cx),
            SideProj::Right { future } => future.poll(cx),
        }
    }
}
