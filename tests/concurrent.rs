//! `concurrent((a, b, ..))`: managers entered and exited together.
mod common;

use std::time::Duration;

use common::{
    Failure, Fault, Log, NAMES, Row, assert_every_enter_exited, block_on_catching, count_starting,
    describe, faulty, owned,
};
use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{async_context_manager, async_with, concurrent};

/// The rows: the block fails or returns the targets joined, and the log is sorted (the members
/// run together, so only each member's own order and the block's place are fixed).
#[rustfmt::skip]
const CASES: &[Row<&str>] = &[
    ("every member enters and sees the block's outcome", &[Fault::None, Fault::None, Fault::None], true, Ok(Err(Failure("block"))),
        &["block", "enter a", "enter b", "enter c", "exit a: err failure: block", "exit b: err failure: block", "exit c: err failure: block"]),
    ("a failed enter exits the members that entered with its error", &[Fault::None, Fault::Enter], false, Ok(Err(Failure("b"))),
        &["enter a", "exit a: err failure: b"]),
    ("a panicking enter exits the others then resumes", &[Fault::EnterPanic, Fault::None], false, Err("a panicked entering"),
        &["enter b", "exit b: panic a panicked entering"]),
    ("when several exits fail the leftmost error wins", &[Fault::None, Fault::Exit, Fault::Exit, Fault::None], false, Ok(Err(Failure("b"))),
        &["block", "enter a", "enter b", "enter c", "enter d", "exit a: ok", "exit b: ok", "exit c: ok", "exit d: ok"]),
];

async fn run(faults: &[Fault], block_fails: bool, log: &Log) -> Result<String, Failure> {
    let member = |index: usize| faulty(log.clone(), NAMES[index], faults[index]);
    let block = |targets: &[&str]| {
        log.push("block");
        if block_fails {
            Err(Failure("block"))
        } else {
            Ok(targets.concat())
        }
    };
    match faults.len() {
        2 => async_with!(concurrent((member(0), member(1))) => |(a, b)| block(&[a, b])),
        3 => {
            async_with!(concurrent((member(0), member(1), member(2))) => |(a, b, c)| block(&[a, b, c]))
        }
        4 => {
            async_with!(concurrent((member(0), member(1), member(2), member(3))) => |(a, b, c, d)| block(&[a, b, c, d]))
        }
        _ => unreachable!(),
    }
}

#[test]
fn members_enter_and_exit_together_and_unwind_failures() {
    for (name, faults, block_fails, outcome, sorted_log) in CASES {
        let log = Log::default();
        let got = block_on_catching(run(faults, *block_fails, &log));
        assert_eq!(got, owned(outcome), "{name}");
        let mut events = log.take();
        if let Some(at) = events.iter().position(|e| e == "block") {
            let entered = count_starting(&events, "enter");
            assert_eq!(
                at, entered,
                "{name}: the block runs once all have entered ({events:?})"
            );
        }
        for (at, event) in events.iter().enumerate() {
            if let Some(member) = event
                .strip_prefix("exit ")
                .and_then(|e| e.split(':').next())
            {
                let entered = format!("enter {member}");
                assert!(
                    events[..at].contains(&entered),
                    "{name}: {member} exited before entering ({events:?})"
                );
            }
        }
        events.sort();
        assert_eq!(events, *sorted_log, "{name}");
    }
}

#[test]
fn every_member_is_torn_down_wherever_the_future_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    for second in [Fault::None, Fault::Enter] {
        cancel_at_every_poll(
            || async {
                async_with!(concurrent((probe.observe(faulty(log.clone(), "a", Fault::None)), probe.observe(faulty(log.clone(), "b", second)))) => |_| {
                    yield_now().await;
                    Ok::<_, Failure>(())
                })
            },
            |run| {
                let teardowns = probe.assert_torn_down_once(&run);
                assert_every_enter_exited(&log.take());
                if let Run::Completed { .. } = run {
                    if second == Fault::None {
                        assert_eq!(teardowns, [Observed::Ok, Observed::Ok]);
                    }
                }
            },
        );
    }
}

#[async_context_manager]
async fn slow(log: Log, name: &'static str) -> Result<&'static str, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    let exit = r#yield!(name);
    tokio::time::sleep(Duration::from_millis(50)).await;
    log.push(format!("exit {name}: {}", describe(&exit)));
    Ok(())
}

/// On tokio's paused clock, so the durations are exact: two 50 ms enters take 50 ms together,
/// and so do two 50 ms exits; the sequential tuple takes twice as long.
#[tokio::test(flavor = "current_thread", start_paused = true)]
#[cfg_attr(miri, ignore = "tokio timers; the same logic runs above under Miri")]
async fn members_enter_and_exit_together() {
    // (row, concurrent or a tuple, entered after, done after), in ms.
    for (name, together, entered, done) in [
        ("concurrent", true, 50, 100),
        ("sequential tuple", false, 100, 200),
    ] {
        let log = Log::default();
        let started = tokio::time::Instant::now();
        let entered_after = if together {
            async_with!(concurrent((slow(log.clone(), "a"), slow(log.clone(), "b"))) => |_| started.elapsed())
        } else {
            async_with!((slow(log.clone(), "a"), slow(log.clone(), "b")) => |_| started.elapsed())
        };
        let ms = Duration::from_millis;
        assert_eq!(entered_after.unwrap(), ms(entered), "{name}");
        assert_eq!(started.elapsed(), ms(done), "{name}");
        assert_eq!(log.take().len(), 2, "{name}: both exited");
    }
}

#[async_context_manager]
async fn refuses_at_once() -> Result<&'static str, std::io::Error> {
    Err(std::io::Error::other("refused"))?;
    r#yield!("never");
    Ok(())
}

/// Review finding: a failed enter used to wait for its slowest sibling. The enters still
/// running are now dropped (fail fast): the error comes back at once.
#[tokio::test(flavor = "current_thread", start_paused = true)]
#[cfg_attr(miri, ignore = "tokio timers")]
async fn a_failed_enter_does_not_wait_for_the_others() {
    let log = Log::default();
    let started = tokio::time::Instant::now();
    let result = async_with!(concurrent((refuses_at_once(), slow(log.clone(), "slow"))) => |_| ());
    assert_eq!(result.unwrap_err().to_string(), "refused");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(log.take().is_empty()); // the slow one never entered, so it is not exited
}

/// Review finding: an exit that panics as it is called (a `closing` whose close panics at
/// once) used to keep the members after it from their teardowns.
#[test]
fn an_exit_that_panics_when_called_does_not_skip_the_others() {
    let log = Log::default();
    let closed = log.clone();
    let result = block_on_catching(async {
        async_with!(concurrent((
            contextlib::closing(1u8, |_v| -> std::future::Ready<Result<(), Failure>> { panic!("close panicked at once") }),
            contextlib::closing(2u8, move |v| async move { closed.push(format!("closed {v}")); Ok::<_, Failure>(()) }),
        )) => |_| ())
    });
    assert_eq!(result.unwrap_err(), "close panicked at once");
    assert_eq!(log.take(), ["closed 2"]);
}
