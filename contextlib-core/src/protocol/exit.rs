//! How a with-block ended, as the manager's teardown sees it.

use core::any::{Any, TypeId};
use core::fmt;

/// How the with-block ended: what `r#yield!(..)` evaluates to in a generated manager, and what
/// [`AsyncContextManager::exit`](crate::AsyncContextManager::exit) receives.
///
/// `Exit` borrows the block's error or panic message for the duration of the teardown; it is
/// `Copy`, `Send` and `Sync`, so a teardown can hold it across `.await` in a spawned task.
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
///
/// #[async_context_manager]
/// async fn report(log: &mut Vec<String>) -> u32 {
///     match r#yield!(7) {
///         Exit::Ok => log.push("ok".into()),
///         Exit::Err(error) => log.push(format!("error: {error}")),
///         Exit::Panic(panic) => log.push(format!("panic: {panic}")),
///         _ => log.push("cancelled".into()),
///     }
/// }
///
/// # futures_executor::block_on(async {
/// let mut log = Vec::new();
/// let result = async_with!(report(&mut log) => |n| {
///     if n > 5 { return Err("too big"); }
///     Ok(n)
/// });
/// assert_eq!(result, Err("too big"));
/// assert_eq!(log, ["error: too big"]);
/// # });
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Exit<'a> {
    /// The block completed: with a value, or with `Ok(..)` when it returns a `Result`.
    Ok,
    /// The block returned `Err(..)`, or a later manager of a tuple failed to enter.
    Err(BlockError<'a>),
    /// The block panicked; the panic resumes once the teardown has finished.
    Panic(PanicMessage<'a>),
    /// The future running the block was dropped before the block finished.
    Cancelled,
}

impl<'a> Exit<'a> {
    /// `true` when the block completed normally.
    ///
    /// ```
    /// assert!(contextlib::Exit::Ok.is_ok());
    /// assert!(!contextlib::Exit::Cancelled.is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Exit::Ok)
    }

    /// The block's error, if it ended with one.
    ///
    /// ```
    /// let error = std::io::Error::other("disk full");
    /// let exit = contextlib::Exit::Err(contextlib::BlockError::new(&error));
    /// assert_eq!(exit.error().unwrap().to_string(), "disk full");
    /// assert!(contextlib::Exit::Ok.error().is_none());
    /// ```
    pub fn error(&self) -> Option<BlockError<'a>> {
        match self {
            Exit::Err(error) => Some(*error),
            _ => None,
        }
    }
}

/// How the block ended, in a few words for a log line: `ok`, `error: <the error's Display>`,
/// `panic: <the panic's message>` or `cancelled`. (`{:?}` shows the variant and its
/// contents' `Debug` instead.)
///
/// ```
/// use contextlib::{async_context_manager, async_with};
///
/// #[async_context_manager]
/// async fn logged(log: &mut Vec<String>) -> u32 {
///     let exit = r#yield!(7);
///     log.push(format!("block ended: {exit}"));
/// }
///
/// # futures_executor::block_on(async {
/// let mut log = Vec::new();
/// let _ = async_with!(logged(&mut log) => |n| n + 1);
/// let _: Result<u32, String> = async_with!(logged(&mut log) => |_| Err("no such row".to_string()));
/// assert_eq!(log, ["block ended: ok", "block ended: error: no such row"]);
///
/// assert_eq!(contextlib::Exit::Cancelled.to_string(), "cancelled");
/// let payload = std::panic::catch_unwind(|| panic!("index out of bounds")).unwrap_err();
/// let panic = contextlib::PanicMessage::from_payload(&*payload);
/// assert_eq!(contextlib::Exit::Panic(panic).to_string(), "panic: index out of bounds");
/// # });
/// ```
impl fmt::Display for Exit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Ok => f.write_str("ok"),
            Exit::Err(error) => write!(f, "error: {error}"),
            Exit::Panic(panic) => write!(f, "panic: {panic}"),
            Exit::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// A borrowed, type-erased view of the error a with-block returned.
///
/// It displays and debug-prints as the error itself, and [`downcast_ref`](Self::downcast_ref)
/// recovers the concrete error. In `async_with!`, a block error that is `Display + Debug + Sync`
/// is viewed in place (its type must then be `'static`); one that is not `Sync` (such as
/// `Box<dyn Error>`) is formatted once, and one that is not even `Debug` shows its type name.
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
///
/// #[async_context_manager]
/// async fn rollback_on_error(seen: &mut Option<String>) -> u8 {
///     if let Exit::Err(error) = r#yield!(1) {
///         let kind = error.downcast_ref::<std::io::Error>().map(|e| e.kind());
///         *seen = Some(format!("{error} ({kind:?})"));
///     }
/// }
///
/// # futures_executor::block_on(async {
/// let mut seen = None;
/// let result: std::io::Result<()> = async_with!(rollback_on_error(&mut seen) => |_| {
///     Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such row"))
/// });
/// assert!(result.is_err());
/// assert_eq!(seen.unwrap(), "no such row (Some(NotFound))");
/// # });
/// ```
#[derive(Clone, Copy)]
pub struct BlockError<'a> {
    inner: &'a (dyn ErasedError + Sync + 'a),
}

impl<'a> BlockError<'a> {
    /// Views `error` as the outcome of a block, for hand-written managers and exit stacks.
    ///
    /// ```
    /// use contextlib::BlockError;
    /// let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no such table");
    /// let view = BlockError::new(&error);
    /// assert_eq!(view.to_string(), "no such table");
    /// assert_eq!(view.downcast_ref::<std::io::Error>().unwrap().kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn new<E>(error: &'a E) -> Self
    where
        E: fmt::Display + fmt::Debug + Sync + 'static,
    {
        Self::from_erased(Full::wrap(error))
    }

    pub(crate) fn from_erased(inner: &'a (dyn ErasedError + Sync + 'a)) -> Self {
        BlockError { inner }
    }

    /// The error as `E`, when the block's error type is exactly `E` (and `'static`).
    ///
    /// ```
    /// #[derive(Debug, PartialEq)]
    /// struct Conflict(u32);
    /// impl std::fmt::Display for Conflict {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "conflict on row {}", self.0) }
    /// }
    /// let error = Conflict(3);
    /// let view = contextlib::BlockError::new(&error);
    /// assert_eq!(view.downcast_ref::<Conflict>(), Some(&Conflict(3)));
    /// assert!(view.downcast_ref::<std::io::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: Any>(&self) -> Option<&'a E> {
        if self.inner.type_id() == Some(TypeId::of::<E>()) {
            let erased: *const (dyn ErasedError + Sync + 'a) = self.inner;
            // SAFETY: `type_id` is `Some` only for `Full<E>`, a `repr(transparent)` wrapper
            // around `E`, so the pointee is an `E` borrowed for `'a`.
            // Exercised by tests/exit.rs::downcast_recovers_the_block_error under Miri.
            Some(unsafe { &*erased.cast::<E>() })
        } else {
            None
        }
    }

    /// `true` when the block's error type is exactly `E`.
    ///
    /// ```
    /// let error = std::fmt::Error;
    /// assert!(contextlib::BlockError::new(&error).is::<std::fmt::Error>());
    /// ```
    pub fn is<E: Any>(&self) -> bool {
        self.downcast_ref::<E>().is_some()
    }

    /// The name of the block's error type, as [`core::any::type_name`] spells it.
    ///
    /// ```
    /// let error = std::fmt::Error;
    /// assert_eq!(contextlib::BlockError::new(&error).type_name(), "core::fmt::Error");
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.inner.type_name()
    }
}

impl fmt::Display for BlockError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_display(f)
    }
}

impl fmt::Debug for BlockError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_debug(f)
    }
}

/// The message of a panic that unwound out of a with-block.
///
/// Panics raised with a string (`panic!("...")`, `.unwrap()`, `assert!`) show their message;
/// any other payload shows as `Box<dyn Any>`, as the standard panic hook prints it.
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
/// use std::sync::Mutex;
///
/// #[async_context_manager]
/// async fn report(seen: &Mutex<String>) -> () {
///     if let Exit::Panic(panic) = r#yield!(()) {
///         *seen.lock().unwrap() = format!("the block panicked: {}", panic.message());
///     }
/// }
///
/// fn free_space(bytes: u64) -> u64 {
///     assert!(bytes > 0, "disk full");
///     bytes
/// }
///
/// let seen = Mutex::new(String::new());
/// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
///     futures_executor::block_on(async {
///         async_with!(report(&seen) => |()| free_space(0))
///     })
/// }));
/// assert!(caught.is_err()); // the panic resumed after the teardown
/// assert_eq!(*seen.lock().unwrap(), "the block panicked: disk full");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PanicMessage<'a> {
    message: &'a str,
}

impl<'a> PanicMessage<'a> {
    /// Reads the message out of a panic payload, as `catch_unwind` returns it.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom {}", 42)).unwrap_err();
    /// assert_eq!(contextlib::PanicMessage::from_payload(&*payload).message(), "boom 42");
    /// ```
    pub fn from_payload(payload: &'a (dyn Any + Send)) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            text
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.as_str()
        } else {
            "Box<dyn Any>"
        };
        PanicMessage { message }
    }

    /// The panic's message.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
    /// assert_eq!(contextlib::PanicMessage::from_payload(&*payload).message(), "boom");
    /// ```
    pub fn message(&self) -> &'a str {
        self.message
    }
}

impl fmt::Display for PanicMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

/// What a [`BlockError`] can do with the error behind it.
pub(crate) trait ErasedError {
    fn fmt_display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// `Some` only where `downcast_ref` is sound: for `'static` error types.
    fn type_id(&self) -> Option<TypeId>;
    fn type_name(&self) -> &'static str;
}

/// A `'static`, `Display + Debug` error: formats and downcasts.
#[repr(transparent)]
pub(crate) struct Full<E>(E);

impl<E> Full<E> {
    pub(crate) fn wrap(error: &E) -> &Self {
        // SAFETY: `Full<E>` is `repr(transparent)` over `E`, so both references have the same
        // layout and validity; the borrow keeps its lifetime.
        // Exercised by every test that formats an `Exit::Err` (tests/exit.rs).
        // Checked by tests/exit.rs::exit_displays_how_the_block_ended under Miri.
        unsafe { &*(error as *const E).cast::<Self>() }
    }
}

impl<E: fmt::Display + fmt::Debug + 'static> ErasedError for Full<E> {
    fn fmt_display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
    fn type_id(&self) -> Option<TypeId> {
        Some(TypeId::of::<E>())
    }
    fn type_name(&self) -> &'static str {
        core::any::type_name::<E>()
    }
}

/// An error kept as text: for errors `Exit` cannot share, and for an `Exit` that must outlive
/// the block it describes (see `OwnedExit`).
pub struct ErrorText {
    display: String,
    debug: String,
    type_name: &'static str,
}

impl ErrorText {
    pub(crate) fn new(display: String, debug: String, type_name: &'static str) -> Self {
        ErrorText {
            display,
            debug,
            type_name,
        }
    }
}

impl ErasedError for ErrorText {
    fn fmt_display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.debug)
    }
    fn type_id(&self) -> Option<TypeId> {
        None
    }
    fn type_name(&self) -> &'static str {
        self.type_name
    }
}

/// An [`Exit`] that owns what it shows, so that it can travel with a manager to another
/// thread: the error as text (no longer downcastable), the panic message as a string.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) enum OwnedExit {
    Ok,
    Err(ErrorText),
    Panic(String),
    Cancelled,
}

#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
impl OwnedExit {
    pub(crate) fn new(exit: Exit<'_>) -> Self {
        match exit {
            Exit::Ok => OwnedExit::Ok,
            Exit::Err(error) => OwnedExit::Err(ErrorText::new(
                error.to_string(),
                format!("{error:?}"),
                error.type_name(),
            )),
            Exit::Panic(panic) => OwnedExit::Panic(panic.message().to_string()),
            Exit::Cancelled => OwnedExit::Cancelled,
        }
    }

    pub(crate) fn exit(&self) -> Exit<'_> {
        match self {
            OwnedExit::Ok => Exit::Ok,
            OwnedExit::Err(text) => Exit::Err(BlockError::from_erased(text)),
            OwnedExit::Panic(message) => Exit::Panic(PanicMessage { message }),
            OwnedExit::Cancelled => Exit::Cancelled,
        }
    }
}
