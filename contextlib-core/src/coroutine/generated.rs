//! The manager `#[async_context_manager]` returns: a pinned coroutine driven to its yield
//! point by `enter` and from there to completion by `exit`.

use core::cell::UnsafeCell;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{ManuallyDrop, size_of};
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use crate::coroutine::family::Family;
use crate::coroutine::output::BodyOutput;
use crate::coroutine::polling::{self, Polling};
use crate::coroutine::slot::{Slot, SlotRef, phase};
use crate::coroutine::yield_point::{Lent, TargetMustBeCovariantInTheManagerBorrow, Yielder};
use crate::protocol::{AsyncContextManager, Exit, Lend, SendAsyncContextManager};

mod sealed {
    pub trait Sealed {}
}

/// The not-yet-started body of a generated manager. Only contextlib implements it: a manager's
/// soundness rests on its body being built by [`generated`], never on what a caller names.
pub trait Body: sealed::Sealed {
    /// The body's coroutine.
    type Fut: Future;
    /// Creates the coroutine, handing it the yield handle of the manager with identity `id`.
    #[doc(hidden)]
    fn start(self, id: u64) -> Self::Fut;
    /// The generated fn's path, for panic messages.
    fn name() -> &'static str;
    /// Whether the coroutine's value is an error (a teardown that failed).
    fn failed(output: &<Self::Fut as Future>::Output) -> bool;
}

/// A body closure with the covariance witness of its target family.
pub struct Start<Fam, W, C> {
    shorten: W,
    body: C,
    _family: PhantomData<Fam>,
}

impl<Fam, W, C> sealed::Sealed for Start<Fam, W, C> {}

impl<Fam, W, C, Fut> Body for Start<Fam, W, C>
where
    Fam: for<'a> Family<'a>,
    W: for<'long, 'short> Fn(
        TargetMustBeCovariantInTheManagerBorrow<'short, 'long>,
        Lent<'long, Fam>,
    ) -> Lent<'short, Fam>,
    C: FnOnce(Yielder<Fam, W>) -> Fut,
    Fut: Future<Output: BodyOutput>,
{
    type Fut = Fut;

    fn start(self, id: u64) -> Fut {
        (self.body)(Yielder::new(id, self.shorten))
    }

    fn name() -> &'static str {
        let closure = core::any::type_name::<C>();
        closure.strip_suffix("::{{closure}}").unwrap_or(closure)
    }

    fn failed(output: &Fut::Output) -> bool {
        output.is_err()
    }
}

type ErrorOf<B> = <<<B as Body>::Fut as Future>::Output as BodyOutput>::Error;

/// The body closure until `enter` starts it, then its coroutine. Which one is live is told by
/// the phase in the slot (see `slot::phase`).
union Stage<B, F> {
    body: ManuallyDrop<B>,
    running: ManuallyDrop<F>,
}

/// A manager written as one `async fn` with a single `r#yield!`.
///
/// This is what an `#[async_context_manager]` fn returns; its body runs on
/// [`enter`](AsyncContextManager::enter), not when the fn is called. It is one-shot, like
/// Python's: enter it once (with [`async_with!`](crate::async_with)).
///
/// It is `Send` and `Sync` exactly when the fn's arguments and the locals it holds across
/// `.await` are.
///
/// Its parameters, and the bounds of its impls (`Family`, `Body`, `BodyOutput`), are the
/// attribute's expansion (under the hidden `contextlib::expansion` and `__private`): only the
/// attribute builds a `Generated`, and soundness rests on that, never on a name. Code names a
/// generated manager by what it lends, `impl AsyncContextManager<..>` or
/// `AsyncContextManager![T, E]` (see the guide's "Type hints"), or as a generic
/// `M: AsyncContextManager`.
///
/// ```
/// use contextlib::{async_context_manager, async_with};
///
/// #[async_context_manager]
/// async fn greeting(name: &str) -> String {
///     r#yield!(format!("hello, {name}"));
/// }
///
/// # futures_executor::block_on(async {
/// let manager = greeting("world"); // nothing has run yet
/// assert_eq!(async_with!(manager => |text| text.len()), Ok(12));
/// # });
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub struct Generated<Fam, B: Body> {
    stage: UnsafeCell<Stage<B, B::Fut>>,
    slot: Slot,
    /// Invariant, as the body (which holds the family too, inside the cell) is: a covariant
    /// family could be widened by subtyping while the body keeps the one it was built with,
    /// and the target would be read with the wrong type
    /// (ui/generated_family_cannot_be_widened, a hostile review's find).
    _family: PhantomData<fn(Fam) -> Fam>,
    _pinned: PhantomPinned,
}

// SAFETY: every access to the interior goes through `Pin<&mut Self>`; `&Generated` gives no
// access at all, so sharing it is as safe as sharing its parts. Exercised by tests/send.rs
// under Miri.
unsafe impl<Fam, B: Body + Sync> Sync for Generated<Fam, B> where B::Fut: Sync {}
// SAFETY: `Generated` owns a `B` or a `B::Fut` (the union) and its slot (`Send`). Checked by
// tests/hidden_items_misused.rs::a_manager_entered_on_one_thread_exits_on_another under Miri.
unsafe impl<Fam, B: Body + Send> Send for Generated<Fam, B> where B::Fut: Send {}

/// Wraps a body closure into a manager; nothing runs until `enter`. What
/// `#[async_context_manager]` expands to: `generated(|_, target| target, move |yielder| async
/// move { .. yielder.yield_(value).await .. })`.
///
/// It is safe to call with any closures, in any way: the manager's soundness rests on nothing
/// its caller does. The witness `shorten` is applied to every target before it is lent (so an
/// invariant target cannot be lent for a shorter borrow than the body's), and the yield point
/// checks at every poll that its own manager is polling it, from inside that manager's
/// coroutine; a body that misuses its yield handle panics (tests/hostile_bodies.rs).
#[inline]
pub fn generated<Fam, W, C, Fut>(shorten: W, body: C) -> Generated<Fam, Start<Fam, W, C>>
where
    Fam: for<'a> Family<'a>,
    W: for<'long, 'short> Fn(
        TargetMustBeCovariantInTheManagerBorrow<'short, 'long>,
        Lent<'long, Fam>,
    ) -> Lent<'short, Fam>,
    C: FnOnce(Yielder<Fam, W>) -> Fut,
    Fut: Future<Output: BodyOutput>,
{
    Generated {
        stage: UnsafeCell::new(Stage {
            body: ManuallyDrop::new(Start {
                shorten,
                body,
                _family: PhantomData,
            }),
        }),
        slot: Slot::new(),
        _family: PhantomData,
        _pinned: PhantomPinned,
    }
}

/// The slot of the manager at `$this` (a `*mut Generated`), reached without a reference to the
/// manager. (Macros rather than generic helpers: each manager instantiates less code.)
///
/// Safety: `$this` points to a live manager; used inside `unsafe`.
macro_rules! slot {
    ($this:expr) => {
        Slot::handle(ptr::addr_of!((*$this).slot))
    };
}

/// The coroutine of the manager at `$this`, pinned where it lives. A `&mut` to a `!Unpin`
/// coroutine is not retagged as unique, so it does not invalidate borrows the coroutine lent to
/// its own locals (tests/borrowed_target.rs under Miri, both borrow models); the coroutine never
/// moves: it is pinned in the manager.
///
/// Safety: `$this` points to a pinned, live manager that nothing else accesses meanwhile, and
/// its coroutine is live (phase `ENTERING`, `ENTERED` or `EXITING`); used inside `unsafe`.
macro_rules! running {
    ($this:expr) => {
        Pin::new_unchecked(&mut *(*UnsafeCell::raw_get(ptr::addr_of!((*$this).stage))).running)
    };
}

impl<Fam, B: Body> Generated<Fam, B> {
    /// Drops the finished (or abandoned) coroutine in place.
    ///
    /// # Safety
    /// `this` points to a pinned, live manager that nothing else accesses meanwhile, and its
    /// coroutine is live.
    #[inline]
    unsafe fn finish_body(this: *mut Self, slot: SlotRef) {
        // SAFETY: caller; the phase says nothing is live before the drop runs, so a destructor
        // that unwinds cannot lead to a second drop.
        // Exercised by tests/exit.rs and tests/async_with_at_every_poll.rs under Miri.
        unsafe {
            slot.set_phase(phase::DONE);
            let stage = UnsafeCell::raw_get(ptr::addr_of!((*this).stage));
            ManuallyDrop::drop(&mut (*stage).running);
        }
    }
}

// The phase bookkeeping of enter and exit, kept out of the generic code so that each manager
// instantiates as little as possible.

/// Before an enter poll: `true` if the body must be started first.
///
/// # Safety
/// The slot is live and not accessed concurrently.
#[inline]
unsafe fn enter_begins(slot: SlotRef, name: fn() -> &'static str) -> bool {
    // SAFETY: caller.
    // Checked by tests/hidden_items_misused.rs::misordered_calls_by_hand_panic_clearly under Miri.
    unsafe {
        match slot.phase() {
            phase::FRESH => {
                // `DONE` while the closure runs: if it unwinds, it has consumed the body.
                slot.set_phase(phase::DONE);
                true
            }
            phase::ENTERING => false,
            phase => misuse(name, phase, "entered"),
        }
    }
}

/// After an enter poll that returned `Pending`: the lent target's address, if the body reached
/// its yield point.
///
/// # Safety
/// As for `enter_begins`.
#[inline]
unsafe fn enter_suspended(slot: SlotRef) -> Option<*mut ()> {
    // SAFETY: caller. Exercised by tests/borrowed_target.rs and tests/hostile_bodies.rs under Miri.
    unsafe {
        if slot.phase() != phase::LENT {
            return None;
        }
        let target = slot.handover();
        slot.set_handover(ptr::null_mut());
        slot.set_phase(phase::ENTERED);
        Some(target)
    }
}

/// Before an exit poll: publishes the `Exit` for the yield point. `first` is the exit future's
/// first poll.
///
/// # Safety
/// As for `enter_begins`; `exit` stays valid until the poll returns.
#[inline]
unsafe fn exit_begins(
    slot: SlotRef,
    exit: *const Exit<'_>,
    first: bool,
    name: fn() -> &'static str,
) {
    // SAFETY: caller.
    // Checked by tests/hidden_items_misused.rs::misordered_calls_by_hand_panic_clearly under Miri.
    unsafe {
        match (slot.phase(), first) {
            (phase::ENTERED, true) | (phase::EXITING, false) => {
                slot.set_handover(exit.cast_mut().cast());
                slot.set_phase(phase::EXIT_POLL);
            }
            (phase, _) => misuse(name, phase, "exited"),
        }
    }
}

/// After an exit poll that returned `Pending`.
///
/// # Safety
/// As for `enter_begins`.
#[inline]
unsafe fn exit_suspended(slot: SlotRef) {
    // SAFETY: caller. Checked by
    // tests/exit.rs::slow_teardown_is_dropped_in_place_when_the_exit_is_dropped under Miri.
    unsafe {
        slot.set_handover(ptr::null_mut());
        slot.set_phase(phase::EXITING);
    }
}

#[cold]
#[inline(never)]
fn returned_early(name: fn() -> &'static str) -> ! {
    panic!("contextlib: `{}` returned before its yield point", name())
}

/// The teardown was suspended and its `ExitFuture` leaked (`mem::forget`), then the manager
/// was dropped. The coroutine may hold an `Exit` borrowing a block error that no longer exists,
/// so its destructors must not run; but it is pinned, so its memory must not be freed without
/// running them either (a pinned timer or wait-list entry in the teardown would be left
/// dangling). Neither is sound, and unwinding would free the memory too: abort, as the
/// standard library does where it cannot keep an invariant
/// (tests/exit.rs::dropping_a_manager_whose_exit_future_leaked_aborts).
#[cold]
#[inline(never)]
fn leaked_exit_future(name: fn() -> &'static str) -> ! {
    std::eprintln!(
        "contextlib: `{}` was dropped while its teardown was suspended and its exit future had been \
         leaked (mem::forget); its teardown can neither be finished nor dropped soundly: \
         aborting",
        name()
    );
    std::process::abort()
}

#[cold]
#[inline(never)]
fn misuse(name: fn() -> &'static str, phase: u8, verb: &str) -> ! {
    let state = match phase {
        phase::FRESH => "it was never entered",
        phase::EXIT_POLL => "its teardown panicked",
        phase::ENTERING | phase::LENT | phase::ENTERED => "it was already entered",
        phase::EXITING => "another exit already started its teardown",
        _ => "it has already exited",
    };
    panic!(
        "contextlib: `{}` cannot be {verb} now: {state} (a generated manager is one-shot)",
        name()
    )
}

impl<Fam, B: Body> Generated<Fam, B> {
    /// Polls the coroutine once, as the manager polling on this thread (see `polling`).
    ///
    /// # Safety
    /// `this` points to a pinned, live manager that nothing else accesses meanwhile, and its
    /// coroutine is live.
    #[inline(always)]
    unsafe fn poll_body(
        this: *mut Self,
        slot: SlotRef,
        cx: &mut Context<'_>,
    ) -> Poll<<B::Fut as Future>::Output> {
        // SAFETY: caller.
        // Exercised by tests/borrowed_target.rs and tests/hostile_bodies.rs under Miri.
        unsafe {
            let stage = UnsafeCell::raw_get(ptr::addr_of!((*this).stage));
            let record = Polling::new(
                slot.id(),
                slot,
                stage.cast_const().cast(),
                size_of::<Stage<B, B::Fut>>(),
            );
            polling::within(&record, || running!(this).poll(cx))
        }
    }
}

impl<Fam, B: Body> Drop for Generated<Fam, B> {
    fn drop(&mut self) {
        // SAFETY: reading the phase touches nothing else.
        // Exercised by tests/composition.rs and tests/cancellation.rs under Miri.
        if unsafe { Slot::handle(&self.slot).phase() } == phase::ENTERED {
            self.cancel_on_drop();
        }
        // SAFETY: the manager is pinned (it is only used as `Pin<&mut Self>`), so its parts
        // are dropped in place; the phase says which part of the union is live.
        // Exercised by tests/hidden_items_misused.rs and tests/cancellation.rs under Miri.
        unsafe {
            let slot = Slot::handle(&self.slot);
            let stage = self.stage.get_mut();
            match slot.phase() {
                phase::FRESH => ManuallyDrop::drop(&mut stage.body),
                // `EXIT_POLL` or `LENT`: a poll panicked (the coroutine's locals were dropped
                // while unwinding); the rest goes now.
                phase::ENTERING | phase::LENT | phase::ENTERED | phase::EXIT_POLL => {
                    ManuallyDrop::drop(&mut stage.running)
                }
                phase::EXITING => leaked_exit_future(B::name),
                _ => {}
            }
        }
    }
}

impl<'a, Fam, B> Lend<'a> for Generated<Fam, B>
where
    Fam: Family<'a>,
    B: Body,
{
    type Target = <Fam as Family<'a>>::Target;
}

impl<Fam, B> AsyncContextManager for Generated<Fam, B>
where
    Fam: for<'a> Family<'a>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
{
    type Error = ErrorOf<B>;

    #[allow(refining_impl_trait)]
    #[inline]
    fn enter(self: Pin<&mut Self>) -> EnterFuture<'_, Fam, B> {
        EnterFuture { manager: self }
    }

    #[allow(refining_impl_trait)]
    #[inline]
    fn exit<'m, 'e>(self: Pin<&'m mut Self>, exit: Exit<'e>) -> ExitFuture<'m, 'e, Fam, B> {
        ExitFuture {
            manager: self,
            exit,
            started: false,
        }
    }

    fn name() -> &'static str {
        B::name()
    }
}

impl<Fam, B: Body> Generated<Fam, B> {
    /// Dropped while entered, its exit never called (a caller driving `enter`/`exit` by hand):
    /// the teardown runs with `Exit::Cancelled`, in place, as `async_with!`'s guard would run
    /// it, and what cannot finish is reported. Never silently skipped
    /// (tests/composition.rs::a_generated_manager_dropped_while_entered_runs_its_teardown_with_cancelled).
    #[cold]
    #[inline(never)]
    fn cancel_on_drop(&mut self) {
        let raw: *mut Self = self;
        // SAFETY: an entered manager was entered through `Pin<&mut Self>`, so it is pinned and
        // stays where it is until this drop ends; its coroutine is live (phase `ENTERED`).
        // Exercised by tests/composition.rs under Miri.
        let slot = unsafe { slot!(raw) };
        // SAFETY (both closures): as above; `cancel_in_place` polls only while the coroutine is
        // live and calls `finish` at most once, after which neither closure is called again.
        // Exercised by tests/async_with_at_every_poll.rs under Miri.
        let mut poll = |cx: &mut Context<'_>| unsafe {
            match Generated::poll_body(raw, slot, cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    Poll::Ready(B::failed(&output))
                }
                Poll::Pending => Poll::Pending,
            }
        };
        // SAFETY: as above. Exercised by tests/async_with_at_every_poll.rs under Miri.
        let mut finish = || unsafe { Generated::finish_body(raw, slot) };
        // SAFETY: `slot` is this live manager's, untouched by anything else during the call.
        // Exercised by tests/composition.rs under Miri.
        unsafe { cancel_in_place(slot, &mut poll, &mut finish, B::name) }
    }
}

/// The body of `cancel_on_drop`, the same for every manager (one copy, not one per manager):
/// runs the teardown with `Exit::Cancelled` in place, reports what cannot finish, and never
/// unwinds (it runs in `Drop`).
///
/// # Safety
/// `slot` is the slot of a live, pinned manager in phase `ENTERED`; `poll` polls that manager's
/// coroutine once (ending it when it completes, and then saying whether it failed); `finish`
/// drops the coroutine in place.
#[cold]
#[inline(never)]
unsafe fn cancel_in_place(
    slot: SlotRef,
    poll: &mut dyn FnMut(&mut Context<'_>) -> Poll<bool>,
    finish: &mut dyn FnMut(),
    name: fn() -> &'static str,
) {
    use crate::protocol::teardown::{POLLS_IN_PLACE, TeardownOutcome, TeardownReport, report};
    let exit = Exit::Cancelled;
    let mut cx = Context::from_waker(core::task::Waker::noop());
    // SAFETY: caller; `exit` outlives every poll below, and the coroutine is ended (or left to
    // the caller's match, which drops it) before it goes.
    // Exercised by tests/async_with_at_every_poll.rs under Miri.
    let teardown = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| unsafe {
        for first in (0..POLLS_IN_PLACE).map(|poll| poll == 0) {
            exit_begins(slot, &exit, first, name);
            match poll(&mut cx) {
                Poll::Ready(failed) => return failed.then_some(TeardownOutcome::Failed),
                Poll::Pending => exit_suspended(slot),
            }
        }
        finish(); // still waiting: dropped in place, reported
        Some(TeardownOutcome::Unfinished)
    }));
    let outcome = match teardown {
        Ok(outcome) => outcome,
        Err(payload) => {
            crate::protocol::catch_unwind::discard(payload);
            // SAFETY: caller; a coroutine that panicked mid-teardown is dropped here. Exercised by
            // tests/async_with_at_every_poll.rs and tests/hidden_items_misused.rs under Miri.
            unsafe {
                if matches!(slot.phase(), phase::EXIT_POLL | phase::EXITING) {
                    finish();
                }
            }
            Some(TeardownOutcome::Panicked)
        }
    };
    if let Some(outcome) = outcome {
        report(TeardownReport {
            manager: name(),
            outcome,
        });
    }
}

/// The future of a generated manager's `enter`.
pub struct EnterFuture<'m, Fam, B: Body> {
    manager: Pin<&'m mut Generated<Fam, B>>,
}

impl<'m, Fam, B> Future for EnterFuture<'m, Fam, B>
where
    Fam: Family<'m>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
{
    type Output = Result<<Fam as Family<'m>>::Target, ErrorOf<B>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the manager is pinned and exclusively borrowed for 'm by this future; every
        // access below goes through `raw`, and nothing else touches the manager meanwhile.
        // Exercised by tests/borrowed_target.rs and tests/hidden_items_misused.rs under Miri.
        unsafe {
            let raw: *mut Generated<Fam, B> = self.get_mut().manager.as_mut().get_unchecked_mut();
            let slot = slot!(raw);
            if enter_begins(slot, B::name) {
                let stage = UnsafeCell::raw_get(ptr::addr_of!((*raw).stage));
                let body = ManuallyDrop::take(&mut (*stage).body);
                // The coroutine is written in place, pinned in the manager, and only this
                // manager's enter and exit poll it.
                (*stage).running = ManuallyDrop::new(body.start(slot.id()));
                slot.set_phase(phase::ENTERING);
            }
            match Generated::poll_body(raw, slot, cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    match output.into_result() {
                        Err(error) => Poll::Ready(Err(error)),
                        Ok(()) => returned_early(B::name),
                    }
                }
                Poll::Pending => match enter_suspended(slot) {
                    None => Poll::Pending,
                    // `target` is the address of the target the body's yield point holds,
                    // pinned inside this manager's coroutine (the yield point checked that this
                    // manager is polling it, from inside that coroutine). It is moved out
                    // exactly once, here. The yield point applied the family's covariance
                    // witness to it, generically in the lifetime, so its value is a target for
                    // any borrow shorter than the body's: for 'm, during which the manager
                    // cannot resume or drop the body. Exercised by tests/borrowed_target.rs
                    // under Miri.
                    Some(target) => {
                        Poll::Ready(Ok(ptr::read(target.cast::<<Fam as Family<'m>>::Target>())))
                    }
                },
            }
        }
    }
}

/// The future of a generated manager's `exit`.
///
/// Dropping it before it completes drops the rest of the teardown in place, so the coroutine
/// never outlives the `Exit` (and the block error) it was given. (`async_with!` first tries to
/// finish the teardown in place, see [`AsyncContextManager::cancel`].)
pub struct ExitFuture<'m, 'e, Fam, B: Body>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    manager: Pin<&'m mut Generated<Fam, B>>,
    exit: Exit<'e>,
    started: bool,
}

impl<Fam, B: Body> Future for ExitFuture<'_, '_, Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    type Output = Result<(), ErrorOf<B>>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // SAFETY: the manager is pinned and exclusively borrowed by this future; `this.exit`
        // lives as long as this future, and `Drop` below ends the body before this future (and
        // the `Exit`) goes away.
        // Exercised by tests/exit.rs and tests/borrowed_target.rs under Miri.
        unsafe {
            let raw: *mut Generated<Fam, B> = this.manager.as_mut().get_unchecked_mut();
            let slot = slot!(raw);
            exit_begins(slot, &this.exit, !this.started, B::name);
            // Only once the manager accepted this future's `Exit` (a refused exit panics above)
            // is its teardown this future's to end.
            this.started = true;
            match Generated::poll_body(raw, slot, cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    Poll::Ready(output.into_result())
                }
                Poll::Pending => {
                    exit_suspended(slot);
                    Poll::Pending
                }
            }
        }
    }
}

impl<Fam, B: Body> Drop for ExitFuture<'_, '_, Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    #[inline]
    fn drop(&mut self) {
        if !self.started {
            return;
        }
        // SAFETY: the manager is pinned and ours. Exercised by tests/exit.rs under Miri.
        let raw: *mut Generated<Fam, B> = unsafe { self.manager.as_mut().get_unchecked_mut() };
        // SAFETY: as above; reading the phase touches nothing else.
        // Exercised by tests/exit.rs under Miri.
        let slot = unsafe { slot!(raw) };
        // SAFETY: as above. A teardown this future started and did not finish (suspended, or
        // unwound out of a poll) is dropped here, while `self.exit` is still alive, so the
        // coroutine never outlives it. Exercised by tests/exit.rs::dropped_exit_ends_the_teardown
        // under Miri.
        unsafe {
            if matches!(slot.phase(), phase::EXITING | phase::EXIT_POLL) {
                Generated::finish_body(raw, slot);
            }
        }
    }
}

// Whether a generated manager is `Send` is known only once its coroutine is (after the
// caller's type checking), so `async_with!` cannot choose the `Send` way by its bounds; its own
// futures are concrete, so the `async_with!` future is `Send` exactly when they are.
crate::entering::drive::driven_directly! {
    impl[Fam, B: Body] for Generated<Fam, B>;
}

/// `Send` whenever its coroutine is: the named futures are its own.
impl<Fam, B> SendAsyncContextManager for Generated<Fam, B>
where
    Fam: for<'a> Family<'a>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
    Self: Send,
{
    type EnterFuture<'m>
        = EnterFuture<'m, Fam, B>
    where
        Self: 'm;
    type ExitFuture<'x>
        = ExitFuture<'x, 'x, Fam, B>
    where
        Self: 'x;

    fn enter_send(self: Pin<&mut Self>) -> Self::EnterFuture<'_> {
        self.enter()
    }

    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> Self::ExitFuture<'x> {
        self.exit(exit)
    }
}
