//! `SimpleAsyncContextManager` (a class with `__aenter__` / `__aexit__`) and
//! `create_async_context(value)` (the same thing with `@asynccontextmanager`) from the Python
//! seed. Both record what they saw, so the two can be compared.

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;

use contextlib::{AsyncContextManager, Exit, async_context_manager};

/// What a manager's exit saw, recorded for inspection (and printed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The block completed.
    Ok,
    /// The block returned an error: its `Display`, and the [`AppError`] behind it, if it
    /// was one (recovered with `BlockError::downcast_ref`).
    Err {
        /// The error's `Display` output.
        message: String,
        /// `Some` when the block's error type is exactly [`AppError`].
        app_error: Option<AppError>,
    },
    /// The block panicked with this message.
    Panic(String),
    /// The block was dropped before it finished.
    Cancelled,
}

impl Seen {
    /// Records an [`Exit`].
    pub fn of(exit: Exit<'_>) -> Seen {
        match exit {
            Exit::Ok => Seen::Ok,
            Exit::Err(error) => Seen::Err {
                message: error.to_string(),
                app_error: error.downcast_ref::<AppError>().cloned(),
            },
            Exit::Panic(panic) => Seen::Panic(panic.message().to_string()),
            _ => Seen::Cancelled,
        }
    }
}

/// An application error a with-block may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppError {
    /// What went wrong.
    pub code: u16,
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "application error {}", self.code)
    }
}

impl std::error::Error for AppError {}

/// The seed's `SimpleAsyncContextManager`, written by hand: `enter` is `__aenter__` (it hands
/// out the value), `exit` is `__aexit__` (it learns how the block ended).
///
/// Pass it as `&mut manager` to `async_with!` to read [`seen`](Self::seen) afterwards.
///
/// Its exit never waits, so a cancelled block (the future running it dropped) still has its
/// exit run in place, at once, with `Exit::Cancelled`, recorded as [`Seen::Cancelled`].
pub struct SimpleAsyncContextManager<T> {
    value: T,
    /// The exits this manager has seen, oldest first.
    pub seen: Vec<Seen>,
}

impl<T> SimpleAsyncContextManager<T> {
    /// A manager that lends `value` to each block it runs.
    pub fn new(value: T) -> Self {
        SimpleAsyncContextManager {
            value,
            seen: Vec::new(),
        }
    }
}

impl<'a, T: fmt::Debug + Unpin> contextlib::Lend<'a> for SimpleAsyncContextManager<T> {
    type Target = &'a T;
}

impl<T: fmt::Debug + Unpin> AsyncContextManager for SimpleAsyncContextManager<T> {
    /// The block borrows the value; the manager keeps owning it.
    /// Entering and exiting cannot fail.
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<&T, Infallible> {
        let this = self.get_mut();
        println!("  [enter] SimpleAsyncContextManager lends {:?}", this.value);
        Ok(&this.value)
    }

    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        let seen = Seen::of(exit);
        println!("  [exit]  SimpleAsyncContextManager saw {seen:?}");
        self.get_mut().seen.push(seen);
        // Python's `return False`: the block's error (if any) is not ours to swallow.
        Ok(())
    }
}

/// The seed's `async def create_async_context(value: T) -> AsyncContextManager[T]: return
/// SimpleAsyncContextManager(value)`, with its type hint: callers know only that the manager
/// lends a `&T` and cannot fail.
// (Not every file that includes this module uses it.)
#[allow(dead_code)]
pub fn typed_async_context<T: fmt::Debug + Unpin>(
    value: T,
) -> impl AsyncContextManager<Error = Infallible> + for<'a> contextlib::Lend<'a, Target = &'a T> {
    SimpleAsyncContextManager::new(value)
}

/// The seed's `create_async_context(value)`: the same manager as
/// [`SimpleAsyncContextManager`], generated from one `async fn`. The block gets `value`
/// (owned); what the exit saw is pushed onto `seen`. Like the hand-written one, its teardown
/// never waits, so it also runs in place, at once, when the block is cancelled.
#[async_context_manager]
pub async fn create_async_context<T: fmt::Debug + Clone>(value: T, seen: &mut Vec<Seen>) -> T {
    println!("  [enter] create_async_context lends {value:?}");
    let exit = r#yield!(value.clone());
    let what = Seen::of(exit);
    println!("  [exit]  create_async_context saw {what:?}");
    seen.push(what);
}
