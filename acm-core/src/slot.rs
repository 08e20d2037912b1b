//! One word through which a generated manager and its coroutine hand the target over (enter)
//! and the block's `Exit` back (exit).

use core::cell::UnsafeCell;
use core::ptr;

/// Lives in the pinned manager; holds a type-erased pointer, or null when nothing is pending.
pub(crate) struct Slot(UnsafeCell<*mut ()>);

// SAFETY: the slot is only read and written through `Pin<&mut Generated>` (directly or by the
// coroutine that manager is polling), so it is never accessed from two threads at once.
// Exercised by tests/send.rs.
unsafe impl Send for Slot {}
// SAFETY: as for `Send`: `Slot` has no `&self` API.
unsafe impl Sync for Slot {}

impl Slot {
    pub(crate) const fn new() -> Self {
        Slot(UnsafeCell::new(ptr::null_mut()))
    }

    /// A raw handle to the slot of a manager reached by raw pointer (no reference to it).
    ///
    /// # Safety
    /// `slot` points to a live `Slot`.
    pub(crate) unsafe fn handle(slot: *const Slot) -> SlotRef {
        // SAFETY: `slot` is live (caller); `raw_get` creates no reference.
        SlotRef(UnsafeCell::raw_get(unsafe { ptr::addr_of!((*slot).0) }))
    }
}

/// A copyable raw handle to a manager's `Slot`.
#[derive(Clone, Copy)]
pub struct SlotRef(*mut *mut ());

impl SlotRef {
    /// # Safety
    /// The slot is live and not accessed concurrently.
    pub(crate) unsafe fn publish(self, value: *mut ()) {
        // SAFETY: caller.
        unsafe { *self.0 = value }
    }

    /// Takes what the slot holds, leaving it null.
    ///
    /// # Safety
    /// The slot is live and not accessed concurrently.
    pub(crate) unsafe fn take(self) -> *mut () {
        // SAFETY: caller.
        unsafe { ptr::replace(self.0, ptr::null_mut()) }
    }
}
