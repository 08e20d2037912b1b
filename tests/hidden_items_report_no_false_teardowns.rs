//! The hidden items `async_with!` expands to can be called by hand, in any order; they must not
//! produce false teardown reports. `__private::Guard` used to hand out its "owes an exit" flag as
//! a `&mut bool`: set by hand without entering, the guard's drop cancelled a manager that never
//! entered, and reported "teardown panicked" when that manager refused an exit before an enter
//! (issue 20, smaller findings). The flag is now set only by `ArmOnSuccess`, once the manager's
//! enter succeeded. (`*armed = true` no longer compiles: the flag is an `Arm`, not a `bool`.)
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Waker};

use contextlib::__private::{ArmOnSuccess, Guard};
use contextlib::testing::yield_now;
use contextlib::{AsyncContextManager, Exit, TeardownReport, async_context_manager};

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn reporter(report: &TeardownReport) {
    REPORTS.lock().unwrap().push(report.to_string());
}

/// Serializes the tests: the teardown hook and its reports are global.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn reports_during(run: impl FnOnce()) -> Vec<String> {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = contextlib::set_teardown_hook(reporter);
    REPORTS.lock().unwrap().clear();
    run();
    contextlib::set_teardown_hook(previous);
    std::mem::take(&mut *REPORTS.lock().unwrap())
}

/// A manager that refuses (panics at) an exit before an enter, and notes what happened.
struct Strict<'l> {
    entered: bool,
    log: &'l Mutex<Vec<&'static str>>,
    enter_fails: bool,
}

impl<'l> Strict<'l> {
    fn new(log: &'l Mutex<Vec<&'static str>>) -> Self {
        Strict {
            entered: false,
            log,
            enter_fails: false,
        }
    }
}

impl<'a> contextlib::Lend<'a> for Strict<'_> {
    type Target = u8;
}

impl AsyncContextManager for Strict<'_> {
    type Error = &'static str;
    async fn enter(self: Pin<&mut Self>) -> Result<u8, &'static str> {
        let this = self.get_mut();
        yield_now().await;
        if this.enter_fails {
            return Err("the enter failed");
        }
        this.entered = true;
        this.log.lock().unwrap().push("entered");
        Ok(1)
    }
    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), &'static str> {
        assert!(self.entered, "exit before enter");
        self.log
            .lock()
            .unwrap()
            .push(if matches!(exit, Exit::Cancelled) {
                "cancelled"
            } else {
                "exited"
            });
        Ok(())
    }
}

/// Runs `misuse` on a guard of a `Strict` manager (whose enter fails if `enter_fails`), then
/// drops the guard; no teardown may be reported. Returns what the manager logged.
fn strict_guard_log(
    enter_fails: bool,
    misuse: impl FnOnce(&mut Guard<'_, Strict<'_>>),
) -> Vec<&'static str> {
    let log = Mutex::new(Vec::new());
    let reports = reports_during(|| {
        let manager = pin!(Strict {
            enter_fails,
            ..Strict::new(&log)
        });
        let mut guard = Guard::new(manager);
        misuse(&mut guard);
        drop(guard);
    });
    assert!(reports.is_empty(), "{reports:?}");
    log.into_inner().unwrap()
}

/// The enter the expansion runs: it arms the guard once the manager's enter succeeded.
fn armed_enter<'g, M: AsyncContextManager>(
    guard: &'g mut Guard<'_, M>,
) -> impl Future<Output = Result<contextlib::Target<'g, M>, M::Error>> {
    ArmOnSuccess::new({
        let (manager, arm) = guard.entering();
        (manager.enter(), arm)
    })
}

#[test]
fn a_guard_whose_flag_was_taken_but_not_used_cancels_nothing() {
    let log = strict_guard_log(false, |guard| {
        // The flag cannot be set by hand: taking it changes nothing.
        let (_manager, _arm) = guard.entering();
    });
    assert!(log.is_empty(), "{log:?}");
}

#[test]
fn a_guard_whose_enter_was_dropped_midway_cancels_nothing() {
    let log = strict_guard_log(false, |guard| {
        let mut enter = pin!(armed_enter(guard));
        assert!(
            enter
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        // dropped before the enter succeeded
    });
    assert!(log.is_empty(), "{log:?}");
}

#[test]
fn a_guard_whose_enter_failed_cancels_nothing() {
    let log = strict_guard_log(true, |guard| {
        let entered = futures_executor::block_on(armed_enter(guard));
        assert_eq!(entered, Err("the enter failed"));
    });
    assert!(log.is_empty(), "{log:?}");
}

/// The control: a guard armed by a real enter does cancel its manager when dropped.
#[test]
fn a_guard_armed_by_a_successful_enter_cancels_its_manager() {
    let log = strict_guard_log(false, |guard| {
        let entered = futures_executor::block_on(armed_enter(guard));
        assert_eq!(entered, Ok(1));
    });
    assert_eq!(log, ["entered", "cancelled"]);
}

/// The same for a generated manager, whose exit before an enter panics: no report either.
#[async_context_manager]
async fn generated() -> u8 {
    r#yield!(1);
}

#[test]
fn a_generated_manager_never_entered_is_not_reported() {
    let reports = reports_during(|| {
        let manager = pin!(generated());
        let mut guard = Guard::new(manager);
        let (_manager, _arm) = guard.entering();
        drop(guard);
    });
    assert!(reports.is_empty(), "{reports:?}");
}
