// Regression (issue 9, hole 2): `Generated::new` was a safe, public constructor that handed any
// closure the manager's yield handle, which could then escape and write into a freed manager.
use std::cell::RefCell;

type Fam = for<'a, 'b> fn(&'a (), &'b ()) -> u32;

fn main() {
    let thief = RefCell::new(None);
    let _ = contextlib::Generated::<Fam, _>::new::<()>(|yielder| {
        *thief.borrow_mut() = Some(yielder);
        std::future::pending::<()>()
    });
}
