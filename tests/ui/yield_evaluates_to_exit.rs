// `r#yield!` evaluates to the block's `Exit`, not to a value sent in (Python's `asend`): binding
// it to another type is one error, on the yield (it pointed at the attribute before a review of
// common mistakes).
use contextlib::async_context_manager;

#[async_context_manager]
async fn sends() -> u32 {
    let sent: u32 = r#yield!(1);
    let _ = sent;
}

fn main() {}
