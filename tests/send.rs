//! Managers are `Send` exactly when their state is: a task using one can be spawned.
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use contextlib::{AsyncContextManager, Exit, Lend, async_context_manager, async_with};

struct Pool(AtomicUsize);

static COMMITTED: Pool = Pool(AtomicUsize::new(0));
struct Transaction<'c> {
    pool: &'c Pool,
    rows: Vec<u32>,
    _p: PhantomData<&'c ()>,
}
impl Transaction<'_> {
    async fn commit(self) -> Result<(), String> {
        self.pool.0.fetch_add(self.rows.len(), Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(())
    }
    async fn rollback(self) -> Result<(), String> {
        tokio::task::yield_now().await;
        Ok(())
    }
}

#[async_context_manager]
async fn transaction(pool: &Pool) -> Result<&mut Transaction<'static>, String> {
    tokio::task::yield_now().await;
    let _ = pool;
    let mut tx = Transaction {
        pool: &COMMITTED,
        rows: Vec::new(),
        _p: PhantomData,
    };
    match r#yield!(&mut tx) {
        Exit::Ok => tx.commit().await,
        _ => tx.rollback().await,
    }
}

#[async_context_manager]
async fn counting(hits: Arc<AtomicUsize>) -> Result<&mut Vec<u32>, String> {
    let mut rows = Vec::new();
    let exit = r#yield!(&mut rows);
    tokio::task::yield_now().await;
    if exit.is_ok() {
        hits.fetch_add(rows.len(), Ordering::SeqCst);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_use_borrowed_targets() {
    static POOL: Pool = Pool(AtomicUsize::new(0));
    let pool: &'static Pool = &POOL;
    let hits = Arc::new(AtomicUsize::new(0));
    let h2 = hits.clone();
    let task = tokio::spawn(async move {
        let n = async_with!(transaction(pool) => |tx| {
            tx.rows.push(1);
            tokio::task::yield_now().await;
            Ok::<_, String>(tx.rows.len())
        })?;
        let m = async_with!((counting(h2.clone()), counting(h2)) => |(a, b)| {
            a.push(1); b.push(2); b.push(3);
            tokio::task::yield_now().await;
            Ok::<_, String>(a.len() + b.len())
        })?;
        Ok::<_, String>(n + m)
    });
    assert_eq!(task.await.unwrap(), Ok(4));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(COMMITTED.0.load(Ordering::SeqCst), 1);
}

fn assert_send_sync<T: Send + Sync>(_: &T) {}
fn assert_send<T: Send>(_: &T) {}

#[async_context_manager]
async fn with_cell(start: u32) -> u32 {
    let cell = std::cell::Cell::new(start); // `Send` but not `Sync`, held across the yield
    r#yield!(cell.get());
    cell.set(0);
}

#[test]
fn managers_are_send_and_sync_exactly_when_their_state_is() {
    assert_send_sync(&counting(Arc::new(AtomicUsize::new(0))));
    assert_send_sync(&transaction(&POOL_FOR_TRAITS));
    assert_send(&with_cell(1));
    // `with_cell(1)` is not `Sync`: `tests/ui/cell_across_yield_not_sync.rs` proves it.
}

static POOL_FOR_TRAITS: Pool = Pool(AtomicUsize::new(0));

/// Generic code can enter any manager whose bound names its target (the type hint
/// `AsyncContextManager[&mut Vec[int]]`); spawned with a concrete manager, its future is `Send`.
/// (A bound that leaves the target open, `for<'a> Target<'a, M>: AsMut<..>`, can be entered but
/// not spawned: rustc cannot prove such a future `Send`; see the guide, "Type hints".)
async fn enter_any<M>(manager: M) -> Result<usize, String>
where
    M: AsyncContextManager<Error = String> + Send + for<'a> Lend<'a, Target = &'a mut Vec<u32>>,
{
    async_with!(manager => |rows| {
        rows.push(7);
        tokio::task::yield_now().await;
        rows.len()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_code_over_any_manager_can_be_spawned() {
    let hits = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(enter_any(counting(hits.clone())));
    assert_eq!(task.await.unwrap(), Ok(1));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
