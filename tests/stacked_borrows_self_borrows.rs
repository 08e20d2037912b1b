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

/// Holds a `&mut` to one of its own locals across an await: a future awaiting this borrows
/// itself. Returns the local, incremented through that borrow.
async fn borrow_a_local_across_an_await(start: u32) -> u32 {
    let mut local = start;
    let r = &mut local; // held across the await: the future borrows itself
    yield_now().await;
    *r += 1;
    *r
}

/// An ordinary hand-written manager whose `enter` (lending 2) or `exit` (lending 1) borrows one
/// of its own locals across an await.
#[derive(Clone, Copy)]
enum SelfBorrowing {
    InEnter,
    InExit,
}

impl<'a> contextlib::Lend<'a> for SelfBorrowing {
    type Target = u32;
}

impl AsyncContextManager for SelfBorrowing {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        Ok(match *self {
            SelfBorrowing::InEnter => borrow_a_local_across_an_await(1).await,
            SelfBorrowing::InExit => 1,
        })
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        if let SelfBorrowing::InExit = *self {
            assert_eq!(borrow_a_local_across_an_await(0).await, 1);
        }
        Ok(())
    }
}

/// `member` and `nullcontext(other)` entered concurrently; the block adds their targets.
fn sum_concurrently(member: SelfBorrowing, other: u32) -> Result<u32, Infallible> {
    futures_executor::block_on(async {
        async_with!(concurrent((member, nullcontext(other))) => |(a, b)| a + b)
    })
}

#[test]
fn hand_written_member_borrowing_its_own_local() {
    assert_eq!(sum_concurrently(SelfBorrowing::InEnter, 40), Ok(42));
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
#[test]
fn hand_written_member_exit_borrowing_its_own_local() {
    assert_eq!(sum_concurrently(SelfBorrowing::InExit, 1), Ok(2));
}
