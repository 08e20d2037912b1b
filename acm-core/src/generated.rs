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
    fn start(self, slot: SlotRef) -> Self::Fut;
    /// The generated fn's path, for panic messages.
    fn name() -> &'static str;
}

/// A body closure, typed by the target family its yield handle accepts.
pub struct Start<Fam, C> {
    body: C,
    _family: PhantomData<Fam>,
}

impl<Fam, C, Fut> Body for Start<Fam, C>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future,
{
    type Fut = Fut;

    fn start(self, slot: SlotRef) -> Fut {
        (self.body)(Yielder::new(slot))
    }

    fn name() -> &'static str {
        let closure = core::any::type_name::<C>();
        closure.strip_suffix("::{{closure}}").unwrap_or(closure)
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
/// use acm::{async_context_manager, async_with};
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

impl<Fam, C, Fut> Generated<Fam, Start<Fam, C>>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future,
{
    /// Wraps a body closure; nothing runs until `enter`.
    pub fn new(body: C) -> Self {
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
}

impl<Fam, B: Body> Generated<Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    /// Polls the coroutine. Between polls, the slot holds the phase; for this poll it holds
    /// `handover` if there is one (the exit's `*const Exit`), and the coroutine may replace
    /// its content with the address of its target. Returns the poll and what the slot held
    /// afterwards (a phase, if nothing was handed over).
    ///
    /// # Safety
    /// `this` points to a pinned, live manager that nothing else accesses during the call, and
    /// its coroutine is live (phase `ENTERING`, `ENTERED` or `EXITING`).
    #[inline]
    unsafe fn poll_body(
        this: *mut Self,
        slot: SlotRef,
        handover: Option<*mut ()>,
        cx: &mut Context<'_>,
    ) -> (Poll<<B::Fut as Future>::Output>, *mut ()) {
        // SAFETY: caller. A `&mut` to a `!Unpin` coroutine is not
        // retagged as unique, so it does not invalidate borrows the coroutine lent to its own
        // locals (tests/borrowed_target.rs under Miri, both borrow models); the coroutine
        // never moves: it is pinned in `this`.
        unsafe {
            if let Some(handover) = handover {
                slot.publish(handover);
            }
            let running = &mut (*UnsafeCell::raw_get(ptr::addr_of!((*this).stage))).running;
            let polled = Pin::new_unchecked(&mut **running).poll(cx);
            (polled, slot.take())
        }
    }

    /// Drops the finished (or abandoned) coroutine in place.
    ///
    /// # Safety
    /// As for `poll_body`.
    #[inline]
    unsafe fn finish_body(this: *mut Self, slot: SlotRef) {
        // SAFETY: caller; the phase says nothing is live before the drop runs, so a destructor
        // that unwinds cannot lead to a second drop.
        unsafe {
            slot.set_phase(phase::DONE);
            let running = &mut (*UnsafeCell::raw_get(ptr::addr_of!((*this).stage))).running;
            ManuallyDrop::drop(running);
        }
    }

    /// Drives the body to its yield point; `Ok` carries the address of the lent target.
    ///
    /// # Safety
    /// `this` points to a pinned, live manager that nothing else accesses during the call.
    #[inline]
    unsafe fn poll_enter(
        this: *mut Self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<*mut (), ErrorOf<B>>> {
        // SAFETY: caller, for every access to `*this` below.
        unsafe {
            let slot = Slot::handle(ptr::addr_of!((*this).slot));
            match slot.phase() {
                phase::FRESH => {
                    // `DONE` while the closure runs: if it unwinds, it has consumed the body.
                    slot.set_phase(phase::DONE);
                    let stage = UnsafeCell::raw_get(ptr::addr_of!((*this).stage));
                    let body = ManuallyDrop::take(&mut (*stage).body);
                    (*stage).running = ManuallyDrop::new(body.start(slot));
                    slot.set_phase(phase::ENTERING);
                }
                phase::ENTERING => {}
                phase => misuse(B::name, phase, "entered"),
            }
            let (polled, target) = Self::poll_body(this, slot, None, cx);
            match polled {
                Poll::Ready(output) => {
                    Self::finish_body(this, slot);
                    match output.into_result() {
                        Err(error) => Poll::Ready(Err(error)),
                        Ok(()) => returned_early(B::name),
                    }
                }
                Poll::Pending if phase::is_phase(target) => {
                    slot.set_phase(phase::ENTERING);
                    Poll::Pending
                }
                Poll::Pending => {
                    slot.set_phase(phase::ENTERED);
                    Poll::Ready(Ok(target))
                }
            }
        }
    }

    /// Drives the body from its yield point to completion, handing it `exit` on the first poll.
    ///
    /// # Safety
    /// As for `poll_enter`; `exit` stays valid until the body completes or is dropped.
    #[inline]
    unsafe fn poll_exit(
        this: *mut Self,
        exit: Option<*const Exit<'_>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ErrorOf<B>>> {
        // SAFETY: caller, for every access to `*this` below.
        unsafe {
            let slot = Slot::handle(ptr::addr_of!((*this).slot));
            let handover = match (slot.phase(), exit) {
                (phase::ENTERED, Some(exit)) => Some(exit.cast_mut().cast()),
                (phase::EXITING, None) => None,
                (phase, _) => misuse(B::name, phase, "exited"),
            };
            match Self::poll_body(this, slot, handover, cx).0 {
                Poll::Ready(output) => {
                    Self::finish_body(this, slot);
                    Poll::Ready(output.into_result())
                }
                Poll::Pending => {
                    slot.set_phase(phase::EXITING);
                    Poll::Pending
                }
            }
        }
    }
}

#[cold]
#[inline(never)]
fn returned_early(name: fn() -> &'static str) -> ! {
    panic!("acm: `{}` returned before its yield point", name())
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
        "acm: `{}` cannot be {verb} now: {state} (a generated manager is one-shot)",
        name()
    )
}

impl<Fam, B: Body> Drop for Generated<Fam, B> {
    fn drop(&mut self) {
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
                // The teardown was suspended and its `ExitFuture` forgotten: the coroutine may
                // hold an `Exit` borrowing a block error that no longer exists, so its
                // destructors must not run. Leaking is the only sound choice
                // (tests/exit.rs::forgotten_exit_leaks_the_teardown).
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

    fn name(&self) -> &'static str {
        B::name()
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
        // SAFETY: the manager is pinned and exclusively borrowed for 'm by this future.
        let raw: *mut Generated<Fam, B> =
            unsafe { self.get_mut().manager.as_mut().get_unchecked_mut() };
        // SAFETY: `raw` is pinned, live and ours alone for the call.
        match unsafe { Generated::poll_enter(raw, cx) } {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Ready(Ok(target)) => {
                // SAFETY: `target` is the address of the body's `ManuallyDrop<T<'v>>`,
                // suspended at its yield point inside the manager; it is moved out exactly once,
                // here. The manager is borrowed for 'm by this future, which is done with it.
                // `T` is covariant in its lifetime (checked by the attribute), and 'v outlives
                // the suspension, which outlives 'm: the manager cannot resume or drop the body
                // while the target borrows it. Exercised by tests/borrowed_target.rs under Miri.
                Poll::Ready(Ok(unsafe {
                    ptr::read(target.cast::<<Fam as Family<'m>>::Target>())
                }))
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

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let exit = (!this.started).then_some(&this.exit as *const Exit<'_>);
        // SAFETY: the manager is pinned and exclusively borrowed by this future.
        let raw = unsafe { this.manager.as_mut().get_unchecked_mut() };
        // SAFETY: `raw` is ours for the call; `this.exit` lives as long as this future, and
        // `Drop` below ends the body before this future (and the `Exit`) goes away.
        let polled = unsafe { Generated::poll_exit(raw, exit, cx) };
        // Only once the manager accepted this future's `Exit` (a refused exit panics above) is
        // its teardown this future's to end.
        this.started = true;
        polled
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
        let raw = unsafe { self.manager.as_mut().get_unchecked_mut() };
        // SAFETY: as above; reading the phase touches nothing else.
        let slot = unsafe { Slot::handle(ptr::addr_of!((*raw).slot)) };
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
