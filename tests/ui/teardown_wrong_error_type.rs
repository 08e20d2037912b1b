// The teardown's value is the exit's result: a teardown ending in another error type than the
// declared one is one error, at the teardown (issue 15, item 12).
use contextlib::async_context_manager;

#[async_context_manager]
async fn flushes() -> Result<u32, std::io::Error> {
    r#yield!(1);
    Ok::<(), std::fmt::Error>(())
}

fn main() {}
