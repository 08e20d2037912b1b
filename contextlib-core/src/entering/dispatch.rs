//! Decisions `async_with!` makes from the types at its call site, by autoref-based method
//! resolution: what the block's value means (a `Result` or a plain value), whether the manager
//! can fail, and how to show the block's error to the manager.

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;
use std::panic::resume_unwind;

use crate::protocol::catch_unwind::Payload;
use crate::protocol::exit::{BlockError, ErasedError, Full};

/// Declares a dispatcher: a zero-sized type naming the block's value and the manager's error,
/// `Copy` for every parameter (a copy goes to `finish`, whose arguments still use it), which a
/// derive would bound.
macro_rules! dispatcher {
    ($(#[$doc:meta])* $name:ident<$($param:ident),+>) => {
        $(#[$doc])*
        pub struct $name<$($param),+>(PhantomData<fn() -> ($($param,)+)>);

        impl<$($param),+> Clone for $name<$($param),+> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$($param),+> Copy for $name<$($param),+> {}
    };
}

/// The types of one `async_with!`: the block's value `O` and the manager's error `ME`.
pub struct Kind<O, ME>(PhantomData<fn() -> (O, ME)>);

impl<O, ME> Kind<O, ME> {
    /// Reads the types off the state `async_with!` computed.
    pub fn of(_: &Result<Result<O, Payload>, ME>) -> Self {
        Kind(PhantomData)
    }
}

// The dispatch, most specific first: `async_with!` calls `__acm_kind` on `&&&&&Kind<O, ME>`,
// and method resolution takes the first of these traits, in this order, whose impl may apply.

/// The block returns `Result<T, E>` and the manager cannot fail: the result is `Result<T, E>`.
pub trait InfallibleManagerKind {
    /// The dispatcher.
    type Out;
    /// Picks the dispatcher.
    fn __acm_kind(&self) -> Self::Out;
}

impl<T, E> InfallibleManagerKind for &&&&Kind<Result<T, E>, Infallible> {
    type Out = InfallibleManager<T, E>;
    fn __acm_kind(&self) -> Self::Out {
        InfallibleManager(PhantomData)
    }
}

/// The block returns `Result<T, E>` and `E` can hold the manager's error (or its type is not
/// known yet, as when only the code around `async_with!` tells it): the result is `Result<T, E>`,
/// manager errors converted.
pub trait FallibleBlockKind {
    /// The dispatcher.
    type Out;
    /// Picks the dispatcher.
    fn __acm_kind(&self) -> Self::Out;
}

// The bound is what lets a block of `Result<T, Infallible>` fall through to the next trait: it
// fails for `Infallible` (no `From<ME>`) and is undecided, so taken, for an error type that is
// not known yet. (An impl for `Result<T, Infallible>` ahead of this one would instead be taken
// for an unknown error type too, and fix it to `Infallible`.)
impl<T, E: FromManagerError<ME>, ME> FallibleBlockKind for &&&Kind<Result<T, E>, ME> {
    type Out = FallibleBlock<T, E, ME>;
    fn __acm_kind(&self) -> Self::Out {
        FallibleBlock(PhantomData)
    }
}

/// The block returns `Result<T, Infallible>`, as an `async_with!` over an infallible manager
/// around a plain block does: it cannot fail, so it counts as the plain value `T`, and the
/// result is `Result<T, ME>`.
pub trait InfallibleBlockKind {
    /// The dispatcher.
    type Out;
    /// Picks the dispatcher.
    fn __acm_kind(&self) -> Self::Out;
}

impl<T, ME> InfallibleBlockKind for &&Kind<Result<T, Infallible>, ME> {
    type Out = InfallibleBlock<T, ME>;
    fn __acm_kind(&self) -> Self::Out {
        InfallibleBlock(PhantomData)
    }
}

/// The block returns `Result<T, E>` and `E` cannot hold the manager's error: the fallible
/// block's dispatcher all the same, whose `converter` then reports the missing `From` (once).
pub trait UnconvertibleBlockKind {
    /// The dispatcher.
    type Out;
    /// Picks the dispatcher.
    fn __acm_kind(&self) -> Self::Out;
}

impl<T, E, ME> UnconvertibleBlockKind for &Kind<Result<T, E>, ME> {
    type Out = FallibleBlock<T, E, ME>;
    fn __acm_kind(&self) -> Self::Out {
        FallibleBlock(PhantomData)
    }
}

/// The block returns any other `R`: the result is `Result<R, ME>`.
pub trait ValueBlockKind {
    /// The dispatcher.
    type Out;
    /// Picks the dispatcher.
    fn __acm_kind(&self) -> Self::Out;
}

impl<R, ME> ValueBlockKind for Kind<R, ME> {
    type Out = ValueBlock<R, ME>;
    fn __acm_kind(&self) -> Self::Out {
        ValueBlock(PhantomData)
    }
}

/// The `Exit` of a block that completed: `Ok`, or in a manager's body, the outcome of the outer
/// block that the manager's yield received (see `async_with!(@yielding ..)`).
#[inline(always)]
pub fn outer_or_ok(outer: Option<crate::protocol::Exit<'_>>) -> crate::protocol::Exit<'_> {
    match outer {
        Some(exit) => exit,
        None => crate::protocol::Exit::Ok,
    }
}

/// How the block ended, seen by reference so that the exit can borrow it.
pub enum Split<'a, E> {
    /// Completed normally.
    Ok,
    /// Returned `Err`.
    Err(&'a E),
    /// Panicked.
    Panic(&'a Payload),
}

/// Converts a manager error into the block's error type.
#[diagnostic::on_unimplemented(
    message = "the block's error type `{Self}` cannot hold the manager's error `{M}`",
    label = "this `async_with!` returns `Result<_, {Self}>`",
    note = "implement `From<{M}>` for `{Self}`, or make the block return `Result<_, {M}>`"
)]
pub trait FromManagerError<M> {
    /// Converts.
    fn from_manager_error(error: M) -> Self;
}

impl<E: From<M>, M> FromManagerError<M> for E {
    fn from_manager_error(error: M) -> Self {
        E::from(error)
    }
}

dispatcher! {
    /// Dispatcher: block `Result<T, E>`, infallible manager.
    InfallibleManager<T, E>
}

impl<T, E> InfallibleManager<T, E> {
    /// Splits the outcome.
    #[inline(always)]
    pub fn split<'a>(
        &self,
        state: &'a Result<Result<Result<T, E>, Payload>, Infallible>,
    ) -> Split<'a, E> {
        let Ok(outcome) = state else { not_entered() };
        split_result(outcome)
    }
    /// How the manager's error becomes the block's: it has none.
    #[inline(always)]
    pub fn converter(&self) -> fn(Infallible) -> E {
        |never| match never {}
    }
    /// Enter cannot fail.
    #[inline(always)]
    pub fn enter_failed(
        self,
        state: Result<Result<Result<T, E>, Payload>, Infallible>,
        convert: fn(Infallible) -> E,
    ) -> Result<T, E> {
        failed_enter(state, convert)
    }
    /// The block's result (its panic resumes).
    #[inline(always)]
    pub fn finish(
        self,
        exit: Result<(), Infallible>,
        state: Result<Result<Result<T, E>, Payload>, Infallible>,
        _: fn(Infallible) -> E,
    ) -> Result<T, E> {
        let Ok(outcome) = state;
        let Ok(()) = exit;
        outcome.unwrap_or_else(|payload| resume_unwind(payload))
    }
}

dispatcher! {
    /// Dispatcher: block `Result<T, E>`, manager error `ME`.
    #[allow(clippy::type_complexity)]
    FallibleBlock<T, E, ME>
}

impl<T, E, ME> FallibleBlock<T, E, ME> {
    /// Splits the outcome.
    #[inline(always)]
    pub fn split<'a>(&self, state: &'a Result<Result<Result<T, E>, Payload>, ME>) -> Split<'a, E> {
        let Ok(outcome) = state else { not_entered() };
        split_result(outcome)
    }
    /// How the manager's error becomes the block's: the one place that requires it, so that a
    /// missing `From` is one error. (A fn pointer: an opaque fn item would be zero-sized but
    /// makes the compiler prove the bound three times.)
    #[inline(always)]
    pub fn converter(&self) -> fn(ME) -> E
    where
        E: FromManagerError<ME>,
    {
        E::from_manager_error
    }
    /// The enter's error, converted.
    #[inline(always)]
    pub fn enter_failed(
        self,
        state: Result<Result<Result<T, E>, Payload>, ME>,
        convert: fn(ME) -> E,
    ) -> Result<T, E> {
        failed_enter(state, convert)
    }
    /// The exit's error wins; otherwise the block's result (its panic resumes).
    #[inline(always)]
    pub fn finish(
        self,
        exit: Result<(), ME>,
        state: Result<Result<Result<T, E>, Payload>, ME>,
        convert: fn(ME) -> E,
    ) -> Result<T, E> {
        let Ok(outcome) = state else { not_entered() };
        let block = outcome.unwrap_or_else(|payload| resume_unwind(payload));
        match exit {
            Err(error) => Err(convert(error)),
            Ok(()) => block,
        }
    }
}

dispatcher! {
    /// Dispatcher: block value `R`, manager error `ME`.
    ValueBlock<R, ME>
}

impl<R, ME> ValueBlock<R, ME> {
    /// Splits the outcome.
    #[inline(always)]
    pub fn split<'a>(&self, state: &'a Result<Result<R, Payload>, ME>) -> Split<'a, Infallible> {
        match state {
            Ok(Ok(_)) => Split::Ok,
            Ok(Err(payload)) => Split::Panic(payload),
            Err(_) => not_entered(),
        }
    }
    /// How the manager's error becomes the result's: it is the result's.
    #[inline(always)]
    pub fn converter(&self) -> fn(ME) -> ME {
        |error| error
    }
    /// The enter's error.
    #[inline(always)]
    pub fn enter_failed(
        self,
        state: Result<Result<R, Payload>, ME>,
        convert: fn(ME) -> ME,
    ) -> Result<R, ME> {
        failed_enter(state, convert)
    }
    /// The block's value unless the exit failed (a panic resumes).
    #[inline(always)]
    pub fn finish(
        self,
        exit: Result<(), ME>,
        state: Result<Result<R, Payload>, ME>,
        _: fn(ME) -> ME,
    ) -> Result<R, ME> {
        let Ok(outcome) = state else { not_entered() };
        let value = outcome.unwrap_or_else(|payload| resume_unwind(payload));
        exit.map(|()| value)
    }
}

dispatcher! {
    /// Dispatcher: block `Result<T, Infallible>` (a plain value `T`), manager error `ME`.
    InfallibleBlock<T, ME>
}

impl<T, ME> InfallibleBlock<T, ME> {
    /// Splits the outcome: the block completed or panicked, it cannot have failed.
    #[inline(always)]
    pub fn split<'a>(
        &self,
        state: &'a Result<Result<Result<T, Infallible>, Payload>, ME>,
    ) -> Split<'a, Infallible> {
        match state {
            Ok(Ok(_)) => Split::Ok,
            Ok(Err(payload)) => Split::Panic(payload),
            Err(_) => not_entered(),
        }
    }
    /// How the manager's error becomes the result's: it is the result's.
    #[inline(always)]
    pub fn converter(&self) -> fn(ME) -> ME {
        |error| error
    }
    /// The enter's error.
    #[inline(always)]
    pub fn enter_failed(
        self,
        state: Result<Result<Result<T, Infallible>, Payload>, ME>,
        convert: fn(ME) -> ME,
    ) -> Result<T, ME> {
        failed_enter(state, convert)
    }
    /// The block's value unless the exit failed (a panic resumes).
    #[inline(always)]
    pub fn finish(
        self,
        exit: Result<(), ME>,
        state: Result<Result<Result<T, Infallible>, Payload>, ME>,
        _: fn(ME) -> ME,
    ) -> Result<T, ME> {
        let Ok(outcome) = state else { not_entered() };
        let value = match outcome.unwrap_or_else(|payload| resume_unwind(payload)) {
            Ok(value) => value,
            Err(never) => match never {},
        };
        exit.map(|()| value)
    }
}

/// The enter's error, converted: what every dispatcher's `enter_failed` returns. `async_with!`
/// calls it only on a failed enter.
#[inline(always)]
fn failed_enter<O, ME, T, E>(state: Result<O, ME>, convert: fn(ME) -> E) -> Result<T, E> {
    match state {
        Err(error) => Err(convert(error)),
        Ok(_) => not_failed(),
    }
}

#[cold]
#[inline(never)]
fn not_failed() -> ! {
    unreachable!("contextlib: `enter_failed` called after a successful enter")
}

#[cold]
#[inline(never)]
fn not_entered() -> ! {
    unreachable!("contextlib: an exit step called after a failed enter")
}

fn split_result<T, E>(outcome: &Result<Result<T, E>, Payload>) -> Split<'_, E> {
    match outcome {
        Ok(Ok(_)) => Split::Ok,
        Ok(Err(error)) => Split::Err(error),
        Err(payload) => Split::Panic(payload),
    }
}

/// The block's error, to be shown to the manager as a [`BlockError`].
pub struct View<'a, E>(pub &'a E);

/// What keeps a [`BlockError`] alive: the error itself, or text formatted from it.
pub enum ViewStorage<'a> {
    /// A shareable error, viewed in place.
    Borrowed(BlockError<'a>),
    /// An error that `Exit` cannot share across threads (not `Sync`), formatted once (boxed:
    /// rare, and it would triple the size of every `async_with!` future otherwise).
    Formatted(Box<Formatted>),
    /// An error that cannot even be formatted (not `Debug`): its type name.
    Named(Named),
}

impl ViewStorage<'_> {
    /// The view.
    pub fn view(&self) -> BlockError<'_> {
        match self {
            ViewStorage::Borrowed(view) => *view,
            ViewStorage::Formatted(text) => BlockError::from_erased(&**text),
            ViewStorage::Named(name) => BlockError::from_erased(name),
        }
    }
}

pub use crate::protocol::exit::ErrorText as Formatted;

/// The name of an error type that is not `Debug`.
pub struct Named(&'static str);

impl ErasedError for Named {
    fn fmt_display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an error of type `{}`", self.0)
    }
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
    fn type_id(&self) -> Option<core::any::TypeId> {
        None
    }
    fn type_name(&self) -> &'static str {
        self.0
    }
}

/// `'static + Display + Debug + Sync`: viewed in place, downcastable.
pub trait ViewShared<'a> {
    /// Builds the view.
    fn __acm_view(&self) -> ViewStorage<'a>;
}

impl<'a, E: fmt::Display + fmt::Debug + Sync + 'static> ViewShared<'a> for &&&View<'a, E> {
    fn __acm_view(&self) -> ViewStorage<'a> {
        ViewStorage::Borrowed(BlockError::from_erased(Full::wrap(self.0)))
    }
}

/// `Display + Debug` but not shareable (such as `Box<dyn Error>`): formatted.
pub trait ViewFormatted<'a> {
    /// Builds the view.
    fn __acm_view(&self) -> ViewStorage<'a>;
}

impl<'a, E: fmt::Display + fmt::Debug> ViewFormatted<'a> for &&View<'a, E> {
    fn __acm_view(&self) -> ViewStorage<'a> {
        ViewStorage::Formatted(Box::new(Formatted::new(
            self.0.to_string(),
            format!("{:?}", self.0),
            core::any::type_name::<E>(),
        )))
    }
}

/// `Debug` only: formatted through `Debug`.
pub trait ViewDebug<'a> {
    /// Builds the view.
    fn __acm_view(&self) -> ViewStorage<'a>;
}

impl<'a, E: fmt::Debug> ViewDebug<'a> for &View<'a, E> {
    fn __acm_view(&self) -> ViewStorage<'a> {
        let debug = format!("{:?}", self.0);
        ViewStorage::Formatted(Box::new(Formatted::new(
            debug.clone(),
            debug,
            core::any::type_name::<E>(),
        )))
    }
}

/// Anything else: named by its type.
pub trait ViewOpaque<'a> {
    /// Builds the view.
    fn __acm_view(&self) -> ViewStorage<'a>;
}

impl<'a, E> ViewOpaque<'a> for View<'a, E> {
    fn __acm_view(&self) -> ViewStorage<'a> {
        ViewStorage::Named(Named(core::any::type_name::<E>()))
    }
}
