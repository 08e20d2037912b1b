use contextlib::async_context_manager;

#[async_context_manager]
fn counter() -> u32 {
    r#yield!(1);
}

fn main() {}
