// A crate rebinds `::contextlib` and replaces the type the attribute's covariance check names,
// `expansion::TargetMustBeCovariantInTheManagerBorrow`, with one whose implied bounds make its
// two lifetimes equal, so that `|_, target| target` type-checks for an invariant target. The
// witness the real `generated` takes is typed with the real marker: still a compile error.
#![forbid(unsafe_code)]
extern crate contextlib as real;
extern crate self as contextlib;

use std::cell::Cell;

pub use real::*;
pub mod expansion {
    pub use real::expansion::{Body, Lent};
    /// Implies `'long: 'short` and `'short: 'long`.
    pub struct TargetMustBeCovariantInTheManagerBorrow<'short, 'long>(
        pub std::marker::PhantomData<(&'short &'long (), &'long &'short ())>,
    );
}
pub mod __private {
    pub use real::__private::*;
}
#[real::async_context_manager]
async fn lend_cell(seen: &mut String) -> &Cell<&str> {
    let cell: Cell<&str> = Cell::new("static text");
    r#yield!(&cell);
    seen.push_str(cell.get());
}

fn main() {}
