//! A small user crate, built and run by `.ci/msrv` on exactly the MSRV: the attribute (free fn,
//! borrowed argument, fallible), a tuple, a composed manager, an `ExitStack`,
//! `contextlib::tokio::detach_on_cancel`, on edition 2021.
use std::time::Duration;

use contextlib::tokio::{detach_on_cancel, wait_for_teardowns};
use contextlib::{async_context_manager, async_with, Exit, ExitStack};

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

#[tokio::main]
async fn main() {
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
