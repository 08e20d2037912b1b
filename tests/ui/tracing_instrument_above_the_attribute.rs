// `#[tracing::instrument]` above the attribute moves the body into an `async` block.
use contextlib::async_context_manager;

#[tracing::instrument]
#[async_context_manager]
async fn traced() -> u32 {
    r#yield!(1);
}

fn main() {}
