// Regression (issue 9, hole 2): the constructor the attribute expands to is an `unsafe fn` with
// a written contract, so a yield handle cannot be handed to a closure from safe code.
use std::cell::RefCell;

type Fam = for<'a, 'b> fn(&'a (), &'b ()) -> u32;

fn main() {
    let thief = RefCell::new(None);
    let body = |yielder: contextlib::__private::Yielder<Fam>| {
        *thief.borrow_mut() = Some(yielder);
        std::future::pending::<()>()
    };
    let _ = contextlib::__private::generated(body);
}
