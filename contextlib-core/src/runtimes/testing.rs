//! A harness for cancellation: drop a future after every possible number of polls, and check
//! what its managers did each time.

use core::future::Future;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Wake;
use std::time::Duration;

use crate::protocol::{AsyncContextManager, Exit, Lend, Target};

/// What became of one run of the scenario given to [`cancel_at_every_poll`].
///
/// ```
/// use contextlib::testing::{cancel_at_every_poll, yield_now, Run};
/// let mut runs = Vec::new();
/// cancel_at_every_poll(|| async { yield_now().await; 7 }, |run| runs.push(run));
/// assert_eq!(runs, [Run::Dropped { polls: 0 }, Run::Dropped { polls: 1 }, Run::Completed { polls: 2, output: 7 }]);
/// ```
#[derive(Debug, PartialEq, Eq)]
pub enum Run<T> {
    /// The future was dropped after this many polls, before completing.
    Dropped {
        /// How many times it was polled.
        polls: usize,
    },
    /// The future completed on poll number `polls`.
    Completed {
        /// How many times it was polled.
        polls: usize,
        /// Its output.
        output: T,
    },
}

/// Runs `scenario` once for every `k` from 0 up: polls the future it makes `k` times, then
/// drops it, and hands `check` the [`Run`]. Stops after the first run in which the future
/// completes; returns how many polls that took.
///
/// Polling uses a manual waker and no runtime. Between polls it waits (up to 10 seconds) for
/// the future to wake it, so futures whose I/O completes on other threads work too (enter a
/// runtime context first if they need one, e.g. `let _guard = runtime.enter();`). A future
/// that suspends without arranging a wake-up stalls the harness, which then panics.
///
/// ```
/// use contextlib::testing::{cancel_at_every_poll, Run};
/// use contextlib::{async_context_manager, async_with, Exit};
/// use std::sync::Mutex;
///
/// #[async_context_manager]
/// async fn noted(log: &Mutex<Vec<String>>) -> u8 {
///     let exit = r#yield!(1);
///     log.lock().unwrap().push(format!("{exit:?}"));
/// }
///
/// let log = Mutex::new(Vec::new());
/// cancel_at_every_poll(
///     || async {
///         async_with!(noted(&log) => |n| {
///             contextlib::testing::yield_now().await; // the block suspends once
///             n
///         })
///     },
///     |run| {
///         let exits = std::mem::take(&mut *log.lock().unwrap());
///         match run {
///             Run::Dropped { polls: 0 } => assert!(exits.is_empty()), // never entered
///             Run::Dropped { .. } => assert_eq!(exits, ["Cancelled"]),
///             Run::Completed { output, .. } => {
///                 assert_eq!(output, Ok(1));
///                 assert_eq!(exits, ["Ok"]);
///             }
///         }
///     },
/// );
/// ```
pub fn cancel_at_every_poll<F: Future>(
    mut scenario: impl FnMut() -> F,
    mut check: impl FnMut(Run<F::Output>),
) -> usize {
    for limit in 0.. {
        let signal = Arc::new(Signal::default());
        let waker = Waker::from(signal.clone());
        let mut cx = Context::from_waker(&waker);
        let completed = {
            let mut future = pin!(scenario());
            let mut completed = None;
            for poll in 1..=limit {
                if poll > 1 {
                    signal.wait_for_wake(Duration::from_secs(10));
                }
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    completed = Some(Run::Completed {
                        polls: poll,
                        output,
                    });
                    break;
                }
            }
            completed
        }; // the future is dropped here, before `check` looks
        match completed {
            Some(run) => {
                check(run);
                return limit;
            }
            None => check(Run::Dropped { polls: limit }),
        }
    }
    unreachable!("the loop returns once the future completes")
}

/// A future that suspends once, waking itself at once: a runtime-free `yield_now`.
///
/// ```
/// # futures_executor::block_on(async {
/// contextlib::testing::yield_now().await; // returns on the next poll
/// # });
/// ```
pub fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    core::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    changed: Condvar,
}

impl Signal {
    fn wait_for_wake(&self, timeout: Duration) {
        let woken = self
            .woken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (mut woken, wait) = self
            .changed
            .wait_timeout_while(woken, timeout, |woken| !*woken)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        assert!(
            !wait.timed_out(),
            "contextlib::testing: the future suspended and was not woken within {timeout:?}"
        );
        *woken = false;
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self
            .woken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        self.changed.notify_all();
    }
}

/// How one exit of an observed manager began: what [`Probe::assert_torn_down_once`] returns.
///
/// ```
/// use contextlib::testing::{cancel_at_every_poll, Observed, Probe, Run};
/// use contextlib::{async_with, nullcontext};
///
/// let probe = Probe::default();
/// cancel_at_every_poll(
///     || async {
///         async_with!(probe.observe(nullcontext(1)) => |n| {
///             let checked: Result<u8, String> = Err(format!("{n} failed"));
///             checked
///         })
///     },
///     |run| {
///         let teardowns = probe.assert_torn_down_once(&run);
///         if let Run::Completed { .. } = run {
///             assert_eq!(teardowns, [Observed::Err]); // the block failed
///         }
///     },
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// `exit` was called with `Exit::Ok`.
    Ok,
    /// `exit` was called with `Exit::Err`.
    Err,
    /// `exit` was called with `Exit::Panic`.
    Panic,
    /// `cancel` was called (the block was cancelled), or `exit` with `Exit::Cancelled`.
    Cancelled,
}

impl Observed {
    fn of(exit: &Exit<'_>) -> Self {
        match exit {
            Exit::Ok => Observed::Ok,
            Exit::Err(_) => Observed::Err,
            Exit::Panic(_) => Observed::Panic,
            _ => Observed::Cancelled,
        }
    }
}

/// Watches managers for [`cancel_at_every_poll`]: how many entered, and how each teardown began
/// and ended.
///
/// Wrap a manager with [`observe`](Probe::observe); after each run,
/// [`assert_torn_down_once`](Probe::assert_torn_down_once) checks the rule contextlib guarantees:
/// a manager that was entered is torn down exactly once — with `Exit::Cancelled` if its block
/// was cut short — and that teardown *ended*: its exit future completed, or it was handed to
/// something that finishes it (a cancellation, or an exit that finishes by itself, as
/// `contextlib::tokio::detach_on_cancel`'s does). A teardown whose exit future was dropped mid-way is
/// cut short, and fails the check. A manager that was not entered is not torn down at all.
///
/// ```
/// use contextlib::testing::{cancel_at_every_poll, yield_now, Observed, Probe, Run};
/// use contextlib::{async_context_manager, async_with};
///
/// #[async_context_manager]
/// async fn slow() -> u8 {
///     yield_now().await;
///     r#yield!(1);
///     yield_now().await;
/// }
///
/// let probe = Probe::default();
/// cancel_at_every_poll(
///     || async { async_with!(probe.observe(slow()) => |n| { yield_now().await; n }) },
///     |run| {
///         let teardowns = probe.assert_torn_down_once(&run);
///         if let Run::Completed { .. } = run {
///             assert_eq!(teardowns, [Observed::Ok]);
///         }
///     },
/// );
/// ```
#[derive(Default)]
pub struct Probe {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    entered: usize,
    /// How each teardown began.
    teardowns: Vec<Observed>,
    /// Teardowns that ended: completed, or handed to something that finishes them.
    ended: usize,
}

impl Probe {
    /// Wraps `manager` so that this probe sees its enter and its teardown.
    ///
    /// ```
    /// use contextlib::testing::{Probe, Run};
    /// use contextlib::{async_with, nullcontext};
    ///
    /// let probe = Probe::default();
    /// let n = futures_executor::block_on(async {
    ///     async_with!((probe.observe(nullcontext(1)), probe.observe(nullcontext(2))) => |(a, b)| a + b)
    /// });
    /// assert_eq!(n, Ok(3));
    /// assert_eq!(probe.assert_torn_down_once(&Run::Completed { polls: 1, output: () }).len(), 2);
    /// ```
    pub fn observe<M: AsyncContextManager>(&self, manager: M) -> Watched<'_, M> {
        Watched {
            manager,
            probe: self,
        }
    }

    fn record(&self, change: impl FnOnce(&mut Seen)) {
        change(
            &mut self
                .seen
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }

    /// Checks, then forgets, what the probe saw during one run: every manager that entered was
    /// torn down exactly once (with `Cancelled` if the run was dropped before its exit began),
    /// every teardown ended (none was cut short), and none that did not enter was torn down.
    /// Returns how the teardowns began.
    ///
    /// ```
    /// use contextlib::testing::{cancel_at_every_poll, yield_now, Observed, Probe, Run};
    /// use contextlib::{async_with, nullcontext};
    ///
    /// let probe = Probe::default();
    /// cancel_at_every_poll(
    ///     || async { async_with!(probe.observe(nullcontext(())) => |()| yield_now().await) },
    ///     |run| match run {
    ///         Run::Dropped { polls: 0 } => assert!(probe.assert_torn_down_once(&run).is_empty()),
    ///         Run::Dropped { .. } => assert_eq!(probe.assert_torn_down_once(&run), [Observed::Cancelled]),
    ///         Run::Completed { .. } => assert_eq!(probe.assert_torn_down_once(&run), [Observed::Ok]),
    ///     },
    /// );
    /// ```
    ///
    /// # Panics
    /// When the rule is broken, with what was seen.
    pub fn assert_torn_down_once<T>(&self, run: &Run<T>) -> Vec<Observed> {
        let seen = core::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()));
        assert!(
            seen.teardowns.len() == seen.entered && seen.ended == seen.entered,
            "contextlib::testing: {} manager(s) entered, {} teardown(s) began ({:?}) and {} ended \
             (the others were cut short), after {}",
            seen.entered,
            seen.teardowns.len(),
            seen.teardowns,
            seen.ended,
            describe(run),
        );
        seen.teardowns
    }
}

fn describe<T>(run: &Run<T>) -> String {
    match run {
        Run::Dropped { polls } => format!("dropping the future after {polls} poll(s)"),
        Run::Completed { polls, .. } => format!("completing in {polls} poll(s)"),
    }
}

pin_project_lite::pin_project! {
    /// A manager a [`Probe`] watches; it behaves exactly as the manager it wraps.
    ///
    /// Made by [`Probe::observe`]; entered like any manager:
    ///
    /// ```
    /// use contextlib::testing::{Observed, Probe, Run};
    /// use contextlib::{async_with, nullcontext};
    ///
    /// let probe = Probe::default();
    /// let watched = probe.observe(nullcontext("target")); // a `Watched`
    /// let len = futures_executor::block_on(async { async_with!(watched => |s| s.len()) });
    /// assert_eq!(len, Ok(6));
    /// let run = Run::Completed { polls: 1, output: () };
    /// assert_eq!(probe.assert_torn_down_once(&run), [Observed::Ok]);
    /// ```
    pub struct Watched<'p, M> {
        #[pin]
        manager: M,
        probe: &'p Probe,
    }
}

impl<M> Watched<'_, M> {
    fn manager(self: Pin<&mut Self>) -> Pin<&mut M> {
        self.project().manager
    }
}

impl<'a, M: AsyncContextManager> Lend<'a> for Watched<'_, M> {
    type Target = Target<'a, M>;
}

impl<M: AsyncContextManager> AsyncContextManager for Watched<'_, M> {
    type Error = M::Error;

    async fn enter(self: Pin<&mut Self>) -> Result<Target<'_, M>, M::Error> {
        let probe = self.probe;
        let entered = self.manager().enter().await;
        if entered.is_ok() {
            probe.record(|seen| seen.entered += 1);
        }
        entered
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), M::Error>> {
        let probe = self.probe;
        probe.record(|seen| seen.teardowns.push(Observed::of(&exit)));
        // Called now, not at the first poll: the wrapped manager may act in `exit` itself.
        WatchedExit {
            exit: self.manager().exit(exit),
            probe,
            ended: false,
            finishes_by_itself: M::EXIT_FINISHES_WHEN_DROPPED,
        }
    }

    fn cancel(self: Pin<&mut Self>) {
        let probe = self.probe;
        probe.record(|seen| seen.teardowns.push(Observed::Cancelled));
        self.manager().cancel();
        // `cancel` finishes the teardown, hands it off, or reports it: it has ended.
        probe.record(|seen| seen.ended += 1);
    }

    const EXIT_FINISHES_WHEN_DROPPED: bool = M::EXIT_FINISHES_WHEN_DROPPED;

    fn name() -> &'static str {
        M::name()
    }
}

// As for what it watches: its own futures are concrete, its named `Send` ones boxed.
crate::entering::drive::driven_directly! {
    impl['p, M] for Watched<'p, M>;
}

impl<M> crate::protocol::SendAsyncContextManager for Watched<'_, M>
where
    M: crate::protocol::SendAsyncContextManager,
    M::Error: Send,
{
    type EnterFuture<'m>
        = Pin<Box<dyn Future<Output = Result<Target<'m, M>, M::Error>> + Send + 'm>>
    where
        Self: 'm;
    type ExitFuture<'x>
        = crate::protocol::BoxExit<'x, M::Error>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        let probe = self.probe;
        // A named future rather than an `async` block: Rust 1.85 cannot prove the block's
        // captures live long enough here.
        Box::pin(WatchedEnter {
            enter: self.manager().enter_send(),
            probe,
        })
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        self.exit_into(exit)
    }

    fn exit_into<'x, E: From<M::Error> + Send + 'x>(
        self: Pin<&'x mut Self>,
        exit: Exit<'x>,
    ) -> crate::protocol::BoxExit<'x, E>
    where
        M::Error: 'x,
    {
        let probe = self.probe;
        probe.record(|seen| seen.teardowns.push(Observed::of(&exit)));
        Box::pin(WatchedExit {
            exit: self.manager().exit_into::<E>(exit),
            probe,
            ended: false,
            finishes_by_itself: M::EXIT_FINISHES_WHEN_DROPPED,
        })
    }
}

pin_project_lite::pin_project! {
    /// The enter future of a stacked [`Watched`] manager: tells the probe when it entered.
    struct WatchedEnter<'p, F> {
        #[pin]
        enter: F,
        probe: &'p Probe,
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> Future for WatchedEnter<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.enter.poll(cx);
        if let Poll::Ready(Ok(_)) = &polled {
            this.probe.record(|seen| seen.entered += 1);
        }
        polled
    }
}

pin_project_lite::pin_project! {
    /// The exit future of a [`Watched`] manager: tells the probe when the teardown ended.
    struct WatchedExit<'p, F> {
        #[pin]
        exit: F,
        probe: &'p Probe,
        ended: bool,
        finishes_by_itself: bool,
    }

    impl<F> PinnedDrop for WatchedExit<'_, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped unfinished: the teardown was cut short, unless the manager finishes it by
            // itself.
            if !*this.ended && *this.finishes_by_itself {
                this.probe.record(|seen| seen.ended += 1);
            }
        }
    }
}

impl<F: Future> Future for WatchedExit<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.exit.poll(cx);
        if polled.is_ready() {
            *this.ended = true;
            this.probe.record(|seen| seen.ended += 1);
        }
        polled
    }
}
