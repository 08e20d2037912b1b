// The analogue of async-stream's unsoundness issue 106: a user macro hides the yield inside a
// nested `async` block, which could then be awaited elsewhere (by another manager, with another
// target type). The attribute cannot see what a macro expands to, so a yield in any macro's
// input is refused.
use contextlib::async_context_manager;

macro_rules! hide_in_async {
    ($e:expr) => {
        async { $e }
    };
}

#[async_context_manager]
async fn lends_a_number() -> u64 {
    let smuggled = hide_in_async!(r#yield!(String::from("not a u64")));
    smuggled.await;
}

fn main() {}
