//! `get_file_handler(filename)` from the Python seed (`aiofiles.open`): a buffered async file
//! that is flushed and synced to disk when the with-block ends, however it ends.

use std::io;
use std::path::Path;

use acm::{Exit, async_context_manager};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

/// Opens (creates or truncates) `path` for writing and lends the block a buffered writer.
///
/// - **Yields** `&mut BufWriter<File>`: borrowed from the manager, so the block cannot keep
///   the file open past the exit.
/// - **Teardown**: flushes the buffer and `fsync`s the file, on every exit. A `BufWriter`
///   dropped without a flush silently loses what is still buffered; this manager makes that
///   impossible.
/// - **Error decision**: bytes the block wrote before failing (or panicking) are still
///   written out, like Python's `finally: await f.close()`. The block's error is returned
///   unchanged; a failing flush or sync is reported instead (the exit's error wins).
#[async_context_manager]
pub async fn file_handler(path: &Path) -> io::Result<&mut BufWriter<File>> {
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
