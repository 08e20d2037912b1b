//! The first thing `async_with!` does with its manager: check that it is one, in a way that
//! reports a non-manager on the user's tokens, and once more at most, instead of at every later
//! use of it.

use crate::protocol::AsyncContextManager;

/// Checks that `manager` is a manager: for a value that is not, this is the error the user reads
/// ("`u32` is not a context manager", on the manager expression). (Not public API: it is the
/// first step of `async_with!`, named after it because the compiler's note names it: "required
/// by a bound in `contextlib::expansion::async_with`". It lives in `contextlib::expansion`, not
/// at the root, so that `use contextlib::async_with;` imports the macro alone.)
#[inline(always)]
pub fn async_with<M: Manager>(manager: M) -> Checked<M> {
    Checked(manager)
}

/// [`AsyncContextManager`], as [`async_with`]'s bound. Its one impl is a blanket one, which the
/// compiler never lists under "the following other types implement trait". When a bound of a
/// tuple's impl fails (managers with different error types: `OneError`, whose impls are
/// `do_not_recommend`), the compiler lists the impls of the outermost trait of the failed
/// obligation instead of the innermost's; with `AsyncContextManager` there, that was the tuple
/// impls, with this library's file paths.
// The same words as `AsyncContextManager`'s: for a value that is not a manager, the compiler
// names this trait, the outermost of the failed bound.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a context manager",
    label = "not an `AsyncContextManager`",
    note = "write the manager as an `#[async_context_manager] async fn`, or implement `AsyncContextManager` for it",
    note = "a tuple is a manager when each of its elements is one and they share one error type"
)]
pub trait Manager {}

impl<M: AsyncContextManager> Manager for M {}

/// A value [`async_with`] checked.
pub struct Checked<M>(M);

impl<M: AsyncContextManager> Checked<M> {
    /// The manager. `async_with!` calls this as a method: for a value that is not a manager, the
    /// method's bound fails during method lookup, which leaves the result's type unknown, and
    /// the compiler says nothing more about any later use of it (each would repeat the same
    /// unsatisfied bound). A bound checked any other way (a fn's, or through a projection) keeps
    /// the type, or loses it also for a manager whose error type is still being inferred from
    /// the code around (`closing(..)`, `ExitStack::new()`).
    #[inline(always)]
    pub fn manager(self) -> M {
        self.0
    }
}
