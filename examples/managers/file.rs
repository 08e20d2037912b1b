//! `get_file_handler(filename)` from the Python seed (`aiofiles.open`): a buffered async file
//! that is flushed and synced to disk when the with-block ends, however it ends.

use std::io;
use std::path::Path;

use contextlib::{Exit, async_context_manager};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Opens (creates or truncates) `path` for writing and lends the block a buffered writer.
///
/// `path` is anything path-like: `file_handler(&path)` borrows it, `file_handler(path)` (a
/// `PathBuf`) or `file_handler("notes.txt")` own it.
///
/// - **Yields** `&mut BufWriter<File>`: borrowed from the manager, so the block cannot keep
///   the file open past the exit.
/// - **Teardown**: flushes the buffer and `fsync`s the file, on every exit. A `BufWriter`
///   dropped without a flush silently loses what is still buffered; this manager makes that
///   impossible.
/// - **Error decision**: bytes the block wrote before failing (or panicking) are still
///   written out, like Python's `finally: await f.close()`. The block's error is returned
///   unchanged; a failing flush or sync is reported instead (the exit's error wins).
/// - **Cancellation** (the future running the block is dropped, e.g. by a `timeout`): the
///   teardown runs with `Exit::Cancelled`, but flushing and syncing await tokio's blocking
///   pool, which a teardown run in `Drop` cannot wait for: the buffered bytes would be lost
///   (and reported to the teardown hook). To have them written anyway, give the manager an
///   owned path and wrap it: `detach_on_cancel(file_handler(path.clone()))` — contextlib's teardown
///   runtime then finishes the flush and sync (`contextlib::tokio::wait_for_teardowns` waits for it).
// The attribute's expansion trips clippy's `type_complexity` here (not the code as written).
#[allow(clippy::type_complexity)]
#[async_context_manager]
pub async fn file_handler<P: AsRef<Path>>(path: P) -> io::Result<&mut BufWriter<File>> {
    let path = path.as_ref();
    let file = File::create(path).await?;
    println!("  [enter] opened {}", path.display());
    let mut writer = BufWriter::new(file);
    let exit = r#yield!(&mut writer);
    let buffered = writer.buffer().len();
    writer.flush().await?;
    writer.get_ref().sync_all().await?;
    let how = match exit {
        Exit::Ok => "block ok".to_string(),
        Exit::Err(error) => format!("block failed: {error}"),
        Exit::Panic(panic) => format!("block panicked: {panic}"),
        _ => "block cancelled".to_string(),
    };
    println!("  [exit]  {how}; flushed {buffered} buffered bytes and synced to disk");
    Ok(())
}
