//! Reading the attribute's input: an `async fn`, and its one optional argument `crate = path`.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Error, ItemFn, Result};

/// `crate = path`, the only argument: where contextlib is, for a re-export of it.
pub fn parse_args(args: TokenStream) -> Result<Option<syn::Path>> {
    if args.is_empty() {
        return Ok(None);
    }
    let parser = |input: syn::parse::ParseStream<'_>| {
        input.parse::<syn::Token![crate]>()?;
        input.parse::<syn::Token![=]>()?;
        let path = input.call(syn::Path::parse_mod_style)?;
        Ok(path)
    };
    syn::parse::Parser::parse2(parser, args.clone()).map(Some).map_err(|_| {
        Error::new_spanned(
            args,
            "`#[async_context_manager]` takes one optional argument, `crate = path::to::contextlib` \
             (for a re-export of contextlib)",
        )
    })
}

pub fn parse(input: TokenStream) -> Result<ItemFn> {
    let function: ItemFn = syn::parse2(input).map_err(|error| {
        Error::new(
            error.span(),
            "`#[async_context_manager]` applies to an `async fn` with a body",
        )
    })?;
    let signature = &function.sig;
    if signature.asyncness.is_none() {
        return Err(Error::new_spanned(
            signature.fn_token,
            "`#[async_context_manager]` applies to an `async fn`: write `async fn`",
        ));
    }
    if let Some(constness) = &signature.constness {
        return Err(Error::new_spanned(
            constness,
            "a context manager cannot be a `const fn`",
        ));
    }
    if let Some(unsafety) = &signature.unsafety {
        return Err(Error::new_spanned(
            unsafety,
            "a context manager cannot be an `unsafe fn`: use `unsafe` blocks in its body",
        ));
    }
    if let Some(abi) = &signature.abi {
        return Err(Error::new_spanned(
            abi,
            "a context manager cannot have an `extern` ABI",
        ));
    }
    if let Some(variadic) = &signature.variadic {
        return Err(Error::new(
            variadic.span(),
            "a context manager cannot be variadic",
        ));
    }
    Ok(function)
}
