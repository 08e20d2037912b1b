//! Where the expansion finds contextlib: `#[async_context_manager(crate = path)]` if given (for
//! a re-export), else the name the calling crate depends on it by (a renamed dependency
//! works), else `::contextlib`.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, Path};

pub fn crate_path(given: Option<Path>) -> TokenStream {
    if let Some(path) = given {
        return path.into_token_stream();
    }
    match crate_name("contextlib") {
        Ok(FoundCrate::Name(name)) => {
            let name = Ident::new(&name, Span::call_site());
            quote!(::#name)
        }
        // `Itself`: contextlib's own tests, examples and doc tests, which name it `contextlib`.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::contextlib),
    }
}
