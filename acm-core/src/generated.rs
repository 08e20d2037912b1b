//! The manager `#[async_context_manager]` returns: a pinned coroutine driven to its yield
//! point by `enter` and from there to completion by `exit`.

use core::cell::UnsafeCell;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use crate::family::Family;
use crate::output::BodyOutput;
use crate::slot::{Slot, SlotRef, phase};
use crate::yield_point::Yielder;
use crate::{AsyncContextManager, Exit};

/// The not-yet-started body of a generated manager.
pub trait Body {
    /// The body's coroutine.
    type Fut: Future;
    /// Creates the coroutine, handing it the yield handle of the manager's slot.
    ///
    /// # Safety
    /// Only the manager that owns `slot` calls it, once, and then keeps the coroutine pinned
    /// in place (the yield handle points into that manager).
    unsafe fn start(self, slot: SlotRef) -> Self::Fut;
    /// The generated fn's path, for panic messages.
    fn name() -> &'static str;
    /// Whether the coroutine's value is an error (a teardown that failed).
    fn failed(output: &<Self::Fut as Future>::Output) -> bool;
}

/// A body closure, typed by the target family its yield handle accepts.
pub struct Start<Fam, C> {
    body: C,
    _family: PhantomData<Fam>,
}

impl<Fam, C, Fut> Body for Start<Fam, C>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future<Output: BodyOutput>,
{
    type Fut = Fut;

    unsafe fn start(self, slot: SlotRef) -> Fut {
        (self.body)(Yielder::new(slot))
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
    _family: PhantomData<Fam>,
    _pinned: PhantomPinned,
}

// SAFETY: every access to the interior goes through `Pin<&mut Self>`; `&Generated` gives no
// access at all, so sharing it is as safe as sharing its parts. Exercised by tests/send.rs.
unsafe impl<Fam, B: Body + Sync> Sync for Generated<Fam, B> where B::Fut: Sync {}
// SAFETY: `Generated` owns a `B` or a `B::Fut` (the union) and its slot (`Send`).
unsafe impl<Fam, B: Body + Send> Send for Generated<Fam, B> where B::Fut: Send {}

/// Wraps a body closure into a manager; nothing runs until `enter`. What
/// `#[async_context_manager]` expands to.
///
/// # Safety
/// The closure is the attribute's expansion, or upholds the same contract: it moves its
/// [`Yielder`] into the coroutine it returns and uses it only there, awaiting
/// `yield_(target)` in place (never storing, moving or polling the yield point elsewhere),
/// at most once per run, directly in the coroutine's own body (not in a closure, an `async`
/// block or a loop), with a target family `Fam` whose target is covariant in its lifetime.
/// A yield handle that escaped its coroutine would write into a freed manager
/// (tests/ui/generated_constructor_is_unsafe.rs).
#[inline]
pub unsafe fn generated<Fam, C, Fut>(body: C) -> Generated<Fam, Start<Fam, C>>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future<Output: BodyOutput>,
{
    Generated {
        stage: UnsafeCell::new(Stage {
            body: ManuallyDrop::new(Start {
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
    // SAFETY: caller.
    unsafe {
        let word = slot.take();
        if phase::is_phase(word) {
            slot.set_phase(phase::ENTERING);
            None
        } else {
            slot.set_phase(phase::ENTERED);
            Some(word)
        }
    }
}

/// Before an exit poll: hands the body its `Exit` on the first poll.
///
/// # Safety
/// As for `enter_begins`; `exit` stays valid until the body completes or is dropped.
#[inline]
unsafe fn exit_begins(slot: SlotRef, exit: Option<*const Exit<'_>>, name: fn() -> &'static str) {
    // SAFETY: caller.
    unsafe {
        match (slot.phase(), exit) {
            (phase::ENTERED, Some(exit)) => slot.publish(exit.cast_mut().cast()),
            (phase::EXITING, None) => {}
            (phase, _) => misuse(name, phase, "exited"),
        }
    }
}

/// After an exit poll that returned `Pending`. A yield point that published a target now is a
/// second yield, reached after the first one lent its target: the attribute refuses every way
/// it can see to write one, and this catches the rest (two `#[cfg]` alternatives both compiled
/// in) before anything is read from the slot (tests/macro_edges.rs).
///
/// # Safety
/// As for `enter_begins`.
#[inline]
unsafe fn exit_suspended(slot: SlotRef, name: fn() -> &'static str) {
    // SAFETY: caller.
    unsafe {
        let published = !phase::is_phase(slot.phase_word());
        slot.set_phase(phase::EXITING);
        if published {
            second_yield(name);
        }
    }
}

#[cold]
#[inline(never)]
fn second_yield(name: fn() -> &'static str) -> ! {
    panic!(
        "contextlib: `{}` reached a second `r#yield!` in one run: a manager yields exactly once",
        name()
    )
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
fn misuse(name: fn() -> &'static str, phase: usize, verb: &str) -> ! {
    let state = match phase {
        phase::FRESH => "it was never entered",
        phase::TAKEN => "its teardown panicked",
        phase::ENTERING | phase::ENTERED => "it was already entered",
        phase::EXITING => "another exit already started its teardown",
        _ => "it has already exited",
    };
    panic!(
        "contextlib: `{}` cannot be {verb} now: {state} (a generated manager is one-shot)",
        name()
    )
}

impl<Fam, B: Body> Drop for Generated<Fam, B> {
    fn drop(&mut self) {
        // SAFETY: reading the phase touches nothing else.
        if unsafe { Slot::handle(&self.slot).phase() } == phase::ENTERED {
            self.cancel_on_drop();
        }
        // SAFETY: the manager is pinned (it is only used as `Pin<&mut Self>`), so its parts
        // are dropped in place; the phase says which part of the union is live.
        unsafe {
            let slot = Slot::handle(&self.slot);
            let stage = self.stage.get_mut();
            match slot.phase() {
                phase::FRESH => ManuallyDrop::drop(&mut stage.body),
                // `TAKEN`: the exit's first poll panicked after the yield point took the `Exit`;
                // the coroutine's locals were dropped while unwinding, the rest goes now.
                phase::TAKEN | phase::ENTERING | phase::ENTERED => {
                    ManuallyDrop::drop(&mut stage.running)
                }
                phase::EXITING => leaked_exit_future(B::name),
                _ => {}
            }
        }
    }
}

impl<Fam, B> AsyncContextManager for Generated<Fam, B>
where
    Fam: for<'a> Family<'a>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
{
    type Target<'a>
        = <Fam as Family<'a>>::Target
    where
        Self: 'a;
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
        let slot = unsafe { slot!(raw) };
        // SAFETY (both closures): as above; `cancel_in_place` polls only while the coroutine is
        // live and calls `finish` at most once, after which neither closure is called again.
        let mut poll = |cx: &mut Context<'_>| unsafe {
            match running!(raw).poll(cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    Poll::Ready(B::failed(&output))
                }
                Poll::Pending => Poll::Pending,
            }
        };
        // SAFETY: as above.
        let mut finish = || unsafe { Generated::finish_body(raw, slot) };
        // SAFETY: `slot` is this live manager's, untouched by anything else during the call.
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
    use crate::teardown::{POLLS_IN_PLACE, TeardownOutcome, TeardownReport, report};
    let exit = Exit::Cancelled;
    let mut cx = Context::from_waker(core::task::Waker::noop());
    // SAFETY: caller; `exit` outlives every poll below, and the coroutine is ended (or left to
    // the caller's match, which drops it) before it goes.
    let teardown = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| unsafe {
        exit_begins(slot, Some(&exit), name);
        for _ in 0..POLLS_IN_PLACE {
            match poll(&mut cx) {
                Poll::Ready(failed) => return failed.then_some(TeardownOutcome::Failed),
                Poll::Pending => exit_suspended(slot, name),
            }
        }
        finish(); // still waiting: dropped in place, reported
        Some(TeardownOutcome::Unfinished)
    }));
    let outcome = match teardown {
        Ok(outcome) => outcome,
        Err(payload) => {
            crate::catch_unwind::discard(payload);
            // SAFETY: caller; a coroutine that panicked mid-teardown is dropped here.
            unsafe {
                if matches!(slot.phase(), phase::TAKEN | phase::EXITING) {
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
        unsafe {
            let raw: *mut Generated<Fam, B> = self.get_mut().manager.as_mut().get_unchecked_mut();
            let slot = slot!(raw);
            if enter_begins(slot, B::name) {
                let stage = UnsafeCell::raw_get(ptr::addr_of!((*raw).stage));
                let body = ManuallyDrop::take(&mut (*stage).body);
                // The coroutine is written in place, pinned in the manager, and only this
                // manager's enter and exit poll it.
                (*stage).running = ManuallyDrop::new(body.start(slot));
                slot.set_phase(phase::ENTERING);
            }
            match running!(raw).poll(cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    match output.into_result() {
                        Err(error) => Poll::Ready(Err(error)),
                        Ok(()) => returned_early(B::name),
                    }
                }
                Poll::Pending => match enter_suspended(slot) {
                    None => Poll::Pending,
                    // `target` is the address of the body's `ManuallyDrop<T<'v>>`, suspended
                    // at its yield point inside the manager; it is moved out exactly once, here.
                    // The manager is borrowed for 'm by this future, which is done with it.
                    // `T` is covariant in its lifetime (checked by the attribute), and 'v
                    // outlives the suspension, which outlives 'm: the manager cannot resume or
                    // drop the body while the target borrows it. Exercised by
                    // tests/borrowed_target.rs under Miri.
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
        let exit = (!this.started).then_some(&this.exit as *const Exit<'_>);
        // SAFETY: the manager is pinned and exclusively borrowed by this future; `this.exit`
        // lives as long as this future, and `Drop` below ends the body before this future (and
        // the `Exit`) goes away.
        unsafe {
            let raw: *mut Generated<Fam, B> = this.manager.as_mut().get_unchecked_mut();
            let slot = slot!(raw);
            exit_begins(slot, exit, B::name);
            // Only once the manager accepted this future's `Exit` (a refused exit panics above)
            // is its teardown this future's to end.
            this.started = true;
            match running!(raw).poll(cx) {
                Poll::Ready(output) => {
                    Generated::finish_body(raw, slot);
                    Poll::Ready(output.into_result())
                }
                Poll::Pending => {
                    exit_suspended(slot, B::name);
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
        // SAFETY: the manager is pinned and ours.
        let raw: *mut Generated<Fam, B> = unsafe { self.manager.as_mut().get_unchecked_mut() };
        // SAFETY: as above; reading the phase touches nothing else.
        let slot = unsafe { slot!(raw) };
        // SAFETY: as above. A teardown this future started and did not finish is dropped here,
        // while `self.exit` is still alive, so the coroutine never outlives it.
        // Exercised by tests/exit.rs::dropped_exit_ends_the_teardown under Miri.
        unsafe {
            if slot.phase() == phase::EXITING {
                Generated::finish_body(raw, slot);
            }
        }
    }
}
