//! Adversarial pass: a teardown hook that panics used to unwind out of a tuple's cancel and
//! skip the managers left of the one being reported. (One test: the hook is process-wide.)
mod common;

use common::Log;
use contextlib::{Exit, async_context_manager, async_with};

#[async_context_manager]
async fn fails_when_cancelled(log: Log, name: &'static str) -> Result<u8, String> {
    let exit = r#yield!(1);
    log.push(format!("{name} torn down"));
    if matches!(exit, Exit::Cancelled) {
        return Err(format!("{name}'s rollback failed")); // reported: nobody can receive it
    }
    Ok(())
}

#[test]
fn a_panicking_teardown_hook_does_not_skip_a_teardown() {
    contextlib::set_teardown_hook(|report| panic!("the hook panicked on: {report}"));
    let log = Log::default();
    {
        let mut future = std::pin::pin!(async {
            async_with!((fails_when_cancelled(log.clone(), "a"), fails_when_cancelled(log.clone(), "b")) => |_| {
                std::future::pending::<()>().await;
            })
        });
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(log.take(), ["b torn down", "a torn down"]);
}
