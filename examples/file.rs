//! `get_file_handler(filename)`: a buffered async file that is flushed and synced at exit.
//!
//! Run with `cargo run --example file`.

#[path = "managers/file.rs"]
mod file;
#[path = "managers/temp_dir.rs"]
mod temp_dir;

use std::io;

use contextlib::async_with;
use file::file_handler;
use temp_dir::temp_directory;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> io::Result<()> {
    // The file lives in a temporary directory: two managers, nested.
    async_with!(temp_directory("contextlib-file") => |dir| {
        let path = dir.join("notes.txt");

        println!("file_handler, block succeeds:");
        async_with!(file_handler(&path) => |file| {
            file.write_all(b"first line\n").await?;
            println!("    [block] wrote 11 bytes (still buffered)");
            Ok::<_, io::Error>(())
        })?;
        println!("on disk: {:?}", tokio::fs::read_to_string(&path).await?);

        println!("file_handler, block fails after writing:");
        let failed = async_with!(file_handler(&path) => |file| {
            file.write_all(b"partial").await?;
            println!("    [block] wrote 7 bytes, then fails");
            Err::<(), _>(io::Error::other("validation failed"))
        });
        println!("result: {failed:?}");
        println!("on disk: {:?}", tokio::fs::read_to_string(&path).await?);
        Ok::<_, io::Error>(())
    })
}
