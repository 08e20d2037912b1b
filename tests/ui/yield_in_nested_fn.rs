use contextlib::async_context_manager;

#[async_context_manager]
async fn outer() -> u32 {
    async fn helper() {
        r#yield!(1);
    }
    helper().await;
    r#yield!(2);
}

fn main() {}
