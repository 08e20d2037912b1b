//! `Either<L, R>`: one of two managers chosen at run time (`a() if c else b()`), a manager when
//! both sides lend the same target and share the error type; its exit, cancellation and
//! teardown reports are those of the side entered (issue 21). `Either` where a type hint asks
//! for a manager (bounds, trait methods, the `Send` variant, the short form, boxes) is tested
//! with the other managers in `tests/type_hints.rs`.
mod common;

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Waker};

use common::{Failure, Fault, Log, block_on_catching, cut_at_every_poll, describe, faulty};
use contextlib::testing::{Observed, Probe, cancel_at_every_poll, yield_now};
use contextlib::{
    AsyncContextManager, Either, Exit, ExitStack, IntoValue, Lend, SendAsyncContextManager,
    TeardownOutcome, TeardownReport, async_context_manager, async_with, closing, concurrent,
    nullcontext,
};
use futures_executor::block_on;

/// A generated manager that borrows its argument.
#[async_context_manager]
async fn borrowing<'l>(log: &'l Log, name: &'static str) -> Result<&'static str, Failure> {
    yield_now().await;
    log.push(format!("enter {name}"));
    let exit = r#yield!(name);
    yield_now().await;
    log.push(format!("exit {name}: {}", describe(&exit)));
    Ok(())
}

/// A hand-written manager with the same target and error, suspending in enter and exit.
struct Hand<'l> {
    log: &'l Log,
    name: &'static str,
    fault: Fault,
}

impl<'a> Lend<'a> for Hand<'_> {
    type Target = &'static str;
}

impl AsyncContextManager for Hand<'_> {
    type Error = Failure;

    async fn enter(self: Pin<&mut Self>) -> Result<&'static str, Failure> {
        yield_now().await;
        match self.fault {
            Fault::Enter => return Err(Failure(self.name)),
            Fault::EnterPanic => panic!("{} panicked entering", self.name),
            _ => {}
        }
        self.log.push(format!("enter {}", self.name));
        Ok(self.name)
    }

    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Failure> {
        yield_now().await;
        self.log
            .push(format!("exit {}: {}", self.name, describe(&exit)));
        if self.fault == Fault::Exit {
            Err(Failure(self.name))
        } else {
            Ok(())
        }
    }
}

/// Opted in to the `Send` variant, so that it goes on an `ExitStack`.
impl SendAsyncContextManager for Hand<'_> {
    type EnterFuture<'m>
        = Pin<Box<dyn Future<Output = Result<&'static str, Failure>> + Send + 'm>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = contextlib::BoxExit<'x, Failure>
    where
        Self: 'x;
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        Box::pin(self.enter())
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        Box::pin(self.exit(exit))
    }
}

/// Either side, chosen at run time: generated, generated borrowing, hand-written.
fn pick<'l>(
    log: &'l Log,
    left: bool,
    fault: Fault,
) -> Either<
    impl AsyncContextManager<Error = Failure> + for<'a> Lend<'a, Target = &'static str> + 'l,
    Hand<'l>,
> {
    if left {
        Either::Left(faulty(log.clone(), "left", fault))
    } else {
        Either::Right(Hand {
            log,
            name: "right",
            fault,
        })
    }
}

#[test]
fn the_side_held_enters_and_exits() {
    let log = Log::default();
    for cached in [true, false] {
        // The spelling: a manager chosen at run time.
        let m = if cached {
            Either::Left(faulty(log.clone(), "cache", Fault::None))
        } else {
            Either::Right(borrowing(&log, "db"))
        };
        let got = block_on(async {
            async_with!(m => |s| {
                log.push(format!("block {s}"));
                Ok::<_, Failure>(s.len())
            })
        });
        let name = if cached { "cache" } else { "db" };
        assert_eq!(got, Ok(name.len()));
        assert_eq!(
            log.take(),
            [
                format!("enter {name}"),
                format!("block {name}"),
                format!("exit {name}: ok")
            ]
        );
    }
    for left in [true, false] {
        let got = block_on(async { async_with!(pick(&log, left, Fault::None) => |s| s) });
        assert_eq!(got, Ok(if left { "left" } else { "right" }));
        assert_eq!(log.take().len(), 2);
    }
}

/// The log of side `name` entered, then exited having seen `seen`.
fn entered_and_exited(name: &str, seen: &str) -> [String; 2] {
    [format!("enter {name}"), format!("exit {name}: {seen}")]
}

#[test]
fn errors_are_the_sides() {
    let log = Log::default();
    for left in [true, false] {
        let name = if left { "left" } else { "right" };
        // A failed enter: no exit, the error comes back.
        let got = block_on(async { async_with!(pick(&log, left, Fault::Enter) => |_| ()) });
        assert_eq!(got, Err(Failure(name)));
        assert!(log.take().is_empty());
        // A block error: the side's exit sees it, it comes back.
        let got = block_on(async {
            async_with!(pick(&log, left, Fault::None) => |_| {
                Err::<(), _>(Failure("block"))
            })
        });
        assert_eq!(got, Err(Failure("block")));
        assert_eq!(log.take(), entered_and_exited(name, "err failure: block"));
        // An exit error wins.
        let got = block_on(async { async_with!(pick(&log, left, Fault::Exit) => |_| ()) });
        assert_eq!(got, Err(Failure(name)));
        assert_eq!(log.take().len(), 2);
    }
}

#[test]
fn panics_reach_the_side_and_resume() {
    let log = Log::default();
    for left in [true, false] {
        let name = if left { "left" } else { "right" };
        let got: Result<Result<(), Failure>, String> = block_on_catching(async {
            async_with!(pick(&log, left, Fault::None) => |_| {
                panic!("block panicked");
            })
        });
        assert_eq!(got.unwrap_err(), "block panicked");
        assert_eq!(log.take(), entered_and_exited(name, "panic block panicked"));
        let got =
            block_on_catching(async { async_with!(pick(&log, left, Fault::EnterPanic) => |_| ()) });
        assert_eq!(got.unwrap_err(), format!("{name} panicked entering"));
        assert!(log.take().is_empty());
    }
}

#[test]
fn the_side_entered_is_torn_down_once_wherever_the_future_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    for left in [true, false] {
        for fault in [Fault::None, Fault::Enter, Fault::Exit] {
            let polls = cut_at_every_poll(
                &probe,
                &log,
                || async {
                    let manager = if left {
                        Either::Left(probe.observe(faulty(log.clone(), "left", fault)))
                    } else {
                        Either::Right(probe.observe(Hand {
                            log: &log,
                            name: "right",
                            fault,
                        }))
                    };
                    async_with!(manager => |name| {
                        yield_now().await;
                        Ok::<_, Failure>(name)
                    })
                },
                |output, teardowns, _| {
                    let name = if left { "left" } else { "right" };
                    match fault {
                        Fault::None => {
                            assert_eq!(output, Ok(name));
                            assert_eq!(teardowns, [Observed::Ok]);
                        }
                        _ => assert_eq!(output, Err(Failure(name)), "{fault:?}"),
                    }
                },
            );
            assert!(polls >= 2, "{polls}");
        }
    }
}

/// Managers on either side: tuples, `concurrent`, `nullcontext`, `closing`, hand-written,
/// generated borrowing their arguments or not.
#[test]
fn composed_managers_go_on_either_side() {
    #[async_context_manager]
    async fn num(n: &u32) -> u32 {
        r#yield!(*n);
    }
    let n = 3;
    for left in [true, false] {
        let m = if left {
            Either::Left((nullcontext(1u32), num(&n)))
        } else {
            Either::Right(concurrent((num(&n), nullcontext(2u32))))
        };
        let sum = block_on(async { async_with!(m => |(a, b)| a + b) }).into_value();
        assert_eq!(sum, if left { 4 } else { 5 });

        let m = if left {
            Either::Left(num(&n))
        } else {
            Either::Right(nullcontext(7))
        };
        assert_eq!(
            block_on(async { async_with!(m => |x| x) }).into_value(),
            if left { 3 } else { 7 }
        );

        let closed = Log::default();
        let m = if left {
            Either::Left(closing(vec![1u8], |bytes: Vec<u8>| {
                let closed = closed.clone();
                async move {
                    closed.push(format!("closed {}", bytes.len()));
                    Ok::<_, Failure>(())
                }
            }))
        } else {
            Either::Right(Buffer(vec![1, 2]))
        };
        let len = block_on(async { async_with!(m => |bytes| { bytes.push(0); bytes.len() }) });
        assert_eq!(len, Ok(if left { 2 } else { 3 }));
        assert_eq!(closed.take(), if left { vec!["closed 2"] } else { vec![] });
    }
}

/// A hand-written manager lending `&mut Vec<u8>`.
struct Buffer(Vec<u8>);

impl<'a> Lend<'a> for Buffer {
    type Target = &'a mut Vec<u8>;
}

impl AsyncContextManager for Buffer {
    type Error = Failure;
    async fn enter(self: Pin<&mut Self>) -> Result<&mut Vec<u8>, Failure> {
        Ok(&mut self.get_mut().0)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Failure> {
        Ok(())
    }
}

impl SendAsyncContextManager for Buffer {
    type EnterFuture<'m> =
        Pin<Box<dyn Future<Output = Result<&'m mut Vec<u8>, Failure>> + Send + 'm>>;
    type ExitFuture<'x> = contextlib::BoxExit<'x, Failure>;
    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        Box::pin(self.enter())
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        Box::pin(self.exit(exit))
    }
}

// --- On an `ExitStack` ---

#[test]
fn an_either_goes_on_an_exit_stack() {
    let log = Log::default();
    let got = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let a = stack.enter(Either::<_, Hand<'_>>::Left(faulty(log.clone(), "a", Fault::None))).await?;
            let b = stack
                .enter(if std::hint::black_box(false) {
                Either::Left(borrowing(&log, "unused"))
            } else {
                Either::Right(faulty(log.clone(), "b", Fault::None))
            })
                .await?;
            log.push(format!("block {a} {b}"));
            Ok::<_, Failure>(stack.len())
        })
    });
    assert_eq!(got, Ok(2));
    assert_eq!(
        log.take(),
        [
            "enter a",
            "enter b",
            "block a b",
            "exit b: ok",
            "exit a: ok"
        ]
    );
}

#[test]
fn a_stacked_either_is_torn_down_once_wherever_the_future_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    for left in [true, false] {
        cut_at_every_poll(
            &probe,
            &log,
            || async {
                async_with!(ExitStack::<Failure>::new() => |stack| {
                    let manager = if left {
                        Either::Left(probe.observe(faulty(log.clone(), "left", Fault::None)))
                    } else {
                        Either::Right(probe.observe(faulty(log.clone(), "right", Fault::None)))
                    };
                    let name = stack.enter(manager).await?;
                    yield_now().await;
                    Ok::<_, Failure>(name)
                })
            },
            |output, teardowns, _| {
                assert_eq!(output, Ok(if left { "left" } else { "right" }));
                assert_eq!(teardowns, [Observed::Ok]);
            },
        );
    }
}

// --- Reports and constants ---

static REPORTS: Mutex<Vec<(String, TeardownOutcome)>> = Mutex::new(Vec::new());

fn record(report: &TeardownReport) {
    REPORTS
        .lock()
        .unwrap()
        .push((report.manager.to_string(), report.outcome));
}

#[async_context_manager]
async fn stuck_teardown() -> Result<&'static str, Failure> {
    r#yield!("stuck");
    std::future::pending::<()>().await;
    Ok(())
}

/// Its teardown takes a while (it runs detached, on contextlib's teardown runtime).
#[async_context_manager]
async fn slow_teardown() -> Result<&'static str, Failure> {
    r#yield!("slow");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    Ok(())
}

static LOG: std::sync::LazyLock<Log> = std::sync::LazyLock::new(Log::default);

#[async_context_manager]
async fn failing_teardown() -> Result<&'static str, Failure> {
    r#yield!("failing");
    Err(Failure("teardown"))
}

/// The teardowns that cannot finish are reported under the name of the side entered, not
/// "Either": from a cancelled block (the side's `cancel`) and from a dropped exit (the
/// `Either`'s exit finishes it in place). (One test sets the process-wide hook.)
#[test]
fn teardowns_are_reported_under_the_sides_name() {
    let previous = contextlib::set_teardown_hook(record);
    for left in [true, false] {
        // Cancelled inside the block.
        let mut future = pin!(async {
            let manager = if left {
                Either::Left(stuck_teardown())
            } else {
                Either::Right(failing_teardown())
            };
            async_with!(manager => |_| std::future::pending::<()>().await)
        });
        let polled = future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending());
    }
    // An exit future dropped before its first poll.
    let mut manager = pin!(Either::<_, Hand<'_>>::Left(failing_teardown()));
    block_on(manager.as_mut().enter()).unwrap();
    drop(manager.as_mut().exit(Exit::Ok));
    // A side whose exit finishes by itself (detached) and one whose exit does not: dropped
    // mid-exit, the detached side's teardown is left to finish where it runs (no false
    // "unfinished" report), as it would be without the `Either` around it.
    if !cfg!(miri) {
        let polls = cancel_at_every_poll(
            || async {
                let manager = if std::hint::black_box(true) {
                    Either::Left(contextlib::tokio::detach_on_cancel(slow_teardown()))
                } else {
                    Either::Right(Hand {
                        log: &LOG,
                        name: "hand",
                        fault: Fault::None,
                    })
                };
                async_with!(manager => |name| name)
            },
            |_| {
                assert!(contextlib::tokio::wait_for_teardowns(
                    std::time::Duration::from_secs(10)
                ));
            },
        );
        assert!(polls >= 2);
    }
    contextlib::set_teardown_hook(previous);

    let reports: Vec<_> = std::mem::take(&mut *REPORTS.lock().unwrap())
        .into_iter()
        .filter(|(name, _)| name.contains("_teardown") || name.contains("Either"))
        .collect();
    let outcomes: Vec<_> = reports.iter().map(|(_, outcome)| *outcome).collect();
    assert_eq!(
        outcomes,
        [
            TeardownOutcome::Unfinished,
            TeardownOutcome::Failed,
            TeardownOutcome::Failed
        ]
    );
    assert!(reports[0].0.ends_with("stuck_teardown"), "{reports:?}");
    assert!(reports[1].0.ends_with("failing_teardown"), "{reports:?}");
    assert!(reports[2].0.ends_with("failing_teardown"), "{reports:?}");
}

#[test]
fn constants() {
    type Mixed = Either<contextlib::NullContext<u8>, contextlib::NullContext<u8>>;
    const { assert!(Mixed::EXIT_FINISHES_WHEN_DROPPED) };
    assert_eq!(Mixed::name(), "contextlib::Either");
    fn unpin<T: Unpin>() {}
    unpin::<Mixed>();
}
