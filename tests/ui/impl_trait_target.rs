use contextlib::async_context_manager;

#[async_context_manager]
async fn opaque() -> impl std::fmt::Display {
    r#yield!(1);
}

fn main() {}
