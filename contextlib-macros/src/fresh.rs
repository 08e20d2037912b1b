//! Names the expansion introduces in places hygiene does not reach (lifetimes): each is chosen
//! so that no identifier of the user's input spells it, so user code can never name it
//! (tests/ui/named_internal_lifetime.rs).

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::Lifetime;

pub struct FreshNames {
    taken: HashSet<String>,
}

impl FreshNames {
    /// Reserves every identifier (and lifetime name) that appears anywhere in `input`.
    pub fn new(input: &TokenStream) -> Self {
        let mut taken = HashSet::new();
        collect(input.clone(), &mut taken);
        FreshNames { taken }
    }

    /// `'__acm_{base}`, or `'__acm_{base}_{n}` for the first `n` that the input does not spell.
    pub fn lifetime(&mut self, base: &str, span: Span) -> Lifetime {
        self.fresh(&format!("__acm_{base}"), span)
    }

    /// `'{base}`, or `'{base}_{n}`: for the lifetimes of the manager's type, which users read
    /// in rustdoc, IDE hover and compiler errors. As fresh as [`FreshNames::lifetime`] against
    /// the input; only a lifetime of a surrounding `impl` that the fn never spells can collide,
    /// and that is a compile error (E0496), never a silent capture.
    pub fn readable_lifetime(&mut self, base: &str, span: Span) -> Lifetime {
        self.fresh(base, span)
    }

    fn fresh(&mut self, base: &str, span: Span) -> Lifetime {
        let mut name = base.to_owned();
        let mut n = 0;
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.taken.insert(name.clone());
        Lifetime::new(&format!("'{name}"), span)
    }
}

fn collect(tokens: TokenStream, taken: &mut HashSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                taken.insert(name.strip_prefix("r#").unwrap_or(&name).to_owned());
            }
            TokenTree::Group(group) => collect(group.stream(), taken),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn avoids_every_name_the_input_spells() {
        let input = quote!(
            fn f<'__acm_family>(x: &'__acm_family_1 u8) -> &'__acm_family u8 {}
        );
        let mut fresh = FreshNames::new(&input);
        assert_eq!(
            fresh.lifetime("family", Span::call_site()).to_string(),
            "'__acm_family_2"
        );
        assert_eq!(
            fresh.lifetime("family", Span::call_site()).to_string(),
            "'__acm_family_3"
        );
        assert_eq!(
            fresh.lifetime("short", Span::call_site()).to_string(),
            "'__acm_short"
        );
        let input = quote!(
            fn f<'target>(x: &'target u8) -> &'target_1 u8 {}
        );
        let mut fresh = FreshNames::new(&input);
        assert_eq!(
            fresh
                .readable_lifetime("target", Span::call_site())
                .to_string(),
            "'target_2"
        );
        assert_eq!(
            fresh
                .readable_lifetime("elided", Span::call_site())
                .to_string(),
            "'elided"
        );
    }
}
