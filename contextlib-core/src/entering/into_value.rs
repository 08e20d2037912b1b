//! `into_value` for the `Result<T, Infallible>` an `async_with!` over an infallible manager gives.

use core::convert::Infallible;

/// The value of a `Result` that cannot be an error: the result of `async_with!` over an
/// infallible manager with a plain block, where it is not the whole of an outer block. Inside a
/// fallible manager's block, it makes Python's `async with temp_dir() as d: async with timer():`
/// read as it does there:
///
/// ```
/// use contextlib::{async_context_manager, async_with, IntoValue};
///
/// #[async_context_manager]
/// async fn temp_dir() -> std::io::Result<&'static str> { r#yield!("/tmp/x"); Ok(()) }
/// #[async_context_manager]
/// async fn timer() -> u8 { r#yield!(0); }
///
/// # futures_executor::block_on(async {
/// let n = async_with!(temp_dir() => |dir| {
///     let len = async_with!(timer() => |_t| dir.len()).into_value();
///     Ok::<_, std::io::Error>(len + 1)
/// });
/// assert_eq!(n.unwrap(), 7);
/// # });
/// ```
///
/// (A whole block of type `Result<T, Infallible>` already counts as the plain `T`:
/// `async_with!(temp_dir() => |dir| async_with!(timer() => |_t| dir.len()))` is an
/// `io::Result<usize>`. `into_value` is for an infallible `async_with!` that is only part of
/// the block, where `?` on it would need `From<Infallible>` for the block's error.)
pub trait IntoValue<T> {
    /// The value; there is no error to lose.
    fn into_value(self) -> T;
}

impl<T> IntoValue<T> for Result<T, Infallible> {
    fn into_value(self) -> T {
        match self {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }
}

/// The manager of a `#[contextlib::with]` fn that does not return `Result` cannot fail.
/// Sealed: only `Infallible` implements it (tests/ui/cannot_fail_is_sealed.rs), so that
/// [`value_of`] never sees an error.
#[diagnostic::on_unimplemented(
    message = "`#[contextlib::with]` on a fn that does not return `Result` needs a manager that cannot fail, and this one fails with `{Self}`",
    label = "the manager's error has nowhere to go",
    note = "make the fn return `Result<_, E>` with `E: From<{Self}>`"
)]
pub trait CannotFail: sealed::Sealed {}

impl CannotFail for Infallible {}

mod sealed {
    /// What keeps [`CannotFail`](super::CannotFail) to the types contextlib chose: this trait
    /// is public but unreachable from outside the crate.
    #[diagnostic::on_unimplemented(
        message = "`CannotFail` is contextlib's own: only `Infallible` implements it",
        label = "not a type contextlib knows cannot fail"
    )]
    pub trait Sealed {}

    impl Sealed for core::convert::Infallible {}
}

/// The value of a decorated fn's block, for a manager that cannot fail.
pub fn value_of<R, E: CannotFail>(result: Result<R, E>) -> R {
    match result {
        Ok(value) => value,
        // Only `Infallible` implements `CannotFail`, which is sealed.
        Err(_) => unreachable!("an error of a manager that cannot fail"),
    }
}
