//! An associated type of the fn's own type parameter (`P::Conn<'_>`, `<P as Pool>::Conn<'_>`)
//! cannot borrow from the manager: the compiler treats such a projection as invariant in its
//! lifetime (an impl may set `type Conn<'a> = Cell<&'a u8>`), so the covariance check must
//! refuse it. Said here in one sentence, with the way out, instead of the check's borrow error.
//! (A projection on a concrete type, `<MyPool as Pool>::Conn<'_>`, is the type it names and
//! passes the check when that type is covariant; one on a parameter of the surrounding `impl`
//! cannot be told from a path here, and gets the check's error.)

use syn::visit::{self, Visit};
use syn::{Error, Lifetime, Result, Signature, Type, TypePath};

/// Refuses a projection on one of `signature`'s type parameters whose arguments hold
/// `family_lifetime` (the manager borrow) in the target `family_target`.
pub fn reject_borrowing_projection(
    signature: &Signature,
    family_target: &Type,
    family_lifetime: &Lifetime,
) -> Result<()> {
    let mut finder = FindProjection {
        type_parameters: signature
            .generics
            .type_params()
            .map(|param| param.ident.to_string())
            .collect(),
        family_lifetime,
        found: None,
    };
    finder.visit_type(family_target);
    match finder.found {
        Some(projection) => Err(Error::new_spanned(
            projection,
            "an associated type of a generic parameter cannot borrow from the manager, because \
             the compiler cannot check that it stays valid for a shorter borrow: name the \
             lifetime of the argument it borrows (`fn f<'p>(pool: &'p mut P) -> P::Conn<'p>`)",
        )),
        None => Ok(()),
    }
}

struct FindProjection<'a> {
    type_parameters: Vec<String>,
    family_lifetime: &'a Lifetime,
    found: Option<TypePath>,
}

impl FindProjection<'_> {
    /// `P::Conn<..>` or `<P as Trait>::Conn<..>`, for a type parameter `P` of the fn.
    fn is_projection_on_parameter(&self, path: &TypePath) -> bool {
        let on_parameter = |ty: &Type| {
            matches!(ty, Type::Path(base) if base.qself.is_none()
                && base.path.segments.len() == 1
                && self.is_parameter(&base.path.segments[0].ident))
        };
        match &path.qself {
            Some(qself) => on_parameter(&qself.ty),
            None => {
                path.path.leading_colon.is_none()
                    && path.path.segments.len() > 1
                    && self.is_parameter(&path.path.segments[0].ident)
            }
        }
    }

    fn is_parameter(&self, ident: &syn::Ident) -> bool {
        self.type_parameters.iter().any(|name| ident == name)
    }

    fn holds_family_lifetime(&self, path: &TypePath) -> bool {
        struct FindLifetime<'l>(&'l Lifetime, bool);
        impl<'ast> Visit<'ast> for FindLifetime<'_> {
            fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
                self.1 |= lifetime.ident == self.0.ident;
            }
        }
        let mut finder = FindLifetime(self.family_lifetime, false);
        finder.visit_type_path(path);
        finder.1
    }
}

impl<'ast> Visit<'ast> for FindProjection<'_> {
    fn visit_type_path(&mut self, path: &'ast TypePath) {
        if self.found.is_none()
            && self.is_projection_on_parameter(path)
            && self.holds_family_lifetime(path)
        {
            self.found = Some(path.clone());
        }
        visit::visit_type_path(self, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(signature: Signature, target: Type) -> bool {
        let family: Lifetime = syn::parse_quote!('__acm_family);
        reject_borrowing_projection(&signature, &target, &family).is_err()
    }

    #[test]
    fn a_projection_on_a_parameter_borrowing_the_manager_is_refused() {
        let signature: Signature = syn::parse_quote!(fn f<P: Pool>(pool: &mut P));
        assert!(refused(
            signature.clone(),
            syn::parse_quote!(P::Conn<'__acm_family>)
        ));
        assert!(refused(
            signature.clone(),
            syn::parse_quote!(Option<<P as Pool>::Conn<'__acm_family>>)
        ));
        assert!(refused(
            signature.clone(),
            syn::parse_quote!(P::Conn<&'__acm_family u8>)
        ));
    }

    #[test]
    fn other_paths_and_named_lifetimes_pass() {
        let signature: Signature = syn::parse_quote!(fn f<'p, P: Pool>(pool: &'p mut P));
        assert!(!refused(signature.clone(), syn::parse_quote!(P::Conn<'p>)));
        assert!(!refused(
            signature.clone(),
            syn::parse_quote!(<MyPool as Pool>::Conn<'__acm_family>)
        ));
        assert!(!refused(
            signature.clone(),
            syn::parse_quote!(module::Conn<'__acm_family>)
        ));
        assert!(!refused(signature, syn::parse_quote!(&'__acm_family mut P)));
    }
}
