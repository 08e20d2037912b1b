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

/// What a fn `#[async_context_manager]` refused returns instead (next to the compile error), so
/// that its callers type-check: a manager with the declared target family and error. Never
/// built: that fn's body panics.
pub struct Refused<Fam, E>(core::marker::PhantomData<(Fam, fn() -> E)>);

impl<'a, Fam, E> crate::protocol::Lend<'a> for Refused<Fam, E>
where
    Fam: crate::coroutine::family::Family<'a>,
{
    type Target = <Fam as crate::coroutine::family::Family<'a>>::Target;
}

impl<Fam, E> crate::protocol::AsyncContextManager for Refused<Fam, E>
where
    Fam: for<'a> crate::coroutine::family::Family<'a>,
{
    type Error = E;

    async fn enter(
        self: core::pin::Pin<&mut Self>,
    ) -> Result<crate::protocol::Target<'_, Self>, E> {
        unreachable!("a refused #[async_context_manager] is never built")
    }

    async fn exit(self: core::pin::Pin<&mut Self>, _: crate::protocol::Exit<'_>) -> Result<(), E> {
        unreachable!("a refused #[async_context_manager] is never built")
    }
}
