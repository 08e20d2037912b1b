//! Naming "the target type, for any borrow of the manager" without a GAT on a closure.

/// `Target` for one lifetime of a manager borrow. Implemented for higher-ranked fn pointer
/// types `for<'a, 'b> fn(&'a (), &'b ()) -> T<'a>`, which carry a type family without free
/// regions (so the futures that use them stay provably `Send`). The second argument is never
/// used: with two input lifetimes, a lifetime hidden in the target's path (`Ref<u8>`) cannot be
/// elided, so every lifetime of the target that depends on the borrow is visible to the
/// attribute (and checked for covariance).
pub trait Family<'a> {
    /// The target type for a manager borrowed for `'a`.
    type Target;
}

impl<'a, F, R> Family<'a> for F
where
    F: Fn(&'a (), &'static ()) -> R,
{
    type Target = R;
}
