//! contextlib depends on no runtime: the same manager runs on tokio (both flavours) and on
//! `futures::executor`.
use std::time::Duration;

use contextlib::{Exit, async_context_manager, async_with};

/// Sleeps (a real timer) in both setup and teardown when run on tokio.
#[async_context_manager]
async fn with_tokio_sleeps(events: &mut Vec<&'static str>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(5)).await;
    events.push("entered");
    let exit = r#yield!("target");
    tokio::time::sleep(Duration::from_millis(5)).await;
    events.push(if exit.is_ok() {
        "exited ok"
    } else {
        "exited with error"
    });
}

/// Waits on a channel: runtime-agnostic suspension.
#[async_context_manager]
async fn with_channel(receiver: futures_channel::oneshot::Receiver<u32>) -> Result<u32, String> {
    let value = receiver.await.map_err(|_| "sender dropped".to_string())?;
    match r#yield!(value) {
        Exit::Ok => Ok(()),
        _ => Err("block failed".to_string()),
    }
}

#[test]
fn on_tokio_current_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut events = Vec::new();
    let result =
        runtime.block_on(async { async_with!(with_tokio_sleeps(&mut events) => |t| t.len()) });
    assert_eq!(result, Ok(6));
    assert_eq!(events, ["entered", "exited ok"]);
}

#[test]
fn on_tokio_multi_thread_in_a_spawned_task() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let events = runtime.block_on(async {
        tokio::spawn(async {
            let mut events = Vec::new();
            let failed: Result<(), String> = async_with!(with_tokio_sleeps(&mut events) => |_| {
                tokio::task::yield_now().await;
                Err("nope".to_string())
            });
            assert!(failed.is_err());
            events
        })
        .await
        .unwrap()
    });
    assert_eq!(events, ["entered", "exited with error"]);
}

#[test]
fn on_futures_executor_with_a_thread_completing_the_setup() {
    let (sender, receiver) = futures_channel::oneshot::channel();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        sender.send(20).unwrap();
    });
    let result = futures_executor::block_on(async {
        async_with!(with_channel(receiver) => |n| Ok::<_, String>(n + 1))
    });
    thread.join().unwrap();
    assert_eq!(result, Ok(21));
}
