// Repro 01 of the hostile review of main at a46fe3a, adapted to today's names: a crate rebinds
// `::contextlib` to itself and swaps the target family in `Generated` (and, if it could, in the
// yield handle) after the covariance check saw the declared, covariant one. Before, this lent an
// invariant `&Cell<&str>` and reached a use-after-free from a `#![forbid(unsafe_code)]` crate.
// Now the declared family is what `generated` is called with, and its witness is what the
// library applies: the swapped type is refused at compile time.
#![forbid(unsafe_code)]
extern crate contextlib as real;
extern crate self as contextlib;

use std::cell::Cell;

pub use real::*;
pub type Generated<F, B> = real::Generated<<F as Swap>::Out, B>;
pub mod expansion {
    pub use real::expansion::*;
    pub type Yielder<F, W> = real::expansion::Yielder<<F as super::Swap>::Out, W>;
}

pub struct Marker;
pub trait Swap {
    type Out;
}
impl Swap for for<'t, 'e> fn(&'t (), &'e ()) -> &'t Marker {
    type Out = for<'t, 'e> fn(&'t (), &'e ()) -> &'t Cell<&'t str>;
}

#[real::async_context_manager]
async fn lend_cell(seen: &mut String) -> &Marker {
    let cell: Cell<&str> = Cell::new("static text");
    r#yield!(&cell);
    seen.push_str(cell.get());
}

fn main() {}
