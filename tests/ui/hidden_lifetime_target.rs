// A target whose lifetime is hidden (`Ref<u8>`) must spell it (`Ref<'_, u8>`): elided
// lifetimes in the target mean "borrowed from the manager", and a hidden one cannot be seen.
use std::cell::{Ref, RefCell};

use contextlib::async_context_manager;

#[async_context_manager]
async fn borrow_cell(cell: &RefCell<u8>) -> Ref<u8> {
    r#yield!(cell.borrow());
}

fn main() {}
