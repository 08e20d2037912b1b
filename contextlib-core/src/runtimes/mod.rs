//! What ties managers to a runtime, or tests them: `contextlib::tokio` (guaranteed teardown on
//! cancellation, and the batteries), `contextlib::sqlx` (a transaction as a manager) and
//! `contextlib::testing`.

#[cfg(feature = "sqlx")]
pub mod sqlx;
pub mod testing;
#[cfg(feature = "tokio")]
pub mod tokio;
