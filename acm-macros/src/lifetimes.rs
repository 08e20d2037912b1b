//! Elided lifetimes in the target (`&mut Tx`, `Tx<'_>`) mean "borrowed from the manager for
//! the block": they become one named lifetime.

use syn::visit_mut::{self, VisitMut};
use syn::{Lifetime, Type};

/// `target` with every elided lifetime replaced by `lifetime`.
pub fn name_elided(target: &Type, lifetime: &Lifetime) -> Type {
    let mut target = target.clone();
    NameElided(lifetime).visit_type_mut(&mut target);
    target
}

struct NameElided<'a>(&'a Lifetime);

impl VisitMut for NameElided<'_> {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            let mut lifetime = self.0.clone();
            lifetime.apostrophe = reference.and_token.span;
            reference.lifetime = Some(lifetime);
        }
        visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            let span = lifetime.span();
            *lifetime = self.0.clone();
            lifetime.set_span(span);
        }
    }

    // Fn pointers and `Fn(..)` sugar have elision scopes of their own.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}
