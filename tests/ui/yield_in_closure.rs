use contextlib::async_context_manager;

#[async_context_manager]
async fn in_closure() -> u32 {
    let lend = || r#yield!(1);
    lend();
}

fn main() {}
