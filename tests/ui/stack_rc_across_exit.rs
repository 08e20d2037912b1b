// A stack is `Send` (a spawned task can hold one across `.await`), so it cannot hold a manager
// whose teardown holds an `Rc` across an `.await` (issue 11).
use std::rc::Rc;

use contextlib::{async_context_manager, async_with, ExitStack};

#[async_context_manager]
async fn shared_counter() -> u32 {
    let counter = Rc::new(1);
    let _exit = r#yield!(*counter);
    std::future::ready(()).await; // the `Rc` lives across this await, in the teardown
    drop(counter);
}

#[tokio::main]
async fn main() {
    let task = tokio::spawn(async {
        async_with!(ExitStack::<std::convert::Infallible>::new() => |stack| {
            let n = stack.enter(shared_counter()).await.unwrap();
            tokio::task::yield_now().await;
            n
        })
    });
    let _ = task.await;
}
