//! `temp_directory()` from the Python seed: a fresh directory that exists only for the
//! with-block.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use contextlib::{Exit, async_context_manager};

/// Creates a new, empty directory under the system temp dir, lends the block its path, and
/// removes it with everything in it at exit.
///
/// - **Yields** `&Path`, borrowed from the manager: the block cannot keep the path around
///   as if the directory still existed after the exit.
/// - **Setup** fails (and the block does not run) when no directory can be created.
/// - **Teardown** always removes the directory: on `Exit::Ok`, `Exit::Err`, `Exit::Panic`
///   and `Exit::Cancelled` alike. Failing to remove it is the exit's error.
/// - **Cancellation**: removing a directory awaits tokio's blocking pool, which a teardown run
///   in `Drop` cannot wait for, so a cancelled block (a `timeout`, a lost `select!`) would
///   leave the directory behind (reported to the teardown hook). For the guarantee, wrap it:
///   `detach_on_cancel(temp_directory("prefix"))` — it is `Send + 'static` with a literal (or
///   any `&'static str`) prefix, and contextlib's teardown runtime then removes the directory.
#[async_context_manager]
pub async fn temp_directory(prefix: &str) -> io::Result<&Path> {
    let dir = create_unique_dir(prefix)?;
    println!("  [enter] created {}", dir.display());
    let exit = r#yield!(dir.as_path());
    remove_all(&dir).await?;
    let how = match exit {
        Exit::Ok => "ok".to_string(),
        Exit::Err(error) => format!("error ({error})"),
        Exit::Panic(panic) => format!("panic ({panic})"),
        _ => "cancelled".to_string(),
    };
    println!(
        "  [exit]  block ended with {how}; removed {}",
        dir.display()
    );
    Ok(())
}

/// Removes `dir` and everything in it. A cancelled block may leave a file operation running in
/// tokio's blocking pool (a `tokio::fs::write` does not stop when its future is dropped); if it
/// adds a file while the directory is being removed, the removal is retried.
async fn remove_all(dir: &Path) -> io::Result<()> {
    let mut attempts = 0;
    loop {
        match tokio::fs::remove_dir_all(dir).await {
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty && attempts < 16 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            result => return result,
        }
    }
}

/// `<temp>/<prefix>-<pid>-<counter>-<nanos>`, created with `create_dir` (which fails if the
/// name is taken, so two processes can never share a directory); retries on collisions.
///
/// Synchronous on purpose (one quick `mkdir`, as Python's `tempfile.mkdtemp`): with
/// `tokio::fs::create_dir`, a setup cancelled while the `mkdir` waited in tokio's blocking
/// pool would have the directory created after nobody owned it any more — left behind.
/// Done in place, a cancelled setup has either created nothing or not started.
fn create_unique_dir(prefix: &str) -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    let mut attempts = 0;
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}
