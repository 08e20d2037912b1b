//! The runtime of the tests that poll a future by hand on the test thread (`cancel_at_every_poll`,
//! inside `runtime.enter()`) while tokio's worker threads drive its timers, I/O and blocking
//! pool, and run the detached teardowns.

/// A multi-thread runtime: 2 worker threads, every driver enabled.
pub fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
