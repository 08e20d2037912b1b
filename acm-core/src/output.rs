//! What the body of a generated manager evaluates to: the exit's result.

use core::convert::Infallible;

/// The value of an `#[async_context_manager]` body: `()` for an infallible manager,
/// `Result<(), E>` for a fallible one (an enter that fails with `?` also ends up here).
#[diagnostic::on_unimplemented(
    message = "the body of an `#[async_context_manager]` fn evaluates to `()` or `Result<(), E>`, not `{Self}`"
)]
pub trait BodyOutput {
    /// The manager's error type.
    type Error;
    /// The body's value as the result of the exit.
    fn into_result(self) -> Result<(), Self::Error>;
    /// Whether the body's value is an error.
    fn is_err(&self) -> bool;
}

impl BodyOutput for () {
    type Error = Infallible;
    fn into_result(self) -> Result<(), Infallible> {
        Ok(())
    }
    fn is_err(&self) -> bool {
        false
    }
}

impl<E> BodyOutput for Result<(), E> {
    type Error = E;
    fn into_result(self) -> Result<(), E> {
        self
    }
    fn is_err(&self) -> bool {
        Result::is_err(self)
    }
}
