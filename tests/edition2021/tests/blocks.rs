//! Issue 22, items 3 and 4, in an edition 2021 crate (where a diverging expression's type falls
//! back to `()`, not `!`): blocks that end in `return` or diverge draw no warning, and an
//! infallible manager nests inside a fallible one as a plain value.
#![deny(warnings)]
use std::convert::Infallible;

use ctx::{async_context_manager, async_with, nullcontext};
use futures_executor::block_on;

#[derive(Debug, PartialEq)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}

#[async_context_manager]
async fn opened(fails: bool) -> Result<u32, Boom> {
    if fails {
        return Err(Boom);
    }
    r#yield!(1);
    Ok(())
}

#[async_context_manager]
async fn plain(value: u32) -> u32 {
    r#yield!(value);
}

async fn returns_err() -> Result<u32, String> {
    async_with!(nullcontext(1u32) => |_| { return Err("e".to_string()); })
}

async fn returns_from_plain_block() -> u32 {
    async_with!(nullcontext(1u32) => |n| { return n + 1; }).unwrap()
}

async fn panics() -> Result<u32, Boom> {
    async_with!(opened(false) => |_| { panic!("boom"); })
}

async fn loops() -> Result<(), Infallible> {
    async_with!(nullcontext(()) => |()| loop { std::future::pending::<()>().await })
}

#[test]
fn diverging_blocks_compile_without_warnings() {
    assert_eq!(block_on(returns_err()), Err("e".to_string()));
    assert_eq!(block_on(returns_from_plain_block()), 2);
    let _ = panics;
    let _ = loops;
}

#[test]
fn an_infallible_manager_nests_in_a_fallible_one() {
    let n: Result<u32, Boom> =
        block_on(async { async_with!(opened(false) => |x| async_with!(plain(2) => |y| x + y)) });
    assert_eq!(n, Ok(3));
    let failed: Result<u32, Boom> =
        block_on(async { async_with!(opened(true) => |x| async_with!(plain(2) => |y| x + y)) });
    assert_eq!(failed, Err(Boom));
    let other_order: Result<u32, Boom> =
        block_on(async { async_with!(plain(2) => |y| async_with!(opened(false) => |x| x + y)) });
    assert_eq!(other_order, Ok(3));
}
