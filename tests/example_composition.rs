//! The composed example managers (examples/managers/scratch.rs) on real files: a buffered file
//! inside its own temporary directory, and a stack of files.
#[path = "../examples/managers/file.rs"]
#[allow(dead_code)]
mod file;
#[path = "../examples/managers/scratch.rs"]
mod scratch;
#[path = "../examples/managers/temp_dir.rs"]
#[allow(dead_code)]
mod temp_dir;

use std::io;

use contextlib::async_with;
use scratch::{scratch_file, write_shards};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_scratch_file_is_flushed_then_its_directory_removed() {
    let mut contents = String::new();
    async_with!(scratch_file("a.txt", &mut contents) => |file| {
        file.write_all(b"kept until the exit").await?;
        Ok::<_, io::Error>(())
    })
    .unwrap();
    assert_eq!(contents, "kept until the exit");
}

#[tokio::test]
async fn a_failing_block_still_gets_its_bytes_flushed_and_the_directory_removed() {
    let mut contents = String::new();
    let result: io::Result<()> = async_with!(scratch_file("b.txt", &mut contents) => |file| {
        file.write_all(b"half").await?;
        Err(io::Error::other("bad record"))
    });
    assert_eq!(result.unwrap_err().to_string(), "bad record");
    assert_eq!(contents, "half");
}

#[tokio::test]
async fn a_panicking_block_still_runs_both_teardowns() {
    use futures_util::FutureExt;
    let mut contents = String::new();
    let caught = std::panic::AssertUnwindSafe(async {
        async_with!(scratch_file("c.txt", &mut contents) => |file| {
            file.write_all(b"last words").await?;
            if !file.buffer().is_empty() {
                panic!("formatter crashed");
            }
            Ok::<_, io::Error>(())
        })
    })
    .catch_unwind()
    .await;
    assert!(caught.is_err());
    assert_eq!(contents, "last words");
}

#[tokio::test]
async fn a_stack_of_files_flushes_every_one() {
    let dir = std::env::temp_dir().join(format!("contextlib-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names: Vec<String> = (0..20).map(|n| format!("s{n:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let bytes = write_shards(&dir, &names).await.unwrap();
    assert_eq!(bytes, 20 * 4); // "sNN\n" in each
    std::fs::remove_dir_all(&dir).unwrap();
}
