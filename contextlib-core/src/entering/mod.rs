//! Entering a manager: `async_with!`, the guard that owes the exit, the dispatch of the block's
//! outcome and of the way to drive the manager, and the checks behind their error messages.

pub(crate) mod async_with;
pub(crate) mod catch_unwind;
pub(crate) mod checked;
pub(crate) mod dispatch;
pub(crate) mod drive;
pub(crate) mod guard;
pub(crate) mod into_value;
