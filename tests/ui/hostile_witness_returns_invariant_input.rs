// A hostile crate calls the safe `generated` directly with invariant target families and a
// witness that returns its input (as is, reborrowed, or through the implied bounds of a
// `&'static` outer borrow). Lending the body's own invariant target for a shorter borrow would
// let the block store a short borrow the body later reads as a long one; none of these compile.
#![forbid(unsafe_code)]
use std::cell::Cell;
use std::marker::PhantomData;

use contextlib::__private::generated;
use contextlib::expansion::Lent;

type SharedCell = for<'a, 'b> fn(&'a (), &'b ()) -> &'a Cell<&'a str>;
type MutVec = for<'a, 'b> fn(&'a (), &'b ()) -> &'a mut Vec<&'a str>;
type StaticCell = for<'a, 'b> fn(&'a (), &'b ()) -> &'static Cell<&'a u8>;

fn main() {
    let _as_is = generated::<SharedCell, _, _, _>(
        |_, Lent(cell, _)| Lent(cell, PhantomData),
        |mut yielder| async move {
            let cell = Cell::new("text");
            yielder.yield_(&cell).await;
        },
    );
    let _reborrowed = generated::<MutVec, _, _, _>(
        |_, Lent(items, _)| Lent(&mut *items, PhantomData),
        |mut yielder| async move {
            let mut items = Vec::new();
            yielder.yield_(&mut items).await;
        },
    );
    let _implied = generated::<StaticCell, _, _, _>(
        |_, Lent(cell, _)| Lent(cell, PhantomData),
        |mut yielder| async move {
            let cell: &'static Cell<&'static u8> = Box::leak(Box::new(Cell::new(&0)));
            yielder.yield_(cell).await;
        },
    );
}
