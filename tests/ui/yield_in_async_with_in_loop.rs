// A loop around an `async_with!` whose block yields would yield once per iteration (issue 11).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn inner() -> u32 {
    r#yield!(1);
}

#[async_context_manager]
async fn outer() -> u32 {
    for _ in 0..2 {
        async_with!(inner() => |n| {
            r#yield!(n);
        })
        .unwrap_or(());
    }
}

fn main() {}
