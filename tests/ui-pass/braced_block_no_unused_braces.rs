// A braced block is a closure body's natural form: `async_with!(m => |x| { x + 1 })`, and the
// one-expression body of a `#[contextlib::with]` fn, draw no `unused_braces` warning (whose
// suggested fix would remove the fn body's braces and break it). Found by a review of common
// mistakes; kept with the lint denied.
#![deny(unused_braces)]

use contextlib::{async_with, nullcontext};

#[contextlib::with(nullcontext(1usize) => f)]
async fn decorated() -> usize {
    f + 1
}

async fn plain() -> usize {
    async_with!(nullcontext(1usize) => |f| { f + 1 }).unwrap()
}

fn main() {
    assert_eq!(futures_executor::block_on(decorated()), 2);
    assert_eq!(futures_executor::block_on(plain()), 2);
}
