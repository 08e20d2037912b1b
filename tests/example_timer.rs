//! examples/managers/timer.rs with tokio's real clock: the reported time covers the block.

#[path = "../examples/managers/timer.rs"]
mod timer;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use contextlib::async_with;
use futures_util::FutureExt;
use timer::measure_async_time;

const NAP: Duration = Duration::from_millis(40);

#[tokio::test]
async fn reports_at_least_the_time_slept_in_the_block() {
    let mut elapsed = None;
    let before = tokio::time::Instant::now();
    let inner = async_with!(measure_async_time("ok", &mut elapsed) => |start| {
        assert!(start >= before);
        tokio::time::sleep(NAP).await;
        start.elapsed()
    })
    .unwrap();
    let total = before.elapsed();
    let elapsed = elapsed.expect("the exit reports");
    assert!(inner >= NAP);
    assert!(elapsed >= inner, "{elapsed:?} < {inner:?}");
    assert!(elapsed <= total, "{elapsed:?} > {total:?}");
}

#[tokio::test]
async fn reports_when_the_block_fails() {
    let mut elapsed = None;
    let result: Result<(), String> = async_with!(measure_async_time("err", &mut elapsed) => |_start| {
        tokio::time::sleep(NAP).await;
        Err("too slow".to_string())
    });
    assert_eq!(result, Err("too slow".to_string()));
    assert!(elapsed.unwrap() >= NAP);
}

#[tokio::test]
async fn reports_when_the_block_panics() {
    let mut elapsed = None;
    let caught = AssertUnwindSafe(async {
        async_with!(measure_async_time("panic", &mut elapsed) => |_start| {
            tokio::time::sleep(NAP).await;
            if NAP > Duration::ZERO {
                panic!("timed out");
            }
        })
    })
    .catch_unwind()
    .await;
    assert!(caught.is_err());
    assert!(elapsed.unwrap() >= NAP);
}
