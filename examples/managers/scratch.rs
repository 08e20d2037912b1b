//! Managers built from managers: a scratch file inside its own temporary directory (Python's
//! `async with` inside an `@asynccontextmanager`), and a run-time number of files on an
//! `ExitStack` (Python's `AsyncExitStack`).

use std::io;
use std::path::Path;

use contextlib::{Exit, ExitStack, async_context_manager, async_with};
use tokio::fs::File;
use tokio::io::BufWriter;

use super::file::file_handler;
use super::temp_dir::temp_directory;

/// A buffered file `name` in a fresh temporary directory: composed from [`temp_directory`] and
/// [`file_handler`]. At exit the file is flushed and synced, then the directory removed,
/// innermost first, each seeing how the block ended; `report` receives the file's contents
/// just before the directory goes (so the caller can see what the block wrote).
///
/// - **Yields** `&mut BufWriter<File>`, the inner manager's target lent on.
/// - A setup failure of either part fails the enter; a directory already created is removed.
#[allow(clippy::type_complexity)]
#[async_context_manager]
pub async fn scratch_file<'r>(
    name: &'static str,
    report: &'r mut String,
) -> io::Result<&mut BufWriter<File>> {
    async_with!(temp_directory("contextlib-scratch") => |dir| {
        let path = dir.join(name);
        async_with!(file_handler(path.clone()) => |file| {
            let exit = r#yield!(&mut *file);
            if let Exit::Err(error) = exit {
                println!("  [exit]  scratch file saw the block fail: {error}");
            }
            Ok::<_, io::Error>(())
        })?;
        // The file is flushed and closed here; the directory is removed after this block.
        *report = tokio::fs::read_to_string(&path).await?;
        Ok::<_, io::Error>(())
    })
}

/// Opens one file per name in `dir`, all on one [`ExitStack`], writes a line to each, and
/// returns how many bytes are on disk afterwards: the stack flushed and synced every file at
/// its exit, last opened first.
pub async fn write_shards(dir: &Path, names: &[&str]) -> io::Result<u64> {
    async_with!(ExitStack::<io::Error>::new() => |stack| {
        let mut files = Vec::new();
        for name in names {
            files.push(stack.enter(file_handler(dir.join(name))).await?);
        }
        for (file, name) in files.iter_mut().zip(names) {
            tokio::io::AsyncWriteExt::write_all(&mut **file, format!("{name}\n").as_bytes()).await?;
        }
        println!("    [block] wrote a line to each of {} files", files.len());
        Ok::<_, io::Error>(())
    })?;
    let mut on_disk = 0;
    for name in names {
        on_disk += tokio::fs::metadata(dir.join(name)).await?.len();
    }
    Ok(on_disk)
}
