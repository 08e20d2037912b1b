//! What the declared return type means: `-> T` is an infallible manager lending `T`;
//! `-> Result<T, E>` (or an alias named like a result: `io::Result<T>`, `AppResult<T>`,
//! `Fallible<T>`) lends `T` and fails with `E`.

use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Error, GenericArgument, PathArguments, Result, ReturnType, Type};

pub struct ReturnShape {
    /// What the with-block receives.
    pub target: Type,
    /// What the body evaluates to: `()` or the declared `Result` with `()` for `T`.
    pub output: Type,
    pub fallible: bool,
}

pub fn classify(output: &ReturnType) -> Result<ReturnShape> {
    let declared = match output {
        ReturnType::Default => {
            return Ok(ReturnShape {
                target: syn::parse_quote!(()),
                output: syn::parse_quote!(()),
                fallible: false,
            });
        }
        ReturnType::Type(_, declared) => unwrap_groups(declared),
    };
    let shape = match split_result(declared) {
        Some((target, output)) => ReturnShape {
            target,
            output,
            fallible: true,
        },
        None => ReturnShape {
            target: declared.clone(),
            output: syn::parse_quote!(()),
            fallible: false,
        },
    };
    reject_impl_trait(&shape.target)?;
    Ok(shape)
}

/// A type as written, without the invisible group a `macro_rules!` `$ret:ty` puts around it, or
/// parentheses.
fn unwrap_groups(declared: &Type) -> &Type {
    match declared {
        Type::Group(group) => unwrap_groups(&group.elem),
        Type::Paren(paren) => unwrap_groups(&paren.elem),
        other => other,
    }
}

/// A result type by its name: `Result`, or an alias named like one (`AppResult<T>`,
/// `IoResult<T>`, `Fallible<T>`), whose first type argument is what it holds on success.
/// (Types cannot be told apart by what they are on stable Rust; an alias named otherwise is
/// taken for an infallible manager's target, and the guide says so.)
fn is_result_name(name: &syn::Ident) -> bool {
    let name = name.to_string();
    name.ends_with("Result") || name == "Fallible"
}

/// `path::Result<T, ..>` into `T` and `path::Result<(), ..>`.
fn split_result(declared: &Type) -> Option<(Type, Type)> {
    let Type::Path(path) = declared else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if !is_result_name(&last.ident) {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(target)) = arguments.args.first() else {
        return None;
    };
    let target = target.clone();
    let mut output = path.clone();
    let last = output.path.segments.last_mut()?;
    if let PathArguments::AngleBracketed(arguments) = &mut last.arguments {
        if let Some(GenericArgument::Type(first)) = arguments.args.first_mut() {
            *first = syn::parse_quote_spanned!(first.span()=> ());
        }
    }
    Some((target, Type::Path(output)))
}

fn reject_impl_trait(target: &Type) -> Result<()> {
    struct FindOpaque(Option<Error>);
    impl<'ast> Visit<'ast> for FindOpaque {
        fn visit_type_impl_trait(&mut self, found: &'ast syn::TypeImplTrait) {
            self.0.get_or_insert_with(|| {
                Error::new_spanned(
                    found,
                    "a context manager's target cannot be `impl Trait`: name the type \
                     (or lend a `Box<dyn Trait>`)",
                )
            });
        }
        fn visit_type_macro(&mut self, found: &'ast syn::TypeMacro) {
            // The attribute must see every lifetime of the target to check it.
            self.0.get_or_insert_with(|| {
                Error::new_spanned(
                    found,
                    "a context manager's target type cannot be a macro invocation: the \
                     attribute must see its lifetimes (name it with a type alias instead)",
                )
            });
        }
    }
    let mut finder = FindOpaque(None);
    finder.visit_type(target);
    finder.0.map_or(Ok(()), Err)
}
