// The block of an `async_with!` may hold the yield, but everything else about the yield stays:
// not inside a closure there either (issue 11).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn inner() -> u32 {
    r#yield!(1);
}

#[async_context_manager]
async fn outer() -> u32 {
    async_with!(inner() => |n| {
        let lend = |value: u32| r#yield!(value);
        lend(n);
    })
    .unwrap_or(())
}

fn main() {}
