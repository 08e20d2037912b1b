// Review of the readable lifetime names: a raw lifetime `'r#target` is the same lifetime as
// `'target`, so the attribute must count it as spelled and pick another name for the manager
// borrow. Here it stays the user's own, undeclared lifetime (as in `named_internal_lifetime`),
// and an invariant target cannot pass the covariance check under the expansion's name.
use std::cell::Cell;

use contextlib::async_context_manager;

#[async_context_manager]
async fn raw_readable_name() -> &'r#target Cell<&'r#target String> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

fn main() {}
