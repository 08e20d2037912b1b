//! A tuple dropped anywhere — entering, unwinding a failed enter, in the block, exiting — gives
//! every manager it entered a teardown that ends: finished (in place here) or reported. Issue 9,
//! hole 3: a tuple's unwinding exit used to be cut short silently.
mod common;

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};

use common::{Failure, Log, NAMES, drop_while_pending};
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
    shape: Shape,
}

const fn scenario(
    name: &'static str,
    fails: &'static [bool],
    block_fails: bool,
    shape: Shape,
) -> Scenario {
    Scenario {
        name,
        fails,
        block_fails,
        shape,
    }
}

/// How the managers are grouped.
#[derive(Clone, Copy)]
enum Shape {
    /// `(a, b)` or `(a, b, c)`.
    Flat,
    /// `((a, b), c)` or `((a, b), c, d)`: a tuple inside a tuple (adversarial pass).
    Nested,
    /// `(pin!((a, b)).as_mut(), c)`: a pinned tuple borrowed as an element.
    PinnedInner,
}

#[rustfmt::skip]
const SCENARIOS: &[Scenario] = &[
    scenario("second of two fails to enter",       &[false, true],                false, Shape::Flat),
    scenario("third of three fails to enter",      &[false, false, true],         false, Shape::Flat),
    scenario("second of three fails to enter",     &[false, true, false],         false, Shape::Flat),
    scenario("two enter, block succeeds",          &[false, false],               false, Shape::Flat),
    scenario("three enter, block fails",           &[false, false, false],        true,  Shape::Flat),
    scenario("nested, block succeeds",             &[false, false, false],        false, Shape::Nested),
    scenario("nested, block fails",                &[false, false, false],        true,  Shape::Nested),
    scenario("nested, last fails to enter",        &[false, false, false, true],  false, Shape::Nested),
    scenario("pinned inner tuple, block succeeds", &[false, false, false],        false, Shape::PinnedInner),
];

async fn run(scenario: &Scenario, probe: &Probe, log: &Log) -> Result<(), Failure> {
    let step =
        |index: usize| probe.observe(slow_step(log.clone(), NAMES[index], scenario.fails[index]));
    let block_fails = scenario.block_fails;
    macro_rules! with {
        ($managers:expr) => {
            async_with!($managers => |_| {
                yield_now().await;
                if block_fails { Err(Failure("block")) } else { Ok(()) }
            })
        };
    }
    match (scenario.shape, scenario.fails.len()) {
        (Shape::Flat, 2) => with!((step(0), step(1))),
        (Shape::Flat, 3) => with!((step(0), step(1), step(2))),
        (Shape::Nested, 3) => with!(((step(0), step(1)), step(2))),
        (Shape::Nested, 4) => with!(((step(0), step(1)), step(2), step(3))),
        (Shape::PinnedInner, 3) => {
            let mut inner = std::pin::pin!((step(0), step(1)));
            with!((inner.as_mut(), step(2)))
        }
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
                            assert_eq!(output, Err(Failure(NAMES[index])));
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
    // Dropped in the block: the tuple is cancelled, right to left.
    drop_while_pending(async {
        async_with!((panics_when_cancelled(log.clone(), "a"), panics_when_cancelled(log.clone(), "b"), panics_when_cancelled(log.clone(), "c")) => |_| {
            std::future::pending::<()>().await;
        })
    });
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

/// A panic payload whose own `Drop` panics.
struct Bomb;
impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the payload's drop panicked");
    }
}

/// Adversarial pass: a cancelled teardown that panics with a payload whose `Drop` panics too
/// used to unwind out of the tuple's cancel, skipping the managers left of it.
#[test]
fn a_panic_payload_that_panics_when_dropped_does_not_skip_a_teardown() {
    #[async_context_manager]
    async fn cancelled(log: Log, name: &'static str, panics: u8) -> Result<u8, Failure> {
        r#yield!(1);
        log.push(format!("{name} torn down"));
        match panics {
            1 => panic!("plain panic"),
            2 => std::panic::panic_any(Bomb),
            _ => Ok(()),
        }
    }
    let log = Log::default();
    drop_while_pending(async {
        async_with!((cancelled(log.clone(), "a", 0), cancelled(log.clone(), "b", 2), cancelled(log.clone(), "c", 1)) => |_| {
            std::future::pending::<()>().await;
        })
    });
    assert_eq!(log.take(), ["c torn down", "b torn down", "a torn down"]);
}

/// Adversarial pass: when a later manager fails to enter, a target whose `Drop` panics used to
/// skip the exits of the managers already entered.
#[test]
fn a_target_that_panics_when_dropped_does_not_skip_the_unwinding_exits() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the target's drop panicked");
        }
    }
    #[async_context_manager]
    async fn lends_a_bomb(log: Log) -> Result<PanicsOnDrop, Failure> {
        let exit = r#yield!(PanicsOnDrop);
        log.push(format!("a torn down: {exit:?}"));
        Ok(())
    }
    #[async_context_manager]
    async fn refuses() -> Result<PanicsOnDrop, Failure> {
        Err(Failure("refused"))?;
        r#yield!(PanicsOnDrop);
        Ok(())
    }
    let log = Log::default();
    let result = common::block_on_catching(async {
        async_with!((lends_a_bomb(log.clone()), refuses()) => |_| ())
    });
    assert_eq!(result.unwrap_err(), "the target's drop panicked");
    assert_eq!(log.take(), ["a torn down: Cancelled"]);
}
