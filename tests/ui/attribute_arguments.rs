use contextlib::async_context_manager;

#[async_context_manager(send)]
async fn with_arguments() -> u32 {
    r#yield!(1);
}

fn main() {}
