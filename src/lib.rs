#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

// A glob, so that `contextlib::tokio` is there exactly when acm-core was built with it.
pub use acm_core::*;
/// Turns an `async fn` with one `r#yield!(value)` into an [`AsyncContextManager`].
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
/// See the crate documentation for the rules: return types, borrowed targets, errors.
pub use acm_macros::async_context_manager;

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
pub use acm_macros::with;
