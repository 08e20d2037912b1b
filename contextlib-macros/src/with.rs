//! `#[contextlib::with(MANAGER => PATTERN)]`: the decorator form (Python's
//! `AsyncContextDecorator`). The fn's whole body runs as the block of
//! `async_with!(MANAGER => |PATTERN| body)`, with `MANAGER` evaluated afresh on every call.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, ItemFn, Pat, Result, Token};

use crate::crate_path::crate_path;
use crate::return_type::classify;

/// One `with(..)` argument: the manager, and the pattern its target binds (`_` if none).
struct WithArgs {
    manager: Expr,
    pattern: Option<Pat>,
}

impl Parse for WithArgs {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "`#[with]` needs a manager: `#[with(manager(..))]` or `#[with(manager(..) => target)]`",
            ));
        }
        if input.peek(Token![=>]) {
            return Err(input
                .error("`#[with]` needs a manager before `=>`: `#[with(manager(..) => target)]`"));
        }
        let manager = input.parse()?;
        let pattern = if input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            Some(Pat::parse_single(input)?)
        } else {
            None
        };
        if !input.is_empty() {
            return Err(input.error("`#[with]` takes one manager, and optionally `=> target`"));
        }
        Ok(WithArgs { manager, pattern })
    }
}

/// The span of a `r#yield!` (or `yield!`) anywhere in `tokens`.
fn find_yield(tokens: TokenStream) -> Option<proc_macro2::Span> {
    let mut previous: Option<proc_macro2::Span> = None;
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Group(group) => {
                if let Some(span) = find_yield(group.stream()) {
                    return Some(span);
                }
                previous = None;
            }
            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == '!' => {
                if previous.is_some() {
                    return previous;
                }
            }
            proc_macro2::TokenTree::Ident(ident) if ident == "r#yield" || ident == "yield" => {
                previous = Some(ident.span());
            }
            _ => previous = None,
        }
    }
    None
}

/// `with` or a path ending in it: the decorator's own attribute, further down the fn.
fn is_with(attribute: &Attribute) -> bool {
    attribute
        .path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "with")
}

pub fn with(args: TokenStream, input: TokenStream) -> TokenStream {
    match expand(args, input.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            // The fn as written, without its `with`s, next to the error: one error, not more
            // at every caller.
            let mut tokens = error.to_compile_error();
            if let Ok(mut function) = syn::parse2::<ItemFn>(input) {
                function.attrs.retain(|attribute| !is_with(attribute));
                *function.block = syn::parse_quote!({
                    ::core::panic!("this fn did not compile with #[contextlib::with]")
                });
                tokens.extend(quote!(#[allow(unused_variables, unreachable_code)] #function));
            }
            tokens
        }
    }
}

fn expand(args: TokenStream, input: TokenStream) -> Result<TokenStream> {
    let mut function: ItemFn = syn::parse2(input).map_err(|error| {
        Error::new(
            error.span(),
            "`#[with]` applies to an `async fn` with a body",
        )
    })?;
    if function.sig.asyncness.is_none() {
        return Err(Error::new_spanned(
            function.sig.fn_token,
            "`#[with]` applies to an `async fn`: the manager's enter and exit are awaited",
        ));
    }
    // (Under `#[async_context_manager]` the yield is fine: the manager's whole body, yield
    // included, then runs inside this one.)
    let is_manager = function.attrs.iter().any(|attribute| {
        attribute
            .path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "async_context_manager")
    });
    if let Some(span) = find_yield(function.block.to_token_stream()).filter(|_| !is_manager) {
        return Err(Error::new(
            span,
            "`r#yield!` belongs in an `#[async_context_manager]` fn: `#[with]` runs this fn's \
             body inside a manager, it does not make the fn one",
        ));
    }
    // This attribute, then the `with`s below it, outermost first.
    let mut layers = vec![syn::parse2::<WithArgs>(args)?];
    let mut kept = Vec::new();
    for attribute in std::mem::take(&mut function.attrs) {
        if is_with(&attribute) {
            layers.push(attribute.parse_args()?);
        } else {
            kept.push(attribute);
        }
    }
    function.attrs = kept;

    let krate = crate_path(None).path;
    let fallible = classify(&function.sig.output).is_ok_and(|shape| shape.fallible);
    let mut body: Expr = Expr::Block(syn::ExprBlock {
        attrs: Vec::new(),
        label: None,
        block: (*function.block).clone(),
    });
    for layer in layers.iter().rev() {
        let manager = &layer.manager;
        let pattern = layer
            .pattern
            .as_ref()
            .map_or_else(|| quote!(_), ToTokens::to_token_stream);
        let span = manager.span();
        let with = quote_spanned!(span=> #krate::async_with!(#manager => |#pattern| #body));
        // A fn returning `Result<T, E>` returns what `async_with!` returns; any other needs a
        // manager that cannot fail, and returns the block's value.
        body = if fallible {
            syn::parse2(with)?
        } else {
            syn::parse2(quote_spanned!(span=> #krate::expansion::value_of(#with)))?
        };
    }
    function.block = Box::new(syn::parse_quote!({ #body }));
    Ok(function.into_token_stream())
}
