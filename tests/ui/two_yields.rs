use contextlib::async_context_manager;

#[async_context_manager]
async fn yields_twice(flag: bool) -> u32 {
    if flag {
        r#yield!(1);
    } else {
        r#yield!(2);
    }
}

fn main() {}
