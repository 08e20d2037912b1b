//! Hostile review of the `async_with!` rewrite: the block's outcome read in place, the guard
//! holding the pinned manager, a non-`Sync` block error's text boxed; `Finishing` describing its
//! manager by type (`TeardownOf<M>`, no bookkeeping when the exit finishes by itself); and the
//! non-generic driver that runs the teardown of a generated manager dropped while entered.
//!
//! Every scenario is safe code. Each checks, on every run, that each entered manager was torn
//! down exactly once, that the teardown saw the right `Exit` (reading the block's error only
//! after awaiting, so a freed view is a use-after-free under Miri), that targets and the
//! manager's locals were dropped exactly once, and what was reported to the teardown hook.
use std::any::Any;
use std::cell::Cell;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{
    AsyncContextManager, BoxError, Exit, ExitStack, TeardownOutcome, TeardownReport,
    async_context_manager, async_with, set_teardown_hook,
};
use futures_executor::block_on;
use futures_util::FutureExt;

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

/// The teardown hook is process-wide: every test takes this lock and routes reports here.
static SERIAL: Mutex<()> = Mutex::new(());
static REPORTS: Mutex<Vec<(String, TeardownOutcome)>> = Mutex::new(Vec::new());

fn record(report: &TeardownReport) {
    let name = report.manager.rsplit("::").next().unwrap_or("").to_string();
    REPORTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((name, report.outcome));
}

fn take_reports() -> Vec<(String, TeardownOutcome)> {
    std::mem::take(&mut *REPORTS.lock().unwrap_or_else(|p| p.into_inner()))
}

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    set_teardown_hook(record);
    take_reports();
    guard
}

/// The test's turn ([`serial`]), a fresh log and a fresh probe.
fn serial_with_log_and_probe() -> (MutexGuard<'static, ()>, Log, Probe) {
    (serial(), Log::default(), Probe::default())
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, event: impl Into<String>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Logs "drop NAME" when dropped: a target, or a manager's locals.
struct Note(Log, String);

impl Drop for Note {
    fn drop(&mut self) {
        self.0.push(format!("drop {}", self.1));
    }
}

fn describe(exit: &Exit<'_>) -> String {
    match exit {
        Exit::Ok => "ok".into(),
        Exit::Err(error) => format!(
            "err {error} | {error:?} | shared={}",
            error.downcast_ref::<Shared>().is_some()
        ),
        Exit::Panic(panic) => format!("panic {panic}"),
        _ => "cancelled".into(),
    }
}

fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// `Display + Debug + Sync + 'static`: viewed in place, downcastable.
#[derive(Debug, PartialEq)]
struct Shared(String);
impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shared {}", self.0)
    }
}

/// Not `Sync`: formatted into the boxed text.
struct Local(Cell<u32>, String);
impl fmt::Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "local {}", self.1)
    }
}
impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Local({}, {})", self.0.get(), self.1)
    }
}

/// `Debug` only.
#[derive(Debug, PartialEq)]
struct DebugOnly(String);

/// Neither `Display` nor `Debug`: named by its type.
struct Opaque(#[allow(dead_code)] u8);

/// A manager error.
#[derive(Debug, PartialEq)]
struct MErr(&'static str);
impl fmt::Display for MErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "manager {}", self.0)
    }
}

impl std::error::Error for MErr {}

/// A block error that can hold the manager's.
#[derive(Debug, PartialEq)]
enum BErr {
    Block(&'static str),
    Manager(&'static str),
}
impl fmt::Display for BErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}
impl From<MErr> for BErr {
    fn from(error: MErr) -> Self {
        BErr::Manager(error.0)
    }
}
impl From<MErr> for Local {
    fn from(error: MErr) -> Self {
        Local(Cell::new(0), format!("from {}", error.0))
    }
}
impl From<String> for Local {
    fn from(error: String) -> Self {
        Local(Cell::new(0), format!("from string {error}"))
    }
}
impl From<BoxError> for Local {
    fn from(error: BoxError) -> Self {
        Local(Cell::new(0), format!("from box {error}"))
    }
}

/// Suspends in its setup and `yields` times in its teardown, which reads the `Exit` last.
#[async_context_manager]
async fn noted(log: Log, name: &'static str, yields: usize) -> Note {
    let _locals = Note(log.clone(), format!("{name} locals"));
    yield_now().await;
    log.push(format!("{name} entered"));
    let exit = r#yield!(Note(log.clone(), format!("{name} target")));
    for _ in 0..yields {
        yield_now().await;
    }
    log.push(format!("{name} exit {}", describe(&exit)));
}

fn count(events: &[String], event: &str) -> usize {
    events.iter().filter(|e| *e == event).count()
}

fn position(events: &[String], pred: impl Fn(&String) -> bool) -> Option<usize> {
    events.iter().position(pred)
}

/// What must hold for manager `name` after any run: entered at most once; its target dropped
/// exactly once if entered, and before its teardown; exactly one teardown if entered, seeing
/// `expected` (or `cancelled` when the run was dropped before the exit began); its locals dropped
/// exactly once if its body started.
fn check_manager(events: &[String], name: &str, expected: &str, completed: bool, polled: bool) {
    let entered = count(events, &format!("{name} entered"));
    assert!(entered <= 1, "{name} entered twice: {events:?}");
    let target_drops = count(events, &format!("drop {name} target"));
    assert_eq!(target_drops, entered, "{name}'s target: {events:?}");
    let exit_prefix = format!("{name} exit ");
    let exits: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with(&exit_prefix))
        .collect();
    assert_eq!(exits.len(), entered, "{name}'s teardowns: {events:?}");
    if let Some(exit) = exits.first() {
        let seen = &exit[exit_prefix.len()..];
        if completed {
            assert_eq!(seen, expected, "{events:?}");
        } else {
            assert!(
                seen == expected || seen == "cancelled",
                "{name} saw {seen:?}, expected {expected:?} or cancelled: {events:?}"
            );
        }
        let target = position(events, |e| *e == format!("drop {name} target")).unwrap();
        let exit = position(events, |e| e.starts_with(&exit_prefix)).unwrap();
        assert!(
            target < exit,
            "{name}'s target outlived its teardown: {events:?}"
        );
    }
    let locals = count(events, &format!("drop {name} locals"));
    assert_eq!(locals, usize::from(polled), "{name}'s locals: {events:?}");
}

fn polls_of<T>(run: &Run<T>) -> usize {
    match run {
        Run::Dropped { polls } | Run::Completed { polls, .. } => *polls,
    }
}

/// The events `run` logged (taken from `log`), and whether it completed.
fn events_of<T>(log: &Log, run: &Run<T>) -> (Vec<String>, bool) {
    (log.take(), matches!(run, Run::Completed { .. }))
}

/// That `later`'s teardown ran before `earlier`'s, where both ran (`earlier` entered first).
fn assert_exits_in_reverse(events: &[String], earlier: &str, later: &str, order: &str) {
    let exit_of = |name: &str| position(events, |e| e.starts_with(&format!("{name} exit")));
    if let (Some(earlier), Some(later)) = (exit_of(earlier), exit_of(later)) {
        assert!(later < earlier, "{order}: {events:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Every kind of block outcome, dropped at every poll, generated manager bare and watched
// ---------------------------------------------------------------------------------------------

fn expected_err(display: &str, debug: &str, shared: bool) -> String {
    format!("err {display} | {debug} | shared={shared}")
}

/// What a teardown sees of the block error `Local(n, text)`: not `Sync`, so its text, boxed.
fn expected_local(n: u32, text: &str) -> String {
    expected_err(
        &format!("local {text}"),
        &format!("Local({n}, {text})"),
        false,
    )
}

/// Runs `$body` (after the block suspended once) in `async_with!` on `noted`, bare and under a
/// `Probe`, dropping the future at every poll; `$check` sees each completed output.
macro_rules! every_poll {
    ($expected:expr, $body:expr, |$output:ident| $check:expr) => {{
        for watched in [false, true] {
            let (log, probe) = &(Log::default(), Probe::default());
            let expected: &str = &$expected;
            cancel_at_every_poll(
                || {
                    AssertUnwindSafe(async move {
                        if watched {
                            async_with!(probe.observe(noted(log.clone(), "m", 3)) => |target| {
                                let _target = target;
                                yield_now().await;
                                $body
                            })
                        } else {
                            async_with!(noted(log.clone(), "m", 3) => |target| {
                                let _target = target;
                                yield_now().await;
                                $body
                            })
                        }
                    })
                    .catch_unwind()
                },
                |run| {
                    if watched {
                        probe.assert_torn_down_once(&run);
                    }
                    let (events, completed) = events_of(log, &run);
                    check_manager(&events, "m", expected, completed, polls_of(&run) > 0);
                    assert_eq!(take_reports(), [], "nothing to report: {events:?}");
                    if let Run::Completed { output: $output, .. } = run {
                        $check
                    }
                },
            );
        }
    }};
}

#[test]
fn every_block_outcome_dropped_at_every_poll_tears_down_once_with_its_exit() {
    let _serial = serial();
    // A plain value.
    every_poll!("ok", 7u32, |output| assert_eq!(output.unwrap(), Ok(7)));
    // `Ok` of a fallible block.
    every_poll!("ok", Ok::<u32, Local>(8), |output| {
        assert_eq!(output.unwrap().unwrap(), 8)
    });
    // A shareable error: viewed in place, downcastable.
    every_poll!(
        expected_err("shared s", "Shared(\"s\")", true),
        Err::<u32, _>(Shared("s".into())),
        |output| assert_eq!(output.unwrap(), Err(Shared("s".into())))
    );
    // Not `Sync`: the boxed formatted text, read by the teardown after it awaited three times.
    every_poll!(
        expected_local(1, "l"),
        Err::<u32, _>(Local(Cell::new(1), "l".into())),
        |output| {
            let error = output.unwrap().unwrap_err();
            assert_eq!((error.0.get(), error.1.as_str()), (1, "l"));
        }
    );
    // A boxed trait object (the case the guide names, Entering).
    every_poll!(
        expected_err("boxed", "Custom { kind: Other, error: \"boxed\" }", false),
        Err::<u32, Box<dyn std::error::Error>>(Box::new(std::io::Error::other("boxed"))),
        |output| assert_eq!(output.unwrap().unwrap_err().to_string(), "boxed")
    );
    // `Debug` only.
    every_poll!(
        expected_err("DebugOnly(\"d\")", "DebugOnly(\"d\")", false),
        Err::<u32, _>(DebugOnly("d".into())),
        |output| assert_eq!(output.unwrap(), Err(DebugOnly("d".into())))
    );
    // Neither: its type name.
    let opaque = std::any::type_name::<Opaque>();
    every_poll!(
        expected_err(
            &format!("an error of type `{opaque}`"),
            &format!("<{opaque}>"),
            false
        ),
        Err::<u32, _>(Opaque(3)),
        |output| assert!(matches!(output.unwrap(), Err(Opaque(3))))
    );
    // A panic: the teardown sees it, then it resumes.
    every_poll!(
        "panic boom",
        {
            if true {
                panic!("boom");
            }
            7u32
        },
        |output| assert_eq!(message(&*output.unwrap_err()), "boom")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. The result's type and value for each pairing of enter, block and exit
// ---------------------------------------------------------------------------------------------

#[async_context_manager]
async fn fallible(log: Log, enter_fails: bool, exit_fails: bool) -> Result<Note, MErr> {
    let _locals = Note(log.clone(), "f locals".into());
    yield_now().await;
    if enter_fails {
        return Err(MErr("enter"));
    }
    log.push("f entered");
    let exit = r#yield!(Note(log.clone(), "f target".into()));
    yield_now().await;
    log.push(format!("f exit {}", describe(&exit)));
    if exit_fails {
        return Err(MErr("exit"));
    }
    Ok(())
}

#[test]
fn results_follow_the_table_for_every_pairing() {
    let _serial = serial();
    // (enter fails, exit fails, block fails) -> (result, what the teardown saw).
    type Case = (bool, bool, bool, Result<u32, BErr>, Option<&'static str>);
    let cases: &[Case] = &[
        (false, false, false, Ok(1), Some("ok")),
        (
            false,
            false,
            true,
            Err(BErr::Block("b")),
            Some("err Block(\"b\") | Block(\"b\") | shared=false"),
        ),
        (false, true, false, Err(BErr::Manager("exit")), Some("ok")),
        (
            false,
            true,
            true,
            Err(BErr::Manager("exit")),
            Some("err Block(\"b\") | Block(\"b\") | shared=false"),
        ),
        (true, false, false, Err(BErr::Manager("enter")), None),
        (true, true, true, Err(BErr::Manager("enter")), None),
    ];
    for (enter_fails, exit_fails, block_fails, expected, seen) in cases {
        let log = Log::default();
        let ran = Cell::new(false);
        let result: Result<u32, BErr> = block_on(async {
            async_with!(fallible(log.clone(), *enter_fails, *exit_fails) => |_target| {
                ran.set(true);
                yield_now().await;
                if *block_fails {
                    return Err(BErr::Block("b"));
                }
                Ok::<u32, BErr>(1)
            })
        });
        assert_eq!(&result, expected);
        assert_eq!(ran.get(), !enter_fails);
        let events = log.take();
        match seen {
            Some(seen) => check_manager(&events, "f", seen, true, true),
            None => assert_eq!(events, ["drop f locals"]),
        }
    }

    // A non-`Sync` block error converted from the manager's: the formatted view, exit wins.
    let log = Log::default();
    let result: Result<u32, Local> = block_on(async {
        async_with!(fallible(log.clone(), false, true) => |_target| {
            Err(Local(Cell::new(5), "both".into()))
        })
    });
    assert_eq!(result.unwrap_err().1, "from exit");
    check_manager(
        &log.take(),
        "f",
        "err local both | Local(5, both) | shared=false",
        true,
        true,
    );

    // A value block with a fallible manager: `Result<R, MErr>`.
    let log = Log::default();
    let result: Result<&str, MErr> =
        block_on(async { async_with!(fallible(log.clone(), false, true) => |_t| "value") });
    assert_eq!(result, Err(MErr("exit")));
    let result: Result<&str, MErr> =
        block_on(async { async_with!(fallible(log.clone(), true, false) => |_t| "value") });
    assert_eq!(result, Err(MErr("enter")));
    let result: Result<&str, MErr> =
        block_on(async { async_with!(fallible(log.clone(), false, false) => |_t| "value") });
    assert_eq!(result, Ok("value"));
    log.take();

    // An infallible manager and a block error without `From<Infallible>`: `Result<T, E>`.
    let log = Log::default();
    let result: Result<u32, Opaque> =
        block_on(async { async_with!(noted(log.clone(), "m", 0) => |_t| Err(Opaque(9))) });
    assert!(matches!(result, Err(Opaque(9))));
    assert_eq!(take_reports(), []);
}

// ---------------------------------------------------------------------------------------------
// 3. Block errors whose Drop, Display or Debug panic
// ---------------------------------------------------------------------------------------------

/// Panics when dropped while armed. `Sync`.
#[derive(Debug)]
struct Bomb(&'static str, bool);
impl fmt::Display for Bomb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bomb {}", self.0)
    }
}
impl Drop for Bomb {
    fn drop(&mut self) {
        if self.1 {
            panic!("bomb {} dropped", self.0);
        }
    }
}
impl From<MErr> for Bomb {
    fn from(error: MErr) -> Self {
        Bomb(error.0, false)
    }
}

/// Panics when dropped; not `Sync` (the formatted path).
struct LocalBomb(Cell<u8>);
impl fmt::Display for LocalBomb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "local bomb {}", self.0.get())
    }
}
impl fmt::Debug for LocalBomb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalBomb({})", self.0.get())
    }
}
impl Drop for LocalBomb {
    fn drop(&mut self) {
        panic!("local bomb dropped");
    }
}

/// Not `Sync`; its `Display` (or `Debug`) panics.
struct Loud(#[allow(dead_code)] Cell<u8>, bool);
impl fmt::Display for Loud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.1 {
            panic!("loud display");
        }
        write!(f, "loud")
    }
}
impl fmt::Debug for Loud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 {
            panic!("loud debug");
        }
        write!(f, "Loud")
    }
}

/// Polls a fresh future `limit` times (a no-op waker: every suspension here wakes itself),
/// then drops it, catching a panic from the drop. `Ok(output)` if it completed.
fn drop_after<F: Future>(limit: usize, future: F) -> Result<F::Output, Option<String>> {
    let mut future = Box::pin(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..limit {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(output);
        }
    }
    match catch_unwind(AssertUnwindSafe(|| drop(future))) {
        Ok(()) => Err(None),
        Err(payload) => Err(Some(message(&*payload))),
    }
}

#[test]
fn a_block_error_whose_drop_panics_is_dropped_once_after_the_teardown() {
    let _serial = serial();
    // The exit fails, so `async_with!` drops the block's error itself.
    let log = Log::default();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        block_on(async {
            async_with!(fallible(log.clone(), false, true) => |_t| {
                Err::<u32, _>(Bomb("b", true))
            })
        })
    }));
    assert_eq!(message(&*outcome.unwrap_err()), "bomb b dropped");
    check_manager(
        &log.take(),
        "f",
        "err bomb b | Bomb(\"b\", true) | shared=false",
        true,
        true,
    );

    // Not `Sync` (its text boxed), dropped at every poll: dropped mid-exit, the teardown is
    // finished in place, reading the boxed text, before the error's `Drop` panics.
    for limit in 0.. {
        let log = Log::default();
        let outcome = drop_after(limit, async {
            async_with!(noted(log.clone(), "m", 3) => |target| {
                let _target = target;
                yield_now().await;
                Err::<u32, _>(LocalBomb(Cell::new(4)))
            })
        });
        let events = log.take();
        let expected = "err local bomb 4 | LocalBomb(4) | shared=false";
        match outcome {
            Ok(result) => {
                check_manager(&events, "m", expected, true, true);
                std::mem::forget(result); // its Drop panics
                break;
            }
            Err(panicked) => {
                check_manager(&events, "m", expected, false, limit > 0);
                let exit_began = events.iter().any(|e| e == &format!("m exit {expected}"));
                // The error exists only once the block completed, and then the exit began.
                assert_eq!(
                    panicked.as_deref(),
                    exit_began.then_some("local bomb dropped"),
                    "{events:?}"
                );
            }
        }
        assert_eq!(take_reports(), []);
    }
}

#[test]
fn a_non_sync_block_error_whose_display_or_debug_panics_still_gets_one_teardown() {
    let _serial = serial();
    for display_ok in [false, true] {
        let log = Log::default();
        let probe = Probe::default();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            block_on(async {
                async_with!(probe.observe(noted(log.clone(), "m", 2)) => |target| {
                    let _target = target;
                    Err::<u32, _>(Loud(Cell::new(0), display_ok))
                })
            })
        }));
        let panic = message(&*outcome.unwrap_err());
        assert_eq!(
            panic,
            if display_ok {
                "loud debug"
            } else {
                "loud display"
            }
        );
        // The view could not be made: the guard, still armed, cancels the manager, so its
        // teardown sees `Exit::Cancelled` (not `Exit::Panic`; the same before the rewrite, and
        // not stated in the guide). Pinned here as it is: one teardown, the panic propagates.
        let teardowns = probe.assert_torn_down_once(&Run::Completed {
            polls: 1,
            output: (),
        });
        assert_eq!(teardowns, [Observed::Cancelled]);
        check_manager(&log.take(), "m", "cancelled", true, true);
        assert_eq!(take_reports(), []);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Panics in enter, exit and block at every point, dropped at every poll
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    SetupPanics,
    ExitPanicsAtOnce,
    ExitPanicsAfterAwaiting,
    ExitFails,
}

#[async_context_manager]
async fn faulty(log: Log, fault: Fault) -> Result<Note, MErr> {
    let _locals = Note(log.clone(), "x locals".into());
    yield_now().await;
    if fault == Fault::SetupPanics {
        panic!("setup panicked");
    }
    log.push("x entered");
    let exit = r#yield!(Note(log.clone(), "x target".into()));
    if fault == Fault::ExitPanicsAtOnce {
        log.push(format!("x exit {}", describe(&exit)));
        panic!("exit panicked at once");
    }
    yield_now().await;
    log.push(format!("x exit {}", describe(&exit)));
    match fault {
        Fault::ExitPanicsAfterAwaiting => {
            yield_now().await;
            panic!("exit panicked after awaiting")
        }
        Fault::ExitFails => Err(MErr("exit")),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, Debug)]
enum BlockEnd {
    Value,
    Err,
    Panic,
}

#[test]
fn panics_in_enter_exit_and_block_at_every_poll() {
    let _serial = serial();
    let faults = [
        Fault::None,
        Fault::SetupPanics,
        Fault::ExitPanicsAtOnce,
        Fault::ExitPanicsAfterAwaiting,
        Fault::ExitFails,
    ];
    for fault in faults {
        for end in [BlockEnd::Value, BlockEnd::Err, BlockEnd::Panic] {
            let (log, probe) = &(Log::default(), Probe::default());
            let expected = match end {
                BlockEnd::Value => "ok".to_string(),
                BlockEnd::Err => expected_local(2, "e"),
                BlockEnd::Panic => "panic block panicked".to_string(),
            };
            cancel_at_every_poll(
                || {
                    AssertUnwindSafe(async move {
                        async_with!(probe.observe(faulty(log.clone(), fault)) => |target| {
                            let _target = target;
                            yield_now().await;
                            match end {
                                BlockEnd::Value => Ok(1),
                                BlockEnd::Err => Err(Local(Cell::new(2), "e".into())),
                                BlockEnd::Panic => panic!("block panicked"),
                            }
                        })
                    })
                    .catch_unwind()
                },
                |run| {
                    let context = format!("{fault:?} {end:?} {run:?}", run = polls_of(&run));
                    let (events, completed) = events_of(log, &run);
                    let entered = events.iter().any(|e| e == "x entered");
                    check_manager(&events, "x", &expected, completed, polls_of(&run) > 0);
                    let reports = take_reports();
                    let exit_panics = matches!(
                        fault,
                        Fault::ExitPanicsAtOnce | Fault::ExitPanicsAfterAwaiting
                    );
                    if completed || !entered {
                        assert_eq!(reports, [], "{context}");
                    } else if exit_panics {
                        assert_eq!(
                            reports,
                            [("faulty".to_string(), TeardownOutcome::Panicked)],
                            "{context} {events:?}"
                        );
                    } else if fault == Fault::ExitFails {
                        assert_eq!(
                            reports,
                            [("faulty".to_string(), TeardownOutcome::Failed)],
                            "{context}"
                        );
                    } else {
                        assert_eq!(reports, [], "{context}");
                    }
                    // (A teardown that panicked never reports its end to the probe: the log above
                    // checks those.)
                    if !exit_panics {
                        probe.assert_torn_down_once(&run);
                    }
                    if let Run::Completed { output, .. } = run {
                        match (fault, end, output) {
                            (Fault::SetupPanics, _, Err(p)) => {
                                assert_eq!(message(&*p), "setup panicked")
                            }
                            (Fault::ExitPanicsAtOnce, _, Err(p)) => {
                                assert_eq!(message(&*p), "exit panicked at once")
                            }
                            (Fault::ExitPanicsAfterAwaiting, _, Err(p)) => {
                                assert_eq!(message(&*p), "exit panicked after awaiting")
                            }
                            (_, BlockEnd::Panic, Err(p)) => {
                                assert_eq!(message(&*p), "block panicked")
                            }
                            (Fault::ExitFails, _, Ok(Err(error))) => {
                                assert_eq!(error.1, "from exit")
                            }
                            (Fault::None, BlockEnd::Value, Ok(Ok(1))) => {}
                            (Fault::None, BlockEnd::Err, Ok(Err(error))) => {
                                assert_eq!(error.1, "e")
                            }
                            (_, _, output) => panic!(
                                "{context}: unexpected output {:?}",
                                output.map(|r| r.map_err(|e| e.1)).map_err(|p| message(&*p))
                            ),
                        }
                    }
                },
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. A generated manager dropped while entered: the non-generic cancel-on-drop driver
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Teardown {
    Quick,
    Yields,
    Forever,
    Fails,
    Panics,
    PanicsAfterYield,
    FailsWithAnErrorWhoseDropPanics,
    LocalWhoseDropPanicsWhileWaiting,
}

#[derive(Debug)]
struct TdErr(bool);
impl Drop for TdErr {
    fn drop(&mut self) {
        if self.0 {
            panic!("teardown error dropped");
        }
    }
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a teardown local panicked in its drop");
    }
}

/// Lends a borrow of its own local; its teardown reads it after the block wrote to it.
#[async_context_manager]
async fn lender(log: Log, teardown: Teardown) -> Result<&mut Vec<u32>, TdErr> {
    let mut owned = vec![1];
    let _locals = Note(log.clone(), "locals".into());
    let exit = r#yield!(&mut owned);
    log.push(format!("exit {} saw {owned:?}", describe(&exit)));
    match teardown {
        Teardown::Quick => {}
        Teardown::Yields => {
            for _ in 0..5 {
                yield_now().await;
            }
        }
        Teardown::Forever => std::future::pending::<()>().await,
        Teardown::Fails => return Err(TdErr(false)),
        Teardown::Panics => panic!("teardown panicked"),
        Teardown::PanicsAfterYield => {
            yield_now().await;
            panic!("teardown panicked after yielding")
        }
        Teardown::FailsWithAnErrorWhoseDropPanics => return Err(TdErr(true)),
        Teardown::LocalWhoseDropPanicsWhileWaiting => {
            let _bomb = PanicOnDrop;
            std::future::pending::<()>().await
        }
    }
    owned.push(3);
    log.push(format!("exit done {owned:?}"));
    Ok(())
}

#[test]
fn a_generated_manager_dropped_while_entered_runs_or_reports_its_teardown() {
    let _serial = serial();
    use TeardownOutcome::*;
    let exit = "exit cancelled saw [1, 2]";
    let cases: &[(Teardown, &[&str], &[TeardownOutcome])] = &[
        (
            Teardown::Quick,
            &[exit, "exit done [1, 2, 3]", "drop locals"],
            &[],
        ),
        (
            Teardown::Yields,
            &[exit, "exit done [1, 2, 3]", "drop locals"],
            &[],
        ),
        (Teardown::Forever, &[exit, "drop locals"], &[Unfinished]),
        (Teardown::Fails, &[exit, "drop locals"], &[Failed]),
        (Teardown::Panics, &[exit, "drop locals"], &[Panicked]),
        (
            Teardown::PanicsAfterYield,
            &[exit, "drop locals"],
            &[Panicked],
        ),
        (
            Teardown::FailsWithAnErrorWhoseDropPanics,
            &[exit, "drop locals"],
            &[Panicked],
        ),
        (
            Teardown::LocalWhoseDropPanicsWhileWaiting,
            &[exit, "drop locals"],
            &[Panicked],
        ),
    ];
    for (teardown, events, outcomes) in cases {
        let log = Log::default();
        let mut manager = Box::pin(lender(log.clone(), *teardown));
        let target = block_on(manager.as_mut().enter()).unwrap();
        target.push(2);
        drop(manager); // entered, never exited
        assert_eq!(log.take(), *events, "{teardown:?}");
        let expected: Vec<_> = outcomes
            .iter()
            .map(|outcome| ("lender".to_string(), *outcome))
            .collect();
        assert_eq!(take_reports(), expected, "{teardown:?}");
    }

    // Dropped during its enter: no teardown, locals dropped, nothing reported.
    let log = Log::default();
    let mut manager = Box::pin(noted(log.clone(), "m", 0));
    {
        let mut cx = Context::from_waker(Waker::noop());
        let enter = std::pin::pin!(manager.as_mut().enter());
        assert!(enter.poll(&mut cx).is_pending());
    }
    drop(manager);
    assert_eq!(log.take(), ["drop m locals"]);
    assert_eq!(take_reports(), []);
}

/// The yield inside `async_with!` (the `@yielding` path) over an inner manager, or a tuple.
#[async_context_manager]
async fn composed(log: Log, inner_yields: usize, tuple: bool) -> Result<Note, Infallible> {
    let _locals = Note(log.clone(), "outer locals".into());
    if tuple {
        async_with!((noted(log.clone(), "i1", inner_yields), noted(log.clone(), "i2", inner_yields)) => |(_a, _b)| {
            let exit = r#yield!(Note(log.clone(), "outer target".into()));
            log.push(format!("outer exit {}", describe(&exit)));
            Ok::<_, Infallible>(())
        })
    } else {
        async_with!(noted(log.clone(), "i1", inner_yields) => |_inner| {
            let exit = r#yield!(Note(log.clone(), "outer target".into()));
            log.push(format!("outer exit {}", describe(&exit)));
            Ok::<_, Infallible>(())
        })
    }
}

#[test]
fn a_composed_manager_dropped_while_entered_finishes_or_reports_the_inner_teardowns() {
    let _serial = serial();
    use TeardownOutcome::Unfinished;
    // (inner teardown suspends this many times (usize::MAX: forever), tuple) -> reports.
    type Case = (usize, bool, &'static [(&'static str, TeardownOutcome)]);
    let cases: &[Case] = &[
        (2, false, &[]),
        (2, true, &[]),
        (
            usize::MAX,
            false,
            &[("noted", Unfinished), ("composed", Unfinished)],
        ),
    ];
    for (yields, tuple, reports) in cases {
        let log = Log::default();
        let mut manager = Box::pin(composed(log.clone(), *yields, *tuple));
        let target = block_on(manager.as_mut().enter()).unwrap();
        drop(target);
        drop(manager);
        let events = log.take();
        assert_eq!(count(&events, "outer exit cancelled"), 1, "{events:?}");
        assert_eq!(count(&events, "drop outer locals"), 1, "{events:?}");
        let inners: &[&str] = if *tuple { &["i2", "i1"] } else { &["i1"] };
        for inner in inners {
            assert_eq!(count(&events, &format!("drop {inner} target")), 1);
            assert_eq!(count(&events, &format!("drop {inner} locals")), 1);
            let finished = count(&events, &format!("{inner} exit cancelled"));
            assert_eq!(finished, usize::from(*yields != usize::MAX), "{events:?}");
        }
        if *tuple {
            let i2 = position(&events, |e| e == "i2 exit cancelled").unwrap();
            let i1 = position(&events, |e| e == "i1 exit cancelled").unwrap();
            assert!(i2 < i1, "a tuple exits right to left: {events:?}");
        }
        let expected: Vec<_> = reports.iter().map(|(n, o)| (n.to_string(), *o)).collect();
        assert_eq!(take_reports(), expected, "{yields} {tuple}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. `@yielding`: the outer block's non-Sync error reaches the inner teardown, at every poll
// ---------------------------------------------------------------------------------------------

#[async_context_manager]
async fn watched_composed<'p>(log: Log, probe: &'p Probe) -> Result<Note, String> {
    async_with!(probe.observe(noted(log.clone(), "inner", 3)) => |_inner| {
        yield_now().await;
        let exit = r#yield!(Note(log.clone(), "outer target".into()));
        yield_now().await;
        log.push(format!("outer exit {}", describe(&exit)));
        Ok::<_, String>(())
    })
}

#[test]
fn the_yielding_path_shows_the_outer_error_to_the_inner_teardown_at_every_poll() {
    let (_serial, log, probe) = &serial_with_log_and_probe();
    cancel_at_every_poll(
        || async move {
            async_with!(probe.observe(watched_composed(log.clone(), probe)) => |target| {
                let _target = target;
                yield_now().await;
                Err::<u32, _>(Local(Cell::new(6), "outer".into()))
            })
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let (events, completed) = events_of(log, &run);
            let seen = expected_local(6, "outer");
            check_manager(&events, "inner", &seen, completed, polls_of(&run) > 0);
            let outer: Vec<_> = events
                .iter()
                .filter(|e| e.starts_with("outer exit"))
                .collect();
            let inner: Vec<_> = events
                .iter()
                .filter(|e| e.starts_with("inner exit"))
                .collect();
            // The outer manager entered exactly when both were torn down; then the inner one
            // sees what the outer one saw (else the outer enter was cut before its yield).
            let outer_entered = teardowns.len() == 2;
            assert_eq!(outer.len(), usize::from(outer_entered), "{events:?}");
            if let (Some(outer), Some(inner)) = (outer.first(), inner.first()) {
                assert_eq!(outer["outer exit".len()..], inner["inner exit".len()..]);
            }
            assert_eq!(
                count(&events, "drop outer target"),
                usize::from(outer_entered),
                "{events:?}"
            );
            assert_eq!(take_reports(), []);
            if let Run::Completed { output, .. } = run {
                assert_eq!(teardowns, [Observed::Err, Observed::Err]);
                assert_eq!(output.unwrap_err().1, "outer");
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// 7. Tuples (their exit finishes by itself: `Finishing` keeps no bookkeeping) and ExitStack
// ---------------------------------------------------------------------------------------------

#[async_context_manager]
async fn maybe_failing(log: Log, name: &'static str, fails: bool) -> Result<Note, MErr> {
    let _locals = Note(log.clone(), format!("{name} locals"));
    yield_now().await;
    if fails {
        return Err(MErr(name));
    }
    log.push(format!("{name} entered"));
    let exit = r#yield!(Note(log.clone(), format!("{name} target")));
    yield_now().await;
    yield_now().await;
    log.push(format!("{name} exit {}", describe(&exit)));
    Ok(())
}

#[test]
fn a_tuple_dropped_at_every_poll_shows_each_manager_the_boxed_error() {
    let _serial = serial();
    for second_fails in [false, true] {
        let (log, probe) = &(Log::default(), Probe::default());
        let block = expected_local(7, "t");
        cancel_at_every_poll(
            || async move {
                async_with!((
                    probe.observe(maybe_failing(log.clone(), "a", false)),
                    probe.observe(maybe_failing(log.clone(), "b", second_fails)),
                ) => |(x, y)| {
                    let _targets = (x, y);
                    yield_now().await;
                    Err::<u32, _>(Local(Cell::new(7), "t".into()))
                })
            },
            |run| {
                probe.assert_torn_down_once(&run);
                let (events, completed) = events_of(log, &run);
                let polled = polls_of(&run) > 0;
                if second_fails {
                    // `a` sees b's failure to enter; no block ran.
                    let seen = "err manager b | MErr(\"b\") | shared=false";
                    check_manager(&events, "a", seen, completed, polled);
                    assert_eq!(count(&events, "b entered"), 0);
                    if let Run::Completed { output, .. } = run {
                        assert_eq!(output.unwrap_err().1, "from b");
                    }
                } else {
                    check_manager(&events, "a", &block, completed, polled);
                    let b_polled = events.iter().any(|e| e == "drop b locals");
                    check_manager(&events, "b", &block, completed, b_polled);
                    assert_exits_in_reverse(&events, "a", "b", "right to left");
                    if let Run::Completed { output, .. } = run {
                        assert_eq!(output.unwrap_err().1, "t");
                    }
                }
                assert_eq!(take_reports(), []);
            },
        );
    }
}

#[test]
fn an_exit_stack_dropped_at_every_poll_shows_each_manager_the_boxed_error() {
    let (_serial, log, probe) = &serial_with_log_and_probe();
    let block = expected_local(8, "s");
    cancel_at_every_poll(
        || async move {
            async_with!(ExitStack::<BoxError>::new() => |stack| {
                let _a = stack.enter(probe.observe(maybe_failing(log.clone(), "a", false))).await?;
                let _b = stack.enter(probe.observe(maybe_failing(log.clone(), "b", false))).await?;
                yield_now().await;
                Err::<u32, _>(Local(Cell::new(8), "s".into()))
            })
        },
        |run| {
            probe.assert_torn_down_once(&run);
            let (events, completed) = events_of(log, &run);
            for name in ["a", "b"] {
                let polled = events.iter().any(|e| *e == format!("drop {name} locals"));
                check_manager(&events, name, &block, completed, polled);
            }
            assert_exits_in_reverse(&events, "a", "b", "last in, first out");
            assert_eq!(take_reports(), []);
            if let Run::Completed { output, .. } = run {
                assert_eq!(output.unwrap_err().1, "s");
            }
        },
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Hand-written managers: an exit that panics when called, an exit that finishes by itself
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Calls {
    exits: Vec<String>,
    cancels: usize,
}

/// Its `exit` does its work when called, then returns a future that suspends twice; it
/// claims (truthfully) that its exit finishes when dropped.
struct Eager<'c> {
    calls: &'c Mutex<Calls>,
    panic_in_exit_call: bool,
}

impl<'a> contextlib::Lend<'a> for Eager<'_> {
    type Target = u8;
}

impl AsyncContextManager for Eager<'_> {
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<u8, Infallible> {
        yield_now().await;
        Ok(1)
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Infallible>> {
        self.calls.lock().unwrap().exits.push(describe(&exit));
        if self.panic_in_exit_call {
            panic!("exit panicked when called");
        }
        async {
            yield_now().await;
            yield_now().await;
            Ok(())
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        self.calls.lock().unwrap().cancels += 1;
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = true;
}

#[test]
fn hand_written_exits_are_called_once_and_never_also_cancelled() {
    let _serial = serial();
    for panic_in_exit_call in [false, true] {
        let calls = &Mutex::new(Calls::default());
        cancel_at_every_poll(
            || {
                AssertUnwindSafe(async move {
                    async_with!(Eager { calls, panic_in_exit_call } => |n| {
                        yield_now().await;
                        Err::<u8, _>(Local(Cell::new(u32::from(n)), "h".into()))
                    })
                })
                .catch_unwind()
            },
            |run| {
                let calls = std::mem::take(&mut *calls.lock().unwrap());
                let teardowns = calls.exits.len() + calls.cancels;
                match polls_of(&run) {
                    0 | 1 => assert_eq!(teardowns, 0, "not entered yet"),
                    _ => assert_eq!(teardowns, 1, "{:?} {}", calls.exits, calls.cancels),
                }
                for exit in &calls.exits {
                    assert_eq!(exit, &expected_local(1, "h"));
                }
                if let Run::Completed { output, .. } = run {
                    match output {
                        Ok(result) => {
                            assert!(!panic_in_exit_call);
                            assert_eq!(result.unwrap_err().1, "h");
                        }
                        Err(p) => {
                            assert!(panic_in_exit_call);
                            assert_eq!(message(&*p), "exit panicked when called");
                        }
                    }
                }
                assert_eq!(take_reports(), []);
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 9. `__private::Finishing` with a `Describe` that changes its mind (safe, reachable code)
// ---------------------------------------------------------------------------------------------

/// Says "finish in place" when asked at construction and at drop, "not" while polled.
struct Fickle(Cell<u32>);

impl contextlib::__private::Describe for Fickle {
    fn manager_name(&self) -> &'static str {
        "fickle"
    }
    fn in_place(&self) -> bool {
        let asked = self.0.get();
        self.0.set(asked + 1);
        asked != 1
    }
}

#[test]
fn a_fickle_describe_cannot_make_finishing_resume_a_finished_teardown_unsoundly() {
    let _serial = serial();
    // A completed exit is polled again by the fickle `Drop`: a clear panic, caught and
    // reported, never a second run of the teardown.
    let log = Log::default();
    let mut manager = Box::pin(noted(log.clone(), "m", 0));
    drop(block_on(manager.as_mut().enter()).unwrap());
    let finishing = contextlib::__private::Finishing::new(
        manager.as_mut().exit(Exit::Ok),
        Fickle(Cell::new(0)),
    );
    block_on(finishing).unwrap();
    drop(manager);
    let events = log.take();
    assert_eq!(count(&events, "m exit ok"), 1, "{events:?}");
    assert_eq!(count(&events, "drop m locals"), 1, "{events:?}");
    assert_eq!(
        take_reports(),
        [("fickle".to_string(), TeardownOutcome::Panicked)]
    );
}

// ---------------------------------------------------------------------------------------------
// 10. A borrowed, pinned manager whose `async_with!` future is leaked mid-block, then dropped
// ---------------------------------------------------------------------------------------------

/// (Leaks the future's memory on purpose, which Miri's leak check reports: under Miri run it
/// alone with `MIRIFLAGS=-Zmiri-ignore-leaks ... -- --ignored leaked`.)
#[test]
#[cfg_attr(miri, ignore = "leaks the future's memory on purpose")]
fn a_manager_outliving_its_leaked_async_with_future_runs_its_teardown_once_on_drop() {
    let _serial = serial();
    for teardown in [Teardown::Quick, Teardown::Forever, Teardown::Panics] {
        let log = Log::default();
        let mut manager = Box::pin(lender(log.clone(), teardown));
        let mut future = Box::pin(async {
            async_with!(manager.as_mut() => |owned| {
                owned.push(2);
                std::future::pending::<()>().await;
            })
        });
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        std::mem::forget(future); // its guard never runs: the manager's own drop must
        assert_eq!(log.take(), [] as [&str; 0]);
        drop(manager);
        let events = log.take();
        assert_eq!(count(&events, "exit cancelled saw [1, 2]"), 1, "{events:?}");
        assert_eq!(count(&events, "drop locals"), 1, "{events:?}");
        let expected: &[TeardownOutcome] = match teardown {
            Teardown::Quick => &[],
            Teardown::Forever => &[TeardownOutcome::Unfinished],
            _ => &[TeardownOutcome::Panicked],
        };
        let reports: Vec<_> = take_reports().into_iter().map(|(_, o)| o).collect();
        assert_eq!(reports, expected, "{teardown:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Dropped while unwinding from a panic elsewhere, at every poll: a teardown that panics
//     in place is caught there, so the process does not abort
// ---------------------------------------------------------------------------------------------

#[test]
fn dropped_during_unwinding_at_every_poll_a_panicking_teardown_does_not_abort() {
    let _serial = serial();
    for fault in [
        Fault::ExitPanicsAtOnce,
        Fault::ExitPanicsAfterAwaiting,
        Fault::ExitFails,
    ] {
        for limit in 0.. {
            let log = Log::default();
            let mut completed = false;
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let mut future = Box::pin(async {
                    async_with!(faulty(log.clone(), fault) => |target| {
                        let _target = target;
                        yield_now().await;
                        Err::<u32, _>(Local(Cell::new(3), "u".into()))
                    })
                });
                let mut cx = Context::from_waker(Waker::noop());
                for _ in 0..limit {
                    if future.as_mut().poll(&mut cx).is_ready() {
                        completed = true;
                        return;
                    }
                }
                panic!("the parent panicked"); // drops `future` while unwinding
            }));
            let events = log.take();
            let expected = expected_local(3, "u");
            let panic = outcome.as_ref().err().map(|payload| message(&**payload));
            let reports = take_reports();
            // The run ends when the future completes, or when the exit's own panic leaves a poll.
            if completed
                || panic
                    .as_deref()
                    .is_some_and(|m| m.starts_with("exit panicked"))
            {
                check_manager(&events, "x", &expected, true, true);
                assert_eq!(completed, fault == Fault::ExitFails, "{panic:?}");
                assert_eq!(reports, []);
                break;
            }
            check_manager(&events, "x", &expected, false, limit > 0);
            assert_eq!(panic.as_deref(), Some("the parent panicked"));
            let entered = events.iter().any(|e| e == "x entered");
            let outcome = match fault {
                Fault::ExitFails => TeardownOutcome::Failed,
                _ => TeardownOutcome::Panicked,
            };
            let expected: &[_] = if entered {
                &[("faulty".to_string(), outcome)]
            } else {
                &[]
            };
            assert_eq!(
                reports, expected,
                "{fault:?} after {limit} polls: {events:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 12. Nested `async_with!` in the block, the inner manager borrowing the outer target, both
//     block errors not `Sync`, dropped at every poll
// ---------------------------------------------------------------------------------------------

#[async_context_manager]
async fn borrowing(log: Log, outer: &mut Vec<u32>) -> &mut Vec<u32> {
    let _locals = Note(log.clone(), "in locals".into());
    log.push("in entered");
    outer.push(10);
    let exit = r#yield!(&mut *outer);
    yield_now().await;
    outer.push(30);
    log.push(format!("in exit {} {outer:?}", describe(&exit)));
}

#[async_context_manager]
async fn owning(log: Log) -> &mut Vec<u32> {
    let mut owned = vec![0];
    let _locals = Note(log.clone(), "out locals".into());
    yield_now().await;
    log.push("out entered");
    let exit = r#yield!(&mut owned);
    yield_now().await;
    log.push(format!("out exit {} {owned:?}", describe(&exit)));
}

#[test]
fn nested_async_with_borrowing_the_outer_target_at_every_poll() {
    let _serial = serial();
    let log = &Log::default();
    let inner_error = expected_local(4, "n");
    cancel_at_every_poll(
        || async move {
            async_with!(owning(log.clone()) => |owned| {
                yield_now().await;
                let inner = async_with!(borrowing(log.clone(), owned) => |vec| {
                    yield_now().await;
                    vec.push(20);
                    Err::<u32, _>(Local(Cell::new(4), "n".into()))
                });
                yield_now().await;
                inner
            })
        },
        |run| {
            let events = log.take();
            let outs: Vec<_> = events
                .iter()
                .filter(|e| e.starts_with("out exit"))
                .collect();
            let ins: Vec<_> = events.iter().filter(|e| e.starts_with("in exit")).collect();
            assert_eq!(outs.len(), count(&events, "out entered"), "{events:?}");
            assert_eq!(ins.len(), count(&events, "in entered"), "{events:?}");
            assert_eq!(
                count(&events, "drop in locals"),
                count(&events, "in entered")
            );
            if let Some(inner) = ins.first() {
                let seen = &inner["in exit ".len()..];
                assert!(
                    seen == format!("{inner_error} [0, 10, 20, 30]")
                        || seen == "cancelled [0, 10, 30]"
                        || seen == "cancelled [0, 10, 20, 30]",
                    "{events:?}"
                );
                // The inner teardown (borrowing the outer target) ends before the outer one.
                let i = position(&events, |e| e.starts_with("in exit")).unwrap();
                let o = position(&events, |e| e.starts_with("out exit")).unwrap();
                assert!(i < o, "{events:?}");
            }
            assert_eq!(take_reports(), []);
            if let Run::Completed { output, .. } = run {
                assert_eq!(output.unwrap_err().1, "n");
                assert_eq!(
                    outs,
                    [&format!(
                        "out exit {} [0, 10, 20, 30]",
                        expected_local(4, "n")
                    )]
                );
            }
        },
    );
}
