//! The soundness check of the target: the driver hands the target out with the manager
//! borrow's lifetime, shorter than the one the body lent it with, which is sound only if a value
//! of the lent type *is* a value of the handed-out type.
//!
//! The check is a closure from the lent type to the handed-out type that returns its argument
//! as it is: subtyping (covariance) and the coercions that leave every bit in place (a reborrow,
//! shortening the lifetime of a `dyn Trait` behind `&mut`). Those coercions apply where an
//! expression meets its expected type, so the closure takes `Option`s and tuples apart and
//! rebuilds them unchanged: `Option<&mut dyn Write>` passes as `&mut dyn Write` does, while a
//! target that is truly invariant (`&mut Tx<'_>`, `Cell<&String>`, `&mut Option<&mut dyn
//! Write>`) still fails, because no expression can convert it.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{GenericArgument, Lifetime, PathArguments, Type};

use crate::fresh::FreshNames;
use crate::lifetimes::rename_lifetime;

/// The witness: a closure that `generated` types as `for<'long, 'short>
/// Fn(TargetMustBeCovariantInTheManagerBorrow<'short, 'long>, Lent<'long, Fam>) -> Lent<'short,
/// Fam>`, and that returns its argument unchanged, taking `Option`s and tuples apart (see the
/// module docs) inside a fn pointer typed with the declared target, where the compiler coerces.
/// It compiles exactly when the target may be lent for a shorter borrow; `generated` applies it
/// to the lent target, so nothing rests on it being this closure. Spanned at the declared
/// target: that is where the compiler reports an invariant one, and the first argument's type is
/// the hint it shows (`TargetMustBeCovariantInTheManagerBorrow<'1, '_>`).
pub fn covariance_witness(
    family_target: &Type,
    family_lifetime: &Lifetime,
    krate: &TokenStream,
    fresh: &mut FreshNames,
) -> TokenStream {
    let value = format_ident!("__acm_target", span = Span::mixed_site());
    let span = family_target.span();
    if !mentions(family_target, family_lifetime) {
        // The same type for every borrow: nothing to check or take apart.
        return quote_spanned! {span=>
            |_, #krate::expansion::Lent(#value, _)| {
                #krate::expansion::Lent(#value, ::core::marker::PhantomData)
            }
        };
    }
    let long = fresh.lifetime("long", Span::call_site());
    let short = fresh.lifetime("short", Span::call_site());
    let lent = rename_lifetime(family_target, family_lifetime, &long);
    let handed_out = rename_lifetime(family_target, family_lifetime, &short);
    let unchanged = rebuilt(family_target, quote!(#value), 0);
    let witness = format_ident!("__acm_witness", span = Span::mixed_site());
    let covariant = format_ident!("__acm_covariant", span = Span::mixed_site());
    // (`clippy::ignored_unit_patterns` would take its `_` for a `()`.)
    quote_spanned! {span=>
        |#witness, #krate::expansion::Lent(#value, _)| {
            #[allow(clippy::ignored_unit_patterns)]
            let #covariant: for<#long, #short> fn(
                #krate::expansion::TargetMustBeCovariantInTheManagerBorrow<#short, #long>,
                #lent,
            ) -> #handed_out = |_, #value| #unchanged;
            #krate::expansion::Lent(#covariant(#witness, #value), ::core::marker::PhantomData)
        }
    }
}

/// `&mut T` where `T` borrows for the manager borrow too (`&mut Transaction<'_, Sqlite>`,
/// `&mut Option<&mut dyn Write>`): `&mut` is invariant in `T`, so no witness can compile, and
/// the error says the fix instead of the witness's lifetimes (issue 23's newcomer wrote this for
/// sqlx's `Transaction` three times).
pub fn reject_mut_borrowing_target(
    family_target: &Type,
    family_lifetime: &Lifetime,
) -> syn::Result<()> {
    let Type::Reference(reference) = family_target else {
        return Ok(());
    };
    if reference.mutability.is_none() || !mentions(&reference.elem, family_lifetime) {
        return Ok(());
    }
    // `&mut (dyn Trait + '_)`: the object's lifetime shortens by a coercion; the witness says.
    let mut elem = &*reference.elem;
    while let Type::Paren(paren) = elem {
        elem = &paren.elem;
    }
    if matches!(elem, Type::TraitObject(_)) {
        return Ok(());
    }
    Err(syn::Error::new(
        reference.elem.span(),
        "this target lends `&mut T` where `T` itself borrows for the manager borrow (an elided \
         or `'_` lifetime inside it): `&mut` makes `T` invariant, so it cannot be lent for the \
         block's shorter borrow. Name `T`'s own lifetime: `'static` where the value owns its \
         borrow (`&mut sqlx::Transaction<'static, Sqlite>`, as `pool.begin()` returns), or an \
         argument's lifetime (`fn f<'db>(db: &'db mut Db) -> &mut Tx<'db>`); or lend `T` by value",
    ))
}

/// Whether `lifetime` appears anywhere in `target`.
fn mentions(target: &Type, lifetime: &Lifetime) -> bool {
    struct Finds<'a> {
        lifetime: &'a Lifetime,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finds<'_> {
        fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
            self.found |= lifetime.ident == self.lifetime.ident;
        }
    }
    let mut finds = Finds {
        lifetime,
        found: false,
    };
    finds.visit_type(target);
    finds.found
}

/// `value`, of type `target`, taken apart where it is an `Option` or a tuple and rebuilt
/// unchanged, so that each part meets its expected type (where the compiler coerces).
fn rebuilt(target: &Type, value: TokenStream, depth: usize) -> TokenStream {
    match target {
        Type::Group(group) => rebuilt(&group.elem, value, depth),
        Type::Paren(paren) => rebuilt(&paren.elem, value, depth),
        Type::Tuple(tuple) if !tuple.elems.is_empty() => {
            let parts: Vec<_> = (0..tuple.elems.len())
                .map(|index| format_ident!("__acm_part{depth}_{index}", span = Span::mixed_site()))
                .collect();
            let rebuilt_parts = tuple
                .elems
                .iter()
                .zip(&parts)
                .map(|(part_type, part)| rebuilt(part_type, quote!(#part), depth + 1));
            quote!({
                let (#(#parts,)*) = #value;
                (#(#rebuilt_parts,)*)
            })
        }
        _ => match option_content(target) {
            // The patterns are `core`'s `Option`: a type of the user's named `Option` does not
            // match them, and fails the check.
            Some(content) => {
                let some = format_ident!("__acm_some{depth}", span = Span::mixed_site());
                let rebuilt_content = rebuilt(content, quote!(#some), depth + 1);
                quote!(match #value {
                    ::core::option::Option::Some(#some) => {
                        ::core::option::Option::Some(#rebuilt_content)
                    }
                    ::core::option::Option::None => ::core::option::Option::None,
                })
            }
            None => value,
        },
    }
}

/// `T` in `Option<T>` (however the path to `Option` is spelled).
fn option_content(target: &Type) -> Option<&Type> {
    let Type::Path(path) = target else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    match arguments.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(content)] => Some(content),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuilt_of(target: Type) -> String {
        rebuilt(&target, quote!(v), 0).to_string()
    }

    #[test]
    fn a_plain_target_is_returned_as_it_is() {
        assert_eq!(rebuilt_of(syn::parse_quote!(&mut dyn Write)), "v");
        assert_eq!(rebuilt_of(syn::parse_quote!(())), "v");
        assert_eq!(rebuilt_of(syn::parse_quote!(Vec<Option<u8>>)), "v");
    }

    #[test]
    fn options_and_tuples_are_taken_apart_at_every_depth() {
        let option = rebuilt_of(syn::parse_quote!(Option<(u8, std::option::Option<&mut T>)>));
        assert!(option.contains(":: core :: option :: Option :: Some (__acm_some0)"));
        assert!(option.contains("let (__acm_part1_0 , __acm_part1_1 ,) = __acm_some0"));
        assert!(option.contains("match __acm_part1_1"));
    }
}
