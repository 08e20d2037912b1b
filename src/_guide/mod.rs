//! # The guide
//!
//! How to write, enter, compose, name and test async context managers, chapter by chapter,
//! with the Python each construct comes from. Every example is a doc test.
//!
//! 1. [Writing a manager](writing): `#[async_context_manager]`, its rules, and
//!    `impl AsyncContextManager` by hand
//! 2. [Entering](entering): `async_with!`, what it returns, and how each pairing of outcomes ends
//! 3. [Composing](composing): managers made of managers, tuples, [`ExitStack`](crate::ExitStack),
//!    [`concurrent`](crate::concurrent), the decorator [`#[contextlib::with]`](crate::with),
//!    [`nullcontext`](crate::nullcontext), [`closing`](crate::closing), [`Either`](crate::Either)
//!    and `Option<M>`
//! 4. [Type hints](type_hints): `AsyncContextManager[T]` as a bound, [`Lend`](crate::Lend),
//!    [`SendAsyncContextManager`](trait@crate::SendAsyncContextManager), the short form
//!    [`AsyncContextManager![T, E]`](macro@crate::AsyncContextManager), and boxed managers
//! 5. [Cancellation](cancellation): what happens when the future running a block is dropped
//! 6. [Batteries](batteries): the managers and tools that come with the crate
//! 7. [Recipes](recipes): an axum handler in a transaction, sqlx, a Starlette-style lifespan,
//!    and the six examples of the repository
//! 8. [Mistakes, and what the compiler says](mistakes): the error budget
//! 9. [Soundness](soundness): what was tried against the `unsafe` inside, and what holds
//! 10. [Performance](performance): benchmarks against hand-written managers and Python
//!
//! ## From Python to Rust
//!
//! | Python | contextlib |
//! |---|---|
//! | `@asynccontextmanager` on an `async def` | `#[async_context_manager]` on an `async fn` (doc comments stay on the generated fn) |
//! | `yield value` | `r#yield!(value)`: exactly one, in the fn body; it evaluates to the block's `Exit` |
//! | `try: yield v` / `except: ...` / `else: ...` / `finally: ...` | `match r#yield!(v) { Exit::Ok => .., Exit::Err(e) => .., Exit::Panic(p) => .., _ => .. }`, then the code every exit shares (the `finally` part) |
//! | an exception raised in setup | `?` before `r#yield!`: the enter fails and the block does not run |
//! | `async with manager(...) as x:` | `async_with!(manager(...) => \|x\| { .. })` |
//! | `async with a() as x, b() as y:` | `async_with!((a(), b()) => \|(x, y)\| { .. })` (same error type; entered left to right, exited right to left) |
//! | a class with `__aenter__` / `__aexit__` | `impl AsyncContextManager for MyType { async fn enter(..), async fn exit(.., exit: Exit<'_>) }` |
//! | `__aexit__(exc_type, exc, tb)` | `exit: Exit<'_>`: `Exit::Err(e)` displays as the error, `e.downcast_ref::<MyError>()` recovers it |
//! | `return True` from `__aexit__` to suppress the exception | no equivalent, on purpose: handle or map the error **inside the block** (`.or_else(..)`, `match`, `unwrap_or_default()`); the exit cannot swallow the block's error. `async_with!` returns the block's `Result` as it was, unless the exit itself fails (then the exit's error wins, as in Python) |
//! | `asyncio.CancelledError` at the yield | `Exit::Cancelled`: the future running the block was dropped |
//! | an exception propagating through `async with` | a panic in the block: the exit runs with `Exit::Panic(message)`, then the panic resumes |
//! | `async with inner() as x:` around the `yield` of an `@asynccontextmanager` | `async_with!(inner() => \|x\| { .. r#yield!(..) .. })` in the manager's body: the inner manager sees the outer block's outcome |
//! | `AsyncExitStack()` | `async_with!(ExitStack::<E>::new() => \|stack\| { .. })` (or `ExitStack::new()` and `close()`) |
//! | `await stack.enter_async_context(cm)` | `stack.enter(manager).await?`, through `&ExitStack`: several targets alive at once |
//! | `stack.push_async_callback(f)` | `stack.defer(async { .. })` |
//! | `stack.push_async_exit(cb)` | `stack.push_async_exit(\|exit\| OnExit::new(async move { .. }))`: sees the `Exit` (or the newest error), its error chains; it cannot suppress |
//! | `stack.pop_all()` | `stack.pop_all()` (on `&mut`): hands the managers over to a new stack; on a stack you hold, not inside its `async_with!` (see [`ExitStack`](composing) in Composing) |
//! | `await stack.aclose()` | `stack.close().await`, also only on a stack you hold |
//! | `@my_manager()` on an `async def` (`AsyncContextDecorator`) | `#[contextlib::with(my_manager() => target)]` on an `async fn`: the body runs as the block, a fresh manager each call |
//! | `nullcontext(value)` | `nullcontext(value)`: the target is `value`, the exit does nothing |
//! | `cm = a() if cached else b()` | `let m = if cached { Either::Left(a()) } else { Either::Right(b()) };`: one manager type, when both lend the same target and share the error type |
//! | `cm = a() if c else nullcontext()` | `let m = c.then(a);` (an `Option<M>`): `Some(m)` lends `Some(target)`, `None` enters nothing and lends `None` |
// A guide of doc-only modules, as clap's `_tutorial`: each chapter is a markdown file, so that
// its examples are doc tests and its links are intra-doc links.

pub mod writing {
    #![doc = include_str!("writing.md")]
}

pub mod entering {
    #![doc = include_str!("entering.md")]
}

pub mod composing {
    #![doc = include_str!("composing.md")]
}

pub mod type_hints {
    #![doc = include_str!("type_hints.md")]
}

pub mod cancellation {
    #![doc = include_str!("cancellation.md")]
}

pub mod batteries {
    #![doc = include_str!("batteries.md")]
}

pub mod recipes {
    #![doc = include_str!("recipes.md")]
}

pub mod mistakes {
    #![doc = include_str!("mistakes.md")]
}

pub mod soundness {
    #![doc = include_str!("soundness.md")]
}

pub mod performance {
    #![doc = include_str!("performance.md")]
}
