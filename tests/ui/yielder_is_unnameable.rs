// The yield handle is a hygienic local: user code cannot name it, so it cannot be smuggled
// into another manager or out of the body.
use contextlib::async_context_manager;

#[async_context_manager]
async fn lend() -> u32 {
    let old_name = __acm_yielder;
    let handle = the_declared_target;
    r#yield!(1);
}

fn main() {}
