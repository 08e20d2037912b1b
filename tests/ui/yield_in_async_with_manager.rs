// The yield may stand in an `async_with!`'s block, not in its manager expression (issue 11).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn inner(n: contextlib::Exit<'_>) -> bool {
    r#yield!(n.is_ok());
}

#[async_context_manager]
async fn outer() -> bool {
    async_with!(inner(r#yield!(true)) => |ok| {
        let _ = ok;
    })
    .unwrap_or(())
}

fn main() {}
