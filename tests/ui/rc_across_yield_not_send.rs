// A manager holding an `Rc` across its yield point is not `Send`: a task using it cannot be
// spawned on a multi-threaded runtime.
use std::rc::Rc;

use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn shared_counter() -> u32 {
    let counter = Rc::new(1);
    r#yield!(*counter);
    drop(counter);
}

fn main() {
    let _ = tokio::spawn(async {
        let _ = async_with!(shared_counter() => |n| n + 1);
    });
}
