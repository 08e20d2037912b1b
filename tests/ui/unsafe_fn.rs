use contextlib::async_context_manager;

#[async_context_manager]
async unsafe fn raw() -> u32 {
    r#yield!(1);
}

fn main() {}
