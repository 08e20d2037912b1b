//! Reading the attribute's input: an `async fn`, and its optional arguments `instrument` and
//! `crate = path`.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Error, ItemFn, Result};

/// The attribute's optional arguments.
#[derive(Default)]
pub struct Args {
    /// `crate = path`: where contextlib is, for a re-export of it.
    pub crate_path: Option<syn::Path>,
    /// `instrument`: the coroutine runs inside a `tracing` span named after the fn, so the span
    /// covers the setup and the teardown.
    pub instrument: bool,
}

/// `crate = path` and `instrument`, in any order, each at most once.
pub fn parse_args(args: TokenStream) -> Result<Args> {
    if args.is_empty() {
        return Ok(Args::default());
    }
    let parser = |input: syn::parse::ParseStream<'_>| {
        let mut parsed = Args::default();
        loop {
            if input.peek(syn::Token![crate]) && parsed.crate_path.is_none() {
                input.parse::<syn::Token![crate]>()?;
                input.parse::<syn::Token![=]>()?;
                parsed.crate_path = Some(input.call(syn::Path::parse_mod_style)?);
            } else {
                let name: syn::Ident = input.parse()?;
                if name != "instrument" || parsed.instrument {
                    return Err(Error::new(name.span(), "unknown argument"));
                }
                parsed.instrument = true;
            }
            if input.is_empty() {
                return Ok(parsed);
            }
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                return Ok(parsed);
            }
        }
    };
    syn::parse::Parser::parse2(parser, args.clone()).map_err(|_| {
        Error::new_spanned(
            args,
            "`#[async_context_manager]` takes two optional arguments: `instrument` (the \
             teardown and setup run in a `tracing` span named after the fn) and `crate = \
             path::to::contextlib` (for a re-export of contextlib)",
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
