//! What the attribute accepts: methods, generics, lifetimes, `where` clauses, `impl Trait` and
//! pattern arguments, `Result` aliases; and that calling the fn does no work.
mod common;

use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Failure, Log};
use contextlib::{AsyncContextManager, Exit, async_context_manager, async_with};
use futures_executor::block_on;

struct Connection {
    name: String,
    log: Log,
    opened: usize,
}

impl Connection {
    /// A cursor over the connection, borrowing it shared.
    #[async_context_manager]
    pub async fn cursor(&self) -> &str {
        self.log.push("cursor open");
        r#yield!(self.name.as_str());
        self.log.push("cursor closed");
    }

    /// A session that mutates the connection.
    #[async_context_manager]
    async fn session(&mut self, tag: &str) -> Result<&mut usize, Failure> {
        self.opened += 1;
        let exit = r#yield!(&mut self.opened);
        self.log
            .push(format!("{tag} session closed, ok={}", exit.is_ok()));
        Ok(())
    }

    /// Consumes the connection: it is closed (dropped) after the teardown.
    #[async_context_manager]
    async fn into_owned(self) -> String {
        r#yield!(self.name.clone());
        self.log.push("consumed");
    }
}

#[test]
fn methods_with_every_receiver() {
    block_on(async {
        let log = Log::default();
        let mut connection = Connection {
            name: "db".into(),
            log: log.clone(),
            opened: 0,
        };
        let length = async_with!(connection.cursor() => |name| name.len());
        assert_eq!(length, Ok(2));
        let opened: Result<usize, Failure> = async_with!(connection.session("first") => |opened| {
            *opened += 10;
            Ok(*opened)
        });
        assert_eq!(opened, Ok(11));
        assert_eq!(connection.opened, 11);
        let name = async_with!(connection.into_owned() => |name| name);
        assert_eq!(name.unwrap(), "db");
        assert_eq!(
            log.take(),
            [
                "cursor open",
                "cursor closed",
                "first session closed, ok=true",
                "consumed"
            ]
        );
    });
}

/// Generic, with lifetimes, a `where` clause, `impl Trait` and pattern arguments.
#[async_context_manager]
async fn labelled<'a, T, const N: usize>(
    items: &'a [T; N],
    (prefix, suffix): (&str, &str),
    extra: impl Display,
    mut count: usize,
) -> Vec<String>
where
    T: Display + Sync,
{
    count += N;
    let labels = items
        .iter()
        .map(|item| format!("{prefix}{item}{suffix}{extra}"))
        .collect();
    r#yield!(labels);
    assert_eq!(count, N + 1);
}

#[test]
fn generics_lifetimes_patterns_and_impl_trait() {
    block_on(async {
        let items = [1, 2];
        let labels = async_with!(labelled(&items, ("<", ">"), '!', 1) => |labels| labels.join(" "));
        assert_eq!(labels, Ok("<1>! <2>!".to_string()));
    });
}

mod aliases {
    use super::Failure;
    pub type Result<T> = std::result::Result<T, Failure>;
}

#[async_context_manager]
async fn io_alias(path: &str) -> std::io::Result<String> {
    if path.is_empty() {
        return Err(std::io::Error::other("empty path"));
    }
    r#yield!(path.to_uppercase());
    Ok(())
}

#[async_context_manager]
async fn local_alias(fail: bool) -> aliases::Result<u8> {
    if fail {
        Err(Failure("alias"))?;
    }
    r#yield!(5)
}

#[test]
fn result_aliases_are_fallible_managers() {
    block_on(async {
        assert_eq!(async_with!(io_alias("a") => |p| p).unwrap(), "A");
        let error = async_with!(io_alias("") => |p| p).unwrap_err();
        assert_eq!(error.to_string(), "empty path");
        assert_eq!(async_with!(local_alias(false) => |n| n), Ok(5));
        assert_eq!(
            async_with!(local_alias(true) => |n| n),
            Err(Failure("alias"))
        );
    });
}

#[async_context_manager]
async fn lazy(started: &AtomicUsize) -> usize {
    let n = started.fetch_add(1, Ordering::SeqCst) + 1;
    r#yield!(n);
}

#[test]
fn calling_the_fn_does_no_work_until_enter() {
    let started = AtomicUsize::new(0);
    let manager = lazy(&started);
    assert_eq!(started.load(Ordering::SeqCst), 0);
    drop(manager);
    assert_eq!(started.load(Ordering::SeqCst), 0);
    let entered = block_on(async { async_with!(lazy(&started) => |n| n) });
    assert_eq!(entered, Ok(1));
}

#[async_context_manager]
async fn returns_early(skip: bool) -> u8 {
    if skip {
        return;
    }
    r#yield!(1);
}

#[test]
fn returning_before_the_yield_point_panics_at_enter_naming_the_fn() {
    let panic = common::block_on_catching(async { async_with!(returns_early(true) => |n| n) });
    let message = panic.unwrap_err();
    assert!(message.contains("returns_early"), "{message}");
    assert!(
        message.contains("returned before its yield point"),
        "{message}"
    );
    assert_eq!(
        block_on(async { async_with!(returns_early(false) => |n| n) }),
        Ok(1)
    );
}

#[async_context_manager]
async fn unit_target(log: Log) {
    log.push("before");
    r#yield!();
    log.push("after");
}

#[async_context_manager]
async fn tail_yield(log: Log) -> Result<u8, Failure> {
    log.push("setup only");
    r#yield!(3)
}

#[test]
fn unit_yield_and_tail_yield() {
    block_on(async {
        let log = Log::default();
        assert_eq!(
            async_with!(unit_target(log.clone()) => |()| log.push("block")),
            Ok(())
        );
        assert_eq!(async_with!(tail_yield(log.clone()) => |n| n), Ok(3));
        assert_eq!(log.take(), ["before", "block", "after", "setup only"]);
    });
}

#[test]
fn yield_evaluates_to_the_exit() {
    #[async_context_manager]
    async fn inspect(seen: &mut Vec<String>) -> u8 {
        let exit: Exit<'_> = r#yield!(0);
        seen.push(format!("{exit:?}"));
    }
    block_on(async {
        let mut seen = Vec::new();
        let _ = async_with!(inspect(&mut seen) => |_| ());
        let _: Result<(), Failure> = async_with!(inspect(&mut seen) => |_| Err(Failure("x")));
        assert_eq!(seen, ["Ok", "Err(Failure(\"x\"))"]);
    });
}

#[test]
fn a_generated_manager_is_entered_by_hand_through_the_trait() {
    block_on(async {
        let started = AtomicUsize::new(0);
        let mut manager = std::pin::pin!(lazy(&started));
        let target = manager.as_mut().enter().await.unwrap();
        assert_eq!(target, 1);
        manager.as_mut().exit(Exit::Ok).await.unwrap();
    });
}

#[test]
fn entering_twice_panics() {
    let message = common::block_on_catching(async {
        let started = AtomicUsize::new(0);
        let mut manager = std::pin::pin!(lazy(&started));
        let _ = manager.as_mut().enter().await;
        let _ = manager.as_mut().exit(Exit::Ok).await;
        let _ = manager.as_mut().enter().await;
    })
    .unwrap_err();
    assert!(message.contains("cannot be entered now"), "{message}");
}

/// A generic target borrowed from a local: `&mut T` for any `T`.
#[async_context_manager]
async fn hold<T: Clone + std::fmt::Debug>(value: T, seen: &mut Vec<String>) -> &mut T {
    let mut value = value;
    r#yield!(&mut value);
    seen.push(format!("{value:?}"));
}

#[test]
fn generic_borrowed_target() {
    block_on(async {
        let mut seen = Vec::new();
        let result = async_with!(hold(vec![1], &mut seen) => |v| {
            v.push(2);
            v.len()
        });
        assert_eq!(result, Ok(2));
        assert_eq!(seen, ["[1, 2]"]);
    });
}
