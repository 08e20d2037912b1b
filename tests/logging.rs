//! The default teardown hook reports through `tracing` or `log` when their feature is on.
//! `cargo test --workspace` builds without them; `.ci/run` runs this file with each feature:
//! `cargo test -p contextlib --features tracing --test logging` (and `--features log`).
#[path = "support/rerun.rs"]
mod rerun;

use std::pin::pin;
use std::task::{Context, Waker};

use contextlib::{async_context_manager, async_with};
use rerun::rerun_in_a_child;

/// A teardown that waits forever: cancelled, it cannot finish in place, so it is reported.
#[async_context_manager]
async fn stuck_teardown() -> u8 {
    r#yield!(1);
    std::future::pending::<()>().await;
}

/// Enters `stuck_teardown`, polls into its block once, and drops it: one `Unfinished` report.
#[allow(dead_code)]
fn cancel_a_stuck_teardown() {
    let mut future = pin!(async {
        async_with!(stuck_teardown() => |n| {
            std::future::pending::<()>().await;
            n
        })
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
}

/// The value of `name` among a report's fields (`tracing`) or key-values (`log`).
#[cfg(any(feature = "tracing", feature = "log"))]
fn value_of<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The fields (`tracing`) or key-values (`log`) of the report of [`cancel_a_stuck_teardown`]:
/// the manager and the outcome.
#[cfg(any(feature = "tracing", feature = "log"))]
fn assert_names_the_stuck_teardown(pairs: &[(String, String)]) {
    let manager = value_of(pairs, "manager").unwrap();
    assert!(manager.ends_with("stuck_teardown"), "{pairs:?}");
    assert_eq!(value_of(pairs, "outcome"), Some("Unfinished"), "{pairs:?}");
}

#[cfg(feature = "tracing")]
mod through_tracing {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    /// An event's level, target and fields.
    type Captured = (Level, String, Vec<(String, String)>);

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Captured>>>);

    struct Fields(Vec<(String, String)>);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0
                .push((field.name().to_string(), format!("{value:?}")));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_string(), value.to_string()));
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let metadata = event.metadata();
            self.0.lock().unwrap().push((
                *metadata.level(),
                metadata.target().to_string(),
                fields.0,
            ));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn a_teardown_report_is_a_warn_event_with_the_manager_and_outcome_as_fields() {
        let capture = Capture::default();
        tracing::subscriber::with_default(capture.clone(), super::cancel_a_stuck_teardown);
        let events = capture.0.lock().unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        let (level, target, fields) = &events[0];
        assert_eq!(*level, Level::WARN);
        assert_eq!(target, "contextlib");
        super::assert_names_the_stuck_teardown(fields);
        let message = super::value_of(fields, "message").unwrap();
        assert!(message.contains("was still waiting"), "{fields:?}");
    }
}

#[cfg(all(feature = "log", not(feature = "tracing")))]
mod through_log {
    use std::sync::Mutex;

    use log::kv::{Error, Key, Value, VisitSource};
    use log::{Level, Log, Metadata, Record};

    /// A record's level, target, message and key-values.
    type Captured = (Level, String, String, Vec<(String, String)>);

    static RECORDS: Mutex<Vec<Captured>> = Mutex::new(Vec::new());

    struct Capture;
    struct Pairs(Vec<(String, String)>);
    impl<'kvs> VisitSource<'kvs> for Pairs {
        fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), Error> {
            self.0.push((key.to_string(), value.to_string()));
            Ok(())
        }
    }

    impl Log for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &Record<'_>) {
            let mut pairs = Pairs(Vec::new());
            record.key_values().visit(&mut pairs).unwrap();
            RECORDS.lock().unwrap().push((
                record.level(),
                record.target().to_string(),
                record.args().to_string(),
                pairs.0,
            ));
        }
        fn flush(&self) {}
    }

    #[test]
    fn a_teardown_report_is_a_warn_record_with_the_manager_and_outcome_as_key_values() {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        super::cancel_a_stuck_teardown();
        let records = RECORDS.lock().unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        let (level, target, message, pairs) = &records[0];
        assert_eq!(*level, Level::Warn);
        assert_eq!(target, "contextlib");
        assert!(message.contains("was still waiting"), "{message}");
        super::assert_names_the_stuck_teardown(pairs);
    }
}

#[cfg(not(any(feature = "tracing", feature = "log")))]
#[test]
#[ignore = "needs --features tracing or --features log; .ci/run runs this file with each"]
fn teardown_reports_through_tracing_or_log() {}

/// No report is ever lost: with `tracing` or `log` on (a dependency may turn them on) and no
/// subscriber or logger installed, the report goes to standard error. Runs this test binary
/// again as a child, in which nothing is installed, and reads its standard error.
#[test]
fn with_nothing_listening_the_report_goes_to_standard_error() {
    let test = "with_nothing_listening_the_report_goes_to_standard_error";
    let Some(child) = rerun_in_a_child(test, "CONTEXTLIB_LOGGING_CHILD") else {
        cancel_a_stuck_teardown();
        return;
    };
    assert!(child.status.success(), "{child:?}");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(
        stderr.contains("stuck_teardown") && stderr.contains("contextlib"),
        "the report is not on standard error: {stderr:?}"
    );
}
