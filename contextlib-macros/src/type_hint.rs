//! `AsyncContextManager![T, E]`: the type hint `AsyncContextManager[T]` as one line, in `impl`
//! positions. Expands to `impl AsyncContextManager<Error = E> + for<'target> Lend<'target,
//! Target = T>`, with each lifetime elided in `T` (`&mut Vec<u8>`, `Session<'_>`) named
//! `'target`: borrowed from the manager for the block.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Token, Type};

use crate::crate_path::crate_path;
use crate::fresh::FreshNames;
use crate::lifetimes::name_elided;

struct Hint {
    target: Type,
    error: Option<Type>,
}

impl Parse for Hint {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "write the target the manager lends, and optionally its error type: \
                 `AsyncContextManager![&mut Vec<u8>, io::Error]`",
            ));
        }
        let target = input.parse()?;
        let error = if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            Some(input.parse()?)
        } else {
            None
        };
        if !input.is_empty() {
            return Err(input.error(
                "`AsyncContextManager![TARGET, ERROR]` takes the target and the error type, \
                 nothing more",
            ));
        }
        Ok(Hint { target, error })
    }
}

/// The expansion for the trait named `trait_name` (`AsyncContextManager` or
/// `SendAsyncContextManager`).
pub fn type_hint(input: TokenStream, trait_name: &str) -> TokenStream {
    let hint = match syn::parse2::<Hint>(input.clone()) {
        Ok(hint) => hint,
        Err(error) => return error.to_compile_error(),
    };
    let krate = crate_path(None).path;
    let mut fresh = FreshNames::new(&input);
    let lifetime = fresh.readable_lifetime("target", Span::call_site());
    let target = name_elided(&hint.target, &lifetime);
    let trait_name = syn::Ident::new(trait_name, Span::call_site());
    let error = hint.error.map(|error| quote!(<Error = #error>));
    quote! {
        impl #krate::#trait_name #error + for<#lifetime> #krate::Lend<#lifetime, Target = #target>
    }
}
