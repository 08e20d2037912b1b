//! [`ExitStack`]: Python's `contextlib.AsyncExitStack`, for a number of managers known only at
//! run time.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Mutex;

use crate::combinators::tuple::Unwinding;
use crate::entering::guard::{Describe, Finishing, Teardown};
use crate::protocol::catch_unwind::{CatchUnwind, discard};
use crate::protocol::send_manager::{BoxExit, MapErr, SendAsyncContextManager};
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, finish_in_place, report};
use crate::protocol::{AsyncContextManager, Exit, Lend, Target};

/// The catch-all error of a stack whose managers fail in different ways.
///
/// ```
/// use contextlib::{async_context_manager, async_with, BoxError, ExitStack};
///
/// #[async_context_manager]
/// async fn file() -> Result<u8, std::io::Error> { r#yield!(1); Ok(()) }
/// #[async_context_manager]
/// async fn format() -> Result<u8, std::fmt::Error> { r#yield!(2); Ok(()) }
///
/// # futures_executor::block_on(async {
/// // Two error types on one stack: each converts into `BoxError`.
/// let sum = async_with!(ExitStack::<BoxError>::new() => |stack| {
///     let a = stack.enter(file()).await?;
///     let b = stack.enter(format()).await?;
///     Ok::<_, BoxError>(a + b)
/// });
/// assert_eq!(sum.unwrap(), 3);
/// # });
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Python's `contextlib.AsyncExitStack`: enters any number of managers, chosen at run time, and
/// exits them all, last in, first out.
///
/// In `async_with!`, its target is `&ExitStack`: [`enter`](Self::enter) managers (or
/// [`enter_infallible`](Self::enter_infallible) those that cannot fail), [`defer`](Self::defer)
/// cleanups and [`push_async_exit`](Self::push_async_exit) exit callbacks through it; each
/// entered target borrows the stack, so none outlives it, and several are alive at once. When the block ends, every manager is exited and
/// every cleanup run, in reverse order. Each exit sees the block's `Exit`, or the error of an
/// exit that failed after it (Python's exception chaining). Every one runs even if another fails
/// or panics; the last error is returned, and a panic resumes once all have run. If the block is
/// cancelled, each manager is cancelled in reverse order through its own `cancel` (so detached
/// managers stay detached).
///
/// `E` is the stack's error type (`ExitStack::<sqlx::Error>::new()`); entering `M` needs
/// `E: From<M::Error>` (unless `M` cannot fail: `enter_infallible`), and [`BoxError`] takes any
/// error. The stack is `Send` and `Sync`: the managers it holds are
/// [`SendAsyncContextManager`].
///
/// ```
/// use contextlib::{async_context_manager, async_with, BoxError, ExitStack};
///
/// #[async_context_manager]
/// async fn shard(id: u32, log: &std::sync::Mutex<Vec<String>>) -> Result<u32, std::io::Error> {
///     log.lock().unwrap().push(format!("open {id}"));
///     r#yield!(id * 10);
///     log.lock().unwrap().push(format!("close {id}"));
///     Ok(())
/// }
///
/// # futures_executor::block_on(async {
/// let log = std::sync::Mutex::new(Vec::new());
/// let total = async_with!(ExitStack::<BoxError>::new() => |stack| {
///     let mut shards = Vec::new();
///     for id in 1..=3 {
///         shards.push(stack.enter(shard(id, &log)).await?); // as many as the run needs
///     }
///     let log = &log;
///     stack.defer(async move { log.lock().unwrap().push("deferred".into()) });
///     Ok::<_, BoxError>(shards.iter().sum::<u32>())
/// });
/// assert_eq!(total.unwrap(), 60);
/// assert_eq!(
///     *log.lock().unwrap(),
///     ["open 1", "open 2", "open 3", "deferred", "close 3", "close 2", "close 1"]
/// );
/// # });
/// ```
pub struct ExitStack<'a, E> {
    entries: Mutex<Vec<Entry<'a, E>>>,
}

enum Entry<'a, E> {
    Manager(Held<'a, E>),
    Cleanup(BoxExit<'a, E>),
    /// `None` once called.
    Exit(Option<ExitCallback<'a, E>>),
}

/// A callback of [`ExitStack::push_async_exit`], boxed.
type ExitCallback<'a, E> = Box<dyn for<'x> FnOnce(Exit<'x>) -> OnExit<'x, 'a, E> + Send + 'a>;

/// The future an [`ExitStack::push_async_exit`] callback returns: made by [`OnExit::new`] from
/// an `async` block, which may hold the callback's [`Exit`] across `.await`.
///
/// (A named type rather than `impl Future`: a closure cannot return a future that borrows its
/// argument unless its return type names the argument's lifetime, `'x`. It also says that the
/// stack's borrows, `'a`, outlive `'x`, so the future may hold both.)
#[must_use = "futures do nothing unless polled"]
pub struct OnExit<'x, 'a, E> {
    future: BoxExit<'x, E>,
    _outlives: PhantomData<&'x &'a ()>,
}

impl<'x, 'a, E> OnExit<'x, 'a, E> {
    /// The exit callback's future, which may return `()` or `Result<(), F>` with `F: Into<E>`.
    /// One allocation.
    ///
    /// ```
    /// use contextlib::{async_with, ExitStack, OnExit};
    ///
    /// # futures_executor::block_on(async {
    /// let log = std::sync::Mutex::new(Vec::new());
    /// let log = &log;
    /// let _ = async_with!(ExitStack::<String>::new() => |stack| {
    ///     stack.push_async_exit(move |exit| OnExit::new(async move {
    ///         contextlib::testing::yield_now().await; // `exit` is held across this
    ///         log.lock().unwrap().push(format!("block ended: {exit}"));
    ///     }));
    ///     Err::<(), _>("no such row".to_string())
    /// });
    /// assert_eq!(*log.lock().unwrap(), ["block ended: error: no such row"]);
    /// # });
    /// ```
    pub fn new<F>(future: F) -> Self
    where
        F: Future + Send + 'x,
        F::Output: CleanupResult<E>,
        E: 'x,
    {
        OnExit {
            future: Box::pin(async move { future.await.into_result() }),
            _outlives: PhantomData,
        }
    }
}

impl<E> fmt::Debug for OnExit<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnExit").finish_non_exhaustive()
    }
}

impl<E> Future for OnExit<'_, '_, E> {
    type Output = Result<(), E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.future.as_mut().poll(cx)
    }
}

fn exit_callback() -> &'static str {
    "an exit callback pushed on an ExitStack"
}

/// Calls an exit callback, once (`None` if it was spent); a panic in the call itself, before
/// its future exists, is returned as an exit's panic would be.
fn call_exit<'x, 'a, E>(
    callback: &mut Option<ExitCallback<'a, E>>,
    exit: Exit<'x>,
) -> Option<Result<OnExit<'x, 'a, E>, crate::protocol::catch_unwind::Payload>> {
    let callback = callback.take()?;
    Some(catch_unwind(AssertUnwindSafe(move || callback(exit))))
}

/// An entered manager, boxed and type-erased. A raw pointer rather than a `Box`: the targets
/// lent out borrow the manager, and moving a `Box` (the `Vec` growing) would assert a unique
/// borrow over them.
struct Held<'a, E> {
    manager: NonNull<dyn Erased<E> + 'a>,
}

// SAFETY: `Held` owns its manager (a `Box` turned raw), which is `Send` (`Erased: Send`).
// Exercised by tests/exit_stack.rs (a stack in a spawned task). Checked by
// tests/everything_on_a_stack.rs::closing_borrowed_and_pinned_managers_go_on_a_stack under Miri.
unsafe impl<E> Send for Held<'_, E> {}

impl<'a, E> Held<'a, E> {
    fn pinned(&mut self) -> Pin<&mut (dyn Erased<E> + 'a)> {
        // SAFETY: the manager is boxed and never moved; `&mut self` is the only access now (its
        // target, which borrowed the stack, is gone: exiting takes the stack by `&mut`).
        // Checked by tests/exit_stack.rs::managers_and_cleanups_exit_last_in_first_out under Miri.
        unsafe { Pin::new_unchecked(self.manager.as_mut()) }
    }
}

impl<E> Drop for Held<'_, E> {
    fn drop(&mut self) {
        // SAFETY: made by `Box::into_raw` in `ExitStack::enter`, freed only here. Checked by
        // tests/exit_stack.rs::a_stack_dropped_while_it_holds_managers_cancels_them under Miri.
        drop(unsafe { Box::from_raw(self.manager.as_ptr()) });
    }
}

/// A stacked manager, its error converted into the stack's.
trait Erased<E>: Send {
    fn exit<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, E>;
    fn cancel(self: Pin<&mut Self>);
    fn teardown(&self) -> Teardown;
}

impl<M: StackError<E>, E: Send + 'static> Erased<E> for M {
    fn exit<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, E> {
        Box::pin(ConvertErr {
            future: self.exit_send(exit),
            convert: M::into_stack_error,
        })
    }
    fn cancel(self: Pin<&mut Self>) {
        AsyncContextManager::cancel(self)
    }
    fn teardown(&self) -> Teardown {
        Teardown::new(M::name, !M::EXIT_FINISHES_WHEN_DROPPED)
    }
}

/// An exit future whose error is converted into the stack's. (Not an `async` block: Rust 1.85
/// rejects one here, "`M` does not live long enough".)
struct ConvertErr<F, M, E> {
    future: F,
    convert: fn(M) -> E,
}

impl<F: Future<Output = Result<(), M>>, M, E> Future for ConvertErr<F, M, E> {
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        // SAFETY: `future` is structurally pinned: never moved out, dropped in place; `convert`
        // is a plain `fn` pointer. Exercised by tests/exit_stack.rs under Miri.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above. Exercised by tests/exit_stack.rs under Miri.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        future.poll(cx).map(|result| result.map_err(this.convert))
    }
}

/// A manager that cannot fail, on a stack of any error type
/// ([`ExitStack::enter_infallible`]): its error, `Infallible`, never needs converting.
/// `repr(transparent)`, so that a pointer to the boxed manager is one to this.
#[repr(transparent)]
struct NeverFails<M>(M);

impl<M, E> Erased<E> for NeverFails<M>
where
    M: SendAsyncContextManager<Error = Infallible>,
    E: Send + 'static,
{
    fn exit<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, E> {
        // SAFETY: the manager is structurally pinned in its transparent wrapper.
        // Exercised by tests/exit_stack_infallible.rs under Miri.
        let manager = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        Box::pin(ConvertErr {
            future: manager.exit_send(exit),
            convert: |never: Infallible| -> E { match never {} },
        })
    }
    fn cancel(self: Pin<&mut Self>) {
        // SAFETY: as in `exit`. Exercised by tests/exit_stack_infallible.rs under Miri.
        AsyncContextManager::cancel(unsafe { self.map_unchecked_mut(|this| &mut this.0) })
    }
    fn teardown(&self) -> Teardown {
        Teardown::new(M::name, !M::EXIT_FINISHES_WHEN_DROPPED)
    }
}

/// The manager `Self` fails with an error that the stack's error type `E` holds: implemented for
/// every manager whose error `E` converts from (`E: From<Self::Error>`; implement `From`, not
/// this). A missing conversion is then one error, on the manager you enter, naming the `From`
/// to implement. A manager that cannot fail (`Error = Infallible`), whose error no error type of
/// yours converts from, enters with [`ExitStack::enter_infallible`].
#[diagnostic::on_unimplemented(
    message = "the stack's error type `{E}` cannot hold this manager's error",
    label = "entered into an `ExitStack<{E}>`",
    note = "implement `From<the manager's error>` for `{E}`, or use an `ExitStack<BoxError>`",
    note = "a manager that cannot fail (`Error = Infallible`) enters any stack with `stack.enter_infallible(..)`"
)]
pub trait StackError<E>: SendAsyncContextManager {
    /// `E::from(error)`.
    fn into_stack_error(error: Self::Error) -> E;
}

impl<M: SendAsyncContextManager, E: From<M::Error>> StackError<E> for M {
    #[inline(always)]
    fn into_stack_error(error: M::Error) -> E {
        E::from(error)
    }
}

fn deferred_cleanup() -> &'static str {
    "a cleanup deferred on an ExitStack"
}

/// What [`ExitStack::defer`] accepts from a cleanup: nothing, or a result whose error converts.
///
/// ```
/// use contextlib::{async_with, ExitStack};
///
/// # futures_executor::block_on(async {
/// let result = async_with!(ExitStack::<std::io::Error>::new() => |stack| {
///     stack.defer(async { println!("a cleanup that cannot fail: `()`") });
///     stack.defer(async { Err::<(), _>(std::io::Error::other("a cleanup that failed")) });
///     Ok::<_, std::io::Error>(())
/// });
/// // The deferred cleanup's error is the stack's exit error.
/// assert_eq!(result.unwrap_err().to_string(), "a cleanup that failed");
/// # });
/// ```
pub trait CleanupResult<E> {
    /// The cleanup's result in the stack's error type.
    fn into_result(self) -> Result<(), E>;
}

impl<E> CleanupResult<E> for () {
    fn into_result(self) -> Result<(), E> {
        Ok(())
    }
}

impl<E, F: Into<E>> CleanupResult<E> for Result<(), F> {
    fn into_result(self) -> Result<(), E> {
        self.map_err(Into::into)
    }
}

impl<E> Default for ExitStack<'_, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for ExitStack<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExitStack")
            .field("entries", &self.len())
            .finish()
    }
}

impl<'a, E> ExitStack<'a, E> {
    /// An empty stack.
    ///
    /// ```
    /// let stack = contextlib::ExitStack::<contextlib::BoxError>::new();
    /// assert!(stack.is_empty());
    /// ```
    pub fn new() -> Self {
        ExitStack {
            entries: Mutex::new(Vec::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry<'a, E>>> {
        // Never poisoned in practice: no user code runs while it is held.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many managers and cleanups the stack holds.
    ///
    /// ```
    /// let stack = contextlib::ExitStack::<contextlib::BoxError>::new();
    /// stack.defer(async {});
    /// assert_eq!(stack.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// `true` if the stack holds nothing.
    ///
    /// ```
    /// assert!(contextlib::ExitStack::<std::io::Error>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enters `manager` and keeps it to be exited with the stack (Python's
    /// `enter_async_context`). Returns its target, which borrows the stack; a manager that fails
    /// to enter (or whose enter is dropped) is not kept. One allocation per manager.
    ///
    /// ```
    /// use contextlib::{async_context_manager, async_with, ExitStack};
    ///
    /// #[async_context_manager]
    /// async fn numbered(n: u32) -> u32 { r#yield!(n); }
    ///
    /// # futures_executor::block_on(async {
    /// let sum = async_with!(ExitStack::<std::convert::Infallible>::new() => |stack| {
    ///     let a = stack.enter(numbered(1)).await.unwrap();
    ///     let b = stack.enter(numbered(2)).await.unwrap(); // `a` is still alive
    ///     a + b
    /// });
    /// assert_eq!(sum, Ok(3));
    /// # });
    /// ```
    #[doc(alias = "enter_async_context")]
    pub fn enter<'s, M>(&'s self, manager: M) -> StackEnter<'s, 'a, M, M::EnterFuture<'s>, E>
    where
        M: StackError<E> + 'a,
        E: Send + 'static,
    {
        let manager = Box::into_raw(Box::new(manager));
        let erased: *mut (dyn Erased<E> + 'a) = manager;
        self.entering(manager, erased)
    }

    /// Enters a manager that cannot fail (its error is `Infallible`) on a stack of any error
    /// type, and returns its target itself. (`enter` would need `E: From<Infallible>`, which no
    /// error type of your own implements; `async_with!` needs nothing of the kind, because it
    /// sees the manager's type where it expands, and a generic method cannot.)
    ///
    /// ```
    /// use contextlib::{async_context_manager, async_with, ExitStack};
    ///
    /// #[derive(Debug)]
    /// struct DbError;
    /// impl std::fmt::Display for DbError {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("db") }
    /// }
    ///
    /// #[async_context_manager]
    /// async fn connection(id: u32) -> Result<u32, DbError> { r#yield!(id); Ok(()) }
    /// #[async_context_manager]
    /// async fn timer() -> std::time::Duration { r#yield!(std::time::Duration::ZERO); }
    ///
    /// # futures_executor::block_on(async {
    /// let ids = async_with!(ExitStack::<DbError>::new() => |stack| {
    ///     let elapsed = stack.enter_infallible(timer()).await; // no `From<Infallible>` needed
    ///     let a = stack.enter(connection(1)).await?;
    ///     let b = stack.enter(connection(2)).await?;
    ///     Ok::<_, DbError>((a + b, elapsed))
    /// });
    /// assert_eq!(ids.unwrap().0, 3);
    /// # });
    /// ```
    pub fn enter_infallible<'s, M>(
        &'s self,
        manager: M,
    ) -> StackEnterInfallible<'s, 'a, M, M::EnterFuture<'s>, E>
    where
        M: SendAsyncContextManager<Error = Infallible> + 'a,
        E: Send + 'static,
    {
        let manager = Box::into_raw(Box::new(manager));
        // `NeverFails<M>` is a transparent wrapper around `M`.
        let erased: *mut (dyn Erased<E> + 'a) = manager.cast::<NeverFails<M>>();
        StackEnterInfallible(self.entering(manager, erased))
    }

    fn entering<'s, M>(
        &'s self,
        manager: *mut M,
        erased: *mut (dyn Erased<E> + 'a),
    ) -> StackEnter<'s, 'a, M, M::EnterFuture<'s>, E>
    where
        M: SendAsyncContextManager + 'a,
    {
        // SAFETY: boxed, so pinned until `Held` frees it; the enter future borrows it for 's,
        // and the box outlives 's (only `&mut self` methods exit or free it).
        // Checked by tests/exit_stack.rs::a_manager_can_yield_from_inside_a_stack under Miri.
        let future = M::enter_send(unsafe { Pin::new_unchecked(&mut *manager) });
        StackEnter {
            stack: self,
            manager,
            erased,
            future: ManuallyDrop::new(future),
            done: false,
        }
    }

    /// Runs `cleanup` when the stack exits, in its place among the managers (Python's
    /// `push_async_callback`). It may return `()` or `Result<(), F>` with `F: Into<E>`.
    ///
    /// ```
    /// use contextlib::{async_with, ExitStack};
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// # futures_executor::block_on(async {
    /// let flushed = AtomicBool::new(false);
    /// async_with!(ExitStack::<std::io::Error>::new() => |stack| {
    ///     stack.defer(async { flushed.store(true, Ordering::SeqCst) });
    /// }).unwrap();
    /// assert!(flushed.load(Ordering::SeqCst));
    /// # });
    /// ```
    #[doc(alias = "push_async_callback")]
    pub fn defer<F>(&self, cleanup: F)
    where
        F: Future + Send + 'a,
        F::Output: CleanupResult<E>,
        E: 'a,
    {
        let cleanup: BoxExit<'a, E> = Box::pin(async move { cleanup.await.into_result() });
        self.entries().push(Entry::Cleanup(cleanup));
    }

    /// Calls `callback` when the stack exits, in its place among the managers, with how the
    /// block ended (Python's `push_async_exit`): it is an exit without a manager. It sees what a
    /// manager's exit in its place would see: the block's [`Exit`], or the error of an exit (or
    /// callback) that failed after it; its own error chains the same way (the earlier entries
    /// see it, and the last error wins). It returns an [`OnExit`], whose future may hold the
    /// `Exit` across `.await` and returns `()` or `Result<(), F>` with `F: Into<E>`.
    ///
    /// Unlike Python's, it cannot suppress the block's error (no exit can, see the README). If
    /// the stack is cancelled, the callback sees `Exit::Cancelled`, its future finished in place
    /// as a cancelled manager's exit would be. The callback and its future are `Send`, as the
    /// stack is. Two allocations per callback.
    ///
    /// ```
    /// use contextlib::{async_with, BlockError, Exit, ExitStack, OnExit};
    ///
    /// #[derive(Debug)]
    /// struct Conflict;
    /// impl std::fmt::Display for Conflict {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("conflict") }
    /// }
    ///
    /// # futures_executor::block_on(async {
    /// let log = std::sync::Mutex::new(Vec::new());
    /// let log = &log;
    /// let result = async_with!(ExitStack::<Conflict>::new() => |stack| {
    ///     stack.push_async_exit(move |exit| OnExit::new(async move {
    ///         log.lock().unwrap().push(format!("first pushed, last run: {exit}"));
    ///     }));
    ///     stack.push_async_exit(move |exit| OnExit::new(async move {
    ///         if let Exit::Err(error) = exit {
    ///             log.lock().unwrap().push(format!("rolling back after {error}"));
    ///         }
    ///         Err::<(), _>(Conflict) // seen by the callback pushed before; the last error wins
    ///     }));
    ///     Err::<(), _>(Conflict)
    /// });
    /// assert!(result.is_err());
    /// assert_eq!(
    ///     *log.lock().unwrap(),
    ///     ["rolling back after conflict", "first pushed, last run: error: conflict"]
    /// );
    /// # });
    /// ```
    pub fn push_async_exit<C>(&self, callback: C)
    where
        C: for<'x> FnOnce(Exit<'x>) -> OnExit<'x, 'a, E> + Send + 'a,
    {
        self.entries().push(Entry::Exit(Some(Box::new(callback))));
    }

    /// Moves everything entered so far into a new stack, leaving this one empty (Python's
    /// `pop_all`): a function can enter many managers and hand them over only if all entered.
    ///
    /// ```
    /// use contextlib::{async_context_manager, ExitStack};
    ///
    /// #[async_context_manager]
    /// async fn file(n: u32) -> u32 { r#yield!(n); }
    ///
    /// # futures_executor::block_on(async {
    /// let mut stack = ExitStack::<std::convert::Infallible>::new();
    /// stack.enter(file(1)).await.unwrap();
    /// stack.enter(file(2)).await.unwrap();
    /// let mut kept = stack.pop_all(); // all entered: keep them past this scope
    /// assert!(stack.is_empty());
    /// assert_eq!(kept.len(), 2);
    /// kept.close().await.unwrap();
    /// # });
    /// ```
    pub fn pop_all(&mut self) -> ExitStack<'a, E> {
        let entries = core::mem::take(
            self.entries
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        ExitStack {
            entries: Mutex::new(entries),
        }
    }

    fn take_entries(&mut self) -> Vec<Entry<'a, E>> {
        core::mem::take(
            self.entries
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

impl<'a, E> ExitStack<'a, E>
where
    E: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    /// Exits everything the stack holds, as if its block had succeeded (Python's `aclose`), for
    /// a stack used without `async_with!`. The stack is empty afterwards and can be used again.
    ///
    /// ```
    /// use contextlib::{async_context_manager, ExitStack};
    ///
    /// #[async_context_manager]
    /// async fn noted(log: &std::sync::Mutex<Vec<u32>>, n: u32) -> u32 {
    ///     r#yield!(n);
    ///     log.lock().unwrap().push(n);
    /// }
    ///
    /// # futures_executor::block_on(async {
    /// let log = std::sync::Mutex::new(Vec::new());
    /// let mut stack = ExitStack::<std::convert::Infallible>::new();
    /// stack.enter(noted(&log, 1)).await.unwrap();
    /// stack.enter(noted(&log, 2)).await.unwrap();
    /// stack.close().await.unwrap();
    /// assert_eq!(*log.lock().unwrap(), [2, 1]);
    /// # });
    /// ```
    #[doc(alias = "aclose")]
    pub async fn close(&mut self) -> Result<(), E> {
        unwind(self.take_entries(), Exit::Ok).await
    }
}

/// Exits `entries`, last first. The returned future owns the entries from this call on:
/// dropped before its first poll, or midway, it finishes the exit in flight and runs the rest in
/// place (or hands them to their managers), like a tuple's exit. (Not an `async fn`: its
/// arguments would be moved into it only to be dropped, unexited, if it were never polled.)
fn unwind<'a, 'e, E>(
    entries: Vec<Entry<'a, E>>,
    exit: Exit<'e>,
) -> impl Future<Output = Result<(), E>> + use<'a, 'e, E>
where
    E: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    let exiting = Exiting {
        entries,
        exit,
        unwinding: Unwinding::new(),
    };
    async move {
        let mut exiting = exiting;
        while let Some(mut entry) = exiting.entries.pop() {
            let seen = exiting.unwinding.exit_for_next(exiting.exit);
            let exited = match &mut entry {
                Entry::Manager(held) => {
                    let teardown = held.pinned().teardown();
                    CatchUnwind::new(Finishing::new(held.pinned().exit(seen), teardown)).await
                }
                Entry::Cleanup(cleanup) => {
                    let teardown = Teardown::new(deferred_cleanup, true);
                    CatchUnwind::new(Finishing::new(cleanup.as_mut(), teardown)).await
                }
                Entry::Exit(callback) => match call_exit(callback, seen) {
                    Some(Ok(future)) => {
                        let teardown = Teardown::new(exit_callback, true);
                        CatchUnwind::new(Finishing::new(future, teardown)).await
                    }
                    Some(Err(payload)) => Err(payload),
                    None => Ok(Ok(())),
                },
            };
            drop(entry);
            exiting.unwinding.record(exited);
        }
        core::mem::replace(&mut exiting.unwinding, Unwinding::new()).finish()
    }
}

struct Exiting<'a, 'e, E: fmt::Display + fmt::Debug + Sync + 'static> {
    entries: Vec<Entry<'a, E>>,
    exit: Exit<'e>,
    unwinding: Unwinding<E>,
}

impl<E: fmt::Display + fmt::Debug + Sync + 'static> Drop for Exiting<'_, '_, E> {
    fn drop(&mut self) {
        let seen = self.unwinding.exit_for_next(self.exit);
        while let Some(mut entry) = self.entries.pop() {
            // Runs in a destructor: a panic is reported, and the entries below still exit.
            let finished = catch_unwind(AssertUnwindSafe(|| match &mut entry {
                Entry::Manager(held) => {
                    let teardown = held.pinned().teardown();
                    drop(Finishing::new(held.pinned().exit(seen), teardown));
                }
                Entry::Cleanup(cleanup) => drop(Finishing::new(
                    cleanup.as_mut(),
                    Teardown::new(deferred_cleanup, true),
                )),
                Entry::Exit(callback) => {
                    if let Some(callback) = callback.take() {
                        let future = callback(seen);
                        drop(Finishing::new(future, Teardown::new(exit_callback, true)));
                    }
                }
            }));
            if let Err(payload) = finished {
                discard(payload);
                report(TeardownReport {
                    manager: entry_name(&mut entry),
                    outcome: TeardownOutcome::Panicked,
                });
            }
            drop_reporting(entry);
        }
    }
}

fn entry_name<E>(entry: &mut Entry<'_, E>) -> &'static str {
    match entry {
        Entry::Manager(held) => held.pinned().teardown().manager_name(),
        Entry::Cleanup(_) => deferred_cleanup(),
        Entry::Exit(_) => exit_callback(),
    }
}

/// Drops an entry (its manager) in a destructor: a panicking `Drop` is reported.
fn drop_reporting<E>(entry: Entry<'_, E>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(entry))) {
        discard(payload);
        report(TeardownReport {
            manager: "a manager held by an ExitStack",
            outcome: TeardownOutcome::Panicked,
        });
    }
}

/// Cancels `entries`, last first, each through its own `cancel` (a cleanup is polled in place,
/// an exit callback called with `Exit::Cancelled` and its future polled in place).
fn cancel_all<E>(mut entries: Vec<Entry<'_, E>>) {
    while let Some(mut entry) = entries.pop() {
        let cancelled = catch_unwind(AssertUnwindSafe(|| match &mut entry {
            Entry::Manager(held) => held.pinned().cancel(),
            Entry::Cleanup(cleanup) => finish_in_place(cleanup.as_mut(), deferred_cleanup()),
            Entry::Exit(callback) => {
                if let Some(callback) = callback.take() {
                    finish_in_place(callback(Exit::Cancelled), exit_callback());
                }
            }
        }));
        if let Err(payload) = cancelled {
            discard(payload);
            report(TeardownReport {
                manager: entry_name(&mut entry),
                outcome: TeardownOutcome::Panicked,
            });
        }
        drop_reporting(entry);
    }
}

impl<E> Drop for ExitStack<'_, E> {
    /// A stack dropped while it still holds managers (its exit never ran) cancels them, as
    /// `async_with!`'s guard would: never a silently skipped teardown.
    fn drop(&mut self) {
        let entries = self.take_entries();
        if !entries.is_empty() {
            cancel_all(entries);
        }
    }
}

impl<'s, 'a, E> Lend<'s> for ExitStack<'a, E> {
    type Target = &'s ExitStack<'a, E>;
}

impl<'a, E> AsyncContextManager for ExitStack<'a, E>
where
    E: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    type Error = E;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> core::future::Ready<Result<&Self, E>> {
        core::future::ready(Ok(self.into_ref().get_ref()))
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), E>> {
        // The entries move into the exit future now, not at its first poll: dropped unpolled
        // (say, in a tuple cancelled while a manager to the stack's right tears down), it still
        // exits them (tests/exit_finishes_when_dropped.rs).
        unwind(self.get_mut().take_entries(), exit)
    }

    fn cancel(self: Pin<&mut Self>) {
        cancel_all(self.get_mut().take_entries());
    }

    /// The exit future owns the stack's entries from the call on: dropped early (even before
    /// its first poll), it finishes the exit in flight and exits the rest, each in place (or by
    /// its manager), with the `Exit` it was given.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        "contextlib::ExitStack"
    }
}

impl<'a, E> SendAsyncContextManager for ExitStack<'a, E>
where
    E: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    type EnterFuture<'m>
        = core::future::Ready<Result<&'m Self, E>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = BoxExit<'x, E>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, E> {
        self.exit_into(exit)
    }

    fn exit_into<'x, F: From<E> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> BoxExit<'x, F> {
        // As in `exit`: the entries move into the future now.
        Box::pin(MapErr::<_, F>::new(unwind(
            self.get_mut().take_entries(),
            exit,
        )))
    }
}

/// The future of [`ExitStack::enter`]: the manager's target, borrowing the stack. (`F` is the
/// manager's enter future.)
///
/// Await it where it is made; dropped before it completes, the manager it was entering is
/// cancelled, not left on the stack.
///
/// ```
/// use contextlib::{async_context_manager, ExitStack};
///
/// #[async_context_manager]
/// async fn shard(id: u32) -> Result<u32, std::io::Error> { r#yield!(id * 10); Ok(()) }
///
/// # futures_executor::block_on(async {
/// let mut stack = ExitStack::<std::io::Error>::new();
/// let entering = stack.enter(shard(4)); // a `StackEnter`
/// assert_eq!(entering.await.unwrap(), 40);
/// assert_eq!(stack.len(), 1);
/// stack.close().await.unwrap();
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct StackEnter<'s, 'a, M, F, E> {
    stack: &'s ExitStack<'a, E>,
    /// Boxed; owned here until the enter succeeds, then by the stack.
    manager: *mut M,
    /// `manager`, as the stack will hold it.
    erased: *mut (dyn Erased<E> + 'a),
    future: ManuallyDrop<F>,
    done: bool,
}

// SAFETY: `StackEnter` owns the boxed `M` until it hands it to the stack, and holds a shared
// borrow of the stack (`Sync`) and the manager's enter future. (No trait or lifetime bounds
// beyond `Send`: a bound such as `M: SendAsyncContextManager` would have to be proved for every lifetime
// inside a spawned task's future, which fails for managers with `'static` parts.)
// Exercised by tests/exit_stack.rs (enters awaited in a spawned task). Checked by
// tests/everything_on_a_stack.rs::closing_borrowed_and_pinned_managers_go_on_a_stack under Miri.
unsafe impl<M: Send, F: Send, E> Send for StackEnter<'_, '_, M, F, E> {}

impl<'s, 'a, M, E> Future for StackEnter<'s, 'a, M, M::EnterFuture<'s>, E>
where
    M: SendAsyncContextManager + 'a,
{
    type Output = Result<Target<'s, M>, M::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved, dropped in place); the other
        // fields are not pinned. Exercised by tests/exit_stack.rs under Miri.
        let this = unsafe { self.get_unchecked_mut() };
        assert!(
            !this.done,
            "contextlib: `ExitStack::enter` polled after it completed"
        );
        // SAFETY: as above. Exercised by tests/exit_stack.rs under Miri.
        let polled = unsafe { Pin::new_unchecked(&mut *this.future) }.poll(cx);
        let Poll::Ready(entered) = polled else {
            return Poll::Pending;
        };
        this.done = true;
        match entered {
            Ok(target) => {
                // The manager is on the stack before its enter future is dropped: a `Drop` that
                // panics then unwinds past a manager the stack will exit or cancel, never one
                // leaked (tests/stack_enter_future_drop_panics.rs).
                // SAFETY: from `Box::into_raw`, so not null.
                // Exercised by tests/exit_stack.rs under Miri.
                let manager = unsafe { NonNull::new_unchecked(this.erased) };
                this.stack.entries().push(Entry::Manager(Held { manager }));
                // SAFETY: the future is done and not used again (`done` is set, so `Drop` leaves
                // it alone). The manager it may still borrow is freed only by the stack, which
                // outlives this `&'s` borrow of it.
                // Exercised by tests/stack_enter_future_drop_panics.rs under Miri.
                unsafe { ManuallyDrop::drop(&mut this.future) };
                Poll::Ready(Ok(target))
            }
            Err(error) => {
                // SAFETY: the future is done and not used again (`done` is set). Exercised by
                // tests/stack_enter_future_drop_panics.rs and tests/exit_stack.rs under Miri.
                let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
                    ManuallyDrop::drop(&mut this.future)
                }));
                // SAFETY: the enter failed and its future is gone: nothing borrows the manager;
                // it is not kept. Exercised by
                // tests/stack_enter_future_drop_panics.rs and tests/exit_stack.rs under Miri.
                drop(unsafe { Box::from_raw(this.manager) });
                if let Err(payload) = dropped {
                    resume_unwind(payload);
                }
                Poll::Ready(Err(error))
            }
        }
    }
}

/// The future of [`ExitStack::enter_infallible`]: the manager's target, borrowing the stack.
#[must_use = "futures do nothing unless polled"]
pub struct StackEnterInfallible<'s, 'a, M, F, E>(StackEnter<'s, 'a, M, F, E>);

impl<'s, 'a, M, E> Future for StackEnterInfallible<'s, 'a, M, M::EnterFuture<'s>, E>
where
    M: SendAsyncContextManager<Error = Infallible> + 'a,
{
    type Output = Target<'s, M>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Target<'s, M>> {
        // SAFETY: the enter is structurally pinned: never moved out, dropped in place. Checked by
        // tests/exit_stack_infallible.rs::a_dropped_infallible_enter_leaves_nothing_to_exit
        // under Miri.
        let enter = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        enter.poll(cx).map(|entered| match entered {
            Ok(target) => target,
            Err(never) => match never {},
        })
    }
}

impl<M, F, E> Drop for StackEnter<'_, '_, M, F, E> {
    fn drop(&mut self) {
        if !self.done {
            // SAFETY: the enter never completed: its future goes first, then the manager it
            // borrowed, which is not kept (an enter that is dropped leaves nothing to exit).
            // Checked by tests/exit_stack.rs::a_dropped_enter_leaves_nothing_to_exit under Miri.
            unsafe {
                ManuallyDrop::drop(&mut self.future);
                drop(Box::from_raw(self.manager));
            }
        }
    }
}
