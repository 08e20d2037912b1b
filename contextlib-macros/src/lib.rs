//! The `#[async_context_manager]` attribute of contextlib. Use it through the `contextlib` crate, which
//! documents it.

mod args;
mod async_with;
mod covariance;
mod crate_path;
mod expand;
mod fallback;
mod fresh;
mod lifetimes;
mod parse;
mod projection;
mod return_type;
mod type_hint;
mod with;
mod yield_point;

use proc_macro::TokenStream;

/// Turns an `async fn` with one `r#yield!(value)` into a context manager. See `contextlib`.
#[proc_macro_attribute]
pub fn async_context_manager(args: TokenStream, input: TokenStream) -> TokenStream {
    attribute(args.into(), input.into()).into()
}

/// Runs an `async fn`'s body inside a manager. See `contextlib::with`.
#[proc_macro_attribute]
pub fn with(args: TokenStream, input: TokenStream) -> TokenStream {
    with::with(args.into(), input.into()).into()
}

/// `AsyncContextManager![TARGET, ERROR]`: the type hint in `impl` positions. See `contextlib`.
#[proc_macro]
#[allow(non_snake_case)]
pub fn AsyncContextManager(input: TokenStream) -> TokenStream {
    type_hint::type_hint(input.into(), "AsyncContextManager").into()
}

/// `SendAsyncContextManager![TARGET, ERROR]`: the `Send` type hint. See `contextlib`.
#[proc_macro]
#[allow(non_snake_case)]
pub fn SendAsyncContextManager(input: TokenStream) -> TokenStream {
    type_hint::type_hint(input.into(), "SendAsyncContextManager").into()
}

/// The attribute on `proc_macro2` tokens (so that the crate's own tests can call it): the
/// manager, or a compile error spanned on the input next to a stand-in for the fn.
fn attribute(
    args: proc_macro2::TokenStream,
    input: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let (krate, instrument, args_error) = match parse::parse_args(args) {
        Ok(given) => (
            crate_path::crate_path(given.crate_path),
            given.instrument,
            None,
        ),
        Err(error) => (crate_path::crate_path(None), false, Some(error)),
    };
    let expanded = match args_error {
        Some(error) => Err(error),
        None => parse::parse(input.clone())
            .and_then(|function| expand::expand(function, &krate, instrument)),
    };
    match expanded {
        Ok(tokens) => tokens,
        Err(error) => {
            // Keep the user's fn next to the error, so that one mistake does not cascade into
            // errors at every call site.
            let mut tokens = error.to_compile_error();
            tokens.extend(fallback::fallback(input, &krate.path));
            tokens
        }
    }
}

#[cfg(test)]
mod fuzz;
