//! `async_with!(MANAGER => |PATTERN| BLOCK)` as the attribute reads it, for an `async_with!`
//! whose block holds the manager's yield: the attribute expands it itself (into contextlib's
//! `async_with!`), so that whatever macro of that name is in scope, the yield is awaited right
//! there in the manager's body and nowhere else.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Pat, Token};

pub struct AsyncWith {
    pub manager: Expr,
    pub pattern: Pat,
    pub block: Expr,
}

impl Parse for AsyncWith {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let manager = input.parse()?;
        input.parse::<Token![=>]>()?;
        input.parse::<Token![|]>()?;
        let pattern = Pat::parse_single(input)?;
        input.parse::<Token![|]>()?;
        let block = input.parse()?;
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        Ok(AsyncWith {
            manager,
            pattern,
            block,
        })
    }
}

/// `async_with`, or a path ending in it (`contextlib::async_with`).
pub fn is_async_with_path(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|segment| segment.ident == "async_with")
}
