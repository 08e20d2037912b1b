//! The hand-over between a generated manager and its coroutine: the manager's phase, the
//! manager's identity, and, during a poll, the address of the lent target (enter) or of the
//! block's `Exit` (exit). Lives in the pinned manager; every access is through a raw
//! [`SlotRef`], so no reference to the manager is ever created while its coroutine lends a
//! borrow of itself.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

/// The phases of a generated manager. A coroutine that panicked stays in the phase it was
/// polled in: resuming it panics, dropping it is fine.
pub(crate) mod phase {
    /// The body closure is live; the coroutine does not exist yet.
    pub const FRESH: u8 = 0;
    /// The coroutine is live, before its yield point.
    pub const ENTERING: u8 = 1;
    /// During an enter poll: the yield point has published its target's address.
    pub const LENT: u8 = 2;
    /// The coroutine is live, suspended; its target is lent out.
    pub const ENTERED: u8 = 3;
    /// During an exit poll: the block's `Exit` is published for the yield point.
    pub const EXIT_POLL: u8 = 4;
    /// The coroutine is live and suspended in its teardown; an exit future owns it.
    pub const EXITING: u8 = 5;
    /// Nothing is live.
    pub const DONE: u8 = 6;
}

/// Where identities come from: one number per manager ever built, never reused, so a yield
/// handle that outlived its manager can never pass for another manager's (a 64-bit counter
/// does not wrap in practice).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A manager's identity, shared by its slot and its yield handle.
pub(crate) fn fresh_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub(crate) struct Slot {
    phase: UnsafeCell<u8>,
    handover: UnsafeCell<*mut ()>,
    id: u64,
}

// SAFETY: the slot is only read and written by the manager that owns it, through
// `Pin<&mut Generated>` (directly, or by the coroutine that manager is polling, on the same
// thread, during that poll), so never from two threads at once. Exercised by tests/send.rs
// under Miri. Checked by
// tests/hidden_items_misused.rs::a_manager_entered_on_one_thread_exits_on_another under Miri.
unsafe impl Send for Slot {}
// SAFETY: as for `Send`: `Slot` has no `&self` API. Exercised by tests/send.rs under Miri.
unsafe impl Sync for Slot {}

impl Slot {
    pub(crate) fn new() -> Self {
        Slot {
            phase: UnsafeCell::new(phase::FRESH),
            handover: UnsafeCell::new(ptr::null_mut()),
            id: fresh_id(),
        }
    }

    /// A raw handle to the slot of a manager reached by raw pointer (no reference to it).
    ///
    /// # Safety
    /// `slot` points to a live `Slot`.
    #[inline]
    pub(crate) unsafe fn handle(slot: *const Slot) -> SlotRef {
        SlotRef(slot)
    }
}

/// A copyable raw handle to a manager's `Slot`.
#[derive(Clone, Copy)]
pub(crate) struct SlotRef(*const Slot);

impl SlotRef {
    /// The manager's phase.
    ///
    /// # Safety
    /// The slot is live and not accessed concurrently.
    #[inline]
    pub(crate) unsafe fn phase(self) -> u8 {
        // SAFETY: caller; `raw_get` creates no reference to the slot. Checked by
        // tests/hidden_items_misused.rs::a_yield_point_polled_from_another_thread_is_refused
        // under Miri.
        unsafe { *UnsafeCell::raw_get(ptr::addr_of!((*self.0).phase)) }
    }

    /// Stores a phase.
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn set_phase(self, phase: u8) {
        // SAFETY: caller.
        // Exercised by tests/hostile_bodies.rs and tests/hidden_items_misused.rs under Miri.
        unsafe { *UnsafeCell::raw_get(ptr::addr_of!((*self.0).phase)) = phase }
    }

    /// The handed-over address (null when nothing is handed over).
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn handover(self) -> *mut () {
        // SAFETY: caller.
        // Exercised by tests/hostile_bodies.rs and tests/hidden_items_misused.rs under Miri.
        unsafe { *UnsafeCell::raw_get(ptr::addr_of!((*self.0).handover)) }
    }

    /// Hands `value` over (null: nothing).
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn set_handover(self, value: *mut ()) {
        // SAFETY: caller.
        // Exercised by tests/hostile_bodies.rs and tests/hidden_items_misused.rs under Miri.
        unsafe { *UnsafeCell::raw_get(ptr::addr_of!((*self.0).handover)) = value }
    }

    /// The manager's identity.
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn id(self) -> u64 {
        // SAFETY: caller; `id` is never written after construction.
        // Exercised by tests/hostile_bodies.rs and tests/hidden_items_misused.rs under Miri.
        unsafe { (*self.0).id }
    }
}
