//! Managers written the ordinary way are clean under `clippy::pedantic`: the attribute's
//! expansion fires no lint at the user's tokens (issue 15, item 14). The lints it used to fire:
//! `ignored_unit_patterns` at every target (its covariance check matched `_` against `&&()`),
//! and `used_underscore_binding` at an argument named `_guard` (the expansion mentioned it).
//!
//! The check is `cargo clippy -p contextlib-edition2021 --tests`: the `deny` below makes any such lint
//! an error. Under `cargo test` the functions run as ordinary tests.
#![deny(clippy::pedantic)]
use ctx::{async_context_manager, async_with, Exit};

/// Kept alive until the teardown ends, as an `async fn` keeps its arguments.
struct Guard<'a>(&'a mut Vec<&'static str>);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.push("guard dropped");
    }
}

#[async_context_manager]
async fn unit_target() {
    r#yield!(());
}

#[async_context_manager]
async fn number(n: u32) -> u32 {
    r#yield!(n)
}

#[async_context_manager]
async fn pending_rows(rows: &mut Vec<String>) -> Result<&mut Vec<String>, String> {
    let mut pending = Vec::new();
    match r#yield!(&mut pending) {
        Exit::Ok => rows.extend(pending),
        _ => return Err("rolled back".into()),
    }
    Ok(())
}

#[async_context_manager]
async fn maybe_writer(out: Option<&mut Vec<u8>>) -> Option<&mut dyn std::io::Write> {
    r#yield!(out.map(|out| out as &mut dyn std::io::Write));
}

#[async_context_manager]
async fn underscore_arguments(_: u8, (kept, _ignored): (u32, u32), _unused: &str) -> u32 {
    r#yield!(kept);
}

#[async_context_manager]
#[allow(clippy::needless_pass_by_value)] // the guard is held, on purpose
async fn guarded(_guard: Guard<'_>, fast: bool) -> u32 {
    if fast {
        r#yield!(1);
    } else {
        r#yield!(2);
    }
}

#[ctx::with(number(3) => n)]
async fn decorated(_unused: &str) -> u32 {
    n + 1
}

#[test]
fn pedantic_managers_run() {
    futures_executor::block_on(async {
        assert_eq!(async_with!(unit_target() => |()| 1), Ok(1));
        assert_eq!(async_with!(number(4) => |n| n + 1), Ok(5));
        let mut rows = Vec::new();
        let inserted: Result<usize, String> = async_with!(pending_rows(&mut rows) => |pending| {
            pending.push("a".to_string());
            Ok(pending.len())
        });
        assert_eq!(inserted, Ok(1));
        assert_eq!(rows, ["a"]);
        assert_eq!(
            async_with!(underscore_arguments(0, (7, 8), "") => |kept| kept),
            Ok(7)
        );
        let mut log = Vec::new();
        let n = async_with!(guarded(Guard(&mut log), false) => |n| n);
        assert_eq!(n, Ok(2));
        assert_eq!(log, ["guard dropped"]);
        assert_eq!(decorated("").await, 4);
        let mut buffer = Vec::new();
        let written = async_with!(maybe_writer(Some(&mut buffer)) => |out| {
            out.map(|out| out.write_all(b"x").is_ok())
        });
        assert_eq!(written, Ok(Some(true)));
        assert_eq!(buffer, b"x");
    });
}
