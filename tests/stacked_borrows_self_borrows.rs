//! `concurrent` polls members whose futures borrow themselves (an `async fn` holding a `&mut` to
//! one of its own locals across an `.await`). Between polls it must not make a shared reference
//! covering such a pending future: under Stacked Borrows that retag invalidates the future's
//! borrows into itself (issue 20, item 2; `join.rs` used to ask each member `failed()` by `&`).
//! The assertions hold natively; the point is that `cargo +nightly miri test` accepts these
//! programs in both borrow models (`.ci/miri`).
use contextlib::testing::yield_now;
use contextlib::{
    AsyncContextManager, Exit, async_context_manager, async_with, concurrent, nullcontext,
};
use std::convert::Infallible;
use std::pin::Pin;

/// An ordinary hand-written manager: its `enter` borrows one of its own locals across an await.
struct Counter;
impl<'a> contextlib::Lend<'a> for Counter {
    type Target = u32;
}

impl AsyncContextManager for Counter {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        let mut local = 1u32;
        let r = &mut local; // held across the await: the future borrows itself
        yield_now().await;
        *r += 1;
        Ok(*r)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        Ok(())
    }
}

#[test]
fn hand_written_member_borrowing_its_own_local() {
    let n = futures_executor::block_on(async {
        async_with!(concurrent((Counter, nullcontext(40u32))) => |(a, b)| a + b)
    });
    assert_eq!(n, Ok(42));
}

/// Only contextlib's own managers: a concurrent inside a concurrent.
#[async_context_manager]
async fn slow_setup() -> u32 {
    yield_now().await;
    r#yield!(1);
}

#[test]
fn nested_concurrent_of_generated_managers() {
    let n = futures_executor::block_on(async {
        async_with!(concurrent((concurrent((slow_setup(), nullcontext(1u32))), nullcontext(1u32))) => |((a, b), c)| a + b + c)
    });
    assert_eq!(n, Ok(3));
}

/// The same for the exits: a hand-written `exit` that borrows one of its locals across an await.
struct Flusher;
impl<'a> contextlib::Lend<'a> for Flusher {
    type Target = u32;
}

impl AsyncContextManager for Flusher {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        Ok(1)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        let mut buffer = [0u8; 4];
        let pending = &mut buffer; // held across the await
        yield_now().await;
        pending[0] = 1;
        Ok(())
    }
}

#[test]
fn hand_written_member_exit_borrowing_its_own_local() {
    let n = futures_executor::block_on(async {
        async_with!(concurrent((Flusher, nullcontext(1u32))) => |(a, b)| a + b)
    });
    assert_eq!(n, Ok(2));
}
