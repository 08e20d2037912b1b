//! Entering a manager: `async_with!`, the guard that owes the exit, the dispatch of the block's
//! outcome and of the way to drive the manager, and the checks behind their error messages.
//! Built on the protocol alone; the managers above it (the coroutine, the combinators, the
//! runtimes) use its guard, and say where they are defined, by implementing
//! [`DrivenDirectly`](drive::DrivenDirectly), how `async_with!` should drive them.

pub(crate) mod async_with;
pub(crate) mod checked;
pub(crate) mod chosen;
pub(crate) mod dispatch;
pub(crate) mod drive;
pub(crate) mod guard;
pub(crate) mod into_value;
