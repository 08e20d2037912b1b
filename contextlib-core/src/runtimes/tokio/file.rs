//! [`create_file`]: Python's `aiofiles.open(path, 'w')`, with the flush and the sync that
//! dropping a `BufWriter` skips.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;
use std::path::{Path, PathBuf};

use tokio::fs::File;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use super::{Blocking, detach_io};
use crate::protocol::{AsyncContextManager, Exit, Lend};

const NAME: &str = "contextlib::tokio::create_file";

/// Creates (or truncates) the file at `path` and lends it as
/// `&mut tokio::io::BufWriter<tokio::fs::File>`; at every exit — after the block succeeds,
/// fails or panics, and when it is cancelled — flushes the buffer and syncs the file
/// (`sync_all`), so what the block wrote is on disk. A failed flush or sync is the exit's error.
///
/// Dropping a `BufWriter` loses what it buffered, and dropping a `tokio::fs::File` does not
/// wait for its last write: this manager does both properly. If the block is cancelled, or
/// the exit is dropped before it ends, the flush and the sync run to the end on contextlib's
/// teardown runtime ([`wait_for_teardowns`] waits for them; a failure goes to the teardown
/// hook). Opening and syncing run on tokio's blocking pool, as `tokio::fs` does; a tokio
/// runtime is needed.
///
/// [`wait_for_teardowns`]: super::wait_for_teardowns
///
/// ```
/// use contextlib::async_with;
/// use contextlib::tokio::create_file;
/// use tokio::io::AsyncWriteExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("contextlib-create-file-{}", std::process::id()));
/// let result: std::io::Result<()> = async_with!(create_file(&path) => |file| {
///     file.write_all(b"first line\n").await?;
///     Err(std::io::Error::other("the block fails after writing"))
/// });
/// assert!(result.is_err());
/// // Flushed and synced all the same:
/// assert_eq!(tokio::fs::read_to_string(&path).await?, "first line\n");
/// # tokio::fs::remove_file(&path).await
/// # }
/// ```
pub fn create_file(path: impl AsRef<Path>) -> CreateFile {
    CreateFile {
        path: Some(path.as_ref().to_path_buf()),
        writer: None,
    }
}

/// The manager [`create_file`] makes. One-shot: entering it a second time panics.
///
/// ```
/// let manager: contextlib::tokio::CreateFile = contextlib::tokio::create_file("out.txt");
/// # let _ = manager;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
#[derive(Debug)]
pub struct CreateFile {
    /// Until the enter takes it.
    path: Option<PathBuf>,
    /// From a successful enter until the exit (or a cancellation) takes it.
    writer: Option<BufWriter<File>>,
}

impl<'a> Lend<'a> for CreateFile {
    type Target = &'a mut BufWriter<File>;
}

impl AsyncContextManager for CreateFile {
    type Error = io::Error;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> CreateFileEnter<'_> {
        let this = self.get_mut();
        let path = this
            .path
            .take()
            .expect("contextlib: a create_file manager is one-shot: it was already entered");
        CreateFileEnter {
            opening: tokio::task::spawn_blocking(move || std::fs::File::create(path)),
            writer: Some(&mut this.writer),
        }
    }

    #[allow(refining_impl_trait)]
    fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> CreateFileExit<'_> {
        CreateFileExit {
            writer: &mut self.get_mut().writer,
            syncing: None,
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        if let Some(writer) = self.get_mut().writer.take() {
            detach_io(NAME, flush_and_sync(writer));
        }
    }

    /// The flush and the sync end even if the exit future is dropped.
    const EXIT_FINISHES_WHEN_DROPPED: bool = true;

    fn name() -> &'static str {
        NAME
    }
}

impl Drop for CreateFile {
    /// Entered but neither exited nor cancelled (a manager driven by hand and dropped): the
    /// file is flushed and synced all the same, in the background.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            detach_io(NAME, flush_and_sync(writer));
        }
    }
}

async fn flush_and_sync(mut writer: BufWriter<File>) -> io::Result<()> {
    writer.flush().await?;
    writer.into_inner().sync_all().await
}

/// The enter future of [`create_file`]: the file being created on tokio's blocking pool.
///
/// ```
/// use std::pin::pin;
/// use contextlib::{AsyncContextManager, Exit};
/// use tokio::io::AsyncWriteExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("contextlib-by-hand-{}", std::process::id()));
/// let mut manager = pin!(contextlib::tokio::create_file(&path));
/// let opening: contextlib::tokio::CreateFileEnter<'_> = manager.as_mut().enter();
/// opening.await?.write_all(b"by hand").await?;
/// let closing: contextlib::tokio::CreateFileExit<'_> = manager.as_mut().exit(Exit::Ok);
/// closing.await?;
/// assert_eq!(tokio::fs::read(&path).await?, b"by hand");
/// # tokio::fs::remove_file(&path).await
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct CreateFileEnter<'m> {
    opening: tokio::task::JoinHandle<io::Result<std::fs::File>>,
    /// Until the file is open.
    writer: Option<&'m mut Option<BufWriter<File>>>,
}

impl<'m> Future for CreateFileEnter<'m> {
    type Output = io::Result<&'m mut BufWriter<File>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let file = match ready!(Pin::new(&mut this.opening).poll(cx)) {
            Ok(file) => file?,
            Err(error) => match error.try_into_panic() {
                Ok(payload) => std::panic::resume_unwind(payload),
                Err(error) => return Poll::Ready(Err(io::Error::other(error))),
            },
        };
        let writer = this
            .writer
            .take()
            .expect("contextlib: an enter future was polled after it completed");
        Poll::Ready(Ok(writer.insert(BufWriter::new(File::from_std(file)))))
    }
}

/// The exit future of [`create_file`]: flushes the buffer, then syncs the file on tokio's
/// blocking pool. Dropped before it ends, it hands what is left to contextlib's teardown
/// runtime. See [`CreateFileEnter`] for an example of driving the manager by hand.
#[must_use = "futures do nothing unless polled"]
pub struct CreateFileExit<'x> {
    /// Until flushed.
    writer: &'x mut Option<BufWriter<File>>,
    /// Once flushed.
    syncing: Option<Syncing>,
}

enum Syncing {
    /// The usual way: the file's `std` handle, synced on the blocking pool.
    Blocking(Blocking),
    /// If tokio still shared the handle (it does not once flushed): `File::sync_all`.
    Async(Pin<Box<dyn Future<Output = io::Result<()>> + Send>>),
}

impl Future for CreateFileExit<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.syncing.is_none() {
            let Some(writer) = this.writer.as_mut() else {
                return Poll::Ready(Ok(())); // not entered, or already closed
            };
            if let Err(error) = ready!(Pin::new(&mut *writer).poll_flush(cx)) {
                *this.writer = None;
                return Poll::Ready(Err(error));
            }
            let file = this.writer.take().expect("flushed above").into_inner();
            this.syncing = Some(match file.try_into_std() {
                Ok(file) => Syncing::Blocking(Blocking::start(NAME, move || file.sync_all())),
                Err(file) => Syncing::Async(Box::pin(async move { file.sync_all().await })),
            });
        }
        match this.syncing.as_mut().expect("set above") {
            Syncing::Blocking(blocking) => Pin::new(blocking).poll(cx),
            Syncing::Async(future) => future.as_mut().poll(cx),
        }
    }
}

impl Drop for CreateFileExit<'_> {
    fn drop(&mut self) {
        // Dropped while flushing: the rest goes on in the background. (Dropped while syncing:
        // `Blocking` goes on by itself; the async fallback is cut short, as tokio's would be.)
        if let Some(writer) = self.writer.take() {
            detach_io(NAME, flush_and_sync(writer));
        }
    }
}

impl crate::protocol::SendAsyncContextManager for CreateFile {
    type EnterFuture<'m> = CreateFileEnter<'m>;
    type ExitFuture<'x> = CreateFileExit<'x>;

    fn enter_send(self: Pin<&mut Self>) -> CreateFileEnter<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> CreateFileExit<'x> {
        self.exit(exit)
    }
}
