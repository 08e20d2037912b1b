// A target that is not `Send` (`&T` for a `T` that is not `Sync`), held across the block's
// `.await` in a spawned task: the compiler's note names the binding `target`, never an
// expansion name (`__acm_target` before a review of common mistakes).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn hold<T>(value: T) -> &T {
    r#yield!(&value);
}

fn spawn_it<T: Send + 'static>(value: T) {
    tokio::spawn(async move {
        let _ = async_with!(hold(value) => |_v| 1);
    });
}

fn main() {
    spawn_it(1u8);
}
