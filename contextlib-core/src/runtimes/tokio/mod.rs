//! tokio (feature `tokio`): guaranteed teardown for cancelled blocks, and the batteries
//! [`temp_dir`], [`create_file`], [`task_group`] and [`child`].
//!
//! A teardown that awaits real I/O cannot finish inside `Drop`. [`detach_on_cancel`] moves the
//! manager to the heap when it is entered, so that if the block is cancelled — a `timeout`
//! expiring, a `select!` branch losing, `JoinHandle::abort`, runtime shutdown — the manager can
//! be handed, whole, to a runtime that awaits its `exit(Exit::Cancelled)` to the end.
//!
//! That runtime is contextlib's own: one background thread, started the first time a teardown is
//! detached, running a current-thread tokio runtime. Not the caller's runtime, because a
//! runtime that is shutting down drops new tasks unpolled — exactly when teardowns are needed.
//! Teardowns may still use resources of the caller's runtime while it runs (tokio I/O works
//! across runtimes while the runtime that owns the resource is alive).
//!
//! Before the process exits, call [`wait_for_teardowns`] so that detached teardowns can end.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::protocol::catch_unwind::{CatchUnwind, discard};
use crate::protocol::exit::OwnedExit;
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, report};
use crate::protocol::{AsyncContextManager, Exit, Lend, Target};

mod child;
mod file;
mod task_group;
mod temp_dir;

pub use child::{ChildExit, ChildProcess, child};
pub use file::{CreateFile, CreateFileEnter, CreateFileExit, create_file};
pub use task_group::{TaskGroup, TaskGroupExit, TaskGroupScope, task_group};
pub use temp_dir::{RemoveDir, TempDir, temp_dir};

/// Wraps `manager` so that its teardown always runs to completion, even if the future running
/// `async_with!` is dropped — during the block or during the exit.
///
/// - If the block is cancelled, `exit(Exit::Cancelled)` is handed to contextlib's teardown runtime and
///   awaited there to the end.
/// - The exit itself also runs there (the caller awaits its result), so dropping the caller
///   mid-exit — a timeout hitting during a commit — does not cut it short either. Because the
///   exit runs away from the block, it sees the block's error as text: `Display`, `Debug` and
///   the type name, but `downcast_ref` returns `None`.
///
/// The manager must be `Send + 'static`: it outlives the future that was dropped. Pass owned
/// handles (an `Arc`, a cloned `sqlx::Pool`) instead of borrows; a borrowing manager is a
/// compile error here, never a silently skipped teardown. Costs one allocation per use.
///
/// ```
/// use std::time::Duration;
/// use contextlib::{async_context_manager, async_with, Exit};
/// use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
///
/// #[async_context_manager]
/// async fn slow_cleanup(done: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u8 {
///     let exit = r#yield!(1);
///     tokio::time::sleep(Duration::from_millis(20)).await; // real waiting in the teardown
///     assert!(matches!(exit, Exit::Cancelled));
///     done.store(true, std::sync::atomic::Ordering::SeqCst);
/// }
///
/// let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let timed_out = runtime.block_on(async {
///     let block = async {
///         async_with!(detach_on_cancel(slow_cleanup(done.clone())) => |_| {
///             tokio::time::sleep(Duration::from_secs(60)).await; // cancelled by the timeout
///         })
///     };
///     tokio::time::timeout(Duration::from_millis(10), block).await
/// });
/// assert!(timed_out.is_err());
/// assert!(wait_for_teardowns(Duration::from_secs(5)));
/// assert!(done.load(std::sync::atomic::Ordering::SeqCst));
/// ```
pub fn detach_on_cancel<M>(manager: M) -> Detached<M>
where
    M: AsyncContextManager + Send + 'static,
    M::Error: Send,
{
    Detached {
        manager: Some(Box::pin(manager)),
    }
}

/// A manager whose cancelled teardown is completed by contextlib's teardown runtime. See
/// [`detach_on_cancel`], which makes one.
///
/// ```
/// use contextlib::{async_context_manager, async_with, AsyncContextManager};
///
/// #[async_context_manager]
/// async fn owned(name: String) -> usize { r#yield!(name.len()); }
///
/// let manager: contextlib::tokio::Detached<_> = contextlib::tokio::detach_on_cancel(owned("pool".into()));
/// fn name_of<M: AsyncContextManager>(_: &M) -> &'static str { M::name() }
/// assert!(name_of(&manager).ends_with("owned"));
/// # futures_executor::block_on(async {
/// assert_eq!(async_with!(manager => |n| n), Ok(4)); // not cancelled: it exits in place
/// # });
/// ```
pub struct Detached<M> {
    manager: Option<Pin<Box<M>>>,
}

impl<M> Detached<M> {
    fn manager(self: Pin<&mut Self>) -> Pin<&mut M> {
        self.get_mut()
            .manager
            .as_mut()
            .expect("contextlib: a detached manager was used after its teardown was handed off")
            .as_mut()
    }
}

impl<'a, M: AsyncContextManager> Lend<'a> for Detached<M> {
    type Target = Target<'a, M>;
}

impl<M> AsyncContextManager for Detached<M>
where
    M: AsyncContextManager + Send + 'static,
    M::Error: Send,
{
    type Error = M::Error;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<Target<'_, Self>, Self::Error>> {
        self.manager().enter()
    }

    /// Runs the exit on contextlib's teardown runtime and awaits its result there, so that nothing
    /// can cut it short: if this future is dropped, the teardown still runs to the end (and a
    /// failure nobody receives is reported). The manager sees the block's error as text.
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        if let Some(manager) = self.get_mut().manager.take() {
            detach_exit(manager, OwnedExit::new(exit), Some(sender));
        }
        async move {
            match receiver.await {
                Ok(result) => result,
                Err(_) => panic!(
                    "contextlib: the exit of a detached manager panicked, or it was exited twice or \
                     after its teardown was handed off"
                ),
            }
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        if let Some(manager) = self.get_mut().manager.take() {
            detach_exit(manager, OwnedExit::Cancelled, None);
        }
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        M::name()
    }
}

impl<M> crate::protocol::SendAsyncContextManager for Detached<M>
where
    M: crate::protocol::SendAsyncContextManager + 'static,
    M::Error: Send,
{
    type EnterFuture<'m>
        = M::EnterFuture<'m>
    where
        Self: 'm;
    type ExitFuture<'x>
        = crate::protocol::BoxExit<'x, M::Error>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.manager().enter_send()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        Box::pin(self.exit(exit))
    }
}

/// Hands `manager`'s exit to the teardown runtime; its result goes to `result` if someone is
/// still waiting for it, and a failure nobody receives is reported.
fn detach_exit<M>(
    manager: Pin<Box<M>>,
    exit: OwnedExit,
    result: Option<tokio::sync::oneshot::Sender<Result<(), M::Error>>>,
) where
    M: AsyncContextManager + Send + 'static,
    M::Error: Send,
{
    detach(Box::new(move || {
        Box::pin(async move {
            let mut manager = manager;
            let exited = match CatchUnwind::new(manager.as_mut().exit(exit.exit())).await {
                Ok(exited) => exited,
                Err(payload) => {
                    discard(payload);
                    // The waiting caller, if any, sees its channel closed and panics in turn.
                    report(TeardownReport {
                        manager: M::name(),
                        outcome: TeardownOutcome::Panicked,
                    });
                    return;
                }
            };
            let unreceived = match result {
                Some(result) => result.send(exited).err(),
                None => Some(exited),
            };
            if let Some(Err(_)) = unreceived {
                report(TeardownReport {
                    manager: M::name(),
                    outcome: TeardownOutcome::Failed,
                });
            }
        })
    }));
}

/// Makes a teardown on the teardown thread (its future need not be `Send`).
type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

struct Teardowns {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

/// Teardowns running in the background: detached ones, and the batteries' blocking work.
struct Pending {
    count: Mutex<usize>,
    changed: Condvar,
}

static PENDING: Pending = Pending {
    count: Mutex::new(0),
    changed: Condvar::new(),
};

/// Counts a background teardown until dropped.
pub(crate) struct Tracked(());

impl Tracked {
    pub(crate) fn new() -> Self {
        *PENDING
            .count
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        Tracked(())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        *PENDING
            .count
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) -= 1;
        PENDING.changed.notify_all();
    }
}

fn teardowns() -> &'static Teardowns {
    static TEARDOWNS: OnceLock<Teardowns> = OnceLock::new();
    TEARDOWNS.get_or_init(|| {
        let (jobs, receiver) = tokio::sync::mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("contextlib-teardowns".into())
            .spawn(move || run_teardowns(receiver))
            .expect("contextlib: cannot start the teardown thread");
        Teardowns { jobs }
    })
}

fn run_teardowns(mut receiver: tokio::sync::mpsc::UnboundedReceiver<Job>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("contextlib: cannot build the teardown runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        while let Some(job) = receiver.recv().await {
            tokio::task::spawn_local(job());
        }
    });
}

fn detach(job: Job) {
    // Counted done when the job is dropped: finished, or panicked (reported by tokio).
    let tracked = Tracked::new();
    let job: Job = Box::new(move || {
        let teardown = job();
        Box::pin(async move {
            let _tracked = tracked;
            teardown.await;
        })
    });
    if teardowns().jobs.send(job).is_err() {
        unreachable!("contextlib: the teardown thread never stops");
    }
}

/// How many teardowns are still running in the background: detached ones, and the work the
/// batteries ([`temp_dir`], [`create_file`], [`task_group`], [`child`]) finish after their
/// future was dropped.
///
/// ```
/// assert_eq!(contextlib::tokio::pending_teardowns(), 0);
/// ```
pub fn pending_teardowns() -> usize {
    *PENDING
        .count
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Blocks until every background teardown (see [`pending_teardowns`]) has finished, or `timeout` passes; `true` if they all
/// finished. Call it where blocking is fine: at the end of `main` (after the runtime is shut
/// down), or in tests.
///
/// ```
/// assert!(contextlib::tokio::wait_for_teardowns(std::time::Duration::from_secs(1)));
/// ```
pub fn wait_for_teardowns(timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pending = PENDING
        .count
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    while *pending > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        pending = PENDING
            .changed
            .wait_timeout(pending, left)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    true
}

/// Reports a teardown that failed or panicked after its future was dropped.
fn report_unreceived(
    manager: &'static str,
    result: Result<io::Result<()>, tokio::task::JoinError>,
) {
    let outcome = match result {
        Ok(Ok(())) => return,
        Ok(Err(_)) => TeardownOutcome::Failed,
        Err(error) if error.is_panic() => TeardownOutcome::Panicked,
        // Cancelled before it started (its runtime shut down): `Once` handed it on.
        Err(_) => return,
    };
    report(TeardownReport { manager, outcome });
}

/// Hands an async teardown whose result nobody awaits to contextlib's teardown runtime; a
/// failure is reported.
fn detach_io<F>(manager: &'static str, teardown: F)
where
    F: Future<Output = io::Result<()>> + Send + 'static,
{
    detach(Box::new(move || {
        Box::pin(async move {
            report_unreceived(manager, Ok(teardown.await));
        })
    }));
}

/// Hands blocking teardown work (a removal, a sync) to the blocking pool of contextlib's
/// teardown runtime; a failure is reported. Never blocks.
fn detach_blocking<W>(manager: &'static str, work: W)
where
    W: FnOnce() -> io::Result<()> + Send + 'static,
{
    detach(Box::new(move || {
        Box::pin(async move {
            report_unreceived(manager, tokio::task::spawn_blocking(work).await);
        })
    }));
}

/// Blocking teardown work, started at once on the blocking pool of the caller's runtime (as
/// `tokio::fs` does), or done in place when there is no runtime. It runs to the end once started:
/// if its future is dropped, the wait for it moves to contextlib's teardown runtime (counted by
/// [`pending_teardowns`], a failure reported); if the caller's runtime shuts down before the
/// pool starts it, the teardown runtime's pool does it.
struct Blocking {
    manager: &'static str,
    state: BlockingState,
}

enum BlockingState {
    Running(tokio::task::JoinHandle<io::Result<()>>),
    Finished(Option<io::Result<()>>),
}

impl Blocking {
    fn start<W>(manager: &'static str, work: W) -> Self
    where
        W: FnOnce() -> io::Result<()> + Send + 'static,
    {
        let state = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let mut once = Once {
                    work: Some(work),
                    manager,
                };
                BlockingState::Running(runtime.spawn_blocking(move || {
                    let work = once.work.take().expect("the work runs once");
                    work()
                }))
            }
            Err(_) => BlockingState::Finished(Some(work())),
        };
        Blocking { manager, state }
    }

    fn finished(result: io::Result<()>) -> Self {
        Blocking {
            manager: "",
            state: BlockingState::Finished(Some(result)),
        }
    }
}

impl Future for Blocking {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = match &mut this.state {
            BlockingState::Running(handle) => match Pin::new(handle).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(result)) => result,
                Poll::Ready(Err(error)) => match error.try_into_panic() {
                    Ok(payload) => {
                        this.state = BlockingState::Finished(None);
                        std::panic::resume_unwind(payload)
                    }
                    // The caller's runtime shut down before its pool started the work: the
                    // teardown runtime does it (see `Once`).
                    Err(_) => Err(io::Error::other(
                        "contextlib: the runtime shut down before the teardown started; \
                         contextlib's teardown runtime finishes it",
                    )),
                },
            },
            BlockingState::Finished(result) => result
                .take()
                .expect("contextlib: a teardown future was polled after it completed"),
        };
        this.state = BlockingState::Finished(None);
        Poll::Ready(result)
    }
}

impl Drop for Blocking {
    fn drop(&mut self) {
        if let BlockingState::Running(handle) =
            core::mem::replace(&mut self.state, BlockingState::Finished(None))
        {
            let manager = self.manager;
            detach(Box::new(move || {
                Box::pin(async move { report_unreceived(manager, handle.await) })
            }));
        }
    }
}

/// Blocking work that runs exactly once: where it was sent, or, if that pool drops it unrun
/// (its runtime shut down), on the teardown runtime's pool.
struct Once<W: FnOnce() -> io::Result<()> + Send + 'static> {
    work: Option<W>,
    manager: &'static str,
}

impl<W: FnOnce() -> io::Result<()> + Send + 'static> Drop for Once<W> {
    fn drop(&mut self) {
        if let Some(work) = self.work.take() {
            detach_blocking(self.manager, work);
        }
    }
}
