//! Runtime of [contextlib](https://docs.rs/contextlib): the [`AsyncContextManager`] trait, the [`Exit`]
//! outcome type, [`async_with!`] and the coroutine driver behind `#[async_context_manager]`.
//!
//! Depend on `contextlib`, which re-exports all of this together with the attribute.
#![warn(missing_docs, unsafe_op_in_unsafe_fn)]

// The layers, one folder each. Each uses only those listed before it, by their paths (never
// through the re-exports below):
// - `protocol/`: the traits, the outcome `Exit`, caught panics, teardown reports;
// - `entering/`: `async_with!`, the guard that owes the exit, the dispatch of the outcome;
// - `toolbox/`: `nullcontext` and `closing`;
// - `coroutine/`: the manager `#[async_context_manager]` generates;
// - `combinators/`: tuples, `concurrent`, `ExitStack`, `Either`, `Option<M>`, `BoxManager`;
// - `runtimes/`: `tokio`, `sqlx` and `testing`.
mod combinators;
mod coroutine;
mod entering;
mod protocol;
mod runtimes;
mod toolbox;

pub use combinators::boxed::{BoxManager, Lends, LendsAs, SendBoxManager};
pub use combinators::concurrent::{Concurrent, concurrent};
pub use combinators::either::{Either, EitherEnter, EitherExit, SameTarget};
pub use combinators::optional::{OptionEnter, OptionExit};
pub use combinators::stack::{
    BoxError, CleanupResult, ExitStack, OnExit, StackEnter, StackEnterInfallible, StackError,
};
pub use coroutine::generated::Generated;
pub use entering::into_value::IntoValue;
pub use protocol::teardown::{TeardownHook, TeardownOutcome, TeardownReport, set_teardown_hook};
pub use protocol::{
    AsyncContextManager, BlockError, BoxExit, Exit, Lend, PanicMessage, SendAsyncContextManager,
    Target,
};
#[cfg(feature = "sqlx")]
pub use runtimes::sqlx;
pub use runtimes::testing;
#[cfg(feature = "tokio")]
pub use runtimes::tokio;
pub use toolbox::closing::{Closing, ClosingExit, closing};
pub use toolbox::nullcontext::{NullContext, nullcontext};

/// Not public API: the items of the macros' expansions that the compiler names in its errors
/// and notes, in a module whose path reads well there (`contextlib::expansion::..`, not
/// `__private`) and that nobody imports by accident: at the root, `Body` would make a glob
/// import of contextlib ambiguous next to hyper's, and an `async_with` fn would come along with
/// every `use contextlib::async_with`.
#[doc(hidden)]
pub mod expansion {
    pub use crate::entering::checked::{Checked, Manager, async_with};
    // The macro namespace: `async_with!`'s own arms (`@with`, `@yielding`, ..), not the fn above.
    pub use crate::__async_with_expansion as async_with;
    pub use crate::combinators::tuple::{FromSame, OneError};
    pub use crate::coroutine::family::Family;
    pub use crate::coroutine::generated::Body;
    pub use crate::coroutine::yield_point::{
        Lent, TargetMustBeCovariantInTheManagerBorrow, YieldPoint, Yielder,
    };
    pub use crate::entering::dispatch::{FallibleBlock, FromManagerError};
    pub use crate::entering::into_value::{CannotFail, value_of};
}

/// Not public API: what `async_with!` and `#[async_context_manager]` expand to.
#[doc(hidden)]
pub mod __private {
    pub use crate::coroutine::generated::{EnterFuture, ExitFuture, Generated, Start, generated};
    pub use crate::coroutine::output::{BodyOutput, Refused};
    pub use crate::entering::chosen::{Chosen, chosen};
    pub use crate::entering::dispatch::{
        FallibleBlockKind, InfallibleBlock, InfallibleBlockKind, InfallibleManager,
        InfallibleManagerKind, Kind, Split, UnconvertibleBlockKind, ValueBlock, ValueBlockKind,
        View, ViewDebug, ViewFormatted, ViewOpaque, ViewShared, ViewStorage, outer_or_ok,
    };
    pub use crate::entering::drive::{
        ComposedDriveKind, DirectDriveKind, Drive, DrivenDirectly, SendDriveKind,
    };
    pub use crate::entering::guard::{
        Arm, ArmOnSuccess, Describe, Finishing, Guard, Teardown, TeardownFuture, TeardownOf,
    };
    pub use crate::protocol::catch_unwind::{CatchUnwind, Payload};

    /// Names lifetimes an opaque type captures (for Rust 2021 callers of the attribute).
    pub trait Captures<T: ?Sized> {}

    impl<T: ?Sized, U: ?Sized> Captures<U> for T {}
}
