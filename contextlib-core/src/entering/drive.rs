//! How `async_with!` calls a manager's `enter` and `exit`: through the named `Send` futures of a
//! [`SendAsyncContextManager`] where the manager is one, so that `async_with!` over a manager
//! known only by that bound (a generic parameter, an opaque `impl SendAsyncContextManager`) is
//! a `Send` future; through [`AsyncContextManager`]'s own futures otherwise, and for tuples and
//! `concurrent`, whose `Send` futures are boxed, and for a generated manager named by its type (their own futures, unnamed but concrete, are
//! `Send` whenever their members' are, at no cost). Chosen by autoref-based method resolution:
//! the first of these impls that applies wins.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;

use crate::guard::Guard;
use crate::{AsyncContextManager, Concurrent, Exit, SendAsyncContextManager, Target};

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

/// A tuple or `concurrent`: `Direct` (see the module docs).
pub trait ComposedDriveKind {
    /// The way.
    type Out;
    /// The way.
    fn __acm_drive(&self) -> Self::Out;
}

macro_rules! composed {
    ($($M:ident),+) => {
        impl<$($M),+> ComposedDriveKind for &&&Drive<($($M,)+)> {
            type Out = Direct;
            #[inline(always)]
            fn __acm_drive(&self) -> Direct {
                Direct
            }
        }
        impl<$($M),+> ComposedDriveKind for &&&Drive<Concurrent<($($M,)+)>> {
            type Out = Direct;
            #[inline(always)]
            fn __acm_drive(&self) -> Direct {
                Direct
            }
        }
    };
}
/// A generated manager named by its type: `Direct`. Whether it is `Send` is known only once
/// its coroutine is (after type checking of the caller), so the `Send` way cannot be chosen by
/// its bounds; its own futures are concrete, so the future is `Send` exactly when they are.
impl<Fam, B> ComposedDriveKind for &&&Drive<crate::Generated<Fam, B>>
where
    B: crate::generated::Body,
{
    type Out = Direct;
    #[inline(always)]
    fn __acm_drive(&self) -> Direct {
        Direct
    }
}

/// A watched manager: `Direct`, as for what it watches (its `Send` futures are boxed).
impl<M> ComposedDriveKind for &&&Drive<crate::testing::Watched<'_, M>> {
    type Out = Direct;
    #[inline(always)]
    fn __acm_drive(&self) -> Direct {
        Direct
    }
}

/// `contextlib::sqlx::transaction`: `Direct` (its `Send` enter is boxed; its own is concrete).
#[cfg(feature = "sqlx")]
impl<DB: sqlx::Database> ComposedDriveKind for &&&Drive<crate::sqlx::Transaction<DB>> {
    type Out = Direct;
    #[inline(always)]
    fn __acm_drive(&self) -> Direct {
        Direct
    }
}

composed!(A, B);
composed!(A, B, C);
composed!(A, B, C, D);

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
