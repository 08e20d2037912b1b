//! [`task_group`]: Python's `asyncio.TaskGroup`.

use core::fmt;
use core::future::{Future, Ready, ready};
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::{AbortHandle, JoinSet};

use super::detach;
use crate::protocol::catch_unwind::{CatchUnwind, Payload, discard};
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, report};
use crate::protocol::{AsyncContextManager, Exit, Lend};

const NAME: &str = "contextlib::tokio::task_group";

/// A group of tokio tasks that do not outlive the block (Python's `asyncio.TaskGroup`): lends
/// a [`&TaskGroup<E>`](TaskGroup) whose [`spawn`](TaskGroup::spawn) starts a task.
///
/// - The exit waits for every task.
/// - The first task that fails (returns `Err`, or panics) aborts the others at once, and its
///   error is the exit's error (its panic resumes at the exit). Later failures are dropped.
/// - If the block fails, panics or is cancelled, the tasks are aborted, and the exit waits
///   until they have stopped. (A block that panics resumes its own panic; a task's panic is
///   then dropped.) If the block is cancelled, or the exit dropped before the tasks stopped,
///   the wait goes on in the background ([`wait_for_teardowns`] waits for it).
///
/// A task is aborted at its next `.await`, as `JoinHandle::abort` does. Spawning needs a tokio
/// runtime. Costs one allocation per group (the state the tasks share) besides tokio's own per
/// task.
///
/// [`wait_for_teardowns`]: super::wait_for_teardowns
///
/// ```
/// use std::time::Duration;
/// use contextlib::async_with;
/// use contextlib::tokio::task_group;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
/// let result: Result<(), String> = async_with!(task_group::<String>() => |group| {
///     for n in 1..=3 {
///         let sender = sender.clone();
///         group.spawn(async move {
///             tokio::time::sleep(Duration::from_millis(n)).await;
///             sender.send(n).map_err(|e| e.to_string())
///         });
///     }
///     Ok(())
/// }); // waits for the three tasks
/// assert_eq!(result, Ok(()));
/// drop(sender);
/// let mut seen = Vec::new();
/// while let Some(n) = receiver.recv().await { seen.push(n); }
/// seen.sort();
/// assert_eq!(seen, [1, 2, 3]);
///
/// // The first failure aborts the others and is the exit's error:
/// let failed: Result<(), String> = async_with!(task_group::<String>() => |group| {
///     group.spawn(async { Err("task 1 failed".to_string()) });
///     group.spawn(async { tokio::time::sleep(Duration::from_secs(3600)).await; Ok(()) });
///     Ok(())
/// });
/// assert_eq!(failed, Err("task 1 failed".to_string()));
/// # }
/// ```
pub fn task_group<E: Send + 'static>() -> TaskGroupScope<E> {
    TaskGroupScope {
        group: TaskGroup {
            shared: Arc::new(Shared {
                tasks: Mutex::new(JoinSet::new()),
                failure: Mutex::new(None),
            }),
        },
        entered: false,
    }
}

/// The manager [`task_group`] makes. One-shot: entering it a second time panics. Dropping it
/// aborts the tasks left.
///
/// ```
/// let manager: contextlib::tokio::TaskGroupScope<std::io::Error> = contextlib::tokio::task_group();
/// # let _ = manager;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub struct TaskGroupScope<E> {
    group: TaskGroup<E>,
    entered: bool,
}

/// The tasks of one [`task_group`], lent to its block. See [`task_group`].
///
/// ```
/// use contextlib::async_with;
/// use contextlib::tokio::{task_group, TaskGroup};
///
/// async fn fetch_all(group: &TaskGroup<std::io::Error>, urls: &[&'static str]) {
///     for url in urls {
///         group.spawn(async move { let _ = url; Ok(()) });
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let result = async_with!(task_group() => |group| fetch_all(group, &["a", "b"]).await);
/// assert!(result.is_ok());
/// # }
/// ```
pub struct TaskGroup<E> {
    shared: Arc<Shared<E>>,
}

struct Shared<E> {
    tasks: Mutex<JoinSet<()>>,
    /// The first failure.
    failure: Mutex<Option<Failure<E>>>,
}

enum Failure<E> {
    Error(E),
    Panic(Payload),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<E> Shared<E> {
    /// Keeps the first failure, aborts every task.
    fn fail(&self, failure: Failure<E>) {
        {
            let mut first = lock(&self.failure);
            if first.is_none() {
                *first = Some(failure);
            } else if let Failure::Panic(payload) = failure {
                drop(first);
                discard(payload);
            }
        }
        lock(&self.tasks).abort_all();
    }

    fn failed(&self) -> bool {
        lock(&self.failure).is_some()
    }
}

impl<E: Send + 'static> TaskGroup<E> {
    /// Starts `task` on the current tokio runtime, as `tokio::spawn` does, in this group: the
    /// block's exit waits for it, and if it fails (or panics) the group's other tasks are
    /// aborted and its error is the exit's error. Returns a handle to abort it alone (an aborted
    /// task is not a failure). In a group that is already failing, the task is aborted before
    /// it runs its future (Python's `TaskGroup.create_task` refuses it).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    ///
    /// ```
    /// use contextlib::async_with;
    /// use contextlib::tokio::task_group;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let result: Result<(), &str> = async_with!(task_group() => |group| {
    ///     let handle = group.spawn(std::future::pending()); // would run forever
    ///     handle.abort(); // aborted alone: not a failure
    ///     group.spawn(async { Ok(()) });
    ///     Ok(())
    /// });
    /// assert_eq!(result, Ok(()));
    /// # }
    /// ```
    pub fn spawn<F>(&self, task: F) -> AbortHandle
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let shared = self.shared.clone();
        let handle = lock(&self.shared.tasks).spawn(async move {
            if shared.failed() {
                return; // refused: the group is failing
            }
            let failure = match CatchUnwind::new(task).await {
                Ok(Ok(())) => return,
                Ok(Err(error)) => Failure::Error(error),
                Err(payload) => Failure::Panic(payload),
            };
            shared.fail(failure);
        });
        // A failure recorded after the insertion is followed by an `abort_all` that sees this
        // task; one recorded before, by this abort (or the check above, if it runs first).
        if self.shared.failed() {
            handle.abort();
        }
        handle
    }

    /// How many tasks of the group have not been waited for yet (running, or ended but not yet
    /// collected by the exit).
    ///
    /// ```
    /// use contextlib::async_with;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let result: Result<(), ()> = async_with!(contextlib::tokio::task_group() => |group| {
    ///     group.spawn(async { Ok(()) });
    ///     assert_eq!(group.len(), 1);
    ///     Ok(())
    /// });
    /// assert!(result.is_ok());
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.shared.tasks).len()
    }

    /// `true` when [`len`](Self::len) is 0.
    ///
    /// ```
    /// use contextlib::async_with;
    /// # futures_executor::block_on(async {
    /// let empty = async_with!(contextlib::tokio::task_group::<()>() => |group| group.is_empty());
    /// assert_eq!(empty, Ok(true));
    /// # });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &lock(&self.shared.tasks).len())
            .field("failed", &lock(&self.shared.failure).is_some())
            .finish()
    }
}

impl<E> TaskGroupScope<E> {
    /// Aborts the tasks and waits, in the background, until they have stopped; a failure that
    /// nobody will receive is reported.
    fn abort_in_background(&self) {
        let shared = &self.group.shared;
        let mut tasks = core::mem::take(&mut *lock(&shared.tasks));
        if tasks.is_empty() {
            return;
        }
        tasks.abort_all();
        if lock(&shared.failure).take().is_some() {
            report(TeardownReport {
                manager: NAME,
                outcome: TeardownOutcome::Failed,
            });
        }
        detach(Box::new(move || {
            Box::pin(async move { while tasks.join_next().await.is_some() {} })
        }));
    }
}

impl<'a, E> Lend<'a> for TaskGroupScope<E> {
    type Target = &'a TaskGroup<E>;
}

impl<E: Send + 'static> AsyncContextManager for TaskGroupScope<E> {
    type Error = E;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> Ready<Result<&TaskGroup<E>, E>> {
        let this = self.get_mut();
        assert!(
            !core::mem::replace(&mut this.entered, true),
            "contextlib: a task_group manager is one-shot: it was already entered"
        );
        ready(Ok(&this.group))
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> TaskGroupExit<'_, E> {
        let this = self.get_mut();
        if !exit.is_ok() {
            lock(&this.group.shared.tasks).abort_all();
        }
        TaskGroupExit {
            scope: this,
            block_panicked: matches!(exit, Exit::Panic(_)),
            done: false,
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        self.abort_in_background();
    }

    /// Dropped before the tasks stopped, the exit aborts them and waits in the background.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        NAME
    }
}

impl<E> Drop for TaskGroupScope<E> {
    fn drop(&mut self) {
        // No task outlives its group (the tasks share the set, so dropping it is not enough).
        self.abort_in_background();
    }
}

/// The exit future of [`task_group`]: waits until every task has ended, then returns the first
/// failure. Dropped before that, it aborts the tasks and waits in the background.
///
/// ```
/// use std::pin::pin;
/// use contextlib::{AsyncContextManager, Exit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut manager = pin!(contextlib::tokio::task_group::<&str>());
/// let group = manager.as_mut().enter().await.unwrap();
/// group.spawn(async { Err("failed") });
/// let exit: contextlib::tokio::TaskGroupExit<'_, &str> = manager.as_mut().exit(Exit::Ok);
/// assert_eq!(exit.await, Err("failed"));
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TaskGroupExit<'x, E> {
    scope: &'x TaskGroupScope<E>,
    block_panicked: bool,
    done: bool,
}

impl<E> Future for TaskGroupExit<'_, E> {
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let this = self.get_mut();
        let shared = &this.scope.group.shared;
        loop {
            // (A task's panic is caught inside it: a `JoinError` here is an abort.)
            match lock(&shared.tasks).poll_join_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => break,
            }
        }
        this.done = true;
        let failure = lock(&shared.failure).take();
        Poll::Ready(match failure {
            None => Ok(()),
            Some(Failure::Error(error)) => Err(error),
            Some(Failure::Panic(payload)) if this.block_panicked => {
                discard(payload);
                Ok(())
            }
            Some(Failure::Panic(payload)) => std::panic::resume_unwind(payload),
        })
    }
}

impl<E> Drop for TaskGroupExit<'_, E> {
    fn drop(&mut self) {
        if !self.done {
            self.scope.abort_in_background();
        }
    }
}

impl<E: Send + 'static> crate::protocol::SendAsyncContextManager for TaskGroupScope<E> {
    type EnterFuture<'m> = Ready<Result<&'m TaskGroup<E>, E>>;
    type ExitFuture<'x> = TaskGroupExit<'x, E>;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> TaskGroupExit<'x, E> {
        self.exit(exit)
    }
}
