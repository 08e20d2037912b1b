//! Type-erased managers: [`BoxManager`] and its `Send` variant [`SendBoxManager`], for what
//! generics cannot do: a dyn-compatible trait whose method returns a manager, a `Vec` of managers
//! of different types, a struct field.

use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::protocol::{AsyncContextManager, Exit, Lend, SendAsyncContextManager, Target};

/// The target of a boxed manager, named by a fn pointer type whose output borrows its input:
/// `fn(&()) -> &mut Session` lends `&'a mut Session` for the borrow `'a` of the manager,
/// `fn(&()) -> u32` lends an owned `u32`.
pub trait Lends<'a> {
    /// The target for the borrow `'a`.
    type Target;
}

impl<'a, F: Fn(&'a ()) -> R, R> Lends<'a> for F {
    type Target = R;
}

/// "`M` lends what `F` names", one lifetime at a time (a bound `for<'a> Lend<'a, Target =
/// <F as Lends<'a>>::Target>` is refused for generated managers: "one type is more general than
/// the other"). The last parameter is never written: its default, of a sealed type, gives the
/// implied bound `Self: 'a`, as [`Lend`]'s does.
pub trait LendsAs<
    'a,
    F: Lends<'a>,
    ImplicitBound: crate::protocol::manager::Sealed = crate::protocol::manager::Bound<&'a Self>,
>: Lend<'a, ImplicitBound>
{
    /// The target, as `F` names it (the same value).
    fn cast(target: <Self as Lend<'a, ImplicitBound>>::Target) -> <F as Lends<'a>>::Target;
}

impl<'a, F: Lends<'a>, M: Lend<'a, Target = <F as Lends<'a>>::Target>> LendsAs<'a, F> for M {
    #[inline(always)]
    fn cast(target: Target<'a, Self>) -> <F as Lends<'a>>::Target {
        target
    }
}

pin_project_lite::pin_project! {
    /// An enter future whose target is named by `F` and whose error is converted into `E`. (A
    /// named future: Rust 1.85 cannot prove an `async` block holding `M::EnterFuture<'m>` lives
    /// long enough.)
    struct Cast<'m, M: ?Sized, F, E, Enter> {
        #[pin]
        enter: Enter,
        _types: PhantomData<(&'m (), fn() -> (*const M, F, E))>,
    }
}

impl<'m, M: ?Sized, F, E, Enter> Cast<'m, M, F, E, Enter> {
    fn new(enter: Enter) -> Self {
        Cast {
            enter,
            _types: PhantomData,
        }
    }
}

impl<'m, M, F, E, ME, Enter> Future for Cast<'m, M, F, E, Enter>
where
    M: LendsAs<'m, F> + ?Sized + 'm,
    F: Lends<'m>,
    E: From<ME>,
    Enter: Future<Output = Result<<M as Lend<'m>>::Target, ME>>,
{
    type Output = Result<<F as Lends<'m>>::Target, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .enter
            .poll(cx)
            .map(|entered| entered.map(M::cast).map_err(E::from))
    }
}

type Boxed<'m, T> = Pin<Box<dyn Future<Output = T> + 'm>>;
type SendBoxed<'m, T> = Pin<Box<dyn Future<Output = T> + Send + 'm>>;

macro_rules! dyn_manager {
    ($Dyn:ident, $Out:ident) => {
        trait $Dyn<F: for<'t> Lends<'t>, E> {
            fn enter_dyn<'m>(
                self: Pin<&'m mut Self>,
            ) -> $Out<'m, Result<<F as Lends<'m>>::Target, E>>
            where
                E: 'm,
                F: 'm;
            fn exit_dyn<'m>(self: Pin<&'m mut Self>, exit: Exit<'m>) -> $Out<'m, Result<(), E>>
            where
                E: 'm,
                F: 'm;
            fn cancel_dyn(self: Pin<&mut Self>);
        }
    };
}

dyn_manager!(DynManager, Boxed);
dyn_manager!(DynSendManager, SendBoxed);

impl<F, E, M> DynManager<F, E> for M
where
    F: for<'t> Lends<'t>,
    M: AsyncContextManager + for<'t> LendsAs<'t, F>,
    E: From<M::Error>,
{
    fn enter_dyn<'m>(self: Pin<&'m mut Self>) -> Boxed<'m, Result<<F as Lends<'m>>::Target, E>>
    where
        E: 'm,
        F: 'm,
    {
        Box::pin(Cast::<'m, M, F, E, _>::new(self.enter()))
    }

    fn exit_dyn<'m>(self: Pin<&'m mut Self>, exit: Exit<'m>) -> Boxed<'m, Result<(), E>>
    where
        E: 'm,
        F: 'm,
    {
        Box::pin(async move { self.exit(exit).await.map_err(E::from) })
    }

    fn cancel_dyn(self: Pin<&mut Self>) {
        self.cancel()
    }
}

impl<F, E, M> DynSendManager<F, E> for M
where
    F: for<'t> Lends<'t>,
    M: SendAsyncContextManager + for<'t> LendsAs<'t, F>,
    E: From<M::Error> + Send,
{
    fn enter_dyn<'m>(self: Pin<&'m mut Self>) -> SendBoxed<'m, Result<<F as Lends<'m>>::Target, E>>
    where
        E: 'm,
        F: 'm,
    {
        Box::pin(Cast::<'m, M, F, E, _>::new(self.enter_send()))
    }

    fn exit_dyn<'m>(self: Pin<&'m mut Self>, exit: Exit<'m>) -> SendBoxed<'m, Result<(), E>>
    where
        E: 'm,
        F: 'm,
    {
        self.exit_into(exit)
    }

    fn cancel_dyn(self: Pin<&mut Self>) {
        self.cancel()
    }
}

/// A manager of any type that lends what `F` names (see [`Lends`]) and fails with `E`: Python's
/// `AsyncContextManager[T]` as a value. One allocation holds the manager, and one more each
/// for its enter and exit futures.
///
/// ```
/// use std::io;
/// use contextlib::{async_context_manager, async_with, BoxManager};
///
/// #[async_context_manager]
/// async fn buffer(prefix: &str) -> Result<&mut Vec<u8>, io::Error> {
///     let mut bytes = prefix.as_bytes().to_vec();
///     r#yield!(&mut bytes);
///     Ok(())
/// }
///
/// #[async_context_manager]
/// async fn zeroed(len: usize) -> Result<&mut Vec<u8>, io::Error> {
///     let mut bytes = vec![0; len];
///     r#yield!(&mut bytes);
///     Ok(())
/// }
///
/// type Buffer<'a> = BoxManager<'a, fn(&()) -> &mut Vec<u8>, io::Error>;
///
/// # futures_executor::block_on(async {
/// // Managers of different types in one `Vec`.
/// let managers: Vec<Buffer<'_>> = vec![
///     BoxManager::new(buffer("ab")),
///     BoxManager::new(zeroed(1)),
/// ];
/// let mut lengths = Vec::new();
/// for manager in managers {
///     lengths.push(async_with!(manager => |bytes| { bytes.push(b'!'); bytes.len() })?);
/// }
/// assert_eq!(lengths, [3, 2]);
/// # Ok::<_, io::Error>(())
/// # }).unwrap();
/// ```
pub struct BoxManager<'a, F: for<'t> Lends<'t>, E> {
    manager: Pin<Box<dyn DynManager<F, E> + 'a>>,
}

impl<'a, F: for<'t> Lends<'t>, E> BoxManager<'a, F, E> {
    /// Boxes `manager`, converting its error into `E`.
    pub fn new<M>(manager: M) -> Self
    where
        M: AsyncContextManager + for<'t> LendsAs<'t, F> + 'a,
        E: From<M::Error>,
    {
        BoxManager {
            manager: Box::pin(manager),
        }
    }
}

/// [`BoxManager`]'s `Send` variant: it boxes a [`SendAsyncContextManager`] and is one itself,
/// so a dyn-compatible trait can return it and a spawned task can enter it.
///
/// ```
/// use std::{io, sync::Arc};
/// use contextlib::{async_context_manager, async_with, SendBoxManager};
///
/// struct Session { queries: Vec<String> }
///
/// /// A dyn-compatible storage: `Arc<dyn Storage>`.
/// trait Storage: Send + Sync {
///     fn session(&self) -> SendBoxManager<'_, fn(&()) -> &mut Session, io::Error>;
/// }
///
/// #[async_context_manager]
/// async fn connect(url: &str) -> Result<&mut Session, io::Error> {
///     let mut session = Session { queries: vec![format!("connect {url}")] };
///     r#yield!(&mut session);
///     Ok(())
/// }
///
/// struct Database(String);
///
/// impl Storage for Database {
///     fn session(&self) -> SendBoxManager<'_, fn(&()) -> &mut Session, io::Error> {
///         SendBoxManager::new(connect(&self.0))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let storage: Arc<dyn Storage> = Arc::new(Database("db://main".into()));
/// let task = tokio::spawn(async move {
///     async_with!(storage.session() => |session| {
///         session.queries.push("select 1".into());
///         Ok::<_, io::Error>(session.queries.len())
///     })
/// });
/// assert_eq!(task.await.unwrap().unwrap(), 2);
/// # }
/// ```
pub struct SendBoxManager<'a, F: for<'t> Lends<'t>, E> {
    manager: Pin<Box<dyn DynSendManager<F, E> + Send + 'a>>,
}

impl<'a, F: for<'t> Lends<'t>, E> SendBoxManager<'a, F, E> {
    /// Boxes `manager`, converting its error into `E`.
    pub fn new<M>(manager: M) -> Self
    where
        M: SendAsyncContextManager + for<'t> LendsAs<'t, F> + 'a,
        E: From<M::Error> + Send,
    {
        SendBoxManager {
            manager: Box::pin(manager),
        }
    }
}

macro_rules! boxed_manager {
    ($Box:ident) => {
        impl<'t, F: for<'u> Lends<'u>, E> Lend<'t> for $Box<'_, F, E> {
            type Target = <F as Lends<'t>>::Target;
        }

        impl<F: for<'t> Lends<'t>, E> AsyncContextManager for $Box<'_, F, E> {
            type Error = E;

            fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, E>> {
                self.get_mut().manager.as_mut().enter_dyn()
            }

            fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), E>> {
                // An `async` block, generic over both borrows (the boxed future lives for the
                // shorter one).
                async move { self.get_mut().manager.as_mut().exit_dyn(exit).await }
            }

            fn cancel(self: Pin<&mut Self>) {
                self.get_mut().manager.as_mut().cancel_dyn()
            }

            fn name() -> &'static str {
                concat!("contextlib::", stringify!($Box))
            }
        }
    };
}

boxed_manager!(BoxManager);
boxed_manager!(SendBoxManager);

impl<F: for<'t> Lends<'t>, E: Send> SendAsyncContextManager for SendBoxManager<'_, F, E>
where
    for<'t> <F as Lends<'t>>::Target: Send,
{
    type EnterFuture<'m>
        = SendBoxed<'m, Result<Target<'m, Self>, E>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = SendBoxed<'x, Result<(), E>>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.get_mut().manager.as_mut().enter_dyn()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        self.get_mut().manager.as_mut().exit_dyn(exit)
    }
}
