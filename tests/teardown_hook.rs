//! A teardown that cannot be finished in place, or fails, after a cancellation is reported to
//! the teardown hook: never silently lost. (One test: the hook is process-wide.)
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Waker};

use contextlib::{Exit, TeardownOutcome, TeardownReport, async_context_manager, async_with};

static REPORTS: Mutex<Vec<(String, TeardownOutcome)>> = Mutex::new(Vec::new());

fn record(report: &TeardownReport) {
    REPORTS
        .lock()
        .unwrap()
        .push((report.manager.to_string(), report.outcome));
}

#[derive(Clone, Copy)]
enum Teardown {
    WaitsForever,
    Fails,
    Panics,
    Quick,
}

#[async_context_manager]
async fn flaky(teardown: Teardown) -> Result<u8, String> {
    let exit = r#yield!(1);
    assert!(matches!(exit, Exit::Cancelled));
    match teardown {
        Teardown::WaitsForever => std::future::pending().await,
        Teardown::Fails => Err("rollback failed".to_string()),
        Teardown::Panics => panic!("teardown panicked"),
        Teardown::Quick => Ok(()),
    }
}

/// Polls the block once (it stops at a pending future inside), then drops it.
fn cancel_in_block(teardown: Teardown) {
    let future = async {
        async_with!(flaky(teardown) => |n| {
            std::future::pending::<()>().await;
            n
        })
    };
    let mut future = pin!(future);
    assert!(
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending()
    );
}

#[test]
fn unfinished_failed_and_panicking_teardowns_are_reported() {
    let previous = contextlib::set_teardown_hook(record);
    for teardown in [
        Teardown::WaitsForever,
        Teardown::Fails,
        Teardown::Panics,
        Teardown::Quick,
    ] {
        cancel_in_block(teardown);
    }
    contextlib::set_teardown_hook(previous);
    let reports = REPORTS.lock().unwrap().clone();
    let outcomes: Vec<_> = reports.iter().map(|(_, outcome)| *outcome).collect();
    assert_eq!(
        outcomes,
        [
            TeardownOutcome::Unfinished,
            TeardownOutcome::Failed,
            TeardownOutcome::Panicked
        ]
    );
    for (manager, _) in &reports {
        assert!(manager.ends_with("teardown_hook::flaky"), "{manager}");
    }
    let message = TeardownReport {
        manager: "app::transaction",
        outcome: TeardownOutcome::Unfinished,
    }
    .to_string();
    assert!(
        message.contains("`app::transaction` was still waiting"),
        "{message}"
    );
}
