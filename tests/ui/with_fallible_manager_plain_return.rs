// A fn that does not return `Result` has nowhere to put the manager's error (issue 12).
use contextlib::async_context_manager;

#[async_context_manager]
async fn fallible() -> std::io::Result<u32> {
    r#yield!(1);
    Ok(())
}

#[contextlib::with(fallible() => n)]
async fn plain() -> u32 {
    n + 1
}

fn main() {}
