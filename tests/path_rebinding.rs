//! A crate that rebinds `::contextlib` to itself (`extern crate self as contextlib;`) and
//! re-exports the real items except the ones it redefines: here `async_with!`, which the
//! attribute names for an `async_with!` around the yield (repro 02 of the hostile review of
//! main at a46fe3a, kept as a regression test). The hijacking macro answers the attribute's
//! probe, receives the block that holds the yield, and polls it twice within one poll of the
//! manager; before, the second poll read the lent target as an `Exit` (undefined behaviour,
//! a segfault natively). Now the yield point refuses the second poll with a clear panic. No
//! `unsafe` in this crate. Runs under Miri in both borrow models (.ci/miri).
#![forbid(unsafe_code)]
extern crate contextlib as real;
extern crate self as contextlib;

pub use real::*;

#[macro_export]
macro_rules! async_with {
    (@contextlib_async_with) => {}; // the attribute's "are you contextlib's?" probe
    (@yielding $outer:ident; $manager:expr => |$target:pat_param| $body:expr) => {{
        let $target = $manager;
        let mut block = ::core::pin::pin!(async { $body });
        let _ = ::std::future::poll_fn(|cx| {
            let _ = ::core::future::Future::poll(block.as_mut(), cx); // lends the target
            ::core::task::Poll::Ready(::core::future::Future::poll(block.as_mut(), cx)) // reads it as an `Exit`?
        })
        .await;
        real::Exit::Cancelled
    }};
    // Outside the attribute, the hijacked macro stands for contextlib's own.
    ($($rest:tt)*) => { real::async_with!($($rest)*) };
}

#[real::async_context_manager]
async fn composed(log: &mut Vec<String>) -> (u64, u64) {
    let exit: real::Exit<'_> = async_with!(() => |()| {
        r#yield!((0x1000, 0x10))
    });
    log.push(format!("{exit:?}"));
}

fn panic_message(run: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .expect_err("the hijack must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_hijacked_async_with_around_the_yield_gets_a_panic_not_the_target() {
    let mut log = Vec::new();
    let message = panic_message(|| {
        let _ =
            futures_executor::block_on(async { real::async_with!(composed(&mut log) => |t| t) });
    });
    assert!(message.contains("twice within one poll"), "{message}");
    assert!(log.is_empty(), "{log:?}");
}
