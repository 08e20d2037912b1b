//! The expansion: a plain fn returning `contextlib::Generated`, whose body closure holds the
//! rewritten `async` body.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, ItemFn, Lifetime, Result};

use crate::args;
use crate::covariance::{covariance_witness, reject_mut_borrowing_target};
use crate::crate_path::CratePath;
use crate::fresh::FreshNames;
use crate::lifetimes::{name_argument_lifetimes, name_elided};
use crate::projection::reject_borrowing_projection;
use crate::return_type::classify;
use crate::yield_point::{YieldPoints, complete_tail_yield};

pub fn expand(
    mut function: ItemFn,
    crate_path: &CratePath,
    instrument: bool,
) -> Result<TokenStream> {
    reject_tracing_instrument(&function)?;
    let krate = crate_path.path.clone();
    let mut fresh = FreshNames::new(&function.to_token_stream());
    let shape = classify(&function.sig.output)?;
    // The yield handle, a hygienic local no user code can name. Its type holds the declared
    // target, so a borrow error at the yield ("`name` does not live long enough") says
    // "lifetime `'1` appears in the type of `the_declared_target`": the name is that hint.
    let yielder = format_ident!("the_declared_target", span = Span::mixed_site());

    let mut body = *function.block;
    complete_tail_yield(&mut body, shape.fallible);
    let outer_exit = format_ident!("__acm_outer_exit", span = Span::mixed_site());
    let found =
        YieldPoints::new(yielder.clone(), outer_exit.clone(), crate_path).rewrite(&mut body)?;
    if found.yields == 0 {
        return Err(Error::new_spanned(
            &function.sig.ident,
            format!(
                "`{}` has no `r#yield!(value)`: an `#[async_context_manager]` fn yields exactly once",
                function.sig.ident
            ),
        ));
    }

    let bindings = args::rebind(&mut function.sig.inputs);
    let captures = captures(
        name_argument_lifetimes(&mut function.sig, &mut fresh),
        &krate,
    );
    // The body keeps its own braces (and their spans): a body whose value is not the declared
    // one (a forgotten `Ok(())`) is reported there, with the compiler's suggestion.
    let output_value = format_ident!("__acm_output", span = Span::mixed_site());
    let user_body = &body;
    // Where the yield stores the outer block's `Exit` for the `async_with!`s around it.
    let outer_exit_declaration = found.in_async_with.then(|| {
        quote! {
            let mut #outer_exit: ::core::option::Option<#krate::Exit<'_>> =
                ::core::option::Option::None;
        }
    });

    let family_lifetime = fresh.readable_lifetime("target", Span::call_site());
    let unelidable = fresh.readable_lifetime("elided", Span::call_site());
    let family_target = name_elided(&shape.target, &family_lifetime);
    reject_borrowing_projection(&function.sig, &family_target, &family_lifetime)?;
    reject_mut_borrowing_target(&family_target, &family_lifetime)?;
    let family = quote! {
        for<#family_lifetime, #unelidable> fn(&#family_lifetime (), &#unelidable ()) -> #family_target
    };
    let witness = covariance_witness(&family_target, &family_lifetime, &krate, &mut fresh);

    // `instrument`: the whole coroutine (setup, the suspension at the yield, teardown) runs in a
    // span named after the fn, entered at every poll.
    let name = function.sig.ident.to_string();
    let (instrumented, span) = if instrument {
        (
            quote!(::tracing::Instrument::instrument),
            quote!(, ::tracing::info_span!(#name)),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    let output = &shape.output;
    let signature_span = function.sig.output.span();
    function.sig.asyncness = None;
    function.sig.output = syn::parse2(quote_spanned! {signature_span=>
        -> #krate::Generated<
            #family,
            impl #krate::expansion::Body<
                Fut = impl ::core::future::Future<Output = #output> #captures
            > #captures,
        >
    })?;
    // Inner attributes of the body (`#![allow(..)]`) apply to the whole fn: they become outer
    // attributes of the generated fn, which holds the body.
    for attribute in &mut function.attrs {
        attribute.style = syn::AttrStyle::Outer;
    }
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let signature = &function.sig;
    Ok(quote! {
        #(#attributes)*
        #[allow(clippy::type_complexity)]
        #visibility #signature {
            // No `unsafe` here, and nothing here that soundness rests on: `generated` is safe.
            // It applies the witness (which compiles only for a covariant target) to the
            // target before lending it, and the yield point checks at run time that its own
            // manager polls it, from inside that manager's coroutine. A path above that names
            // something else gives a compile error or a panic, never a lent target of the
            // wrong type or lifetime (tests/path_rebinding.rs).
            #krate::__private::generated::<#family, _, _, _>(
                #witness,
                move |mut #yielder| {
                    #instrumented(async move {
                        #(#bindings)*
                        #outer_exit_declaration
                        let #output_value: #output = #user_body;
                        // (Unreachable when the body diverges, as a body ending in `panic!` does.)
                        #[allow(unreachable_code)]
                        return #output_value;
                    } #span)
                },
            )
        }
    })
}

/// `+ Captures<..>` naming every lifetime parameter, or nothing: Rust 2021 lets an opaque type
/// capture only the lifetimes its bounds name (Rust 2024 captures all of them anyway).
fn captures(lifetimes: Vec<Lifetime>, krate: &TokenStream) -> TokenStream {
    if lifetimes.is_empty() {
        return TokenStream::new();
    }
    quote!(+ #krate::__private::Captures<(#(&#lifetimes (),)*)>)
}

/// `#[tracing::instrument]` under the attribute would span only the building of the manager (the
/// fn returns before its body runs): one error saying what to write instead. (Above the
/// attribute, it wraps the body in an `async` block, which the yield refuses; see
/// `yield_point.rs`.)
fn reject_tracing_instrument(function: &ItemFn) -> Result<()> {
    if mentions_tracing_expansion(function.block.to_token_stream()) {
        return Err(Error::new_spanned(
            &function.sig.ident,
            "`#[tracing::instrument]` above `#[async_context_manager]` moves the body into an \
             `async` block, where the yield cannot suspend the manager: write \
             `#[async_context_manager(instrument)]` instead",
        ));
    }
    for attribute in &function.attrs {
        let path = attribute.path();
        let is_instrument = path
            .segments
            .last()
            .is_some_and(|last| last.ident == "instrument")
            && (path.segments.len() == 1 || path.segments[0].ident == "tracing");
        if is_instrument {
            return Err(Error::new_spanned(
                attribute,
                "`#[tracing::instrument]` would span only the building of the manager, not its \
                 setup and teardown: write `#[async_context_manager(instrument)]` instead",
            ));
        }
    }
    Ok(())
}

/// Whether `tokens` hold an identifier of `#[tracing::instrument]`'s expansion.
fn mentions_tracing_expansion(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => {
            let name = ident.to_string();
            name.starts_with("__tracing_attr") || name.starts_with("__tracing_instrument")
        }
        proc_macro2::TokenTree::Group(group) => mentions_tracing_expansion(group.stream()),
        _ => false,
    })
}
