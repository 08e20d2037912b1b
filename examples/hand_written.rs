//! `SimpleAsyncContextManager` (`__aenter__` / `__aexit__` by hand) next to
//! `create_async_context(value)` (`@asynccontextmanager`): `async_with!` treats them alike.
//!
//! Run with `cargo run --example hand_written`.

#[path = "managers/hand_written.rs"]
mod hand_written;

use contextlib::async_with;
use hand_written::{
    AppError, SimpleAsyncContextManager, create_async_context, typed_async_context,
};

#[tokio::main]
async fn main() {
    println!("hand-written manager:");
    let mut manager = SimpleAsyncContextManager::new("Hello, World!");
    let length = async_with!(&mut manager => |value| {
        println!("    [block] got {value:?}");
        value.len()
    });
    println!("result: {length:?}");
    let failed: Result<(), AppError> = async_with!(&mut manager => |_value| {
        println!("    [block] fails");
        Err(AppError { code: 409 })
    });
    println!("result: {failed:?}");

    println!("generated manager:");
    let mut seen = Vec::new();
    let length = async_with!(create_async_context("Hello, World!", &mut seen) => |value| {
        println!("    [block] got {value:?}");
        value.len()
    });
    println!("result: {length:?}");
    let failed: Result<(), AppError> = async_with!(create_async_context("Hello, World!", &mut seen) => |_value| {
        println!("    [block] fails");
        Err(AppError { code: 409 })
    });
    println!("result: {failed:?}");
    println!("both saw the same exits: {}", manager.seen == seen);

    println!("typed manager (`-> AsyncContextManager[T]`):");
    let length = async_with!(typed_async_context(vec![1, 2, 3]) => |values| values.len());
    println!("result: {length:?}");
}
