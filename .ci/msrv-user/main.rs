//! A small user crate, built and run by `.ci/msrv` on exactly the MSRV: the attribute (free fn,
//! borrowed argument, fallible), a tuple, a composed manager, an `ExitStack`,
//! `contextlib::tokio::detach_on_cancel`, and the type hints (`Lend` bounds, a trait method
//! returning a manager that borrows `&self`, the `Send` variant spawned), on edition 2021.
use std::time::Duration;

use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use contextlib::{
    async_context_manager, async_with, AsyncContextManager, Exit, ExitStack, Lend,
    SendAsyncContextManager,
};

#[async_context_manager]
async fn lend(log: &mut Vec<String>) -> &mut Vec<String> {
    let mut local = vec!["lent".to_string()];
    let exit = r#yield!(&mut local);
    log.push(format!("{} then {exit:?}", local.join(",")));
}

#[async_context_manager]
async fn step(name: &'static str) -> Result<&'static str, std::io::Error> {
    if name.is_empty() {
        return Err(std::io::Error::other("no name"));
    }
    r#yield!(name);
    Ok(())
}

#[async_context_manager]
async fn slow(done: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u8 {
    let exit = r#yield!(1);
    tokio::time::sleep(Duration::from_millis(10)).await;
    done.store(matches!(exit, Exit::Cancelled), std::sync::atomic::Ordering::SeqCst);
}

#[async_context_manager]
async fn pair() -> Result<String, std::io::Error> {
    async_with!(step("x") => |x| {
        async_with!(step("y") => |y| {
            r#yield!(format!("{x}{y}"));
            Ok::<_, std::io::Error>(())
        })
    })
}

/// Python's `AsyncContextManager[list[str]]`, as a bound.
async fn push_one<M>(manager: M) -> usize
where
    M: AsyncContextManager + for<'a> Lend<'a, Target = &'a mut Vec<String>>,
{
    match async_with!(manager => |lent| { lent.push("typed".into()); lent.len() }) {
        Ok(n) => n,
        Err(_) => 0,
    }
}

/// Any `Send` manager lending `&'static str`, entered in a spawned task.
async fn fill<M>(manager: M) -> usize
where
    M: SendAsyncContextManager + for<'a> Lend<'a, Target = &'static str>,
{
    async_with!(manager => |text| {
        tokio::task::yield_now().await;
        text.len()
    })
    .unwrap_or(0)
}

trait Sessions {
    fn session(&self) -> impl SendAsyncContextManager<Error = std::io::Error> + for<'a> Lend<'a, Target = &'a str>;
}

struct Service {
    name: String,
}

#[async_context_manager]
async fn session(name: &str) -> Result<&str, std::io::Error> {
    let greeting = format!("hello {name}");
    r#yield!(greeting.as_str());
    Ok(())
}

impl Sessions for Service {
    fn session(&self) -> impl SendAsyncContextManager<Error = std::io::Error> + for<'a> Lend<'a, Target = &'a str> {
        session(&self.name)
    }
}

#[tokio::main]
async fn main() {
    let mut log = Vec::new();
    assert_eq!(push_one(lend(&mut log)).await, 2);
    // A trait method returning a manager that borrows `&self`, entered in place. (Spawning that
    // future is refused by Rust 1.85, "higher-ranked lifetime error"; 1.95 accepts it: see the
    // guide, "Type hints".)
    let service = Service { name: "msrv".into() };
    let greeted = async_with!(service.session() => |greeting| {
        tokio::task::yield_now().await;
        Ok::<_, std::io::Error>(greeting.len())
    });
    assert_eq!(greeted.unwrap(), 10);
    // Generic code over the `Send` variant, spawned.
    let spawned = tokio::spawn(fill(step("s")));
    assert_eq!(spawned.await.unwrap(), 1);

    let mut log = Vec::new();
    let n = async_with!(lend(&mut log) => |lent| {
        lent.push("block".into());
        lent.len()
    });
    assert_eq!(n.unwrap(), 2);
    assert_eq!(log, ["lent,block then Ok"]);

    let joined = async_with!((step("a"), step("b")) => |(a, b)| format!("{a}{b}"));
    assert_eq!(joined.unwrap(), "ab");

    let composed = async_with!(pair() => |xy| xy.len());
    assert_eq!(composed.unwrap(), 2);

    let stacked = tokio::spawn(async {
        async_with!(ExitStack::<std::io::Error>::new() => |stack| {
            let a = stack.enter(step("a")).await?;
            tokio::task::yield_now().await;
            let b = stack.enter(detach_on_cancel(step("b"))).await?;
            Ok::<_, std::io::Error>(format!("{a}{b}"))
        })
    });
    assert_eq!(stacked.await.unwrap().unwrap(), "ab");

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cut = tokio::time::timeout(Duration::from_millis(5), async {
        async_with!(detach_on_cancel(slow(done.clone())) => |_| {
            tokio::time::sleep(Duration::from_secs(60)).await;
        })
    })
    .await;
    assert!(cut.is_err());
    tokio::task::spawn_blocking(|| assert!(wait_for_teardowns(Duration::from_secs(5))))
        .await
        .unwrap();
    assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    println!("msrv user crate: ok");
}
