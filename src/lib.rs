//! Python's `@contextlib.asynccontextmanager`, done right in Rust.
//!
//! Rust has no async `Drop`, so async cleanup — commit or roll back a transaction, close a
//! connection, flush a file, delete a temporary directory — cannot be left to RAII. contextlib
//! lets you write a context manager the way Python does: one `async fn` with setup, a yield
//! point and teardown. [`async_with!`] enters it, runs your block, and **always** runs the
//! teardown, telling it how the block ended (an [`Exit`]).
//!
//! ```
//! use contextlib::{async_context_manager, async_with};
//!
//! #[async_context_manager]
//! async fn connection(log: &mut Vec<String>) -> &mut Vec<String> {
//!     log.push("connect".into());                 // setup
//!     let exit = r#yield!(&mut *log);             // the with-block runs here
//!     log.push(format!("close after {exit:?}"));  // teardown: runs however the block ended
//! }
//!
//! let mut log = Vec::new();
//! let result = futures_executor::block_on(async {
//!     async_with!(connection(&mut log) => |conn| { conn.push("query".into()); Err::<(), _>("timeout") })
//! });
//! assert_eq!(result, Err("timeout"));
//! assert_eq!(log, ["connect", "query", "close after Err(\"timeout\")"]);
//! ```
//!
//! # Where to go next
//!
//! - [The guide](_guide), chapter by chapter: [writing a manager](_guide::writing),
//!   [entering](_guide::entering), [composing](_guide::composing),
//!   [type hints](_guide::type_hints), [cancellation](_guide::cancellation),
//!   [batteries](_guide::batteries), [recipes](_guide::recipes) (axum, sqlx, a lifespan),
//!   [mistakes and what the compiler says](_guide::mistakes), [soundness](_guide::soundness)
//!   and [performance](_guide::performance).
//! - The items: [`#[async_context_manager]`](async_context_manager), [`async_with!`],
//!   [`#[contextlib::with]`](with), the trait [`AsyncContextManager`](trait@AsyncContextManager)
//!   and its `Send` variant [`SendAsyncContextManager`](trait@SendAsyncContextManager), the
//!   type hint [`AsyncContextManager!`](macro@AsyncContextManager), and the batteries:
//!   [`ExitStack`], [`concurrent`], [`nullcontext`], [`closing`], [`Either`], `Option<M>`,
//!   [`BoxManager`], [`testing`], and (features `tokio`, `sqlx`) `contextlib::tokio` and
//!   `contextlib::sqlx`.
//!
//! The crate depends on no async runtime. Its features: `tokio` adds `contextlib::tokio` (the
//! batteries `temp_dir`, `create_file`, `task_group` and `child`, and guaranteed teardown on
//! cancellation); `sqlx` (Rust 1.94, as sqlx 0.9; turns on `tokio`) adds
//! `contextlib::sqlx::transaction`, a transaction of any sqlx database as a manager; `tracing`
//! and `log` send teardown reports there (or to standard error while nothing listens: a report
//! is never lost).
#![warn(missing_docs)]

pub mod _guide;

/// The README, the front page on crates.io, whose examples are doc tests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// A glob, so that `contextlib::tokio` is there exactly when contextlib-core was built with it.
pub use contextlib_core::*;
/// Turns an `async fn` with one `r#yield!(value)` into an [`AsyncContextManager`](trait@AsyncContextManager).
///
/// The part before the yield is the setup (run by `enter`; `?` there fails the enter), the
/// yield lends `value` to the with-block and evaluates to the block's [`Exit`], and the rest is
/// the teardown (run by `exit`), whose value is the exit's result.
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
///
/// /// A counter that is reset after every use.
/// #[async_context_manager]
/// async fn borrowed_counter(start: u32) -> &mut u32 {
///     let mut count = start;
///     let exit = r#yield!(&mut count); // the block gets `&mut count`
///     assert!(matches!(exit, Exit::Ok));
/// }
///
/// # futures_executor::block_on(async {
/// let n = async_with!(borrowed_counter(40) => |count| {
///     *count += 2;
///     *count
/// });
/// assert_eq!(n, Ok(42));
/// # });
/// ```
///
/// See [Writing a manager](crate::_guide::writing) for the rules: return types, borrowed
/// targets, errors.
pub use contextlib_macros::async_context_manager;

/// Runs an `async fn`'s whole body inside a manager (Python's `AsyncContextDecorator`):
/// `#[contextlib::with(MANAGER)]` or `#[contextlib::with(MANAGER => TARGET)]` makes the body the
/// block of `async_with!(MANAGER => |TARGET| body)`, evaluating `MANAGER` afresh on every call,
/// with the fn's arguments (and `self`) in scope.
///
/// A fn returning `Result<T, E>` (or an alias named like one) returns what `async_with!`
/// returns, with `E: From<the manager's error>`; a fn returning any other type needs a manager
/// that cannot fail, and returns the block's value. Several `#[with]`s nest, the first written
/// the outermost.
///
/// ```
/// use contextlib::{async_context_manager, Exit};
/// use std::sync::Mutex;
///
/// #[async_context_manager]
/// async fn transaction(log: &Mutex<Vec<String>>) -> Result<&Mutex<Vec<String>>, String> {
///     log.lock().unwrap().push("begin".into());
///     let end = if r#yield!(log).is_ok() { "commit" } else { "rollback" };
///     log.lock().unwrap().push(end.into());
///     Ok(())
/// }
///
/// #[async_context_manager]
/// async fn timer(log: &Mutex<Vec<String>>) -> () {
///     r#yield!(());
///     log.lock().unwrap().push("timed".into());
/// }
///
/// struct Repo { log: Mutex<Vec<String>> }
///
/// impl Repo {
///     #[contextlib::with(transaction(&self.log) => tx)]
///     async fn add_note(&self, body: &str) -> Result<usize, String> {
///         if body.is_empty() { return Err("empty note".into()); }
///         tx.lock().unwrap().push(format!("insert {body}"));
///         Ok(body.len())
///     }
///
///     #[contextlib::with(timer(&self.log))]
///     async fn sync_all(&self) -> usize {
///         self.log.lock().unwrap().len()
///     }
/// }
///
/// # futures_executor::block_on(async {
/// let repo = Repo { log: Mutex::new(Vec::new()) };
/// assert_eq!(repo.add_note("hi").await, Ok(2));
/// assert_eq!(repo.add_note("").await, Err("empty note".to_string()));
/// assert_eq!(repo.sync_all().await, 5);
/// assert_eq!(
///     *repo.log.lock().unwrap(),
///     ["begin", "insert hi", "commit", "begin", "rollback", "timed"]
/// );
/// # });
/// ```
pub use contextlib_macros::with;

/// The type hint `AsyncContextManager[T]` in one line, in `impl` positions (argument or return
/// position): `AsyncContextManager![T, E]` is `impl AsyncContextManager<Error = E> +
/// for<'target> Lend<'target, Target = T>`, where each lifetime elided in `T` (`&mut Vec<u8>`,
/// `Session<'_>`) is the manager borrow. Without `, E` the error type is left open. (In a
/// `where` clause, write the bound out: macros cannot stand there.)
///
/// ```
/// use std::io;
/// use contextlib::{async_context_manager, async_with, AsyncContextManager};
///
/// #[async_context_manager]
/// async fn buffer() -> Result<&mut Vec<u8>, io::Error> {
///     let mut bytes = Vec::new();
///     r#yield!(&mut bytes);
///     Ok(())
/// }
///
/// async fn write_hello(manager: AsyncContextManager![&mut Vec<u8>, io::Error]) -> io::Result<usize> {
///     async_with!(manager => |bytes| {
///         bytes.extend_from_slice(b"hello");
///         Ok::<_, io::Error>(bytes.len())
///     })
/// }
///
/// fn opened() -> AsyncContextManager![&mut Vec<u8>, io::Error] {
///     buffer()
/// }
///
/// # futures_executor::block_on(async {
/// assert_eq!(write_hello(opened()).await.unwrap(), 5);
/// # });
/// ```
pub use contextlib_macros::AsyncContextManager;

/// [`AsyncContextManager!`] for the `Send` variant: `SendAsyncContextManager![T, E]` is `impl
/// SendAsyncContextManager<Error = E> + for<'target> Lend<'target, Target = T>`, which
/// `tokio::spawn` accepts `async_with!` over.
///
/// ```
/// use std::io;
/// use contextlib::{async_context_manager, async_with, SendAsyncContextManager};
///
/// #[async_context_manager]
/// async fn session(name: &str) -> Result<&str, io::Error> {
///     let greeting = format!("hello {name}");
///     r#yield!(greeting.as_str());
///     Ok(())
/// }
///
/// trait Sessions {
///     fn session(&self) -> SendAsyncContextManager![&str, io::Error];
/// }
///
/// struct Service(String);
///
/// impl Sessions for Service {
///     fn session(&self) -> SendAsyncContextManager![&str, io::Error] {
///         session(&self.0)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let service = std::sync::Arc::new(Service("docs".into()));
/// let task = tokio::spawn(async move {
///     async_with!(service.session() => |greeting| Ok::<_, io::Error>(greeting.len()))
/// });
/// assert_eq!(task.await.unwrap().unwrap(), 10);
/// # }
/// ```
pub use contextlib_macros::SendAsyncContextManager;
