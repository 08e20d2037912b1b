//! What ties managers to a runtime, or tests them: `contextlib::tokio` (guaranteed teardown on
//! cancellation, and the batteries) and `contextlib::testing`.

pub mod testing;
#[cfg(feature = "tokio")]
pub mod tokio;
