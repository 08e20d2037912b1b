//! What stands in for a fn the attribute refused, next to the error: the user's fn with a
//! body that panics and a return type callers can use as the manager it was meant to be, so
//! that one mistake is one error, not a cascade at every `async_with!` that calls it.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ItemFn;

use crate::fresh::FreshNames;
use crate::lifetimes::name_elided;
use crate::return_type::classify;

pub fn fallback(input: TokenStream, krate: &TokenStream) -> TokenStream {
    let Ok(mut function) = syn::parse2::<ItemFn>(input) else {
        return TokenStream::new();
    };
    function.block = syn::parse_quote!({
        ::core::panic!("this fn did not compile as an #[async_context_manager]")
    });
    function.sig.asyncness = None;
    function.sig.output = match classify(&function.sig.output) {
        // A manager with the declared target and error, never built.
        Ok(shape) => {
            let mut fresh = FreshNames::new(&function.to_token_stream());
            let family_lifetime = fresh.readable_lifetime("target", Span::call_site());
            let unelidable = fresh.readable_lifetime("elided", Span::call_site());
            let target = name_elided(&shape.target, &family_lifetime);
            let output = &shape.output;
            syn::parse_quote! {
                -> #krate::__private::Refused<
                    for<#family_lifetime, #unelidable> fn(&#family_lifetime (), &#unelidable ()) -> #target,
                    <#output as #krate::__private::BodyOutput>::Error,
                >
            }
        }
        Err(_) => syn::ReturnType::Default,
    };
    for attribute in &mut function.attrs {
        attribute.style = syn::AttrStyle::Outer;
    }
    quote!(#[allow(unused_variables, unreachable_code, clippy::type_complexity)] #function)
}
