//! The protocol: the [`AsyncContextManager`](crate::AsyncContextManager) trait with the lifetime
//! trait naming its target ([`Lend`](crate::Lend)), its `Send` variant, the block's outcome
//! ([`Exit`](crate::Exit)), and the reports of teardowns that could not end well.

pub(crate) mod exit;
pub(crate) mod manager;
pub(crate) mod send_manager;
pub(crate) mod teardown;
