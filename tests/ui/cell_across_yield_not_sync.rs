// A manager holding a `Cell` across its yield point is `Send` but not `Sync`.
use contextlib::async_context_manager;

#[async_context_manager]
async fn with_cell(start: u32) -> u32 {
    let cell = std::cell::Cell::new(start);
    r#yield!(cell.get());
    cell.set(0);
}

fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    assert_sync(&with_cell(1));
}
