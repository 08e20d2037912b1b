//! What `async_with!`'s autoref dispatches may choose. Each dispatch is a method call
//! (`.__acm_drive()`, `.__acm_kind()`, `.__acm_view()`) that a trait of the user's crate, brought
//! into scope with a method of the same name, could answer instead; the expansion passes every
//! choice through [`chosen`], which takes only contextlib's own ways. A hijack is then a compile
//! error, or at worst the choice of another of contextlib's ways, each of which enters, exits and
//! reports as `async_with!` promises (`tests/toolbox_and_dispatch_misused.rs`).

use crate::entering::dispatch::{
    FallibleBlock, InfallibleBlock, InfallibleManager, ValueBlock, ViewStorage,
};
use crate::entering::drive::{Direct, NamedSend};

/// One of contextlib's ways to drive a manager, to finish an `async_with!` or to view a block's
/// error. Sealed: only the types below implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not one of contextlib's ways: a method of the same name as `async_with!`'s own dispatch is in scope",
    label = "chosen by a trait that is not contextlib's"
)]
pub trait Chosen: sealed::Sealed {}

mod sealed {
    /// What keeps [`Chosen`](super::Chosen) to contextlib's own types.
    pub trait Sealed {}
}

macro_rules! chosen_types {
    ($($ty:ident$(<$($param:tt),+>)?),+ $(,)?) => {$(
        impl$(<$($param),+>)? sealed::Sealed for $ty$(<$($param),+>)? {}
        impl$(<$($param),+>)? Chosen for $ty$(<$($param),+>)? {}
    )+};
}

chosen_types! {
    Direct, NamedSend,
    InfallibleManager<T, E>, FallibleBlock<T, E, ME>, InfallibleBlock<T, ME>, ValueBlock<R, ME>,
    ViewStorage<'a>,
}

/// `choice`, if it is one of contextlib's ways (see the module docs).
#[inline(always)]
pub fn chosen<C: Chosen>(choice: C) -> C {
    choice
}
