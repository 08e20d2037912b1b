//! [`temp_dir`]: Python's `tempfile.TemporaryDirectory`.

use core::future::{Future, Ready, ready};
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use std::io;
use std::path::{Path, PathBuf};

use super::{Blocking, detach_blocking};
use crate::protocol::{AsyncContextManager, Exit, Lend};

const NAME: &str = "contextlib::tokio::temp_dir";

/// A fresh directory, lent as `&Path`, removed with everything in it at every exit: after the
/// block succeeds, fails or panics, and when it is cancelled (Python's
/// `tempfile.TemporaryDirectory`).
///
/// The directory is `std::env::temp_dir()/<prefix><unique suffix>`. Creating it is one
/// `mkdir`, done in place as the `tempfile` crate does; removing it, which can take long, is
/// awaited on tokio's blocking pool (as `tokio::fs::remove_dir_all` does), and its error is
/// the exit's error. If the block is cancelled, or the exit is dropped before the removal ends,
/// the removal still runs to the end in the background ([`wait_for_teardowns`] waits for it;
/// a failure goes to the teardown hook). Without a tokio runtime the removal is done in place.
///
/// [`wait_for_teardowns`]: super::wait_for_teardowns
///
/// ```
/// use contextlib::async_with;
/// use contextlib::tokio::temp_dir;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let kept = async_with!(temp_dir("report-") => |dir| {
///     tokio::fs::write(dir.join("data.csv"), "a,b\n").await?;
///     assert_eq!(tokio::fs::read_to_string(dir.join("data.csv")).await?, "a,b\n");
///     Ok::<_, std::io::Error>(dir.to_path_buf())
/// })?;
/// assert!(!kept.exists()); // removed at the exit
/// # Ok(())
/// # }
/// ```
pub fn temp_dir(prefix: impl Into<String>) -> TempDir {
    TempDir {
        prefix: prefix.into(),
        path: None,
    }
}

/// The manager [`temp_dir`] makes. One-shot: entering it a second time panics.
///
/// ```
/// let manager: contextlib::tokio::TempDir = contextlib::tokio::temp_dir("scratch-");
/// # let _ = manager;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
#[derive(Debug)]
pub struct TempDir {
    prefix: String,
    /// The directory, from a successful enter until its removal is started.
    path: Option<PathBuf>,
}

/// Creates `temp_dir()/<prefix><pid>-<n>`, with the first `n` not taken.
fn create_unique(prefix: &str) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("{prefix}{}-{nanos:x}-{n}", std::process::id()));
        match std::fs::create_dir(&path) {
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            created => return created.map(|()| path),
        }
    }
}

impl<'a> Lend<'a> for TempDir {
    type Target = &'a Path;
}

impl AsyncContextManager for TempDir {
    type Error = io::Error;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> Ready<io::Result<&Path>> {
        let this = self.get_mut();
        assert!(
            this.path.is_none(),
            "contextlib: a temp_dir manager is one-shot: it was already entered"
        );
        ready(create_unique(&this.prefix).map(|path| &**this.path.insert(path)))
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> RemoveDir {
        RemoveDir(match self.get_mut().path.take() {
            Some(path) => Blocking::start(NAME, move || std::fs::remove_dir_all(path)),
            None => Blocking::finished(Ok(())),
        })
    }

    fn cancel(self: Pin<&mut Self>) {
        if let Some(path) = self.get_mut().path.take() {
            detach_blocking(NAME, move || std::fs::remove_dir_all(path));
        }
    }

    /// The removal starts when `exit` is called and ends even if its future is dropped.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        NAME
    }
}

impl Drop for TempDir {
    /// Entered but neither exited nor cancelled (a manager driven by hand and dropped): the
    /// directory is removed all the same, in the background.
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            detach_blocking(NAME, move || std::fs::remove_dir_all(path));
        }
    }
}

/// The exit future of [`temp_dir`]: the removal of the directory, running on tokio's blocking
/// pool; it goes on to the end if this future is dropped.
///
/// ```
/// use std::pin::pin;
/// use contextlib::{AsyncContextManager, Exit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let mut manager = pin!(contextlib::tokio::temp_dir("by-hand-"));
/// let dir = manager.as_mut().enter().await?.to_path_buf();
/// let removal: contextlib::tokio::RemoveDir = manager.as_mut().exit(Exit::Ok);
/// removal.await?;
/// assert!(!dir.exists());
/// # Ok(())
/// # }
/// ```
#[must_use = "the removal runs in the background; await it to know it ended"]
pub struct RemoveDir(Blocking);

impl Future for RemoveDir {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll(cx)
    }
}

impl crate::protocol::SendAsyncContextManager for TempDir {
    type EnterFuture<'m> = Ready<io::Result<&'m Path>>;
    type ExitFuture<'x> = RemoveDir;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> RemoveDir {
        self.exit(exit)
    }
}
