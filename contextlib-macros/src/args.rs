//! Arguments move into the manager's body when the fn is called, as in an `async fn`.
//! Patterns in argument position become hidden names, destructured at the top of the body.

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{FnArg, Pat, Stmt, Token};

/// Rewrites `inputs` into plain bindings; returns the statements that rebind them in the body.
pub fn rebind(inputs: &mut Punctuated<FnArg, Token![,]>) -> Vec<Stmt> {
    let mut bindings = Vec::new();
    for (index, input) in inputs.iter_mut().enumerate() {
        match input {
            // Mentioning `self` makes the `async move` body own it, as an `async fn` would.
            FnArg::Receiver(_) => bindings.push(syn::parse_quote!(let _ = &self;)),
            FnArg::Typed(typed) => match &mut *typed.pat {
                Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                    // Mentioned, not rebound: a rebinding would store the argument twice in the
                    // coroutine (as the captured upvar and as a local). The mention is the
                    // expansion's, not a use by the user: `_guard: Guard` is not "used".
                    let name = &ident.ident;
                    bindings.push(syn::parse_quote! {
                        #[allow(clippy::used_underscore_binding)]
                        let _ = &#name;
                    });
                }
                pattern => {
                    // Moved whole into a local of the body, then destructured: the parts the
                    // pattern does not bind (`_`, `(a, _)`) live until the body ends (after the
                    // teardown), as an `async fn` keeps its arguments, instead of being dropped
                    // when the manager is created (tests/macro_edges.rs).
                    let hidden = format_ident!("__acm_arg{}", index, span = Span::mixed_site());
                    let kept = format_ident!("__acm_kept{}", index, span = Span::mixed_site());
                    let original = std::mem::replace(pattern, syn::parse_quote!(#hidden));
                    bindings.push(syn::parse2(quote!(let #kept = #hidden;)).expect("a let"));
                    bindings.push(syn::parse2(quote!(let #original = #kept;)).expect("a let"));
                }
            },
        }
    }
    bindings
}
