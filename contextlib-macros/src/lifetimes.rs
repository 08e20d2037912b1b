//! Elided lifetimes in the target (`&mut Tx`, `Tx<'_>`) mean "borrowed from the manager for
//! the block": they become one named lifetime.

use proc_macro2::Span;
use syn::visit_mut::{self, VisitMut};
use syn::{FnArg, GenericParam, Lifetime, LifetimeParam, Signature, Type};

use crate::fresh::FreshNames;

/// `target` with every elided lifetime replaced by `lifetime`.
pub fn name_elided(target: &Type, lifetime: &Lifetime) -> Type {
    let mut target = target.clone();
    NameElided(lifetime).visit_type_mut(&mut target);
    target
}

/// `target` with every `from` replaced by `to`.
pub fn rename_lifetime(target: &Type, from: &Lifetime, to: &Lifetime) -> Type {
    struct Rename<'a>(&'a Lifetime, &'a Lifetime);
    impl VisitMut for Rename<'_> {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if lifetime.ident == self.0.ident {
                let span = lifetime.span();
                *lifetime = self.1.clone();
                lifetime.set_span(span);
            }
        }
    }
    let mut target = target.clone();
    Rename(from, to).visit_type_mut(&mut target);
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

/// Names every elided lifetime in the arguments (`&T`, `&self`, `Tx<'_>`) with a fresh lifetime
/// parameter, and returns all the fn's lifetime parameters: the opaque types of the expansion
/// must capture them all, which Rust 2021 does only for lifetimes named in their bounds.
/// (Lifetimes hidden in paths, as in `Ref<T>`, cannot be seen and stay elided.)
pub fn name_argument_lifetimes(signature: &mut Signature, fresh: &mut FreshNames) -> Vec<Lifetime> {
    let mut naming = NameEachElided {
        named: Vec::new(),
        fresh,
    };
    for input in &mut signature.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                if let Some((and, lifetime @ None)) = &mut receiver.reference {
                    *lifetime = Some(naming.fresh(and.span));
                }
                if receiver.colon_token.is_some() {
                    naming.visit_type_mut(&mut receiver.ty);
                }
            }
            FnArg::Typed(typed) => naming.visit_type_mut(&mut typed.ty),
        }
    }
    for (index, lifetime) in naming.named.iter().enumerate() {
        let param = GenericParam::Lifetime(LifetimeParam::new(lifetime.clone()));
        signature.generics.params.insert(index, param);
    }
    signature
        .generics
        .lifetimes()
        .map(|param| param.lifetime.clone())
        .collect()
}

struct NameEachElided<'f> {
    named: Vec<Lifetime>,
    fresh: &'f mut FreshNames,
}

impl NameEachElided<'_> {
    fn fresh(&mut self, span: Span) -> Lifetime {
        // Shown in rustdoc and hover (`log: &'arg0 mut Vec<u8>`), hence readable.
        let lifetime = self
            .fresh
            .readable_lifetime(&format!("arg{}", self.named.len()), span);
        self.named.push(lifetime.clone());
        lifetime
    }
}

impl VisitMut for NameEachElided<'_> {
    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(self.fresh(reference.and_token.span));
        }
        visit_mut::visit_type_reference_mut(self, reference);
    }

    fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
        if lifetime.ident == "_" {
            *lifetime = self.fresh(lifetime.span());
        }
    }

    // Fn pointers, `Fn(..)` sugar and `impl Trait` arguments have elision rules of their own.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {}
}
