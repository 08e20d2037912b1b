//! The coroutine's side of the hand-over: `r#yield!(target)` lends the target to the driver
//! and suspends until the driver brings back the block's [`Exit`].

use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use crate::Exit;
use crate::family::Family;
use crate::slot::{SlotRef, phase};

/// The yield handle of one generated manager, typed by its target family `Fam`.
///
/// `#[async_context_manager]` binds it to a hygienic local that user code cannot name, and
/// rewrites the fn's single `r#yield!(value)` into `yielder.yield_(value).await`.
pub struct Yielder<Fam> {
    slot: SlotRef,
    _family: PhantomData<Fam>,
}

// SAFETY: the slot pointer targets the `Generated` that owns the coroutine owning this
// yielder; moving or sharing it across threads moves or shares the whole manager, whose every
// access goes through `Pin<&mut Generated>`. Exercised by tests/send.rs (spawned on tokio).
unsafe impl<Fam> Send for Yielder<Fam> {}
// SAFETY: as for `Send`: the yielder has no `&self` API that touches the slot.
unsafe impl<Fam> Sync for Yielder<Fam> {}

impl<Fam> Yielder<Fam> {
    pub(crate) fn new(slot: SlotRef) -> Self {
        Yielder {
            slot,
            _family: PhantomData,
        }
    }

    /// Lends `target` to the with-block and suspends until the block has ended.
    #[inline(always)]
    pub fn yield_<'y, 'v>(
        &'y mut self,
        target: <Fam as Family<'v>>::Target,
    ) -> YieldPoint<'y, <Fam as Family<'v>>::Target>
    where
        Fam: Family<'v>,
    {
        YieldPoint {
            slot: self.slot,
            target: ManuallyDrop::new(target),
            orphan: false,
            _exit: PhantomData,
            _pinned: PhantomPinned,
        }
    }
}

/// The future `r#yield!` awaits. First poll (driven by the manager's enter, the slot holding
/// just the phase): publish the address of the target and suspend; the driver moves the target
/// out before that poll returns. Next poll (driven by the exit, which hands over its `Exit`
/// through the slot): return that `Exit`.
pub struct YieldPoint<'y, T> {
    slot: SlotRef,
    /// Moved out by the driver during the first poll; dropped here only if it is `orphan`.
    target: ManuallyDrop<T>,
    /// Published after the first yield already lent its target (a second yield, which the
    /// exit refuses with a panic): nobody takes it, so it is dropped with this future.
    orphan: bool,
    _exit: PhantomData<&'y mut ()>,
    _pinned: PhantomPinned,
}

// SAFETY: see `Yielder`; the target itself is only sent or shared along with this future.
unsafe impl<T: Send> Send for YieldPoint<'_, T> {}
// SAFETY: see `Yielder`; `YieldPoint` has no `&self` API.
unsafe impl<T: Sync> Sync for YieldPoint<'_, T> {}

impl<T> Drop for YieldPoint<'_, T> {
    fn drop(&mut self) {
        if self.orphan {
            // SAFETY: an orphan target was published but never read: it is still here, and
            // this is its only drop (tests/macro_edges.rs::a_second_yield_at_run_time_panics_clearly).
            unsafe { ManuallyDrop::drop(&mut self.target) }
        }
    }
}

impl<'y, T> Future for YieldPoint<'y, T> {
    type Output = Exit<'y>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Exit<'y>> {
        // SAFETY: nothing is moved out of the pinned future here; the target is lent by
        // address and moved out by the driver in place.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: the slot belongs to the manager driving this coroutine, which is inside
        // its `EnterFuture` or `ExitFuture` poll right now: nothing else touches the slot.
        let exit = unsafe { this.slot.take() };
        if phase::is_phase(exit) {
            this.orphan = exit.addr() != phase::ENTERING;
            // SAFETY: as above. The target stays at this address while the coroutine is
            // suspended here (the coroutine is pinned in the manager); the driver moves it out
            // before this poll returns to its caller. Exercised by tests/borrowed_target.rs
            // under Miri (both borrow models).
            unsafe { this.slot.publish(ptr::addr_of_mut!(this.target).cast()) };
            return Poll::Pending;
        }
        // SAFETY: a non-null slot on a later poll holds the `*const Exit` published by the
        // manager's exit, which keeps that `Exit` alive, with everything it borrows, until the
        // coroutine completes or is dropped (`ExitFuture` ends the coroutine before its own
        // `Exit` dies). Exercised by tests/exit.rs and tests/cancellation.rs under Miri.
        Poll::Ready(unsafe { *exit.cast::<Exit<'y>>() })
    }
}
