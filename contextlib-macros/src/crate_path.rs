//! Where the expansion finds contextlib.
//!
//! The name the calling crate depends on it by, from its manifest (a renamed dependency works):
//! an extern crate path, which only Cargo can point elsewhere. Failing that, the path given as
//! `#[async_context_manager(crate = path)]` (for a crate that reaches contextlib only through
//! a re-export); user code controls what such a path names, so the expansion relies on it for
//! nothing its soundness rests on (tests/ui/crate_path_cannot_take_the_yield.rs).

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Ident, Path};

pub struct CratePath {
    pub path: TokenStream,
    /// Found through Cargo (not only given by the user): the `async_with!` that takes the yield
    /// may come from it.
    pub trusted: bool,
}

pub fn crate_path(given: Option<Path>) -> CratePath {
    let found = match crate_name("contextlib") {
        Ok(FoundCrate::Name(name)) => {
            let name = Ident::new(&name, Span::call_site());
            Some(quote!(::#name))
        }
        // `Itself`: contextlib's own tests, examples and doc tests, which name it `contextlib`.
        Ok(FoundCrate::Itself) => Some(quote!(::contextlib)),
        Err(_) => None,
    };
    match (found, given) {
        (Some(path), _) => CratePath {
            path,
            trusted: true,
        },
        (None, Some(given)) => CratePath {
            path: given.into_token_stream(),
            trusted: false,
        },
        // No manifest to read (or no such dependency): the extern crate of that name.
        (None, None) => CratePath {
            path: quote!(::contextlib),
            trusted: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Here (contextlib-macros' own manifest) no `contextlib` dependency is found, so `crate = path`
    /// is all the attribute has: a yield inside `async_with!` is refused, since the macro at
    /// that path could poll the yield point itself; a manager without one is expanded.
    #[test]
    fn a_given_path_alone_cannot_take_the_yield() {
        let composed = quote! {
            async fn evil() -> u64 {
                async_with!(plain() => |t| { r#yield!(t); })
            }
        };
        let output = crate::attribute(quote!(crate = crate::fake), composed).to_string();
        assert!(
            output.contains("needs contextlib as a dependency of this crate"),
            "{output}"
        );
        assert!(!output.contains("@ yielding"), "{output}");

        let plain = quote! {
            async fn plain() -> u64 { r#yield!(1); }
        };
        let output = crate::attribute(quote!(crate = crate::fake), plain).to_string();
        assert!(!output.contains("compile_error"), "{output}");
        assert!(
            output.contains("crate :: fake :: __private :: generated"),
            "{output}"
        );
    }
}
