// Regression (issue 9, hole 1): declaring a lifetime with an expansion's name makes it the fn's
// own lifetime parameter (chosen by the caller), not the manager borrow: the body cannot lend
// its local for it.
use std::cell::Cell;

use contextlib::async_context_manager;

#[async_context_manager]
async fn slot<'__acm_family>() -> &'__acm_family Cell<&'__acm_family String> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

fn main() {}
