//! The `#[async_context_manager]` attribute of contextlib. Use it through the `contextlib` crate, which
//! documents it.

mod args;
mod async_with;
mod crate_path;
mod expand;
mod fresh;
mod lifetimes;
mod parse;
mod return_type;
mod yield_point;

use proc_macro::TokenStream;

/// Turns an `async fn` with one `r#yield!(value)` into a context manager. See `contextlib`.
#[proc_macro_attribute]
pub fn async_context_manager(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let input = proc_macro2::TokenStream::from(input);
    let expanded = parse::parse_args(args).and_then(|krate| {
        let function = parse::parse(input.clone())?;
        expand::expand(function, crate_path::crate_path(krate))
    });
    match expanded {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            // Keep the user's fn (as written) next to the error, so that one mistake does not
            // cascade into "cannot find function" errors at every call site.
            let mut tokens = error.to_compile_error();
            tokens.extend(parse::fallback(input));
            tokens.into()
        }
    }
}
