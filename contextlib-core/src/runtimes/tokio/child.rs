//! [`child`]: Python's `asyncio.create_subprocess_exec`, with a process that never outlives
//! its block.

use core::future::{Future, Ready, ready};
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

use tokio::process::{Child, Command};

use super::detach_io;
use crate::protocol::{AsyncContextManager, Exit, Lend};

const NAME: &str = "contextlib::tokio::child";

/// Spawns `command` and lends the running process as `&mut tokio::process::Child`; no process
/// outlives the block:
///
/// - if the block succeeds, the exit waits for the process to end (its stdin, if piped, is
///   closed first, as `Child::wait` does);
/// - if the block fails, panics or is cancelled, the process is killed, and the exit waits for
///   it. (Cancelled, or the exit dropped before the process ended: it is killed at once, and
///   the wait goes on in the background; [`wait_for_teardowns`] waits for it.)
///
/// The exit's error is the wait's; the exit status is not an error — await `child.wait()` in
/// the block to see it. The command is spawned with `kill_on_drop(true)`. Needs a tokio runtime,
/// as `tokio::process` does. The exit allocates its wait future (tokio does not name it) unless
/// the process has already ended.
///
/// [`wait_for_teardowns`]: super::wait_for_teardowns
///
/// ```
/// # #[cfg(unix)] {
/// use contextlib::async_with;
/// use contextlib::tokio::child;
/// use tokio::process::Command;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let status = async_with!(child(Command::new("true")) => |process| process.wait().await)?;
/// assert!(status.success());
///
/// let mut sleeper = Command::new("sleep");
/// sleeper.arg("30");
/// let result: std::io::Result<()> = async_with!(child(sleeper) => |process| {
///     assert!(process.id().is_some());
///     Err(std::io::Error::other("the block gives up: the sleeper is killed, not waited for"))
/// });
/// assert!(result.is_err());
/// # Ok(())
/// # }
/// # main().unwrap();
/// # }
/// ```
pub fn child(command: impl Into<Command>) -> ChildProcess {
    ChildProcess {
        command: Some(command.into()),
        child: None,
    }
}

/// The manager [`child`] makes. One-shot: entering it a second time panics.
///
/// ```
/// let manager: contextlib::tokio::ChildProcess =
///     contextlib::tokio::child(tokio::process::Command::new("true"));
/// # let _ = manager;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
#[derive(Debug)]
pub struct ChildProcess {
    /// Until the enter takes it.
    command: Option<Command>,
    /// From a successful spawn until the process was waited for (or handed off).
    child: Option<Child>,
}

impl Drop for ChildProcess {
    /// Entered but neither exited nor cancelled (a manager driven by hand and dropped): the
    /// process is killed and waited for in the background.
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            kill_in_background(child);
        }
    }
}

impl<'a> Lend<'a> for ChildProcess {
    type Target = &'a mut Child;
}

impl AsyncContextManager for ChildProcess {
    type Error = io::Error;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> Ready<io::Result<&mut Child>> {
        let this = self.get_mut();
        let mut command = this
            .command
            .take()
            .expect("contextlib: a child manager is one-shot: it was already entered");
        ready(
            command
                .kill_on_drop(true)
                .spawn()
                .map(|child| this.child.insert(child)),
        )
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> ChildExit<'_> {
        let this = self.get_mut();
        let mut killed = Ok(());
        if let (false, Some(child)) = (exit.is_ok(), this.child.as_mut()) {
            // (An error here means it had already ended: the wait tells.)
            killed = child.start_kill();
        }
        ChildExit {
            state: State::Start {
                slot: &mut this.child,
                killed,
            },
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        if let Some(child) = self.get_mut().child.take() {
            kill_in_background(child);
        }
    }

    /// Dropped before the process ended, the exit kills it and waits in the background.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        NAME
    }
}

/// Kills `child` now and waits for it on contextlib's teardown runtime (if that wait cannot be
/// done, tokio reaps the killed process: it was spawned with `kill_on_drop`).
fn kill_in_background(mut child: Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return; // already ended and reaped
    }
    let _ = child.start_kill();
    detach_io(NAME, async move { child.wait().await.map(drop) });
}

/// The exit future of [`child`]: waits for the process (killed first unless the block
/// succeeded). Dropped before the process ended, it kills it and waits in the background.
///
/// ```
/// # #[cfg(unix)] {
/// use std::pin::pin;
/// use contextlib::{AsyncContextManager, Exit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut command = tokio::process::Command::new("sleep");
/// command.arg("30");
/// let mut manager = pin!(contextlib::tokio::child(command));
/// let pid = manager.as_mut().enter().await?.id();
/// assert!(pid.is_some());
/// let exit: contextlib::tokio::ChildExit<'_> = manager.as_mut().exit(Exit::Cancelled); // killed
/// exit.await?;
/// # Ok(())
/// # }
/// # main().unwrap();
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ChildExit<'x> {
    state: State<'x>,
}

enum State<'x> {
    Start {
        /// The manager's process, until waited for.
        slot: &'x mut Option<Child>,
        /// What `start_kill` returned.
        killed: io::Result<()>,
    },
    Waiting(Pin<Box<dyn Future<Output = io::Result<()>> + Send + 'x>>),
    Done,
}

/// The manager's process while the exit waits for it: if the wait is dropped unfinished, it is
/// killed and waited for in the background.
struct Unwaited<'x>(&'x mut Option<Child>);

impl Drop for Unwaited<'_> {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            kill_in_background(child);
        }
    }
}

impl Future for ChildExit<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let State::Start { .. } = this.state {
            let State::Start { slot, killed } = core::mem::replace(&mut this.state, State::Done)
            else {
                unreachable!()
            };
            let Some(child) = slot.as_mut() else {
                return Poll::Ready(Ok(())); // not entered, or already waited for
            };
            let ended = child.try_wait();
            if !matches!(ended, Ok(None)) {
                *slot = None;
                return Poll::Ready(ended.map(drop));
            }
            if let Err(error) = killed {
                *slot = None; // dropped: `kill_on_drop` tries again
                return Poll::Ready(Err(error));
            }
            let unwaited = Unwaited(slot);
            this.state = State::Waiting(Box::pin(async move {
                let waited = match unwaited.0.as_mut() {
                    Some(child) => child.wait().await.map(drop),
                    None => Ok(()),
                };
                *unwaited.0 = None;
                waited
            }));
        }
        match &mut this.state {
            State::Waiting(waiting) => {
                let waited = core::task::ready!(waiting.as_mut().poll(cx));
                this.state = State::Done;
                Poll::Ready(waited)
            }
            _ => panic!("contextlib: an exit future was polled after it completed"),
        }
    }
}

impl Drop for ChildExit<'_> {
    fn drop(&mut self) {
        // (Dropped while waiting: `Unwaited` does it.)
        if let State::Start { slot, .. } = &mut self.state {
            if let Some(child) = slot.take() {
                kill_in_background(child);
            }
        }
    }
}

impl crate::protocol::SendAsyncContextManager for ChildProcess {
    type EnterFuture<'m> = Ready<io::Result<&'m mut Child>>;
    type ExitFuture<'x> = ChildExit<'x>;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> ChildExit<'x> {
        self.exit(exit)
    }
}
