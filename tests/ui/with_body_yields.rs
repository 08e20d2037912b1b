// `#[with]` runs a fn's body inside a manager; it does not make the fn a manager (issue 12,
// third review).
#[contextlib::with(contextlib::nullcontext(1) => n)]
async fn yields() -> u32 {
    r#yield!(n);
    n
}

fn main() {}
