//! Spans over a manager (issue 23): `#[async_context_manager(instrument)]` runs the setup, the
//! suspension at the yield and the teardown inside a `tracing` span named after the fn; the
//! span is entered during the setup and during the teardown, and not during the block.
//! `#[tracing::instrument]` in either order is one error naming the option
//! (ui/tracing_instrument_under_the_attribute, ui/tracing_instrument_above_the_attribute).

use std::sync::{Arc, Mutex};

use contextlib::{async_context_manager, async_with};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the name of every span entered and exited, in order.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<String>>>);

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut log = self.0.lock().unwrap();
        log.push(format!("new {}", span.metadata().name()));
        Id::from_u64(log.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("event at {}", event.metadata().target()));
    }
    fn enter(&self, _: &Id) {
        self.0.lock().unwrap().push("enter".into());
    }
    fn exit(&self, _: &Id) {
        self.0.lock().unwrap().push("exit".into());
    }
}

#[async_context_manager(instrument)]
async fn traced(log: Arc<Mutex<Vec<String>>>) -> u32 {
    log.lock().unwrap().push("setup".into());
    r#yield!(7);
    log.lock().unwrap().push("teardown".into());
}

#[test]
fn the_span_covers_setup_and_teardown_not_the_block() {
    let spans = Spans::default();
    let log = spans.0.clone();
    tracing::subscriber::with_default(spans, || {
        futures_executor::block_on(async {
            let n = async_with!(traced(log.clone()) => |n| {
                log.lock().unwrap().push("block".into());
                n
            });
            assert_eq!(n, Ok(7));
        });
    });
    assert_eq!(
        *log.lock().unwrap(),
        [
            "new traced",
            "enter",
            "setup",
            "exit", // the enter's poll
            "block",
            "enter",
            "teardown",
            "exit", // the exit's poll
            "enter",
            "exit", // the finished coroutine dropped inside its span
        ]
    );
}

/// With `crate = path` as well, in either order.
#[async_context_manager(instrument, crate = contextlib)]
async fn traced_with_path() -> u32 {
    r#yield!(1);
}

#[test]
fn instrument_combines_with_crate_path() {
    futures_executor::block_on(async {
        assert_eq!(async_with!(traced_with_path() => |n| n), Ok(1));
    });
}
