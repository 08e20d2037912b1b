use contextlib::async_context_manager;

#[async_context_manager]
async fn in_async_block() -> u32 {
    // It would suspend the inner block, which could be awaited from anywhere (even by another
    // manager): refused.
    let inner = async { r#yield!(1) };
    inner.await;
}

fn main() {}
