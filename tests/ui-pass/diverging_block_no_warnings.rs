// A block that a closure would accept silently draws no warning from `async_with!` either:
// `return` out of a plain or a `Result` block, and blocks that diverge (`panic!`, `loop {}`,
// `std::process::exit`). The expansion once put the block in a tuple, whose construction after
// a diverging block was `unreachable_code` pointing at the macro (issue 22, item 3). Compiled
// with every warning denied, as a crate with `#![deny(warnings)]` is.
#![deny(warnings)]

use contextlib::{async_context_manager, async_with, nullcontext};

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}

#[async_context_manager]
async fn fallible() -> Result<u32, Boom> {
    r#yield!(1);
    Ok(())
}

async fn return_err_from_result_block() -> Result<(), String> {
    async_with!(nullcontext(1u32) => |_| { return Err("e".to_string()); })
}

async fn return_err_without_semicolon() -> Result<(), String> {
    async_with!(nullcontext(1u32) => |_| { return Err("e".to_string()) })
}

async fn return_from_plain_block() -> u32 {
    async_with!(nullcontext(1u32) => |n| { return n + 1; }).unwrap()
}

async fn early_return_then_value(flag: bool) -> Result<u32, String> {
    async_with!(nullcontext(1u32) => |n| {
        if flag {
            return Err("flag".to_string());
        }
        Ok(n)
    })
}

async fn return_err_under_fallible_manager() -> Result<u32, Boom> {
    async_with!(fallible() => |_| { return Err(Boom); })
}

async fn return_ok_under_fallible_manager() -> Result<u32, Boom> {
    async_with!(fallible() => |n| { return Ok(n + 1); })
}

async fn block_panics() -> Result<u32, Boom> {
    async_with!(fallible() => |_| panic!("boom"))
}

async fn braced_block_panics() -> Result<u32, Boom> {
    async_with!(fallible() => |_| { panic!("boom"); })
}

async fn block_loops() -> Result<u32, Boom> {
    async_with!(fallible() => |_| loop {})
}

async fn braced_block_loops() -> Result<u32, std::convert::Infallible> {
    async_with!(nullcontext(()) => |()| { loop {} })
}

async fn block_exits_the_process() -> Result<(), String> {
    async_with!(nullcontext(()) => |()| { std::process::exit(0); })
}

async fn block_is_todo() -> Result<u32, Boom> {
    async_with!(fallible() => |_| todo!())
}

async fn nested_return() -> Result<u32, Boom> {
    async_with!(fallible() => |a| async_with!(fallible() => |b| { return Ok(a + b); }))
}

#[contextlib::with(nullcontext(1u32) => n)]
async fn decorated_returns_early(flag: bool) -> u32 {
    if flag {
        return 0;
    }
    n + 1
}

#[contextlib::with(fallible() => _n)]
async fn decorated_returns_err() -> Result<u32, Boom> {
    return Err(Boom);
}

#[contextlib::with(fallible() => _n)]
async fn decorated_panics() -> Result<u32, Boom> {
    panic!("boom")
}

fn main() {
    use futures_executor::block_on;
    assert_eq!(
        block_on(return_err_from_result_block()),
        Err("e".to_string())
    );
    assert_eq!(
        block_on(return_err_without_semicolon()),
        Err("e".to_string())
    );
    assert_eq!(block_on(return_from_plain_block()), 2);
    assert_eq!(
        block_on(early_return_then_value(true)),
        Err("flag".to_string())
    );
    assert_eq!(block_on(early_return_then_value(false)), Ok(1));
    assert!(matches!(
        block_on(return_err_under_fallible_manager()),
        Err(Boom)
    ));
    assert!(matches!(
        block_on(return_ok_under_fallible_manager()),
        Ok(2)
    ));
    assert!(matches!(block_on(nested_return()), Ok(2)));
    assert_eq!(block_on(decorated_returns_early(true)), 0);
    assert_eq!(block_on(decorated_returns_early(false)), 2);
    assert!(matches!(block_on(decorated_returns_err()), Err(Boom)));
    // Built, not run: they panic, loop or exit.
    let _ = block_panics;
    let _ = braced_block_panics;
    let _ = block_loops;
    let _ = braced_block_loops;
    let _ = block_exits_the_process;
    let _ = block_is_todo;
    let _ = decorated_panics;
}
