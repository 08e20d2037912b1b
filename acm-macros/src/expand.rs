//! The expansion: a plain fn returning `acm::Generated`, whose body closure holds the
//! rewritten `async` body.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, ItemFn, Lifetime, Result};

use crate::args;
use crate::lifetimes::{name_argument_lifetimes, name_elided};
use crate::return_type::classify;
use crate::yield_point::{YieldPoints, complete_tail_yield};

pub fn expand(mut function: ItemFn) -> Result<TokenStream> {
    let shape = classify(&function.sig.output)?;
    let yielder = format_ident!("__acm_yielder", span = Span::mixed_site());

    let mut body = *function.block;
    complete_tail_yield(&mut body, shape.fallible);
    let found = YieldPoints::new(yielder.clone()).rewrite(&mut body)?;
    if found == 0 {
        return Err(Error::new_spanned(
            &function.sig.ident,
            format!(
                "`{}` has no `r#yield!(value)`: an `#[async_context_manager]` fn yields exactly once",
                function.sig.ident
            ),
        ));
    }

    let bindings = args::rebind(&mut function.sig.inputs);
    let captures = captures(name_argument_lifetimes(&mut function.sig));
    let statements = &body.stmts;

    let family_lifetime = Lifetime::new("'__acm", Span::call_site());
    let unelidable = Lifetime::new("'__acm_unelidable", Span::call_site());
    let family_target = name_elided(&shape.target, &family_lifetime);
    let family = quote! {
        for<#family_lifetime, #unelidable> fn(&#family_lifetime (), &#unelidable ()) -> #family_target
    };
    // A target that borrows nothing from the manager is handed out as it was lent: only one
    // that does must be covariant in that borrow.
    let borrows_from_manager =
        family_target.to_token_stream().to_string() != shape.target.to_token_stream().to_string();
    let covariance_check = borrows_from_manager.then(|| covariance_check(&shape.target));

    let output = &shape.output;
    let signature_span = function.sig.output.span();
    function.sig.asyncness = None;
    function.sig.output = syn::parse2(quote_spanned! {signature_span=>
        -> ::acm::Generated<
            #family,
            impl ::acm::__private::Body<
                Fut = impl ::core::future::Future<Output = #output> #captures
            > #captures,
        >
    })?;
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let signature = &function.sig;
    Ok(quote! {
        #(#attributes)*
        #[allow(clippy::type_complexity)]
        #visibility #signature {
            #covariance_check
            ::acm::Generated::new::<#output>(move |mut #yielder: ::acm::__private::Yielder<#family>| {
                async move {
                    #(#bindings)*
                    #(#statements)*
                }
            })
        }
    })
}

/// `+ Captures<..>` naming every lifetime parameter, or nothing: Rust 2021 lets an opaque type
/// capture only the lifetimes its bounds name (Rust 2024 captures all of them anyway).
fn captures(lifetimes: Vec<Lifetime>) -> TokenStream {
    if lifetimes.is_empty() {
        return TokenStream::new();
    }
    quote!(+ ::acm::__private::Captures<(#(&#lifetimes (),)*)>)
}

/// The driver hands out the target with the manager borrow's lifetime, shorter than the one
/// the body lent it with: sound only if the target is covariant in that lifetime.
fn covariance_check(target: &syn::Type) -> TokenStream {
    let long = Lifetime::new("'__acm_long", Span::call_site());
    let short = Lifetime::new("'__acm_short", Span::call_site());
    let lent = name_elided(target, &long);
    let handed_out = name_elided(target, &short);
    let value = format_ident!("__acm_target", span = Span::mixed_site());
    let span = target.span();
    quote_spanned! {span=>
        let _: for<#long, #short> fn(&#short &#long (), #lent) -> #handed_out = |_, #value| #value;
    }
}
