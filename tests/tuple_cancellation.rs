//! A tuple dropped anywhere — entering, unwinding a failed enter, in the block, exiting — gives
//! every manager it entered a teardown that ends: finished (in place here) or reported. Issue 9,
//! hole 3: a tuple's unwinding exit used to be cut short silently.
mod common;

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use std::future::Future;

use common::{Failure, Log};
use contextlib::{Exit, async_context_manager, async_with};

/// Suspends in its setup and in its teardown; logs when the teardown has run to its end.
#[async_context_manager]
async fn slow_step(
    log: Log,
    name: &'static str,
    fails_to_enter: bool,
) -> Result<&'static str, Failure> {
    yield_now().await;
    if fails_to_enter {
        return Err(Failure(name));
    }
    let exit = r#yield!(name);
    yield_now().await;
    log.push(match exit {
        Exit::Ok => format!("{name} torn down: ok"),
        Exit::Err(error) => format!("{name} torn down: {error}"),
        Exit::Panic(_) => format!("{name} torn down: panic"),
        _ => format!("{name} torn down: cancelled"),
    });
    Ok(())
}

struct Scenario {
    name: &'static str,
    /// Which managers fail to enter.
    fails: &'static [bool],
    block_fails: bool,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "second of two fails to enter",
        fails: &[false, true],
        block_fails: false,
    },
    Scenario {
        name: "third of three fails to enter",
        fails: &[false, false, true],
        block_fails: false,
    },
    Scenario {
        name: "second of three fails to enter",
        fails: &[false, true, false],
        block_fails: false,
    },
    Scenario {
        name: "two enter, block succeeds",
        fails: &[false, false],
        block_fails: false,
    },
    Scenario {
        name: "three enter, block fails",
        fails: &[false, false, false],
        block_fails: true,
    },
];

async fn run(scenario: &Scenario, probe: &Probe, log: &Log) -> Result<(), Failure> {
    let step = |index: usize| {
        let name = ["a", "b", "c"][index];
        probe.observe(slow_step(log.clone(), name, scenario.fails[index]))
    };
    let block_fails = scenario.block_fails;
    match scenario.fails.len() {
        2 => async_with!((step(0), step(1)) => |_| {
            yield_now().await;
            if block_fails { Err(Failure("block")) } else { Ok(()) }
        }),
        3 => async_with!((step(0), step(1), step(2)) => |_| {
            yield_now().await;
            if block_fails { Err(Failure("block")) } else { Ok(()) }
        }),
        _ => unreachable!(),
    }
}

#[test]
fn every_entered_manager_of_a_tuple_is_torn_down_to_the_end_wherever_it_is_dropped() {
    for scenario in SCENARIOS {
        let probe = Probe::default();
        let log = Log::default();
        let mut runs = 0;
        cancel_at_every_poll(
            || run(scenario, &probe, &log),
            |outcome| {
                runs += 1;
                let began = probe.assert_torn_down_once(&outcome);
                let finished = log.take();
                assert_eq!(
                    finished.len(),
                    began.len(),
                    "{}: every teardown that began ran to its end ({finished:?})",
                    scenario.name
                );
                if let Run::Completed { output, .. } = outcome {
                    let failed = scenario.fails.iter().position(|&fails| fails);
                    match failed {
                        Some(index) => {
                            assert_eq!(output, Err(Failure(["a", "b", "c"][index])));
                            assert!(began.iter().all(|seen| *seen == Observed::Err));
                        }
                        None if scenario.block_fails => assert_eq!(output, Err(Failure("block"))),
                        None => assert_eq!(output, Ok(())),
                    }
                }
            },
        );
        assert!(
            runs > 3,
            "{}: the harness dropped the future at {runs} points",
            scenario.name
        );
    }
}

/// A panicking cancel in the middle of a tuple is reported under that manager's name, and the
/// managers left of it are still cancelled.
#[test]
fn a_tuple_cancels_every_manager_even_when_one_teardown_panics() {
    #[async_context_manager]
    async fn panics_when_cancelled(log: Log, name: &'static str) -> Result<u8, Failure> {
        let exit = r#yield!(1);
        if matches!(exit, Exit::Cancelled) && name == "b" {
            panic!("b's teardown panicked");
        }
        log.push(format!("{name} torn down"));
        Ok(())
    }
    let log = Log::default();
    let hook_reports = teardown_reports();
    {
        let mut future = std::pin::pin!(async {
            async_with!((panics_when_cancelled(log.clone(), "a"), panics_when_cancelled(log.clone(), "b"), panics_when_cancelled(log.clone(), "c")) => |_| {
                std::future::pending::<()>().await;
            })
        });
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending()); // in the block
    } // dropped: the tuple is cancelled, right to left
    assert_eq!(log.take(), ["c torn down", "a torn down"]);
    let reports = hook_reports.lock().unwrap();
    assert!(
        reports
            .iter()
            .any(|report| report.contains("panics_when_cancelled") && report.contains("panicked")),
        "{reports:?}"
    );
}

/// Collects teardown reports (the hook is global: tests that read it keep to this file).
fn teardown_reports() -> &'static std::sync::Mutex<Vec<String>> {
    static REPORTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    contextlib::set_teardown_hook(|report| REPORTS.lock().unwrap().push(report.to_string()));
    &REPORTS
}
