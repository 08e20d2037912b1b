//! One word shared by a generated manager and its coroutine. Between polls it holds the
//! manager's phase; during a poll it carries the hand-over: the address of the lent target
//! (enter) or of the block's `Exit` (exit).

use core::cell::UnsafeCell;
use core::ptr;

/// The phases of a generated manager, kept in its slot between polls. (A coroutine that
/// panicked stays in the phase it was polled in: resuming it panics, dropping it is fine.)
pub(crate) mod phase {
    /// A slot holding a phase, not a handed-over pointer (real pointers are never this small).
    #[inline]
    pub fn is_phase(word: *mut ()) -> bool {
        word.addr() <= DONE
    }
    /// What the yield point leaves when it takes the `Exit`: the coroutine is live.
    pub const TAKEN: usize = 0;
    /// The body closure is live; the coroutine does not exist yet.
    pub const FRESH: usize = 1;
    /// The coroutine is live, before its yield point.
    pub const ENTERING: usize = 2;
    /// The coroutine is live, suspended at its yield point; the target is lent out.
    pub const ENTERED: usize = 3;
    /// The coroutine is live and has received its `Exit`.
    pub const EXITING: usize = 4;
    /// Nothing is live.
    pub const DONE: usize = 5;
}

/// Lives in the pinned manager. A phase is stored as a pointer without provenance (its address
/// is the phase), so that handed-over pointers keep theirs.
pub(crate) struct Slot(UnsafeCell<*mut ()>);

// SAFETY: the slot is only read and written through `Pin<&mut Generated>` (directly, or by the
// coroutine that manager is polling), so never from two threads at once. Exercised by
// tests/send.rs.
unsafe impl Send for Slot {}
// SAFETY: as for `Send`: `Slot` has no `&self` API.
unsafe impl Sync for Slot {}

impl Slot {
    pub(crate) const fn new() -> Self {
        Slot(UnsafeCell::new(ptr::without_provenance_mut(phase::FRESH)))
    }

    /// A raw handle to the slot of a manager reached by raw pointer (no reference to it).
    ///
    /// # Safety
    /// `slot` points to a live `Slot`.
    #[inline]
    pub(crate) unsafe fn handle(slot: *const Slot) -> SlotRef {
        // SAFETY: `slot` is live (caller); `raw_get` creates no reference.
        SlotRef(UnsafeCell::raw_get(unsafe { ptr::addr_of!((*slot).0) }))
    }
}

/// A copyable raw handle to a manager's `Slot`.
#[derive(Clone, Copy)]
pub struct SlotRef(*mut *mut ());

impl SlotRef {
    /// The word as a phase (between polls).
    ///
    /// # Safety
    /// The slot is live and not accessed concurrently.
    #[inline]
    pub(crate) unsafe fn phase(self) -> usize {
        // SAFETY: caller.
        unsafe { (*self.0).addr() }
    }

    /// The word as it is: a phase, or a handed-over pointer.
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn phase_word(self) -> *mut () {
        // SAFETY: caller.
        unsafe { *self.0 }
    }

    /// Stores a phase (between polls).
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn set_phase(self, phase: usize) {
        // SAFETY: caller.
        unsafe { *self.0 = ptr::without_provenance_mut(phase) }
    }

    /// Hands `value` over (during a poll); null means "nothing".
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn publish(self, value: *mut ()) {
        // SAFETY: caller.
        unsafe { *self.0 = value }
    }

    /// Takes what the slot holds (during a poll), leaving null.
    ///
    /// # Safety
    /// As for `phase`.
    #[inline]
    pub(crate) unsafe fn take(self) -> *mut () {
        // SAFETY: caller.
        unsafe { ptr::replace(self.0, ptr::null_mut()) }
    }
}
