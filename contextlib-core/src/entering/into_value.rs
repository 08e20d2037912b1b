//! `into_value` for the `Result<T, Infallible>` an `async_with!` over an infallible manager gives.

use core::convert::Infallible;

/// The value of a `Result` that cannot be an error: the result of `async_with!` over an
/// infallible manager with a plain block. Inside a fallible manager's block, it makes Python's
/// `async with temp_dir() as d: async with timer():` read as it does there:
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
/// let n = async_with!(temp_dir() => |dir| async_with!(timer() => |_t| dir.len()).into_value());
/// assert_eq!(n.unwrap(), 6);
/// # });
/// ```
///
/// (`async_with!` cannot treat a block of type `Result<T, Infallible>` as a plain value by
/// itself: it reads the block's type where it expands, and a block whose error type is inferred
/// from the surrounding code would then be taken for one that cannot fail.)
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
