//! Dropping the future that runs `async_with!` at every possible point: the teardown runs
//! exactly once, with `Exit::Cancelled` if the block was running, and not at all if the enter
//! had not finished (the setup's locals are dropped, as a Python generator that never yielded).
mod common;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Mutex;

use common::{Failure, describe};
use contextlib::testing::{Run, cancel_at_every_poll, yield_now};
use contextlib::{AsyncContextManager, Exit, async_context_manager, async_with};

/// Events, in order, shared by a scenario's managers and the check.
#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl Events {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Pushes "dropped NAME" when dropped: shows which locals a cancellation dropped.
struct DropProbe<'a>(&'a Events, &'static str);
impl Drop for DropProbe<'_> {
    fn drop(&mut self) {
        self.0.push(format!("dropped {}", self.1));
    }
}

/// Suspends in its setup and in its teardown (waking itself each time).
#[async_context_manager]
async fn resource<'e>(events: &'e Events, name: &'static str) -> Result<&'static str, Failure> {
    let _setup = DropProbe(events, name);
    yield_now().await;
    events.push(format!("entered {name}"));
    let exit = r#yield!(name);
    yield_now().await;
    events.push(format!("exit {name}: {}", describe(&exit)));
    Ok(())
}

fn exits(events: &[String]) -> Vec<&String> {
    events
        .iter()
        .filter(|event| event.starts_with("exit"))
        .collect()
}

#[test]
fn a_generated_manager_tears_down_exactly_once_wherever_it_is_dropped() {
    let events = Events::default();
    let polls = cancel_at_every_poll(
        || async {
            async_with!(resource(&events, "db") => |name| {
                events.push("block started");
                yield_now().await;
                events.push("block finished");
                Ok::<_, Failure>(name.len())
            })
        },
        |run| {
            let seen = events.take();
            let entered = seen.contains(&"entered db".to_string());
            let block_finished = seen.contains(&"block finished".to_string());
            // The setup's locals are dropped exactly once in every run that started the setup.
            let started = !matches!(run, Run::Dropped { polls: 0 });
            let drops = seen.iter().filter(|e| *e == "dropped db").count();
            assert_eq!(drops, usize::from(started), "{run:?}: {seen:?}");
            match run {
                Run::Completed { output, .. } => {
                    assert_eq!(output, Ok(2));
                    assert_eq!(exits(&seen), ["exit db: ok"]);
                }
                Run::Dropped { .. } if !entered => assert!(exits(&seen).is_empty(), "{seen:?}"),
                Run::Dropped { .. } if !block_finished => {
                    assert_eq!(exits(&seen), ["exit db: cancelled"], "{seen:?}")
                }
                // Dropped during the exit: the same teardown is finished in place.
                Run::Dropped { .. } => assert_eq!(exits(&seen), ["exit db: ok"], "{seen:?}"),
            }
        },
    );
    assert_eq!(polls, 4); // setup, block and teardown each suspend once
}

#[test]
fn a_failing_block_dropped_during_its_exit_still_shows_the_error_to_the_teardown() {
    let events = Events::default();
    cancel_at_every_poll(
        || async {
            async_with!(resource(&events, "db") => |_| {
                yield_now().await;
                Err::<(), _>(Failure("constraint"))
            })
        },
        |run| {
            let seen = events.take();
            let exits = exits(&seen);
            match run {
                Run::Completed { output, .. } => {
                    assert_eq!(output, Err(Failure("constraint")));
                    assert_eq!(exits, ["exit db: err failure: constraint"]);
                }
                Run::Dropped { polls } if polls <= 1 => assert!(exits.is_empty()),
                Run::Dropped { polls: 2 } => assert_eq!(exits, ["exit db: cancelled"]),
                Run::Dropped { .. } => assert_eq!(exits, ["exit db: err failure: constraint"]),
            }
        },
    );
}

#[test]
fn a_tuple_cancels_every_manager_it_entered_right_to_left() {
    let events = Events::default();
    cancel_at_every_poll(
        || async {
            async_with!((resource(&events, "a"), resource(&events, "b")) => |_| {
                yield_now().await;
                events.push("block finished");
                Ok::<_, Failure>(())
            })
        },
        |run| {
            let seen = events.take();
            let entered: Vec<_> = seen.iter().filter(|e| e.starts_with("entered")).collect();
            let exits = exits(&seen);
            match (&run, entered.len()) {
                (Run::Completed { .. }, _) => assert_eq!(exits, ["exit b: ok", "exit a: ok"]),
                (Run::Dropped { .. }, 0) => assert!(exits.is_empty()),
                // `a` entered, `b` was entering: only `a` owes (and gets) a teardown.
                (Run::Dropped { .. }, 1) => assert_eq!(exits, ["exit a: cancelled"], "{seen:?}"),
                (Run::Dropped { .. }, _) if !seen.contains(&"block finished".to_string()) => {
                    assert_eq!(
                        exits,
                        ["exit b: cancelled", "exit a: cancelled"],
                        "{seen:?}"
                    )
                }
                (Run::Dropped { .. }, _) => {
                    assert_eq!(exits, ["exit b: ok", "exit a: ok"], "{seen:?}")
                }
            }
            for name in ["a", "b"] {
                let drops = seen
                    .iter()
                    .filter(|e| **e == format!("dropped {name}"))
                    .count();
                assert!(drops <= 1, "{seen:?}");
            }
        },
    );
}

/// A hand-written manager gets the same guarantee through the trait's default `cancel`.
struct HandWritten<'e> {
    events: &'e Events,
}

impl<'a> contextlib::Lend<'a> for HandWritten<'_> {
    type Target = u8;
}

impl AsyncContextManager for HandWritten<'_> {
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<u8, Infallible> {
        yield_now().await;
        Ok(1)
    }

    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        yield_now().await;
        self.events
            .push(format!("exit hand-written: {}", describe(&exit)));
        Ok(())
    }
}

#[test]
fn a_hand_written_manager_is_cancelled_exactly_once_too() {
    let events = Events::default();
    cancel_at_every_poll(
        || async {
            async_with!(HandWritten { events: &events } => |n| {
                yield_now().await;
                events.push("block finished");
                n
            })
        },
        |run| {
            let seen = events.take();
            match run {
                Run::Completed { .. } => assert_eq!(exits(&seen), ["exit hand-written: ok"]),
                Run::Dropped { polls } if polls <= 1 => assert!(exits(&seen).is_empty()),
                Run::Dropped { .. } if !seen.contains(&"block finished".to_string()) => {
                    assert_eq!(exits(&seen), ["exit hand-written: cancelled"])
                }
                Run::Dropped { .. } => assert_eq!(exits(&seen), ["exit hand-written: ok"]),
            }
        },
    );
}

#[test]
fn cancelled_enter_drops_the_setup_locals_without_a_teardown() {
    #[async_context_manager]
    async fn slow_setup<'e>(events: &'e Events) -> u8 {
        let _connection = DropProbe(events, "half-open connection");
        std::future::pending::<()>().await;
        r#yield!(1);
        events.push("exit");
    }
    let events = Events::default();
    {
        let future = async { async_with!(slow_setup(&events) => |n| n) };
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(events.take(), ["dropped half-open connection"]);
}

/// The harness's own check, on a tuple of generated managers with a hand-written one nested
/// in its block.
#[test]
fn the_probe_sees_every_entered_manager_torn_down_exactly_once() {
    let events = Events::default();
    let probe = &contextlib::testing::Probe::default();
    cancel_at_every_poll(
        || async {
            async_with!((probe.observe(resource(&events, "a")), probe.observe(resource(&events, "b"))) => |(a, b)| {
                async_with!(probe.observe(HandWritten { events: &events }) => |n| {
                    yield_now().await;
                    Ok::<_, Failure>(a.len() + b.len() + usize::from(n))
                })
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            if let Run::Completed { output, .. } = run {
                assert_eq!(output, Ok(3));
                assert_eq!(teardowns, [contextlib::testing::Observed::Ok; 3]);
            }
            events.take();
        },
    );
}
