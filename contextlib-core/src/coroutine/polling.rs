//! Which generated manager is polling its coroutine on this thread right now.
//!
//! A yield point trusts nothing it was built with: it is a value safe code can move, keep and
//! poll anywhere. When it is polled it asks this record which manager is driving a coroutine on
//! this thread, and acts only if that manager is its own (same identity) and it lives, with its
//! yield handle, inside that manager's coroutine. Everything else panics. So no path an expansion
//! names, and no way a hostile body polls, can make a yield point lend a target, or read an
//! `Exit`, outside its own manager's `enter` and `exit` (tests/hostile_bodies.rs).

use core::cell::Cell;
use core::ptr;

use crate::coroutine::slot::SlotRef;

/// The manager whose coroutine is being polled: its identity, its slot and the address range of
/// its coroutine. Lives on the stack of that manager's `enter`/`exit` poll, for that poll only.
pub(crate) struct Polling {
    pub id: u64,
    pub slot: SlotRef,
    start: usize,
    end: usize,
}

impl Polling {
    pub(crate) fn new(id: u64, slot: SlotRef, coroutine: *const u8, size: usize) -> Self {
        let start = coroutine.addr();
        Polling {
            id,
            slot,
            start,
            end: start + size,
        }
    }

    /// Whether `address` lies inside the coroutine.
    #[inline]
    pub(crate) fn contains(&self, address: *const ()) -> bool {
        (self.start..self.end).contains(&address.addr())
    }
}

std::thread_local! {
    static CURRENT: Cell<*const Polling> = const { Cell::new(ptr::null()) };
}

/// Runs `poll` with `record` as the current manager, restoring the previous one afterwards,
/// also when `poll` unwinds (a record never outlives the poll it describes).
#[inline(always)]
pub(crate) fn within<R>(record: &Polling, poll: impl FnOnce() -> R) -> R {
    struct Restore(*const Polling);
    impl Drop for Restore {
        #[inline(always)]
        fn drop(&mut self) {
            CURRENT.set(self.0);
        }
    }
    let _restore = Restore(CURRENT.replace(record));
    poll()
}

/// The current record, if a manager is polling its coroutine on this thread. The pointer is
/// valid until the caller returns to that manager's poll.
#[inline(always)]
pub(crate) fn current() -> *const Polling {
    CURRENT.get()
}
