//! The `#[async_context_manager]` attribute of acm. Use it through the `acm` crate.
use proc_macro::TokenStream;

/// See `acm::async_context_manager`.
#[proc_macro_attribute]
pub fn async_context_manager(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
