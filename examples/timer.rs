//! `measure_async_time()`: how long a with-block took.
//!
//! Run with `cargo run --example timer`.

#[path = "managers/timer.rs"]
mod timer;

use std::time::Duration;

use contextlib::async_with;
use timer::measure_async_time;

#[tokio::main]
async fn main() {
    let mut elapsed = None;
    let result = async_with!(measure_async_time("sleepy block", &mut elapsed) => |start| {
        tokio::time::sleep(Duration::from_millis(50)).await;
        println!("    [block] slept; {:?} since start", start.elapsed());
        "done"
    });
    println!("afterwards: result {result:?}, reported elapsed {elapsed:?}");
}
