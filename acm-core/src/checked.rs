//! The first thing `async_with!` does with its manager: check that it is one, in a way that
//! reports a non-manager once, on the user's tokens, instead of at every later use.

use crate::AsyncContextManager;

/// `M` itself, reached through `M`'s error type.
pub trait ManagerWithError<M> {
    /// `M`.
    type Manager;
    /// `manager`, unchanged.
    fn manager(manager: M) -> Self::Manager;
}

impl<M: AsyncContextManager<Error = E>, E> ManagerWithError<M> for E {
    type Manager = M;
    #[inline(always)]
    fn manager(manager: M) -> M {
        manager
    }
}

/// Returns `manager` unchanged, typed so that a non-manager is reported once. (Not public API:
/// it is the first step of `async_with!`, named after it because the compiler's note on a
/// non-manager names it: "required by a bound in `async_with`".) It lives in
/// `contextlib::expansion`, not at the root, so that `use contextlib::async_with;` imports the
/// macro alone.
///
/// For a type that is no manager, `M::Error` cannot be normalized, so the returned type is left
/// unknown; the compiler then stays silent about every later use of it, where a plain `M` would
/// repeat the same unsatisfied bound at each.
#[inline(always)]
pub fn async_with<M: AsyncContextManager>(
    manager: M,
) -> <M::Error as ManagerWithError<M>>::Manager {
    <M::Error as ManagerWithError<M>>::manager(manager)
}
