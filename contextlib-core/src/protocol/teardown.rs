//! Finishing a teardown without awaiting it, when the future that would have awaited it was
//! dropped; and reporting a teardown that could not be finished that way.

use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::Mutex;

/// How often a teardown is polled in place before it is judged to be waiting on I/O. A
/// teardown that only yields (such as `tokio::task::yield_now`) finishes well within this.
pub(crate) const POLLS_IN_PLACE: usize = 64;

/// What became of a teardown that had to be finished in place (see the crate's
/// "Cancellation" documentation), as told to the [teardown hook](set_teardown_hook).
///
/// ```
/// use contextlib::{TeardownOutcome, TeardownReport};
/// let report = TeardownReport { manager: "app::transaction", outcome: TeardownOutcome::Failed };
/// assert!(report.to_string().contains("failed after its block was cancelled"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TeardownOutcome {
    /// It completed, but returned an error that nobody could receive.
    Failed,
    /// It was still waiting (on I/O, a timer, a lock) after being polled in place; it was
    /// dropped unfinished. Use `contextlib::tokio::detach_on_cancel` to have such teardowns
    /// completed by a runtime.
    Unfinished,
    /// It panicked (the panic was caught: it happened in a destructor).
    Panicked,
}

/// A teardown that did not finish cleanly after its future was dropped. It displays as a
/// one-line explanation.
///
/// ```
/// use contextlib::{TeardownOutcome, TeardownReport};
/// let report = TeardownReport { manager: "app::upload", outcome: TeardownOutcome::Unfinished };
/// assert!(report.to_string().starts_with("contextlib: the teardown of `app::upload` was still waiting"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TeardownReport {
    /// The manager's type, as `core::any::type_name` spells it.
    pub manager: &'static str,
    /// What became of its teardown.
    pub outcome: TeardownOutcome,
}

impl fmt::Display for TeardownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome {
            TeardownOutcome::Failed => write!(
                f,
                "contextlib: the teardown of `{}` failed after its block was cancelled; the error had \
                 nowhere to go",
                self.manager
            ),
            TeardownOutcome::Panicked => write!(
                f,
                "contextlib: the teardown of `{}` panicked after its future was dropped",
                self.manager
            ),
            TeardownOutcome::Unfinished => write!(
                f,
                "contextlib: the teardown of `{}` was still waiting when its future was dropped and \
                 did not finish (use contextlib::tokio::detach_on_cancel to have it completed)",
                self.manager
            ),
        }
    }
}

/// Receives every [`TeardownReport`]; set it with [`set_teardown_hook`].
///
/// ```
/// let hook: contextlib::TeardownHook = |report| eprintln!("{report}");
/// let previous = contextlib::set_teardown_hook(hook);
/// contextlib::set_teardown_hook(previous);
/// ```
pub type TeardownHook = fn(&TeardownReport);

static HOOK: Mutex<TeardownHook> = Mutex::new(default_hook);

/// The default hook: a `warn` event through `tracing` (feature `tracing`), else a `warn` record
/// through `log` (feature `log`), each with the manager's name and the outcome as fields and
/// `contextlib` as its target; a line on standard error without either feature, and also when
/// nothing listens (no subscriber or logger installed, or none that takes `warn` events of
/// `contextlib`): a report is never lost.
fn default_hook(report: &TeardownReport) {
    #[cfg(feature = "tracing")]
    if tracing::event_enabled!(target: "contextlib", tracing::Level::WARN) {
        tracing::warn!(
            target: "contextlib",
            manager = report.manager,
            outcome = ?report.outcome,
            "{report}"
        );
        return;
    }
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "contextlib", log::Level::Warn) {
        log::warn!(
            target: "contextlib",
            manager = report.manager,
            outcome:? = report.outcome;
            "{report}"
        );
        return;
    }
    // No subscriber or logger takes it (a dependency may have turned a feature on without
    // installing one): standard error, never nowhere (tests/logging.rs).
    eprintln!("{report}");
}

/// Sets the function told about teardowns that failed or could not finish after a
/// cancellation, returning the previous one. The default reports through `tracing` or `log`
/// (features of the same names: a `warn` with target `contextlib` and the fields `manager` and
/// `outcome`; `tracing` wins if both are on), and otherwise prints the report to standard error.
///
/// ```
/// use contextlib::{TeardownOutcome, TeardownReport};
///
/// fn log_it(report: &TeardownReport) {
///     // e.g. tracing::warn!("{report}")
///     assert_eq!(report.outcome, TeardownOutcome::Unfinished);
/// }
/// let previous = contextlib::set_teardown_hook(log_it);
/// contextlib::set_teardown_hook(previous);
/// ```
pub fn set_teardown_hook(hook: TeardownHook) -> TeardownHook {
    let mut current = HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    std::mem::replace(&mut *current, hook)
}

/// Tells the teardown hook. Runs in destructors, so a hook that panics is caught (and said
/// so on standard error) rather than cutting short the teardowns still to run.
pub fn report(report: TeardownReport) {
    let hook = *HOOK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Err(payload) = std::panic::catch_unwind(|| hook(&report)) {
        crate::protocol::catch_unwind::discard(payload);
        eprintln!("contextlib: the teardown hook panicked while reporting: {report}");
    }
}

/// Polls `teardown` in place, without a runtime, until it completes or is evidently waiting;
/// reports it if it fails or does not finish. Never blocks.
pub fn finish_in_place<E>(teardown: impl Future<Output = Result<(), E>>, manager: &'static str) {
    let mut teardown = pin!(teardown);
    if let Some(outcome) = poll_in_place(teardown.as_mut()) {
        report(TeardownReport { manager, outcome });
    }
}

/// Polls an already pinned teardown in place; `None` if it completed without error.
pub(crate) fn poll_in_place<E>(
    mut teardown: core::pin::Pin<&mut impl Future<Output = Result<(), E>>>,
) -> Option<TeardownOutcome> {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..POLLS_IN_PLACE {
        if let Poll::Ready(result) = teardown.as_mut().poll(&mut cx) {
            return result.err().map(|_| TeardownOutcome::Failed);
        }
    }
    Some(TeardownOutcome::Unfinished)
}
