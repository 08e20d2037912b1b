//! Runtime of [contextlib](https://docs.rs/contextlib): the [`AsyncContextManager`] trait, the [`Exit`]
//! outcome type, [`async_with!`] and the coroutine driver behind `#[async_context_manager]`.
//!
//! Depend on `contextlib`, which re-exports all of this together with the attribute.
#![warn(missing_docs, unsafe_op_in_unsafe_fn)]

// The layers, one folder each; their modules are used at the crate root by name, so that a
// path such as `crate::slot` says what it is wherever it is written.
mod combinators;
mod coroutine;
mod entering;
mod protocol;
mod runtimes;
mod toolbox;

use combinators::{boxed, concurrent, either, join, optional, stack, tuple};
use coroutine::{family, generated, output, polling, slot, yield_point};
use entering::{catch_unwind, checked, dispatch, drive, guard, into_value};
use protocol::{exit, manager, send_manager, teardown};
#[cfg(feature = "sqlx")]
pub use runtimes::sqlx;
pub use runtimes::testing;
#[cfg(feature = "tokio")]
pub use runtimes::tokio;
use toolbox::{closing, nullcontext};

pub use boxed::{BoxManager, Lends, LendsAs, SendBoxManager};
pub use closing::{Closing, ClosingExit, closing};
pub use concurrent::{Concurrent, concurrent};
pub use either::{Either, EitherEnter, EitherExit, SameTarget};
pub use exit::{BlockError, Exit, PanicMessage};
pub use generated::Generated;
pub use into_value::IntoValue;
pub use manager::{AsyncContextManager, Lend, Target};
pub use nullcontext::{NullContext, nullcontext};
pub use optional::{OptionEnter, OptionExit};
pub use send_manager::{BoxExit, SendAsyncContextManager};
pub use stack::{
    BoxError, CleanupResult, ExitStack, OnExit, StackEnter, StackEnterInfallible, StackError,
};
pub use teardown::{TeardownHook, TeardownOutcome, TeardownReport, set_teardown_hook};

/// Not public API: the items of the macros' expansions that the compiler names in its errors
/// and notes, in a module whose path reads well there (`contextlib::expansion::..`, not
/// `__private`) and that nobody imports by accident: at the root, `Body` would make a glob
/// import of contextlib ambiguous next to hyper's, and an `async_with` fn would come along with
/// every `use contextlib::async_with`.
#[doc(hidden)]
pub mod expansion {
    pub use crate::checked::{Checked, Manager, async_with};
    // The macro namespace: `async_with!`'s own arms (`@with`, `@yielding`, ..), not the fn above.
    pub use crate::__async_with_expansion as async_with;
    pub use crate::dispatch::{FallibleBlock, FromManagerError};
    pub use crate::family::Family;
    pub use crate::generated::Body;
    pub use crate::into_value::{CannotFail, value_of};
    pub use crate::tuple::{FromSame, OneError};
    pub use crate::yield_point::{
        Lent, TargetMustBeCovariantInTheManagerBorrow, YieldPoint, Yielder,
    };
}

/// Not public API: what `async_with!` and `#[async_context_manager]` expand to.
#[doc(hidden)]
pub mod __private {
    pub use crate::catch_unwind::{CatchUnwind, Payload};
    pub use crate::dispatch::{
        FallibleBlockKind, InfallibleBlock, InfallibleBlockKind, InfallibleManager,
        InfallibleManagerKind, Kind, Split, UnconvertibleBlockKind, ValueBlock, ValueBlockKind,
        View, ViewDebug, ViewFormatted, ViewOpaque, ViewShared, ViewStorage, outer_or_ok,
    };
    pub use crate::drive::{ComposedDriveKind, DirectDriveKind, Drive, SendDriveKind};
    pub use crate::generated::{EnterFuture, ExitFuture, Generated, Start, generated};
    pub use crate::guard::{
        Arm, ArmOnSuccess, Describe, Finishing, Guard, Teardown, TeardownFuture, TeardownOf,
    };
    pub use crate::output::{BodyOutput, Refused};

    /// Names lifetimes an opaque type captures (for Rust 2021 callers of the attribute).
    pub trait Captures<T: ?Sized> {}

    impl<T: ?Sized, U: ?Sized> Captures<U> for T {}
}
