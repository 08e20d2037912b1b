//! `Option<M>` as a manager (Python's `cm = a() if c else nullcontext()`): `Some(manager)` lends
//! `Some(target)` and tears down as `manager`; `None` enters nothing and lends `None`.
mod common;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};

use common::{Failure, Fault, Log, block_on_catching, cut_at_every_poll, describe, faulty};
use contextlib::testing::{Observed, Probe, yield_now};
use contextlib::{
    AsyncContextManager, Either, Exit, ExitStack, IntoValue, Lend, SendAsyncContextManager, Target,
    async_context_manager, async_with, closing, concurrent, nullcontext,
};
use futures_executor::block_on;

/// A generated manager that borrows its argument and lends a borrow of its own local.
#[async_context_manager]
async fn buffer<'l>(log: &'l Log) -> Result<&mut Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    yield_now().await;
    let exit = r#yield!(&mut bytes);
    log.push(format!("{} bytes, {}", bytes.len(), describe(&exit)));
    Ok(())
}

/// A hand-written manager.
struct Counter {
    n: u32,
    exits: u32,
}

impl<'a> Lend<'a> for Counter {
    type Target = &'a mut u32;
}

impl AsyncContextManager for Counter {
    type Error = Infallible;
    async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, Infallible> {
        yield_now().await;
        Ok(&mut self.get_mut().n)
    }
    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        yield_now().await;
        self.get_mut().exits += 1;
        Ok(())
    }
}

#[test]
fn some_lends_some_target_and_none_lends_none() {
    let log = Log::default();
    for on in [true, false] {
        // Python's `cm = a() if c else nullcontext()`.
        let manager = if on {
            Some(faulty(log.clone(), "a", Fault::None))
        } else {
            None
        };
        let got = block_on(async {
            async_with!(manager => |name| {
                log.push(format!("block {name:?}"));
                Ok::<_, Failure>(name)
            })
        });
        if on {
            assert_eq!(got, Ok(Some("a")));
            assert_eq!(log.take(), ["enter a", "block Some(\"a\")", "exit a: ok"]);
        } else {
            assert_eq!(got, Ok(None));
            assert_eq!(log.take(), ["block None"]);
        }
    }
}

#[test]
fn borrowing_and_hand_written_managers() {
    let log = Log::default();
    for on in [true, false] {
        let manager = on.then(|| buffer(&log));
        let got = block_on(async {
            async_with!(manager => |bytes| {
                if let Some(bytes) = bytes {
                    bytes.push(1);
                }
                Ok::<_, Failure>(())
            })
        });
        assert_eq!(got, Ok(()));
        assert_eq!(log.take(), if on { vec!["1 bytes, ok"] } else { vec![] });

        let mut counter = Counter { n: 1, exits: 0 };
        let manager = on.then_some(&mut counter);
        let got = block_on(async {
            async_with!(manager => |n| {
                if let Some(n) = n {
                    *n += 1;
                }
            })
        });
        assert_eq!(got.into_value(), ());
        assert_eq!((counter.n, counter.exits), if on { (2, 1) } else { (1, 0) });
    }
}

#[test]
fn errors_and_panics_are_the_managers() {
    let log = Log::default();
    let got =
        block_on(async { async_with!(Some(faulty(log.clone(), "a", Fault::Enter)) => |_| ()) });
    assert_eq!(got, Err(Failure("a")));
    assert!(log.take().is_empty());

    let got = block_on(async {
        async_with!(Some(faulty(log.clone(), "a", Fault::None)) => |_| Err::<(), _>(Failure("block")))
    });
    assert_eq!(got, Err(Failure("block")));
    assert_eq!(log.take(), ["enter a", "exit a: err failure: block"]);

    let got =
        block_on(async { async_with!(Some(faulty(log.clone(), "a", Fault::Exit)) => |_| ()) });
    assert_eq!(got, Err(Failure("a")));
    assert_eq!(log.take().len(), 2);

    // `None` has nothing to fail: only the block's error.
    let got =
        block_on(async { async_with!(None::<Counter> => |_| Err::<(), _>(Failure("block"))) });
    assert_eq!(got, Err(Failure("block")));

    let got: Result<Result<(), Failure>, String> = block_on_catching(async {
        async_with!(Some(faulty(log.clone(), "a", Fault::None)) => |_| {
            panic!("block panicked");
        })
    });
    assert_eq!(got.unwrap_err(), "block panicked");
    assert_eq!(log.take(), ["enter a", "exit a: panic block panicked"]);

    let got: Result<Result<(), Failure>, String> = block_on_catching(async {
        async_with!(Some(faulty(log.clone(), "a", Fault::EnterPanic)) => |_| ())
    });
    assert_eq!(got.unwrap_err(), "a panicked entering");
    assert!(log.take().is_empty());

    let got: Result<Result<(), Infallible>, String> =
        block_on_catching(async { async_with!(None::<Counter> => |_| panic!("block panicked")) });
    assert_eq!(got.unwrap_err(), "block panicked");
}

#[test]
fn the_manager_is_torn_down_once_wherever_the_future_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    for on in [true, false] {
        for fault in [Fault::None, Fault::Enter, Fault::Exit] {
            cut_at_every_poll(
                &probe,
                &log,
                || async {
                    let manager = on.then(|| probe.observe(faulty(log.clone(), "a", fault)));
                    async_with!(manager => |name| {
                        yield_now().await;
                        Ok::<_, Failure>(name)
                    })
                },
                |output, teardowns, _| match (on, fault) {
                    (false, _) => {
                        assert_eq!(output, Ok(None));
                        assert!(teardowns.is_empty());
                    }
                    (true, Fault::None) => {
                        assert_eq!(output, Ok(Some("a")));
                        assert_eq!(teardowns, [Observed::Ok]);
                    }
                    (true, _) => assert_eq!(output, Err(Failure("a")), "{fault:?}"),
                },
            );
        }
    }
}

#[test]
fn composed_managers_can_be_optional() {
    #[async_context_manager]
    async fn num(n: &u32) -> u32 {
        r#yield!(*n);
    }
    let n = 3;
    for on in [true, false] {
        let sum = |pair: Option<(u32, u32)>| pair.map_or(0, |(a, b)| a + b);
        let tuple = on.then(|| (nullcontext(1u32), num(&n)));
        assert_eq!(
            block_on(async { async_with!(tuple => |p| sum(p)) }).into_value(),
            if on { 4 } else { 0 }
        );
        let both = on.then(|| concurrent((num(&n), nullcontext(2u32))));
        assert_eq!(
            block_on(async { async_with!(both => |p| sum(p)) }).into_value(),
            if on { 5 } else { 0 }
        );
        let null = on.then(|| nullcontext(7u32));
        assert_eq!(
            block_on(async { async_with!(null => |x| x) }).into_value(),
            on.then_some(7)
        );
        let closed = Log::default();
        let close = closed.clone();
        let closer = on.then(|| {
            closing(vec![1u8], move |bytes: Vec<u8>| async move {
                close.push(format!("closed {}", bytes.len()));
                Ok::<_, Failure>(())
            })
        });
        let got = block_on(async {
            async_with!(closer => |bytes| bytes.map(|b| { b.push(2); b.len() }))
        });
        assert_eq!(got, Ok(on.then_some(2)));
        assert_eq!(closed.take(), if on { vec!["closed 2"] } else { vec![] });
        let either = on.then(|| Either::<_, contextlib::NullContext<u32>>::Left(num(&n)));
        assert_eq!(
            block_on(async { async_with!(either => |x| x) }).into_value(),
            on.then_some(3)
        );
    }
}

/// The type hint: `Option<M>` lends `Option<Target<'a, M>>`.
async fn maybe_write<M>(manager: M) -> Result<usize, Failure>
where
    M: AsyncContextManager<Error = Failure> + for<'a> Lend<'a, Target = Option<&'a mut Vec<u8>>>,
{
    async_with!(manager => |bytes| {
        Ok::<_, Failure>(bytes.map_or(0, |bytes| { bytes.extend_from_slice(b"hi"); bytes.len() }))
    })
}

fn optional_counter(
    on: bool,
) -> impl AsyncContextManager<Error = Infallible> + for<'a> Lend<'a, Target = Option<&'a mut u32>> {
    on.then_some(Counter { n: 5, exits: 0 })
}

#[test]
fn option_goes_where_a_type_hint_asks_for_a_manager() {
    let log = Log::default();
    block_on(async {
        assert_eq!(maybe_write(Some(buffer(&log))).await, Ok(2));
        assert_eq!(
            maybe_write(std::hint::black_box(false).then(|| buffer(&log))).await,
            Ok(0)
        );
        let n: Option<u32> = async_with!(optional_counter(true) => |n| n.map(|n| *n)).into_value();
        assert_eq!(n, Some(5));
        let n: Option<u32> = async_with!(optional_counter(false) => |n| n.map(|n| *n)).into_value();
        assert_eq!(n, None);
    });
    assert_eq!(log.take(), ["2 bytes, ok"]);

    fn named<'a>(target: Target<'a, Option<Counter>>) -> Option<&'a mut u32> {
        target
    }
    let _ = named;
}

#[async_context_manager]
async fn owned_buffer() -> Result<&mut Vec<u8>, io::Error> {
    let mut bytes = Vec::new();
    yield_now().await;
    r#yield!(&mut bytes);
    yield_now().await;
    Ok(())
}

async fn spawned_write<M>(manager: M) -> io::Result<usize>
where
    M: SendAsyncContextManager<Error = io::Error>
        + for<'a> Lend<'a, Target = Option<&'a mut Vec<u8>>>
        + 'static,
{
    tokio::spawn(async move {
        async_with!(manager => |bytes| {
            tokio::task::yield_now().await;
            Ok::<_, io::Error>(bytes.map_or(0, |bytes| { bytes.extend_from_slice(b"sent"); bytes.len() }))
        })
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_fn_over_the_send_variant_spawns_an_option() {
    assert_eq!(spawned_write(Some(owned_buffer())).await.unwrap(), 4);
    assert_eq!(
        spawned_write(std::hint::black_box(false).then(owned_buffer))
            .await
            .unwrap(),
        0
    );
    let task = tokio::spawn(async {
        let manager = std::hint::black_box(true).then(owned_buffer);
        async_with!(manager => |bytes| {
            tokio::task::yield_now().await;
            Ok::<_, io::Error>(bytes.is_some())
        })
    });
    assert!(task.await.unwrap().unwrap());
}

#[test]
fn option_futures_are_send_when_the_managers_are() {
    fn send<T: Send>(_: &T) {}
    let mut manager = pin!(Some(owned_buffer()));
    let enter = manager.as_mut().enter_send();
    send(&enter);
    drop(enter);
    let exit = manager.as_mut().exit_send(Exit::Ok);
    send(&exit);
}

#[test]
fn an_option_goes_on_an_exit_stack() {
    let log = Log::default();
    let got = block_on(async {
        async_with!(ExitStack::<Failure>::new() => |stack| {
            let a = stack.enter(Some(faulty(log.clone(), "a", Fault::None))).await?;
            let b = stack.enter(std::hint::black_box(false).then(|| faulty(log.clone(), "b", Fault::None))).await?;
            log.push(format!("block {a:?} {b:?}"));
            Ok::<_, Failure>(stack.len())
        })
    });
    assert_eq!(got, Ok(2));
    assert_eq!(
        log.take(),
        ["enter a", "block Some(\"a\") None", "exit a: ok"]
    );
}

#[test]
fn a_stacked_option_is_torn_down_once_wherever_the_future_is_dropped() {
    let probe = Probe::default();
    let log = Log::default();
    cut_at_every_poll(
        &probe,
        &log,
        || async {
            async_with!(ExitStack::<Failure>::new() => |stack| {
                let name = stack.enter(Some(probe.observe(faulty(log.clone(), "a", Fault::None)))).await?;
                yield_now().await;
                Ok::<_, Failure>(name)
            })
        },
        |output, teardowns, _| {
            assert_eq!(output, Ok(Some("a")));
            assert_eq!(teardowns, [Observed::Ok]);
        },
    );
}

#[test]
fn constants_are_the_managers() {
    assert_eq!(
        <Option<contextlib::NullContext<u8>>>::name(),
        "contextlib::nullcontext"
    );
    const { assert!(!<Option<contextlib::NullContext<u8>>>::EXIT_FINISHES_WHEN_DROPPED) };
    const { assert!(<Option<ExitStack<'_, Failure>>>::EXIT_FINISHES_WHEN_DROPPED) };
    fn future<F: Future>(_: &F) {}
    let mut none = pin!(None::<Counter>);
    future(&none.as_mut().enter());
}
