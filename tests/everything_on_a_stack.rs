//! Everything contextlib ships goes on an `ExitStack` (issue 21): `closing` (Python's
//! `enter_async_context(aclosing(x))`), `&mut M` and `Pin<&mut M>` of a manager, `nullcontext`,
//! a stack, and generated managers, in a stack that a spawned task holds.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex};

use contextlib::{ExitStack, async_context_manager, async_with, closing, nullcontext};

#[async_context_manager]
async fn step(name: &'static str, log: Arc<Mutex<Vec<String>>>) -> &'static str {
    let exit = r#yield!(name);
    log.lock().unwrap().push(format!("exit {name}: {exit}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_borrowed_and_pinned_managers_go_on_a_stack() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let task_log = log.clone();
    let task = tokio::spawn(async move {
        let closed_log = task_log.clone();
        let borrowed = step("borrowed", task_log.clone());
        let mut borrowed = pin!(borrowed);
        let outcome = async_with!(ExitStack::<Infallible>::new() => |stack| {
            let file = stack
                .enter(closing(vec![1u8], move |bytes: Vec<u8>| async move {
                    closed_log.lock().unwrap().push(format!("closed {} bytes", bytes.len()));
                    Ok::<_, Infallible>(())
                }))
                .await?;
            file.push(2);
            let pinned = stack.enter(borrowed.as_mut()).await?;
            let owned = stack.enter(step("owned", task_log.clone())).await?;
            let nothing = stack.enter(nullcontext(7u8)).await?;
            tokio::task::yield_now().await;
            Ok::<_, Infallible>(format!("{pinned} {owned} {nothing} {}", file.len()))
        });
        outcome
    });
    assert_eq!(task.await.unwrap().unwrap(), "borrowed owned 7 2");
    assert_eq!(
        *log.lock().unwrap(),
        ["exit owned: ok", "exit borrowed: ok", "closed 2 bytes"]
    );
}

#[test]
fn a_stack_of_a_borrowed_unpin_manager_exits_it_once() {
    futures_executor::block_on(async {
        let mut inner = ExitStack::<Infallible>::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let entered = async_with!(ExitStack::<Infallible>::new() => |outer| {
            let inner_target = outer.enter(&mut inner).await?;
            let name = inner_target.enter(step("in inner", log.clone())).await?;
            Ok::<_, Infallible>(name)
        });
        assert_eq!(entered.unwrap(), "in inner");
        assert_eq!(*log.lock().unwrap(), ["exit in inner: ok"]);
    });
}
