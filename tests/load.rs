//! Issue 14, part 3: load without a database. One test (the allocation count is process-wide):
//! 100,000 `async_with!` uses across 1,000 tasks on a multi-thread runtime, with random errors,
//! panics and cancellations, over generated, hand-written, tuple, composed and stack managers;
//! then 10,000 cancelled blocks under `detach_on_cancel` in flight at once; then a runtime shut
//! down while teardowns are detached. Every teardown runs exactly once, and the live allocations
//! come back to where they were.
#![cfg(not(miri))] // threads, timers and 100,000 uses: the same logic runs under Miri elsewhere

use std::alloc::{GlobalAlloc, Layout, System};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;

use contextlib::testing::{Probe, Run};
use contextlib::tokio::{detach_on_cancel, pending_teardowns, wait_for_teardowns};
use contextlib::{AsyncContextManager, Exit, ExitStack, async_context_manager, async_with};
use futures_util::FutureExt;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only counts live allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(Probe::default)
}

static TORN_DOWN: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Failure;
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failure")
    }
}

#[async_context_manager]
async fn generated(n: u32) -> Result<u32, Failure> {
    tokio::task::yield_now().await;
    let _exit = r#yield!(n);
    tokio::task::yield_now().await;
    TORN_DOWN.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[async_context_manager]
async fn composed(n: u32) -> Result<u32, Failure> {
    async_with!(generated(n) => |inner| {
        r#yield!(inner + 1);
        Ok::<_, Failure>(())
    })
}

struct Hand(u32);

impl<'a> contextlib::Lend<'a> for Hand {
    type Target = u32;
}

impl AsyncContextManager for Hand {
    type Error = Failure;
    async fn enter(self: Pin<&mut Self>) -> Result<u32, Failure> {
        tokio::task::yield_now().await;
        Ok(self.0)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Failure> {
        tokio::task::yield_now().await;
        TORN_DOWN.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The block: says it started, waits a turn (where it is cancelled, if it is to be), then ends
/// as `roll` says.
async fn block(roll: u64, value: u32) -> Result<u32, Failure> {
    IN_BLOCK.with(|started| started.set(true));
    tokio::task::yield_now().await;
    match roll % 10 {
        0 => Err(Failure),
        1 => panic!("load: the block panicked"),
        _ => Ok(value),
    }
}

/// One use of one kind of manager, ended as `roll` says; cancelled when `roll % 10 == 2`.
async fn one_use(roll: u64) {
    let p = probe();
    let run = async move {
        match (roll / 10) % 5 {
            0 => async_with!(p.observe(generated(1)) => |n| block(roll, n).await),
            1 => async_with!(p.observe(Hand(1)) => |n| block(roll, n).await),
            // (The probe watches the tuple as one manager: a tuple of `Watched` managers cannot
            // be proved `Send` in a spawned task; see the closing note of issue 14.)
            2 => {
                async_with!(p.observe((generated(1), Hand(2))) => |(a, b)| block(roll, a + b).await)
            }
            3 => async_with!(p.observe(composed(1)) => |n| block(roll, n).await),
            _ => async_with!(ExitStack::<Failure>::new() => |stack| {
                let a = stack.enter(p.observe(generated(1))).await?;
                let b = stack.enter(p.observe(composed(2))).await?;
                block(roll, a + b).await
            }),
        }
    };
    let _ = CancelledInBlock {
        run: std::pin::pin!(std::panic::AssertUnwindSafe(run).catch_unwind()),
        cancel: roll % 10 == 2,
    }
    .await;
}

thread_local! {
    /// Set by a block when it starts: where `CancelledInBlock` cancels.
    static IN_BLOCK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Drives `run`; if `cancel`, drops it (cancels it) as soon as its block has started.
struct CancelledInBlock<F> {
    run: F,
    cancel: bool,
}

impl<F: std::future::Future + Unpin> std::future::Future for CancelledInBlock<F> {
    type Output = Option<F::Output>;
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        IN_BLOCK.with(|started| started.set(false));
        let polled = Pin::new(&mut self.run).poll(cx);
        if self.cancel && IN_BLOCK.with(|started| started.get()) {
            return std::task::Poll::Ready(None); // `run` is dropped with this future
        }
        polled.map(Some)
    }
}

#[async_context_manager]
async fn slow_teardown() -> u8 {
    let exit = r#yield!(1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(matches!(exit, Exit::Cancelled));
    TORN_DOWN.fetch_add(1, Ordering::Relaxed);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn load_errors_panics_and_cancellations_leave_no_teardown_and_no_allocation_behind() {
    // The blocks' panics are expected; any other is reported.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"load: the block panicked") {
            default_hook(info);
        }
    }));
    // A first run creates what lives for the whole process (the teardown runtime and its
    // channel's blocks, the probe, tokio's globals); a second run must leave the live
    // allocations exactly where the first left them.
    workload();
    let baseline = settled_live_allocations();
    let (uses, cancelled, torn_down) = workload();
    let leaked = settled_live_allocations() - baseline;
    println!(
        "load: 100,000 uses, {uses} watched managers each torn down once ({cancelled} cancelled \
         mid-block; {torn_down} teardowns counted by the managers themselves), 10,000 detached \
         cancellations, 100 teardowns across a runtime shutdown; {leaked} allocations leaked"
    );
    assert_eq!(
        leaked, 0,
        "live allocations did not come back to the baseline"
    );
}

/// The live allocations once they stop changing: the teardown thread frees a finished
/// teardown's task just after `wait_for_teardowns` has seen it end, and a dropped runtime's
/// threads free their thread-locals as they exit, after the runtime has stopped waiting for
/// them. Stable over five samples 20 ms apart: one unchanged sample was once too early under
/// AddressSanitizer on a loaded machine (1 allocation still to be freed).
fn settled_live_allocations() -> isize {
    let mut last = LIVE.load(Ordering::SeqCst);
    let mut unchanged = 0;
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(20));
        let now = LIVE.load(Ordering::SeqCst);
        if now == last {
            unchanged += 1;
            if unchanged == 5 {
                return now;
            }
        } else {
            unchanged = 0;
            last = now;
        }
    }
    last
}

/// The whole load once; returns (uses, cancelled uses, teardowns the managers counted).
fn workload() -> (usize, usize, usize) {
    // 100,000 uses across 1,000 tasks.
    let rt = runtime();
    rt.block_on(async {
        let tasks: Vec<_> = (0..1000u64)
            .map(|task| {
                tokio::spawn(async move {
                    let mut rng = (task + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    for _ in 0..100 {
                        one_use(next(&mut rng)).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    drop(rt);
    let uses_seen = probe().assert_torn_down_once(&Run::Completed {
        polls: 1,
        output: (),
    });
    let cancelled = uses_seen
        .iter()
        .filter(|seen| **seen == contextlib::testing::Observed::Cancelled)
        .count();
    assert!(
        cancelled > 1000,
        "only {cancelled} cancelled teardowns: the cancellations did not land"
    );
    let torn_down = TORN_DOWN.swap(0, Ordering::SeqCst);

    // 10,000 cancelled blocks under detach_on_cancel, in flight at once.
    let rt = runtime();
    rt.block_on(async {
        let (entered, mut on_entered) = tokio::sync::mpsc::channel::<()>(10_000);
        let tasks: Vec<_> = (0..10_000)
            .map(|_| {
                let entered = entered.clone();
                tokio::spawn(async move {
                    let _ = async_with!(detach_on_cancel(slow_teardown()) => |_| {
                        let _ = entered.send(()).await;
                        std::future::pending::<()>().await;
                    });
                })
            })
            .collect();
        for _ in 0..10_000 {
            on_entered.recv().await.unwrap();
        }
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert!(pending_teardowns() > 0 || TORN_DOWN.load(Ordering::SeqCst) == 10_000);
    assert!(
        wait_for_teardowns(Duration::from_secs(60)),
        "detached teardowns did not finish"
    );
    assert_eq!(TORN_DOWN.swap(0, Ordering::SeqCst), 10_000);

    // A runtime shut down while its tasks' teardowns are detached.
    let rt = runtime();
    rt.block_on(async {
        let (entered, mut on_entered) = tokio::sync::mpsc::channel::<()>(100);
        for _ in 0..100 {
            let entered = entered.clone();
            tokio::spawn(async move {
                let _ = async_with!(detach_on_cancel(slow_teardown()) => |_| {
                    let _ = entered.send(()).await;
                    std::future::pending::<()>().await;
                });
            });
        }
        for _ in 0..100 {
            on_entered.recv().await.unwrap();
        }
    });
    drop(rt); // drops the 100 tasks mid-block
    assert!(wait_for_teardowns(Duration::from_secs(60)));
    assert_eq!(TORN_DOWN.swap(0, Ordering::SeqCst), 100);
    probe().assert_torn_down_once(&Run::Completed {
        polls: 1,
        output: (),
    });

    (uses_seen.len(), cancelled, torn_down)
}
