// `#[tracing::instrument]` under the attribute would span only the building of the manager.
use contextlib::async_context_manager;

#[async_context_manager]
#[tracing::instrument]
async fn traced() -> u32 {
    r#yield!(1);
}

fn main() {}
