//! The protocol: the [`AsyncContextManager`](crate::AsyncContextManager) trait with the lifetime
//! trait naming its target ([`Lend`](crate::Lend)), its `Send` variant, the block's outcome
//! ([`Exit`](crate::Exit)) with the panics caught into it, and the reports of teardowns that
//! could not end well. The bottom layer: it uses no other.

pub(crate) mod catch_unwind;
pub(crate) mod exit;
pub(crate) mod manager;
pub(crate) mod send_manager;
pub(crate) mod teardown;

pub use exit::{BlockError, Exit, PanicMessage};
pub use manager::{AsyncContextManager, Lend, Target};
pub use send_manager::{BoxExit, SendAsyncContextManager};
