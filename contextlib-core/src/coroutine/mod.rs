//! The manager `#[async_context_manager]` generates: a pinned coroutine (`generated`), the slot
//! it shares with its driver, the yield point, the target family and its covariance witness,
//! and the thread-local record of which manager is polling. All of the crate's `unsafe` for the
//! coroutine lives here.

pub(crate) mod family;
pub(crate) mod generated;
pub(crate) mod output;
pub(crate) mod polling;
pub(crate) mod slot;
pub(crate) mod yield_point;
