//! A tuple of managers is a manager: entered left to right, exited right to left, like nested
//! `async with` statements (or Python's `async with a, b:`).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::resume_unwind;

use crate::entering::guard::{Finishing, Teardown};
use crate::protocol::catch_unwind::{CatchUnwind, Payload, discard};
use crate::protocol::teardown::{TeardownOutcome, TeardownReport, report};
use crate::protocol::{AsyncContextManager, BlockError, Exit, Lend, PanicMessage, Target};

/// `&mut T` for a tuple whose fields are borrowed one at a time across `.await`s.
pub(crate) struct Fields<T>(pub(crate) *mut T);

impl<T> Clone for Fields<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Fields<T> {}

// SAFETY: `Fields` stands for the `Pin<&mut T>` it was made from, so it is `Send`/`Sync`
// exactly when that reference would be. Exercised by tests/send.rs (a spawned tuple) under Miri.
unsafe impl<T: Send> Send for Fields<T> {}
// SAFETY: as above. Exercised by tests/send.rs under Miri.
unsafe impl<T: Sync> Sync for Fields<T> {}

/// What the exits seen so far left behind: the newest error wins (as in Python), a panic is
/// remembered and resumed once every manager has exited.
pub(crate) struct Unwinding<E> {
    error: Option<E>,
    panic: Option<Payload>,
}

impl<E: fmt::Display + fmt::Debug + Sync + 'static> Unwinding<E> {
    pub(crate) fn new() -> Self {
        Unwinding {
            error: None,
            panic: None,
        }
    }

    pub(crate) fn exit_for_next<'a>(&'a self, original: Exit<'a>) -> Exit<'a> {
        match (&self.panic, &self.error) {
            (Some(payload), _) => Exit::Panic(PanicMessage::from_payload(&**payload)),
            (None, Some(error)) => Exit::Err(BlockError::new(error)),
            (None, None) => original,
        }
    }

    pub(crate) fn record(&mut self, exited: Result<Result<(), E>, Payload>) {
        match exited {
            Ok(Ok(())) => {}
            Ok(Err(error)) => self.error = Some(error),
            Err(payload) => match self.panic {
                None => self.panic = Some(payload),
                Some(_) => discard(payload),
            },
        }
    }

    pub(crate) fn finish(self) -> Result<(), E> {
        if let Some(payload) = self.panic {
            resume_unwind(payload);
        }
        self.error.map_or(Ok(()), Err)
    }
}

/// A target held across an `.await` inside the library, in a struct of one lifetime: a future
/// holding the bare `Target<'m, M>` is not provably `Send` in a spawned task (rustc names each
/// occurrence of `'m` apart and finds `Lend` "not general enough"); through this struct it is
/// (tests/send.rs).
pub(crate) struct Held<'m, M: Lend<'m>>(pub(crate) Option<Target<'m, M>>);

macro_rules! tuple_manager {
    ($len:literal: $($M:ident $index:tt),+) => {
        /// Enters left to right and exits right to left. If a manager fails to enter (or
        /// panics), the ones already entered exit and see that error; each exit sees the newest
        /// error, and the newest error wins. All managers share one error type.
        impl<'a, $($M: Lend<'a>),+> Lend<'a> for ($($M,)+) {
            type Target = ($(Target<'a, $M>,)+);
        }

        /// The members share one error type `E`. The bounds `OneError` and `FromSame` (under
        /// the hidden `contextlib::expansion`) state just that, so that a tuple mixing error
        /// types is one error saying so: convert the errors in the managers, or nest
        /// `async_with!`s.
        impl<E, $($M),+> AsyncContextManager for ($($M,)+)
        where
            E: fmt::Display + fmt::Debug + Sync + 'static,
            ($($M::Error,)+): OneError<Error = E>,
            $($M: AsyncContextManager, E: FromSame<$M::Error>,)+
        {
            type Error = E;

            async fn enter(self: Pin<&mut Self>) -> Result<Target<'_, Self>, E> {
                // SAFETY: the fields are structurally pinned: they are only ever reached as
                // `Pin<&mut _>` and never moved. Exercised by tests/tuple.rs under Miri.
                let fields = Fields(unsafe { self.get_unchecked_mut() } as *mut Self);
                // Declared before the targets, so dropped after them: if this enter is
                // cancelled midway, the managers already entered are cancelled (exited).
                let mut entered = Entered { fields, count: 0 };
                let mut targets = ($(Held::<'_, $M>(None),)+);
                $(
                    // SAFETY: field `$index` is pinned (see above) and borrowed by nothing else.
                    // Exercised by tests/tuple.rs under Miri.
                    let field = unsafe { Pin::new_unchecked(&mut (*fields.0).$index) };
                    // The outcome leaves scope before the next `.await` (see `Held`).
                    let failed = match CatchUnwind::new(field.enter()).await {
                        Ok(Ok(target)) => {
                            targets.$index.0 = Some(target);
                            entered.count = $index + 1;
                            None
                        }
                        Ok(Err(error)) => Some(Ok(FromSame::from_same(error))),
                        Err(payload) => Some(Err(payload)),
                    };
                    match failed {
                        None => {}
                        Some(Ok(error)) => {
                            // (If a target's `Drop` panics, `entered` still cancels them all.)
                            drop(targets);
                            entered.count = 0;
                            let exited = Self::exit_from(fields, $index, Exit::Err(BlockError::new(&error))).await;
                            return Err(exited.err().unwrap_or(error));
                        }
                        Some(Err(payload)) => {
                            drop(targets);
                            entered.count = 0;
                            let message = PanicMessage::from_payload(&*payload);
                            let _ = Self::exit_from(fields, $index, Exit::Panic(message)).await;
                            resume_unwind(payload);
                        }
                    }
                )+
                entered.count = 0;
                Ok(($(targets.$index.0.expect("entered"),)+))
            }

            fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), E>> {
                // SAFETY: structural pinning, as in `enter`; the targets are gone.
                // Exercised by tests/tuple.rs under Miri.
                let fields = Fields(unsafe { self.get_unchecked_mut() } as *mut Self);
                ExitFuture {
                    future: Self::exit_from(fields, $len, exit),
                    polled: false,
                    fields,
                    exit,
                }
            }

            fn cancel(self: Pin<&mut Self>) {
                // SAFETY: structural pinning, as in `enter`; the targets are gone.
                // Exercised by tests/tuple_cancellation.rs and tests/cancellation.rs under Miri.
                let fields = Fields(unsafe { self.get_unchecked_mut() } as *mut Self);
                Self::cancel_from(fields, $len);
            }

            /// Dropped early, the tuple's exit finishes the exit in flight and runs the exits of
            /// the managers not yet exited, each in place (unless that manager finishes by
            /// itself): every manager gets its own teardown, reported under its own name.
            const EXIT_FINISHES_WHEN_DROPPED: bool = true;
        }

        impl<E, $($M),+> ExitFrom for ($($M,)+)
        where
            E: fmt::Display + fmt::Debug + Sync + 'static,
            ($($M::Error,)+): OneError<Error = E>,
            $($M: AsyncContextManager, E: FromSame<$M::Error>,)+
        {
            type Error = E;
            const LEN: usize = $len;

            async fn exit_from(fields: Fields<Self>, top: usize, exit: Exit<'_>) -> Result<(), E> {
                // If this future is dropped midway, the exit in flight is finished first (it is
                // dropped first: in place, or by the manager itself), then `exiting` gives the
                // managers not yet exited their exits, right to left, finished the same way.
                let mut exiting = Exiting::<Self, E> {
                    fields,
                    count: top,
                    exit,
                    unwinding: Unwinding { error: None, panic: None },
                };
                for index in (0..top).rev() {
                    exiting.count = index;
                    let seen = exiting.unwinding.exit_for_next(exiting.exit);
                    let exited = match index {
                        $(
                            // SAFETY: field `$index` is pinned and its target has been dropped.
                            // Exercised by tests/tuple.rs under Miri.
                            $index => CatchUnwind::new(Finishing::new(
                                unsafe { Pin::new_unchecked(&mut (*fields.0).$index) }.exit(seen),
                                Teardown::of::<$M>(),
                            )).await.map(|exited| exited.map_err(FromSame::from_same)),
                        )+
                        _ => unreachable!(),
                    };
                    exiting.unwinding.record(exited);
                }
                exiting.count = 0;
                core::mem::replace(&mut exiting.unwinding, Unwinding { error: None, panic: None }).finish()
            }
        }

        impl<$($M),+> Members for ($($M,)+)
        where
            $($M: AsyncContextManager,)+
        {
            fn cancel_one(fields: Fields<Self>, index: usize) {
                // Runs in destructors: a panicking teardown is reported, not resumed.
                let cancelled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match index {
                    $(
                        // SAFETY: field `$index` is pinned and its target has been dropped.
                        // Exercised by tests/cancellation.rs and tests/tuple_cancellation.rs
                        // under Miri.
                        $index => unsafe { Pin::new_unchecked(&mut (*fields.0).$index) }.cancel(),
                    )+
                    _ => unreachable!(),
                }));
                if let Err(payload) = cancelled {
                    discard(payload);
                    report(TeardownReport { manager: Self::name_of(index), outcome: TeardownOutcome::Panicked });
                }
            }

            fn finish_one(fields: Fields<Self>, index: usize, exit: Exit<'_>) {
                // Runs in a destructor: a panic is reported, not resumed.
                let exited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match index {
                    $(
                        // SAFETY: field `$index` is pinned and its target has been dropped.
                        // Exercised by tests/exit_finishes_when_dropped.rs and
                        // tests/tuple_cancellation.rs under Miri.
                        $index => drop(Finishing::new(
                            unsafe { Pin::new_unchecked(&mut (*fields.0).$index) }.exit(exit),
                            Teardown::of::<$M>(),
                        )),
                    )+
                    _ => unreachable!(),
                }));
                if let Err(payload) = exited {
                    discard(payload);
                    report(TeardownReport { manager: Self::name_of(index), outcome: TeardownOutcome::Panicked });
                }
            }

            fn name_of(index: usize) -> &'static str {
                match index {
                    $($index => $M::name(),)+
                    _ => unreachable!(),
                }
            }
        }
    };
}

/// A tuple's exit: the teardowns are owed from the moment `exit` is called. Dropped before its
/// first poll, it runs every manager's exit the way a dropped exit in progress does (the
/// `Exiting` of `exit_from`, which exists from the first poll on).
struct ExitFuture<'e, T: ExitFrom, F> {
    future: F,
    polled: bool,
    fields: Fields<T>,
    exit: Exit<'e>,
}

impl<T: ExitFrom, F: Future> Future for ExitFuture<'_, T, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: never moved out, dropped in place.
        // Exercised by tests/tuple_cancellation.rs under Miri.
        let this = unsafe { self.get_unchecked_mut() };
        this.polled = true;
        // SAFETY: as above. Exercised by tests/tuple_cancellation.rs under Miri.
        unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}

impl<T: ExitFrom, F> Drop for ExitFuture<'_, T, F> {
    fn drop(&mut self) {
        if !self.polled {
            T::finish_from(self.fields, T::LEN, self.exit);
        }
    }
}

/// The managers of a tuple not yet exited, and what their exits will see. If the tuple's exit
/// (or the unwinding of its enter) is dropped before it completes, their exits still run, right
/// to left, each finished in place (or by the manager itself), as a single manager's would.
struct Exiting<'e, T: ExitFrom, E: fmt::Display + fmt::Debug + Sync + 'static> {
    fields: Fields<T>,
    count: usize,
    exit: Exit<'e>,
    unwinding: Unwinding<E>,
}

impl<T: ExitFrom, E: fmt::Display + fmt::Debug + Sync + 'static> Drop for Exiting<'_, T, E> {
    fn drop(&mut self) {
        if self.count > 0 {
            T::finish_from(
                self.fields,
                self.count,
                self.unwinding.exit_for_next(self.exit),
            );
        }
    }
}

/// The managers of a tuple entered so far, cancelled (right to left) if the tuple's enter is
/// dropped before it completes.
struct Entered<T: ExitFrom> {
    fields: Fields<T>,
    count: usize,
}

impl<T: ExitFrom> Drop for Entered<T> {
    fn drop(&mut self) {
        T::cancel_from(self.fields, self.count);
    }
}

/// Exits the first `top` fields of a tuple of managers, right to left.
trait ExitFrom: Members {
    type Error;
    /// How many managers the tuple holds.
    const LEN: usize;
    async fn exit_from(fields: Fields<Self>, top: usize, exit: Exit<'_>)
    -> Result<(), Self::Error>;

    /// Exits the first `top` fields with `exit`, right to left, without awaiting: each exit is
    /// finished in place (or by its manager) and reported if it cannot finish.
    fn finish_from(fields: Fields<Self>, top: usize, exit: Exit<'_>) {
        for index in (0..top).rev() {
            Self::finish_one(fields, index, exit);
        }
    }

    /// Cancels the first `top` fields, right to left; every one is cancelled even if one panics
    /// (a panic is reported to the teardown hook).
    fn cancel_from(fields: Fields<Self>, top: usize) {
        for index in (0..top).rev() {
            Self::cancel_one(fields, index);
        }
    }
}

/// The members of a tuple of managers, one at a time, from code that is not generic over the
/// tuple's size (a tuple's exit and cancel, and `concurrent`'s).
pub(crate) trait Members: Sized {
    /// Cancels member `index`; a panic is reported, not resumed.
    fn cancel_one(fields: Fields<Self>, index: usize);
    /// Exits member `index` with `exit`, finished in place (or by the manager itself); a panic
    /// is reported, not resumed.
    fn finish_one(fields: Fields<Self>, index: usize, exit: Exit<'_>);
    /// The name of member `index`'s manager.
    fn name_of(index: usize) -> &'static str;
}

/// The one error type a tuple of managers shares: implemented only when every member's is the
/// same. A tuple's impl is bound by it and by identity conversions (`FromSame`), and by
/// nothing else that a mismatch can fail: a mismatch is one unsatisfied bound with this message,
/// not an `Error = E` mismatch per member that prints each member's whole type.
#[diagnostic::on_unimplemented(
    message = "the managers of a tuple must share one error type, but theirs are `{Self}`",
    label = "managers with different error types",
    note = "convert the errors in the managers, or nest `async_with!`s (each converts into the block's error type)"
)]
pub trait OneError {
    /// The shared error type.
    type Error;
}

/// A member's error, as the tuple's: the identity, since [`OneError`] made them the same type.
/// (Bound as `E: FromSame<Member>`, not the other way round, so that a mismatch infers nothing.)
pub trait FromSame<F> {
    /// `error`.
    fn from_same(error: F) -> Self;
}

impl<E> FromSame<E> for E {
    #[inline(always)]
    fn from_same(error: E) -> E {
        error
    }
}

// `do_not_recommend`: the error of a tuple that mixes error types does not list these impls
// ("the following other types implement trait", with this file's path); its message says what
// to do instead.
#[diagnostic::do_not_recommend]
impl<E> OneError for (E, E) {
    type Error = E;
}

#[diagnostic::do_not_recommend]
impl<E> OneError for (E, E, E) {
    type Error = E;
}

#[diagnostic::do_not_recommend]
impl<E> OneError for (E, E, E, E) {
    type Error = E;
}

tuple_manager!(2: A 0, B 1);
tuple_manager!(3: A 0, B 1, C 2);
tuple_manager!(4: A 0, B 1, C 2, D 3);

// Their own futures are concrete and `Send` whenever their members' are.
crate::entering::drive::driven_directly! {
    impl[A, B] for (A, B);
    impl[A, B, C] for (A, B, C);
    impl[A, B, C, D] for (A, B, C, D);
}
