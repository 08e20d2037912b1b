// Managers whose error type is known only from the code around `async_with!` (a `closing`
// whose cleanup returns `Ok(())`, `ExitStack::new()`, a manager generic over its error): the
// first step of the expansion, which checks that the value is a manager, must not need that
// error type yet (a hostile review found it did, for a day: "type annotations needed").
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use contextlib::{
    AsyncContextManager, Exit, ExitStack, async_context_manager, async_with, closing,
};

#[derive(Debug)]
struct MyErr;

impl std::fmt::Display for MyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyErr {}

/// A hand-written manager generic over its error.
struct Generic<E>(u32, PhantomData<E>);

impl<'a, E: std::fmt::Display + std::fmt::Debug + Sync + 'static> contextlib::Lend<'a> for Generic<E> {
    type Target = u32;
}

impl<E: std::fmt::Display + std::fmt::Debug + Sync + 'static> AsyncContextManager for Generic<E> {
    type Error = E;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<u32, E>> {
        let n = self.0;
        async move { Ok(n) }
    }

    fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> impl Future<Output = Result<(), E>> {
        async { Ok(()) }
    }
}

async fn closed() -> Result<usize, std::io::Error> {
    async_with!(closing(vec![1u8], |v| async move { drop(v); Ok(()) }) => |v| v.len())
}

async fn stacked() -> Result<usize, MyErr> {
    async_with!(ExitStack::new() => |stack| stack.len())
}

async fn generic() -> Result<u32, MyErr> {
    async_with!(Generic(1, PhantomData) => |n| n + 1)
}

async fn tuple_of_generics() -> Result<u32, MyErr> {
    async_with!((Generic(1, PhantomData), Generic(2, PhantomData)) => |(a, b)| a + b)
}

#[contextlib::with(closing(vec![1u8, 2], |v| async move { drop(v); Ok(()) }) => v)]
async fn decorated() -> Result<usize, std::io::Error> {
    Ok(v.len())
}

#[async_context_manager]
async fn composed() -> Result<u32, MyErr> {
    async_with!(Generic(3, PhantomData) => |x| {
        r#yield!(x);
        Ok::<(), MyErr>(())
    })?;
    Ok(())
}

fn main() {
    assert_eq!(futures_executor::block_on(closed()).unwrap(), 1);
    assert_eq!(futures_executor::block_on(stacked()).unwrap(), 0);
    assert_eq!(futures_executor::block_on(generic()).unwrap(), 2);
    assert_eq!(futures_executor::block_on(tuple_of_generics()).unwrap(), 3);
    assert_eq!(futures_executor::block_on(decorated()).unwrap(), 2);
    let n = futures_executor::block_on(async { async_with!(composed() => |x| x) });
    assert_eq!(n.unwrap(), 3);
}
