//! [`concurrent`]: a tuple of managers entered, and exited, concurrently.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::combinators::join::{Join2, Join3, Join4, Started};
use crate::combinators::tuple::{Fields, FromSame, Held, Members, OneError, Unwinding};
use crate::entering::guard::{Arm, ArmOnSuccess, Finishing, Teardown};
use crate::protocol::catch_unwind::{CatchUnwind, Payload, discard};
use crate::protocol::{AsyncContextManager, BlockError, Exit, Lend, PanicMessage, Target};

/// A tuple of 2 to 4 managers with one error type, entered **concurrently** (their `enter`
/// futures polled together) and exited concurrently; the target is the tuple of targets.
/// Beyond Python: `async_with!((a, b) => ..)` stays sequential, as `async with a, b` is.
///
/// - If an enter fails, the enters still running are dropped (fail fast), the managers that did
///   enter are exited with `Exit::Err` of that error (the leftmost, if several fail at once), and
///   it is returned — unless one of those exits fails, whose error then wins, as in a tuple (they
///   exit one after another, left to right, and the newest error wins: the rightmost). An
///   enter that panics is handled the same way (`Exit::Panic`), then the panic resumes. If the
///   enter is cancelled, every manager that had entered is cancelled.
/// - Every exit sees the block's outcome; if several fail, the leftmost error is returned, and a
///   panic resumes once all have ended. An exit cut short finishes each manager's teardown.
///
/// ```
/// use std::time::{Duration, Instant};
/// use contextlib::{async_context_manager, async_with, concurrent};
///
/// #[async_context_manager]
/// async fn connect(name: &'static str) -> Result<&'static str, std::io::Error> {
///     tokio::time::sleep(Duration::from_millis(50)).await; // a slow handshake
///     r#yield!(name);
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let started = tokio::time::Instant::now();
/// let joined = async_with!(concurrent((connect("db"), connect("cache"))) => |(db, cache)| {
///     format!("{db}+{cache}")
/// });
/// assert_eq!(joined.unwrap(), "db+cache");
/// assert_eq!(started.elapsed(), Duration::from_millis(50)); // not 100: entered together
/// # }
/// ```
pub fn concurrent<T>(managers: T) -> Concurrent<T> {
    Concurrent { managers }
}

/// The manager [`concurrent`] makes.
///
/// ```
/// let both = contextlib::concurrent((contextlib::nullcontext(1), contextlib::nullcontext(2)));
/// # let _ = both;
/// ```
#[must_use = "a context manager does nothing until it is entered, e.g. with `async_with!`"]
pub struct Concurrent<T> {
    managers: T,
}

/// The members that entered, cancelled (right to left) if the enter is dropped midway.
struct Entered<T: Members, const N: usize> {
    fields: Fields<T>,
    flags: [bool; N],
}

impl<T: Members, const N: usize> Drop for Entered<T, N> {
    fn drop(&mut self) {
        for index in (0..N).rev() {
            if self.flags[index] {
                T::cancel_one(self.fields, index);
            }
        }
    }
}

/// The members still to exit while an enter that failed unwinds; dropped midway, they exit in
/// place (or by themselves), right to left.
struct Unwound<'e, T: Members, const N: usize> {
    fields: Fields<T>,
    owed: [bool; N],
    exit: Exit<'e>,
}

impl<T: Members, const N: usize> Drop for Unwound<'_, T, N> {
    fn drop(&mut self) {
        for index in (0..N).rev() {
            if self.owed[index] {
                self.owed[index] = false;
                T::finish_one(self.fields, index, self.exit);
            }
        }
    }
}

/// Keeps the leftmost error, and the first panic (a later one is discarded).
fn record<E>(
    outcome: Result<Result<(), E>, Payload>,
    error: &mut Option<E>,
    panic: &mut Option<Payload>,
) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            if error.is_none() {
                *error = Some(e);
            }
        }
        Err(payload) => match panic {
            None => *panic = Some(payload),
            Some(_) => discard(payload),
        },
    }
}

macro_rules! concurrent_manager {
    ($len:literal, $Join:ident: $($M:ident $index:tt $flag:ident),+) => {
        impl<'a, $($M: Lend<'a>),+> Lend<'a> for Concurrent<($($M,)+)> {
            type Target = ($(Target<'a, $M>,)+);
        }

        /// The members share one error type `E`, as in a tuple: `OneError` and `FromSame` (under
        /// the hidden `contextlib::expansion`) state just that.
        impl<E, $($M),+> AsyncContextManager for Concurrent<($($M,)+)>
        where
            E: fmt::Display + fmt::Debug + Sync + 'static,
            // One error type, as for a tuple (see `OneError`).
            ($($M::Error,)+): OneError<Error = E>,
            $($M: AsyncContextManager, E: FromSame<$M::Error>,)+
        {
            type Error = E;

            async fn enter(self: Pin<&mut Self>) -> Result<Target<'_, Self>, E> {
                // SAFETY: the members are structurally pinned: only ever reached as
                // `Pin<&mut _>`, never moved. Exercised by tests/concurrent.rs under Miri.
                let fields = Fields(unsafe { &mut self.get_unchecked_mut().managers } as *mut ($($M,)+));
                // Declared before the enters, so dropped after them: a member that entered is
                // cancelled if this enter is dropped midway.
                let mut entered = Entered::<($($M,)+), $len> { fields, flags: [false; $len] };
                // The join's outcomes leave scope before the next `.await`, and the targets are
                // held in `Held` (see there): otherwise the future is not provably `Send`.
                let (targets, error, panic) = {
                    let outcomes = {
                        let [$($flag),+] = &mut entered.flags;
                        $Join::new($(
                            CatchUnwind::new(ArmOnSuccess::new((
                                // SAFETY: field `$index` is pinned and borrowed by nothing else.
                                // Exercised by tests/concurrent.rs and
                                // tests/stacked_borrows_self_borrows.rs under Miri.
                                unsafe { Pin::new_unchecked(&mut (*fields.0).$index) }.enter(),
                                Arm::new($flag),
                            ))),
                        )+)
                        .await
                    };
                    let mut error = None;
                    let mut panic = None;
                    let targets = ($(
                        Held::<'_, $M>(match outcomes.$index {
                            // Cut off: another member failed first (its enter was dropped).
                            None => None,
                            Some(Ok(Ok(target))) => Some(target),
                            Some(Ok(Err(e))) => {
                                if error.is_none() {
                                    error = Some(FromSame::from_same(e));
                                }
                                None
                            }
                            Some(Err(payload)) => {
                                match panic {
                                    None => panic = Some(payload),
                                    Some(_) => discard(payload),
                                }
                                None
                            }
                        }),
                    )+);
                    (targets, error, panic)
                };
                if error.is_none() && panic.is_none() {
                    entered.flags = [false; $len];
                    return Ok(($(targets.$index.0.expect("entered"),)+));
                }
                // Some failed: the others exit (their targets gone first) with that failure.
                drop(targets);
                let owed = core::mem::take(&mut entered.flags);
                let exited = {
                    let exit = match (&panic, &error) {
                        (Some(payload), _) => Exit::Panic(PanicMessage::from_payload(&**payload)),
                        (None, Some(e)) => Exit::Err(BlockError::new(e)),
                        (None, None) => unreachable!(),
                    };
                    let mut unwound = Unwound::<($($M,)+), $len> { fields, owed, exit };
                    let mut unwinding = Unwinding::<E>::new();
                    $(
                        if unwound.owed[$index] {
                            unwound.owed[$index] = false;
                            // SAFETY: field `$index` is pinned; its target was dropped above.
                            // Exercised by tests/concurrent.rs under Miri.
                            let member = unsafe { Pin::new_unchecked(&mut (*fields.0).$index) };
                            unwinding.record(
                                CatchUnwind::new(Finishing::new(member.exit(exit), Teardown::of::<$M>()))
                                    .await
                                    .map(|exited| exited.map_err(FromSame::from_same)),
                            );
                        }
                    )+
                    unwinding
                };
                if let Some(payload) = panic {
                    discard_unwinding(exited);
                    resume_unwind(payload);
                }
                match exited.finish() {
                    Err(exit_error) => Err(exit_error),
                    Ok(()) => Err(error.expect("a failed enter")),
                }
            }

            fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), E>> {
                // SAFETY: structural pinning, as in `enter`; the targets are gone. Exercised by
                // tests/concurrent.rs and tests/stacked_borrows_self_borrows.rs under Miri.
                let ($($flag,)+) = &mut unsafe { self.get_unchecked_mut() }.managers;
                // Every member's exit is started here, so the teardowns are owed from the call;
                // one whose `exit` panics as it is called does not keep the others from theirs.
                let exits = $Join::new($(
                    match catch_unwind(AssertUnwindSafe(|| {
                        // SAFETY: as above; each member is borrowed once.
                        // Exercised by tests/concurrent.rs under Miri.
                        unsafe { Pin::new_unchecked($flag) }.exit(exit)
                    })) {
                        Ok(started) => Started::Running(CatchUnwind::new(Finishing::new(started, Teardown::of::<$M>()))),
                        Err(payload) => Started::Panicked(Some(payload)),
                    },
                )+);
                async move {
                    let outcomes = exits.await;
                    let mut error = None;
                    let mut panic = None;
                    $(record(
                        outcomes.$index.expect("every exit runs to its end").0
                            .map(|exited| exited.map_err(FromSame::from_same)),
                        &mut error,
                        &mut panic,
                    );)+
                    if let Some(payload) = panic {
                        resume_unwind(payload);
                    }
                    error.map_or(Ok(()), Err)
                }
            }

            fn cancel(self: Pin<&mut Self>) {
                // SAFETY: structural pinning, as in `enter`; the targets are gone. Checked by
                // tests/concurrent.rs::every_member_is_torn_down_wherever_the_future_is_dropped
                // under Miri.
                let fields = Fields(unsafe { &mut self.get_unchecked_mut().managers } as *mut ($($M,)+));
                for index in (0..$len).rev() {
                    <($($M,)+) as Members>::cancel_one(fields, index);
                }
            }

            /// Dropped early, the exit finishes each member's teardown (in place, or by the
            /// member itself): every exit future exists from the call on.
            const EXIT_FINISHES_WHEN_DROPPED: bool = true;

            fn name() -> &'static str {
                "contextlib::concurrent"
            }
        }
    };
}

/// A panic resumes: what the unwinding exits left (their errors) is dropped quietly.
fn discard_unwinding<E: fmt::Display + fmt::Debug + Sync + 'static>(unwinding: Unwinding<E>) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(unwinding.finish()))) {
        discard(payload);
    }
}

concurrent_manager!(2, Join2: A 0 a, B 1 b);
concurrent_manager!(3, Join3: A 0 a, B 1 b, C 2 c);
concurrent_manager!(4, Join4: A 0 a, B 1 b, C 2 c, D 3 d);

// As for tuples: the own futures are concrete, the named `Send` ones boxed.
crate::entering::drive::driven_directly! {
    impl[A, B] for Concurrent<(A, B)>;
    impl[A, B, C] for Concurrent<(A, B, C)>;
    impl[A, B, C, D] for Concurrent<(A, B, C, D)>;
}
