// Regression (issue 9, hole 1): a target that names a lifetime of the expansion used to skip the
// covariance check and be handed out at the manager borrow's lifetime: a use-after-free from
// safe code. The expansion's lifetimes are fresh names no user token spells, so a lifetime
// written in the target is the user's own: undeclared here.
use std::cell::Cell;

use contextlib::async_context_manager;

#[async_context_manager]
async fn old_family_name() -> &'__acm Cell<&'__acm String> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

#[async_context_manager]
async fn family_name() -> &'__acm_family Cell<&'__acm_family String> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

// The manager type's readable lifetimes (`'target`, `'elided`) are as fresh: a target spelling
// `'target` gets the user's own, undeclared, lifetime, and the expansion picks another name.
#[async_context_manager]
async fn readable_name() -> &'target Cell<&'target String> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

fn main() {}
