// An `async_with!` around the yield is expanded by the attribute, yet the import the user wrote
// for it counts as used (issue 11).
#![deny(unused_imports)]
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn inner() -> u32 {
    r#yield!(1);
}

#[async_context_manager]
async fn outer() -> u32 {
    async_with!(inner() => |n| {
        r#yield!(n + 1);
    })
    .unwrap_or(())
}

fn main() {
    let n = futures_executor::block_on(async {
        contextlib::async_with!(outer() => |n| n)
    });
    assert_eq!(n, Ok(2));
}
