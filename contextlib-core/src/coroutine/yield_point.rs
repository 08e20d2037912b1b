//! The coroutine's side of the hand-over: `r#yield!(target)` lends the target to the driver
//! and suspends until the driver brings back the block's [`Exit`].
//!
//! Nothing here trusts the code that builds or polls a yield point: each poll checks, against
//! the record of the manager polling on this thread (see `polling`), that the yield point is its
//! own manager's, that it and its yield handle live inside that manager's coroutine, and that the
//! manager is in the phase the step needs. Anything else panics before the slot is read or
//! written (tests/hostile_bodies.rs).

use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use crate::coroutine::family::Family;
use crate::coroutine::polling::{self, Polling};
use crate::coroutine::slot::{SlotRef, phase};
use crate::protocol::Exit;

/// The witness that a target family is covariant in the manager borrow, as a function the
/// library calls: `for<'long, 'short> Fn(TargetMustBeCovariantInTheManagerBorrow<'short, 'long>,
/// Target<'long>) -> Target<'short>`. `#[async_context_manager]` passes `|_, target| target`,
/// which compiles only for a covariant target (or one that coerces in place, as `&mut dyn
/// Trait` does); its name is what the compiler shows when it does not.
///
/// The library applies the witness to every target before lending it, so a witness that
/// returns something else lends that instead: whatever a safe fn generic over the two lifetimes
/// can return is a valid target for the shorter one.
pub struct TargetMustBeCovariantInTheManagerBorrow<'short, 'long: 'short>(
    PhantomData<&'short &'long ()>,
);

/// The yield handle of one generated manager: its identity, its target family `Fam` and the
/// covariance witness `W` of that family.
///
/// `#[async_context_manager]` binds it to a hygienic local moved into the coroutine, and
/// rewrites the fn's single `r#yield!(value)` into `yielder.yield_(value).await`.
pub struct Yielder<Fam, W> {
    id: u64,
    shorten: W,
    /// Invariant, as `Generated` is (ui/generated_family_cannot_be_widened).
    _family: PhantomData<fn(Fam) -> Fam>,
}

/// A target of the family `Fam` for the borrow `'a`, as the witness takes and returns it: a
/// struct, so that the witness's higher-ranked signature holds no projection, whose second
/// field implies `Fam: 'a` (the target's own borrows outlive the manager borrow) to the
/// witness's body.
pub struct Lent<'a, Fam: Family<'a>>(pub <Fam as Family<'a>>::Target, pub PhantomData<&'a Fam>);

impl<Fam, W> Yielder<Fam, W>
where
    Fam: for<'a> Family<'a>,
    W: for<'long, 'short> Fn(
        TargetMustBeCovariantInTheManagerBorrow<'short, 'long>,
        Lent<'long, Fam>,
    ) -> Lent<'short, Fam>,
{
    #[inline]
    pub(crate) fn new(id: u64, shorten: W) -> Self {
        Yielder {
            id,
            shorten,
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
        Fam: 'v,
    {
        // The witness is generic over both lifetimes, so what it returns here is, bit for bit,
        // what it would return for the manager borrow's lifetime: a valid target for it.
        let Lent(target, _) = (self.shorten)(
            TargetMustBeCovariantInTheManagerBorrow(PhantomData),
            Lent::<'v, Fam>(target, PhantomData),
        );
        YieldPoint {
            id: self.id,
            yielder: ptr::from_mut(self).cast_const().cast(),
            target: ManuallyDrop::new(target),
            state: State::Fresh,
            lent_to: None,
            _exit: PhantomData,
            _pinned: PhantomPinned,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not polled yet; the target is here.
    Fresh,
    /// Published its target during an enter poll (the driver moves it out before that poll
    /// returns, unless this yield point is dropped first).
    Lent,
    /// Returned the `Exit`.
    Done,
}

/// The future `r#yield!` awaits. First poll (during its manager's enter): publish the address
/// of the target and suspend; the driver moves the target out before that poll returns. Next
/// poll (during its manager's exit, which publishes its `Exit`): return that `Exit`.
pub struct YieldPoint<'y, T> {
    /// The identity of the manager whose yield handle built this.
    id: u64,
    /// Where that yield handle is (compared, never read).
    yielder: *const (),
    /// Moved out by the driver during the enter poll that took it; dropped here otherwise.
    target: ManuallyDrop<T>,
    state: State,
    /// The slot this yield point published its target to: its own manager's (checked), which
    /// outlives it, because it lives inside that manager's pinned coroutine.
    lent_to: Option<SlotRef>,
    _exit: PhantomData<&'y mut ()>,
    _pinned: PhantomPinned,
}

// SAFETY: the raw pointers are the address of a yield handle (only compared) and the slot of
// the manager whose coroutine holds this yield point (only used while that manager polls or
// drops it): sending this future sends that whole manager. The target is sent along with it.
// Checked by tests/hidden_items_misused.rs::a_manager_entered_on_one_thread_exits_on_another
// under Miri.
unsafe impl<T: Send> Send for YieldPoint<'_, T> {}
// SAFETY: `YieldPoint` has no `&self` API. Exercised by tests/send.rs under Miri.
unsafe impl<T: Sync> Sync for YieldPoint<'_, T> {}

impl<T> Drop for YieldPoint<'_, T> {
    fn drop(&mut self) {
        let (State::Lent, Some(slot)) = (self.state, self.lent_to) else {
            if self.state == State::Fresh {
                // SAFETY: never published: the target is still here, and this is its only drop.
                // Exercised by tests/hostile_bodies.rs and tests/hidden_items_misused.rs
                // under Miri.
                unsafe { ManuallyDrop::drop(&mut self.target) }
            }
            return;
        };
        let here: *mut () = ptr::addr_of_mut!(self.target).cast();
        // SAFETY: `lent_to` is the slot of the manager whose pinned coroutine holds this yield
        // point (checked when it was set), so the slot is alive while this yield point is; it
        // is dropped on the thread that polls that manager. Checked by
        // tests/hostile_bodies.rs::a_yield_dropped_after_lending_takes_its_offer_back under Miri.
        unsafe {
            if slot.phase() == phase::LENT && slot.handover() == here {
                // Dropped during the enter poll it lent in, before the driver took the target
                // (a body that stopped awaiting its yield): take the offer back
                // (tests/hostile_bodies.rs::a_yield_dropped_after_lending_takes_its_offer_back).
                slot.set_handover(ptr::null_mut());
                slot.set_phase(phase::ENTERING);
                ManuallyDrop::drop(&mut self.target);
            }
        }
    }
}

impl<'y, T> Future for YieldPoint<'y, T> {
    type Output = Exit<'y>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Exit<'y>> {
        // SAFETY: nothing is moved out of the pinned future here; the target is lent by
        // address and moved out by the driver in place.
        // Exercised by tests/borrowed_target.rs under Miri.
        let this = unsafe { self.get_unchecked_mut() };
        let record = polling::current();
        if record.is_null() {
            misplaced("outside its manager's `enter` and `exit`")
        }
        // SAFETY: a non-null record describes the manager polling on this thread, whose poll
        // is below this one on the stack (`polling::within`). Checked by
        // tests/hostile_bodies.rs::a_yield_handle_of_one_manager_cannot_yield_in_another
        // under Miri.
        let record: &Polling = unsafe { &*record };
        let here: *const () = ptr::from_mut(this).cast_const().cast();
        if record.id != this.id {
            misplaced("inside another manager (its yield handle belongs to a different one)")
        }
        if !record.contains(here) || !record.contains(this.yielder) {
            misplaced(
                "somewhere other than its manager's own body (it, and the yield handle it \
                 borrows, must be awaited in the coroutine itself)",
            )
        }
        let slot = record.slot;
        // SAFETY: the record's slot is the live slot of the manager polling now, which touches
        // nothing else while its coroutine runs.
        // Exercised by tests/borrowed_target.rs and tests/exit.rs under Miri.
        unsafe {
            match (this.state, slot.phase()) {
                (State::Fresh, phase::ENTERING) => {
                    // The target stays at this address while the coroutine is suspended: this
                    // yield point is pinned inside that coroutine, which cannot run or be
                    // dropped while the target is lent (the manager is borrowed by it).
                    // Exercised by tests/borrowed_target.rs under Miri (both borrow models).
                    slot.set_handover(ptr::addr_of_mut!(this.target).cast());
                    slot.set_phase(phase::LENT);
                    this.state = State::Lent;
                    this.lent_to = Some(slot);
                    Poll::Pending
                }
                (State::Lent, phase::EXIT_POLL) => {
                    this.state = State::Done;
                    // The exit published the address of its `Exit`, which it keeps alive, with
                    // everything it borrows, until the coroutine completes or is dropped. 'y
                    // borrows a yield handle inside the coroutine, so the `Exit` cannot leave
                    // it. Exercised by tests/exit.rs and tests/cancellation.rs under Miri.
                    Poll::Ready(*slot.handover().cast::<Exit<'y>>())
                }
                (State::Fresh, phase::LENT | phase::EXIT_POLL) => second_yield(),
                (State::Lent, _) => misplaced("twice within one poll of its manager"),
                _ => misplaced("again after it completed"),
            }
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn misplaced(where_: &str) -> ! {
    panic!(
        "contextlib: a yield point was polled {where_}; a generated manager's `r#yield!` is \
         awaited once, directly in its own body"
    )
}

#[cold]
#[inline(never)]
fn second_yield() -> ! {
    panic!(
        "contextlib: a generated manager reached a second `r#yield!` in one run: a manager \
         yields exactly once"
    )
}
