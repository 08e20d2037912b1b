//! `contextlib::tokio::task_group` on a real runtime: the exit waits for every task; the first
//! failure or panic aborts the others and is the exit's; a block that fails, panics or is
//! cancelled (at every poll) aborts the tasks; no task outlives the block.
#[path = "support/runtime.rs"]
mod runtime;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll};
use contextlib::tokio::{TaskGroup, task_group, wait_for_teardowns};
use contextlib::{ExitStack, async_with};
use runtime::multi_thread_runtime;

/// Counts live tasks: +1 when made, -1 when dropped (finished or aborted).
#[derive(Clone, Default)]
struct Live(Arc<AtomicUsize>);

struct Alive(Live);

impl Live {
    fn task(&self) -> Alive {
        self.0.fetch_add(1, Ordering::SeqCst);
        Alive(self.clone())
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exit_waits_for_every_task() {
    let done = Arc::new(AtomicUsize::new(0));
    let result: Result<(), String> = async_with!(task_group::<String>() => |group| {
        for n in 0..5 {
            let done = done.clone();
            group.spawn(async move {
                tokio::time::sleep(Duration::from_millis(5 * n)).await;
                done.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        Ok(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(done.load(Ordering::SeqCst), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_failure_aborts_the_others_at_once_and_is_the_exit_error() {
    let live = Live::default();
    let started = std::time::Instant::now();
    let result: Result<(), String> = async_with!(task_group::<String>() => |group| {
        for _ in 0..3 {
            let alive = live.task();
            group.spawn(async move {
                let _alive = alive;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            });
        }
        group.spawn(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Err("first".to_string())
        });
        group.spawn(async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Err("second, aborted before".to_string())
        });
        // The block goes on; the failure aborts the siblings already.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(live.count(), 0);
        Ok(())
    });
    assert_eq!(result, Err("first".to_string()));
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Spawns into `group` a task, counted by `live`, that never ends by itself: it must be aborted.
fn spawn_forever(group: &TaskGroup<String>, live: &Live) {
    let alive = live.task();
    group.spawn(async move {
        let _alive = alive;
        std::future::pending::<()>().await;
        Ok(())
    });
}

/// Runs `future` in a task of its own, which must panic: the panic's message.
async fn panic_of(future: impl Future<Output = ()> + Send + 'static) -> &'static str {
    let panic = tokio::spawn(future).await.unwrap_err().into_panic();
    *panic.downcast_ref::<&str>().unwrap()
}

/// A panic, in a task or in the block, aborts the other tasks and resumes at the exit (in the
/// task running `async_with!`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_or_block_panic_aborts_the_tasks_and_resumes_at_the_exit() {
    for (panicking, in_the_block) in [("task panicked", false), ("the block panicked", true)] {
        let live = Live::default();
        let panic = panic_of({
            let live = live.clone();
            async move {
                let _: Result<(), String> = async_with!(task_group::<String>() => |group| {
                    spawn_forever(group, &live);
                    if in_the_block {
                        panic!("the block panicked");
                    }
                    group.spawn(async { panic!("task panicked") });
                    Ok(())
                });
            }
        });
        assert_eq!(panic.await, panicking);
        assert_eq!(live.count(), 0, "{panicking}: a task was left running");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_block_aborts_the_tasks_and_the_exit_waits_for_them() {
    let live = Live::default();
    let result: Result<(), String> = async_with!(task_group::<String>() => |group| {
        for _ in 0..3 {
            spawn_forever(group, &live);
        }
        Err("the block failed".to_string())
    });
    assert_eq!(result, Err("the block failed".to_string()));
    assert_eq!(
        live.count(),
        0,
        "the exit waited until the tasks had stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawning_into_a_failing_group_aborts_the_task() {
    let ran = Arc::new(AtomicUsize::new(0));
    let result: Result<(), &str> = async_with!(task_group::<&str>() => |group| {
        group.spawn(async { Err("failed") });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ran = ran.clone();
        group.spawn(async move {
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        Ok(())
    });
    assert_eq!(result, Err("failed"));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_exit_stack_and_in_a_spawned_task() {
    let done = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn({
        let done = done.clone();
        async move {
            async_with!(ExitStack::<String>::new() => |stack| {
                let group = stack.enter(task_group::<String>()).await?;
                group.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
                Ok::<_, String>(())
            })
        }
    });
    task.await.unwrap().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn no_task_outlives_the_block_wherever_the_future_is_dropped() {
    let runtime = multi_thread_runtime();
    let _context = runtime.enter();
    let probe = Probe::default();
    let live = Live::default();
    let finished = Arc::new(AtomicUsize::new(0));
    let polls = cancel_at_every_poll(
        || async {
            async_with!(probe.observe(task_group::<String>()) => |group| {
                for n in 0..3 {
                    let (alive, finished) = (live.task(), finished.clone());
                    group.spawn(async move {
                        let _alive = alive;
                        tokio::time::sleep(Duration::from_millis(n)).await;
                        tokio::task::yield_now().await;
                        finished.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                    tokio::task::yield_now().await;
                }
                Ok::<_, String>(())
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            assert!(wait_for_teardowns(Duration::from_secs(10)));
            assert_eq!(live.count(), 0, "a task outlived its block: {run:?}");
            let finished = finished.swap(0, Ordering::SeqCst);
            match run {
                Run::Dropped { polls: 0 } => assert!(teardowns.is_empty()),
                Run::Dropped { .. } => assert_eq!(teardowns.len(), 1),
                Run::Completed { output, .. } => {
                    assert_eq!(output, Ok(()));
                    assert_eq!(teardowns, [Observed::Ok]);
                    assert_eq!(finished, 3);
                }
            }
        },
    );
    assert!(polls >= 4, "{polls}");
}
