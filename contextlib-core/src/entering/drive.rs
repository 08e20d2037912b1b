//! How `async_with!` calls a manager's `enter` and `exit`: through the named `Send` futures of a
//! [`SendAsyncContextManager`] where the manager is one, so that `async_with!` over a manager
//! known only by that bound (a generic parameter, an opaque `impl SendAsyncContextManager`) is
//! a `Send` future; through [`AsyncContextManager`]'s own futures otherwise, and for the
//! managers that are [`DrivenDirectly`]. Chosen by autoref-based method resolution: the first
//! of these impls that applies wins.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;

use crate::entering::guard::Guard;
use crate::protocol::{AsyncContextManager, Exit, SendAsyncContextManager, Target};

/// The manager type an `async_with!` drives, before the way is chosen.
pub struct Drive<M: ?Sized>(PhantomData<fn(&M)>);

impl<M: AsyncContextManager + ?Sized> Drive<M> {
    /// For the manager `guard` holds.
    #[inline(always)]
    pub fn of(_: &Guard<'_, M>) -> Self {
        Drive(PhantomData)
    }
}

/// Through [`AsyncContextManager::enter`] and [`AsyncContextManager::exit`].
#[derive(Clone, Copy)]
pub struct Direct;

/// Through [`SendAsyncContextManager::enter_send`] and [`SendAsyncContextManager::exit_send`].
#[derive(Clone, Copy)]
pub struct NamedSend;

/// A manager that says it is best driven `Direct` (see [`DrivenDirectly`]).
pub trait ComposedDriveKind {
    /// The way.
    type Out;
    /// The way.
    fn __acm_drive(&self) -> Self::Out;
}

impl<M: DrivenDirectly> ComposedDriveKind for &&&Drive<M> {
    type Out = Direct;
    #[inline(always)]
    fn __acm_drive(&self) -> Direct {
        Direct
    }
}

/// A manager whose own futures `async_with!` calls even where it is a
/// [`SendAsyncContextManager`]: its futures are concrete (not opaque to the caller), so the
/// `async_with!` future is `Send` exactly when they are, while its named `Send` futures would
/// cost an allocation. Each manager type says so where it is defined: tuples, `concurrent`, a
/// generated manager named by its type, `testing::Watched` and `sqlx::transaction`.
///
/// Sealed: which way a manager is driven changes only whether the `async_with!` future is
/// `Send`, never what runs, and the choice is contextlib's. (A crate that names the hidden
/// `Direct` through `DirectDriveKind` can pick it for its own manager: a way of contextlib's,
/// see [`Chosen`](crate::entering::chosen::Chosen).)
pub trait DrivenDirectly: sealed::Sealed {}

pub(crate) mod sealed {
    /// Implemented only inside contextlib, next to each [`DrivenDirectly`](super::DrivenDirectly):
    /// public but unreachable from outside the crate.
    #[diagnostic::on_unimplemented(
        message = "`DrivenDirectly` is contextlib's own: it says how `async_with!` drives contextlib's managers",
        label = "not one of contextlib's managers"
    )]
    pub trait Sealed {}
}

/// Declares the types `async_with!` drives `Direct` (see [`DrivenDirectly`]).
macro_rules! driven_directly {
    ($(impl$([$($generics:tt)*])? for $ty:ty $(where [$($bounds:tt)*])?;)+) => {$(
        impl$(<$($generics)*>)? crate::entering::drive::sealed::Sealed for $ty $(where $($bounds)*)? {}
        impl$(<$($generics)*>)? crate::entering::drive::DrivenDirectly for $ty $(where $($bounds)*)? {}
    )+};
}
pub(crate) use driven_directly;

/// A [`SendAsyncContextManager`]: `NamedSend`.
pub trait SendDriveKind {
    /// The way.
    type Out;
    /// The way.
    fn __acm_drive(&self) -> Self::Out;
}

impl<M: SendAsyncContextManager> SendDriveKind for &&Drive<M> {
    type Out = NamedSend;
    #[inline(always)]
    fn __acm_drive(&self) -> NamedSend {
        NamedSend
    }
}

/// Any other manager: `Direct`.
pub trait DirectDriveKind {
    /// The way.
    type Out;
    /// The way.
    fn __acm_drive(&self) -> Self::Out;
}

impl<M: AsyncContextManager + ?Sized> DirectDriveKind for &Drive<M> {
    type Out = Direct;
    #[inline(always)]
    fn __acm_drive(&self) -> Direct {
        Direct
    }
}

impl Direct {
    /// `manager.enter()`.
    #[inline(always)]
    pub fn enter<M: AsyncContextManager + ?Sized>(
        self,
        manager: Pin<&mut M>,
    ) -> impl Future<Output = Result<Target<'_, M>, M::Error>> {
        manager.enter()
    }

    /// `manager.exit(exit)`.
    #[inline(always)]
    pub fn exit<'x, M: AsyncContextManager + ?Sized>(
        self,
        manager: Pin<&'x mut M>,
        exit: Exit<'x>,
    ) -> impl Future<Output = Result<(), M::Error>> + 'x {
        manager.exit(exit)
    }
}

impl NamedSend {
    /// `manager.enter_send()`.
    #[inline(always)]
    pub fn enter<M: SendAsyncContextManager>(self, manager: Pin<&mut M>) -> M::EnterFuture<'_> {
        manager.enter_send()
    }

    /// `manager.exit_send(exit)`.
    #[inline(always)]
    pub fn exit<'x, M: SendAsyncContextManager>(
        self,
        manager: Pin<&'x mut M>,
        exit: Exit<'x>,
    ) -> M::ExitFuture<'x> {
        manager.exit_send(exit)
    }
}
