// The yield handle is a hygienic local: user code cannot name it, so it cannot be smuggled
// into another manager or out of the body.
use contextlib::async_context_manager;

#[async_context_manager]
async fn lend() -> u32 {
    let handle = __acm_yielder;
    r#yield!(1);
}

fn main() {}
