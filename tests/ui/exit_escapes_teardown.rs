// The `Exit` borrows the block's outcome for the teardown only: it cannot be stored beyond it.
use contextlib::{Exit, async_context_manager};

#[async_context_manager]
async fn keeps_exit(seen: &mut Vec<Exit<'static>>) -> u32 {
    let exit = r#yield!(1);
    seen.push(exit);
}

fn main() {}
