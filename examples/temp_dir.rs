//! `temp_directory()`: a directory that exists only inside the with-block.
//!
//! Run with `cargo run --example temp_dir`.

#[path = "managers/temp_dir.rs"]
mod temp_dir;

use contextlib::async_with;
use temp_dir::temp_directory;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    println!("temp_directory(\"contextlib-demo\"), block succeeds:");
    let kept = async_with!(temp_directory("contextlib-demo") => |dir| {
        let file = dir.join("scratch.txt");
        tokio::fs::write(&file, b"scratch work").await?;
        println!("    [block] wrote {}", file.display());
        Ok::<_, std::io::Error>(dir.to_path_buf())
    })?;
    println!("afterwards {} exists: {}", kept.display(), kept.exists());

    println!("temp_directory(\"contextlib-demo\"), block fails:");
    let failed = async_with!(temp_directory("contextlib-demo") => |dir| {
        println!("    [block] looking for a missing file in {}", dir.display());
        tokio::fs::read(dir.join("missing.txt")).await
    });
    println!("afterwards: {}", failed.unwrap_err());
    Ok(())
}
