//! examples/managers/file.rs against a real file: what the block wrote is on disk after the
//! exit, whether the block succeeds, fails or panics.

#[path = "../examples/managers/file.rs"]
mod file;

use std::io;
use std::path::PathBuf;

use contextlib::async_with;
use file::file_handler;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use tokio::io::AsyncWriteExt;

/// A fresh path in the system temp dir; the file is removed when the guard drops.
struct TempFile(PathBuf);
impl TempFile {
    fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "contextlib-test-file-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }
}
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn bytes_are_on_disk_after_a_successful_block() {
    let tmp = TempFile::new("ok");
    let path = &tmp.0;
    let result = async_with!(file_handler(path) => |file| {
        file.write_all(b"hello, ").await?;
        file.write_all(b"disk").await?;
        // Still in the BufWriter: only the manager's exit puts it on disk.
        assert_eq!(std::fs::read(path)?, b"");
        Ok::<_, io::Error>(11)
    });
    assert_eq!(result.unwrap(), 11);
    assert_eq!(std::fs::read(path).unwrap(), b"hello, disk");
}

#[tokio::test]
async fn bytes_are_on_disk_after_a_failing_block() {
    let tmp = TempFile::new("err");
    let path = &tmp.0;
    let result: io::Result<()> = async_with!(file_handler(path) => |file| {
        file.write_all(b"partial record").await?;
        Err(io::Error::new(io::ErrorKind::InvalidData, "checksum mismatch"))
    });
    let error = result.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert_eq!(error.to_string(), "checksum mismatch");
    assert_eq!(std::fs::read(path).unwrap(), b"partial record");
}

#[tokio::test]
async fn bytes_are_on_disk_after_a_panicking_block() {
    let tmp = TempFile::new("panic");
    let path = &tmp.0;
    let caught = AssertUnwindSafe(async {
        async_with!(file_handler(path) => |file| {
            file.write_all(b"before the panic").await?;
            if file.buffer().len() == 16 {
                panic!("writer exploded");
            }
            Ok::<_, io::Error>(())
        })
    })
    .catch_unwind()
    .await;
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"writer exploded"));
    assert_eq!(std::fs::read(path).unwrap(), b"before the panic");
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_fails_the_enter() {
    let path = std::env::temp_dir()
        .join("contextlib-no-such-dir-for-sure")
        .join("f.txt");
    let mut ran = false;
    let result = async_with!(file_handler(&path) => |_file| {
        ran = true;
    });
    assert_eq!(result.unwrap_err().kind(), io::ErrorKind::NotFound);
    assert!(!ran);
}
