use contextlib::async_context_manager;

#[async_context_manager]
async fn bare() -> u32 {
    yield!(1);
}

fn main() {}
