use contextlib::async_context_manager;

#[async_context_manager]
async fn never_yields() -> u32 {
    println!("setup");
}

fn main() {}
