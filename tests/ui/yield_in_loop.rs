use contextlib::async_context_manager;

#[async_context_manager]
async fn in_loop() -> u32 {
    for i in 0..3 {
        r#yield!(i);
    }
}

fn main() {}
