// `async_with!`'s block is not a closure: `move` gets one clear sentence (issue 15, item 7).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn lend() -> u32 {
    r#yield!(1);
}

async fn use_it() {
    let _ = async_with!(lend() => move |n| n + 1);
}

fn main() {}
