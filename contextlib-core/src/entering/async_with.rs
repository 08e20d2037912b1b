//! `async_with!`: Python's `async with`, expanded inline into the caller's async code.

/// Enters a manager, runs a block with its target, and always runs the manager's exit with
/// the block's outcome.
///
/// ```text
/// async_with!(MANAGER => |PATTERN| BODY)
/// ```
///
/// Use it inside async code; it awaits internally (like `tokio::join!`).
///
/// - The block behaves like a closure body: `?` and `return` leave the block, and the exit
///   still runs. It may borrow and move from its surroundings like a non-`move` closure.
/// - The target cannot escape the block: it borrows the manager.
/// - A tuple of managers enters left to right and exits right to left.
///
/// # The result
/// | block value | manager error | `async_with!` gives |
/// |---|---|---|
/// | `Result<T, E>` | `Infallible` | `Result<T, E>` |
/// | `Result<T, E>` | `M` | `Result<T, E>`, with `E: From<M>` |
/// | `Result<T, Infallible>` | `M` | `Result<T, M>`: a block that cannot fail is a plain value |
/// | any other `R` | `M` | `Result<R, M>` |
///
/// So an `async_with!` over an infallible manager nests inside a fallible one as it is:
///
/// ```
/// use contextlib::{async_context_manager, async_with};
///
/// #[async_context_manager]
/// async fn temp_dir() -> std::io::Result<&'static str> { r#yield!("/tmp/x"); Ok(()) }
/// #[async_context_manager]
/// async fn timer() -> u8 { r#yield!(0); }
///
/// # futures_executor::block_on(async {
/// let n: std::io::Result<usize> =
///     async_with!(temp_dir() => |dir| async_with!(timer() => |_t| dir.len()));
/// assert_eq!(n.unwrap(), 6);
/// # });
/// ```
///
/// A failed enter returns its error (converted) without running the block. When both the block
/// and the exit fail, the exit's error wins, as in Python; the manager saw the block's error
/// through [`Exit::Err`](crate::Exit::Err) and can chain it. A panic in the block runs the exit
/// with [`Exit::Panic`](crate::Exit::Panic), then resumes; a panic in enter or exit propagates.
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
///
/// #[derive(Debug, PartialEq)]
/// enum DbError { Busy, Constraint }
///
/// #[async_context_manager]
/// async fn transaction(log: &mut Vec<&'static str>) -> Result<&mut Vec<&'static str>, DbError> {
///     log.push("begin");
///     match r#yield!(&mut *log) {
///         Exit::Ok => log.push("commit"),
///         _ => log.push("rollback"),
///     }
///     Ok(())
/// }
///
/// # futures_executor::block_on(async {
/// let mut log = Vec::new();
/// let rows = async_with!(transaction(&mut log) => |tx| {
///     tx.push("insert");
///     Ok::<_, DbError>(1)
/// });
/// assert_eq!(rows, Ok(1));
///
/// let failed: Result<u32, DbError> = async_with!(transaction(&mut log) => |tx| {
///     tx.push("insert");
///     Err(DbError::Constraint)?;
///     Ok(2)
/// });
/// assert_eq!(failed, Err(DbError::Constraint));
/// assert_eq!(log, ["begin", "insert", "commit", "begin", "insert", "rollback"]);
/// # let _ = DbError::Busy;
/// # });
/// ```
#[macro_export]
macro_rules! async_with {
    ($manager:expr => |$target:pat_param| $body:expr $(,)?) => {
        $crate::expansion::async_with!(@with [::core::option::Option::None] $manager => |$target| $body)
    };
    ($manager:expr => move |$($rest:tt)*) => {
        ::core::compile_error!(
            "`async_with!` takes no `move`: its block is not a closure, it runs in place and \
             borrows or moves from its surroundings as the code in it does"
        )
    };
    ($manager:expr => |$target:ident : $($rest:tt)*) => {
        ::core::compile_error!(
            "a target's type cannot be written in `async_with!`: it is the manager's \
             `Target`; annotate a `let` in the block instead"
        )
    };
    // What `#[async_context_manager]` writes (`@yielding`, and the probe `@contextlib_async_with`):
    // forwarded to the expansion's macro, so that this page of the docs shows only the arms a
    // user writes.
    (@ $($expansion:tt)*) => {
        $crate::expansion::async_with!(@ $($expansion)*)
    };
}

/// Not public API: the arms of [`async_with!`] that its expansion and `#[async_context_manager]`
/// use, reached as `contextlib::expansion::async_with!` (the path compiler notes show).
#[doc(hidden)]
#[macro_export]
macro_rules! __async_with_expansion {
    // What `#[async_context_manager]` writes for an `async_with!` whose block holds the manager's
    // yield: `$outer` is the local the yield stores the outer block's `Exit` in. A block that
    // completes after the yield shows the manager that outcome, as Python's exception propagates
    // out of a `yield` through each `async with`; a block that fails shows its own failure.
    (@yielding $outer:ident; $manager:expr => |$target:pat_param| $body:expr $(,)?) => {
        $crate::expansion::async_with!(@with [$outer] $manager => |$target| $body)
    };
    // The attribute's check that the `async_with!` a user wrote around the yield is this one.
    (@contextlib_async_with) => {};
    (@with [$outer:expr] $manager:expr => |$target:pat_param| $body:expr) => {
        // A `match` keeps the temporaries of the manager expression alive for the whole block.
        match $crate::expansion::async_with($manager).manager() {
            __acm_manager => {
                #[allow(unused_imports)]
                use $crate::__private::{
                    FallibleBlockKind as _, InfallibleBlockKind as _, InfallibleManagerKind as _,
                    UnconvertibleBlockKind as _, ValueBlockKind as _, ViewDebug as _,
                    ViewFormatted as _, ViewOpaque as _, ViewShared as _, ComposedDriveKind as _,
                    SendDriveKind as _, DirectDriveKind as _,
                };
                // Declared before the block's future: if this future is dropped mid-block, the
                // block (and the target) is dropped first, then the guard runs the teardown.
                let __acm_manager = ::core::pin::pin!(__acm_manager);
                let mut __acm_guard = $crate::__private::Guard::new(__acm_manager);
                // Through the manager's named `Send` futures where it has them (see `drive.rs`).
                let __acm_drive =
                    $crate::__private::chosen((&&&&$crate::__private::Drive::of(&__acm_guard)).__acm_drive());
                // The enter's result is matched as a temporary, not bound to a variable: in
                // generic code its type borrows the manager until it is dropped.
                let __acm_state = match $crate::__private::ArmOnSuccess::new({
                    let (__acm_pinned, __acm_armed) = __acm_guard.entering();
                    (
                        __acm_drive.enter(__acm_pinned),
                        __acm_armed,
                    )
                })
                .await
                {
                    // `mut`, so that `|ref mut target|` can bind into it.
                    // Named `target`, not `__acm_..`: the compiler names this binding when a
                    // target that is not `Send` is held across the block's `.await`. (Hygiene
                    // keeps it apart from any `target` of the user's.)
                    #[allow(unused_mut)]
                    ::core::result::Result::Ok(mut target) => ::core::result::Result::Ok(
                        $crate::__private::CatchUnwind::new(async {
                            let $target = target;
                            // The block is the tail, as a closure's body is: nothing follows it
                            // that a diverging block (`{ return Err(e); }`, `panic!()`) would
                            // make `unreachable_code`. In parentheses from this macro, which
                            // `unused_parens` skips, so that `unused_braces` does not see a
                            // braced block there: `|x| { x + 1 }` is a closure's natural form,
                            // and the lint's fix would break a `#[contextlib::with]` fn's body.
                            ($body)
                        })
                        .await,
                    ),
                    ::core::result::Result::Err(__acm_error) => {
                        ::core::result::Result::Err(__acm_error)
                    }
                };
                let __acm_kind =
                    $crate::__private::chosen((&&&&&$crate::__private::Kind::of(&__acm_state)).__acm_kind());
                // The outcome is read in place, not moved out of `__acm_state`: moving it first
                // doubled the time of a whole enter+exit (benches/instructions.rs). The arm
                // that fails comes first, so that the block's error type is known from the
                // context before the exit's view of it is chosen.
                let __acm_convert = __acm_kind.converter();
                // Neither arm is a block: both are coerced to the expected type by the `match`
                // alone, which reports a mismatch once (a block arm would report its own). The
                // exit runs in `finish`'s first argument, before `__acm_state` moves.
                match &__acm_state {
                    ::core::result::Result::Err(_) => __acm_kind.enter_failed(__acm_state, __acm_convert),
                    ::core::result::Result::Ok(_) => __acm_kind.finish(
                        {
                            let __acm_view;
                            let __acm_exit = match __acm_kind.split(&__acm_state) {
                                $crate::__private::Split::Ok => {
                                    $crate::__private::outer_or_ok($outer)
                                }
                                $crate::__private::Split::Err(__acm_error) => {
                                    __acm_view = $crate::__private::chosen(
                                        (&&&&$crate::__private::View(__acm_error)).__acm_view(),
                                    );
                                    $crate::Exit::Err(__acm_view.view())
                                }
                                $crate::__private::Split::Panic(__acm_payload) => {
                                    $crate::Exit::Panic($crate::PanicMessage::from_payload(
                                        &**__acm_payload,
                                    ))
                                }
                            };
                            let (__acm_pinned, __acm_teardown) = __acm_guard.exiting();
                            $crate::__private::Finishing::new(
                                __acm_drive.exit(__acm_pinned, __acm_exit),
                                __acm_teardown,
                            )
                            .await
                        },
                        __acm_state,
                        __acm_convert,
                    ),
                }
            }
        }
    };
}

/// The yield point of an `#[async_context_manager]` fn: lends a value to the with-block and
/// evaluates to the block's [`Exit`](crate::Exit).
///
/// The attribute rewrites it; anywhere else it is a compile error. It is spelled `r#yield!`
/// because stable Rust rejects `yield` syntax inside any attribute's input before the
/// attribute can rewrite it (as `try!` became `r#try!`).
///
/// ```
/// use contextlib::{async_context_manager, async_with, Exit};
///
/// #[async_context_manager]
/// async fn counter() -> u32 {
///     let exit = r#yield!(41);
///     assert!(matches!(exit, Exit::Ok));
/// }
/// # futures_executor::block_on(async {
/// assert_eq!(async_with!(counter() => |n| n + 1), Ok(42));
/// # });
/// ```
///
/// ```compile_fail
/// async fn not_a_manager() {
///     contextlib::r#yield!(1); // error: `r#yield!` can only be used in an `#[async_context_manager]` fn
/// }
/// ```
#[macro_export]
macro_rules! r#yield {
    ($($value:tt)*) => {
        ::core::compile_error!(
            "`r#yield!` can only be used in the body of an `#[async_context_manager]` async fn, \
             outside closures, async blocks and other macros"
        )
    };
}
