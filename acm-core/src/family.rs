//! Naming "the target type, for any borrow of the manager" without a GAT on a closure.

/// `Target` for one lifetime of a manager borrow. Implemented for higher-ranked fn pointer
/// types `for<'a> fn(&'a ()) -> T<'a>`, which carry a type family without free regions (so the
/// futures that use them stay provably `Send`).
pub trait Family<'a> {
    /// The target type for a manager borrowed for `'a`.
    type Target;
}

impl<'a, F, R> Family<'a> for F
where
    F: Fn(&'a ()) -> R,
{
    type Target = R;
}
