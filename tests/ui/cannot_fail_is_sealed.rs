// `CannotFail` is sealed: a crate that implemented it for a real error type made
// `#[contextlib::with]` on a plain fn accept a failing manager, which then panicked with
// "internal error: entered unreachable code" (issue 20). The impl is refused instead.
use contextlib::async_context_manager;

#[derive(Debug)]
struct Fails;

impl contextlib::expansion::CannotFail for Fails {}

#[async_context_manager]
async fn fallible() -> Result<u32, Fails> {
    r#yield!(1);
    Err(Fails)
}

#[contextlib::with(fallible() => n)]
async fn plain() -> u32 {
    n + 1
}

fn main() {}
