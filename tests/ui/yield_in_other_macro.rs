use contextlib::async_context_manager;

#[async_context_manager]
async fn in_println() -> u32 {
    println!("{:?}", r#yield!(1));
}

fn main() {}
