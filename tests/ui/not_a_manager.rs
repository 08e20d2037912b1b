// Passing something that is not a manager to `async_with!` (issue 15, item 14).
use contextlib::async_with;

async fn use_it() {
    let _ = async_with!(42u32 => |n| n + 1);
}

fn main() {}
