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
