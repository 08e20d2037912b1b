//! examples/managers/temp_dir.rs on the real filesystem: the directory exists inside the
//! block and is gone after the exit, on success, error and panic.

#[path = "../examples/managers/temp_dir.rs"]
mod temp_dir;

use std::io;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use contextlib::async_with;
use futures_util::FutureExt;
use temp_dir::temp_directory;

#[tokio::test]
async fn exists_in_the_block_and_is_removed_after_ok() {
    let dir = async_with!(temp_directory("contextlib-test") => |dir| {
        assert!(dir.is_dir());
        assert!(dir.starts_with(std::env::temp_dir()));
        assert_eq!(std::fs::read_dir(dir)?.count(), 0, "a fresh directory is empty");
        // Leave content behind: the exit must remove it recursively.
        tokio::fs::create_dir(dir.join("sub")).await?;
        tokio::fs::write(dir.join("sub/file.txt"), b"data").await?;
        Ok::<_, io::Error>(dir.to_path_buf())
    })
    .unwrap();
    assert!(!dir.exists(), "{} should be gone", dir.display());
}

#[tokio::test]
async fn is_removed_after_an_error() {
    let mut seen: Option<PathBuf> = None;
    let result: io::Result<()> = async_with!(temp_directory("contextlib-test") => |dir| {
        seen = Some(dir.to_path_buf());
        tokio::fs::write(dir.join("file.txt"), b"data").await?;
        tokio::fs::read(dir.join("missing.txt")).await?;
        Ok(())
    });
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
    let dir = seen.unwrap();
    assert!(!dir.exists(), "{} should be gone", dir.display());
}

#[tokio::test]
async fn is_removed_after_a_panic() {
    let mut seen: Option<PathBuf> = None;
    let caught = AssertUnwindSafe(async {
        async_with!(temp_directory("contextlib-test") => |dir| {
            seen = Some(dir.to_path_buf());
            std::fs::write(dir.join("file.txt"), b"data").unwrap();
            if dir.is_dir() {
                panic!("block panicked in {}", dir.display());
            }
        })
    })
    .catch_unwind()
    .await;
    let payload = caught.unwrap_err();
    let dir = seen.unwrap();
    assert_eq!(
        payload.downcast_ref::<String>().unwrap(),
        &format!("block panicked in {}", dir.display())
    );
    assert!(!dir.exists(), "{} should be gone", dir.display());
}

#[tokio::test]
async fn two_directories_entered_together_are_distinct() {
    let (a, b) = async_with!((temp_directory("contextlib-test"), temp_directory("contextlib-test")) => |(a, b)| {
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        (a.to_path_buf(), b.to_path_buf())
    })
    .unwrap();
    assert!(!a.exists() && !b.exists());
}
