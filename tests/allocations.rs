//! Entering and exiting allocates nothing: no boxed body, no boxed state.
#[path = "support/counting_allocator.rs"]
mod counting_allocator;

use std::convert::Infallible;
use std::pin::Pin;

use contextlib::{AsyncContextManager, Exit, async_context_manager, async_with};
use counting_allocator::allocations;

#[async_context_manager]
async fn owned(n: u64) -> u64 {
    r#yield!(n);
}

#[async_context_manager]
async fn borrowed(n: u64) -> Result<&mut u64, std::fmt::Error> {
    let mut value = n;
    match r#yield!(&mut value) {
        Exit::Ok => Ok(()),
        _ => Err(std::fmt::Error),
    }
}

struct HandWritten(u64);

impl<'a> contextlib::Lend<'a> for HandWritten {
    type Target = &'a mut u64;
}

impl AsyncContextManager for HandWritten {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<&mut u64, Infallible> {
        Ok(&mut self.get_mut().0)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        Ok(())
    }
}

#[test]
fn enter_and_exit_allocate_nothing() {
    let mut total = 0;
    // Counted inside the future: the executor's own setup is not ours to count.
    let allocated = futures_executor::block_on(async {
        let before = allocations();
        for i in 0..100 {
            total += async_with!(owned(i) => |n| n).unwrap();
            total +=
                async_with!(borrowed(i) => |n| { *n += 1; Ok::<_, std::fmt::Error>(*n) }).unwrap();
            let failed: Result<u64, std::fmt::Error> =
                async_with!(borrowed(i) => |_| Err(std::fmt::Error));
            assert!(failed.is_err());
            total += async_with!(HandWritten(i) => |n| *n).unwrap();
            total += async_with!((owned(i), owned(1)) => |(a, b)| a + b).unwrap();
        }
        allocations() - before
    });
    assert_eq!(allocated, 0);
    assert_eq!(total, 4 * (0..100).sum::<u64>() + 200);
}
