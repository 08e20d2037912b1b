// Regression (issue 9, hole 1): the covariance check reads the target family itself, so an
// invariant target is refused however it is spelled: here behind an alias.
use std::cell::Cell;

use contextlib::async_context_manager;

type Slot<'a> = &'a Cell<&'a String>;

#[async_context_manager]
async fn slot() -> Slot<'_> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(&cell);
}

fn main() {}
