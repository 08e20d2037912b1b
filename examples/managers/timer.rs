//! `measure_async_time()` from the Python seed: times a with-block.

use std::time::Duration;

use contextlib::{Exit, async_context_manager};
use tokio::time::Instant;

/// Lends the block the `Instant` it started at, and at exit stores how long the block took
/// into `elapsed` (and prints it).
///
/// - **Yields** `Instant` (owned, `Copy`): the block may measure intermediate times itself.
/// - **Teardown** reports on every exit: a failed or panicking block was still slow, and
///   that is worth knowing. It cannot fail (`-> Instant`, not `-> Result`), so `async_with!`
///   returns the block's own result.
/// - **Cancellation**: the teardown only reads the clock and never waits, so even when the
///   future running the block is dropped (a `timeout`, a lost `select!`), it runs in place,
///   at once, with `Exit::Cancelled`, and `elapsed` is filled in. No wrapper needed, which is
///   why the label and the output slot can stay borrowed.
#[async_context_manager]
pub async fn measure_async_time(label: &str, elapsed: &mut Option<Duration>) -> Instant {
    let start = Instant::now();
    println!("  [enter] {label}: timer started");
    let exit = r#yield!(start);
    let took = start.elapsed();
    *elapsed = Some(took);
    let how = match exit {
        Exit::Ok => "ok",
        Exit::Err(_) => "with an error",
        Exit::Panic(_) => "with a panic",
        _ => "cancelled",
    };
    println!("  [exit]  {label}: block ended {how} after {took:?}");
}
