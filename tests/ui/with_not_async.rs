// `#[with]` goes on an `async fn` (issue 12).
#[contextlib::with(contextlib::nullcontext(1))]
fn not_async() -> u32 {
    1
}

fn main() {}
