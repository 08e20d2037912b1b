//! Issue 15: the macros on ordinary and hostile input, at run time (the compile-time findings
//! are ui cases).
mod common;

use std::convert::Infallible;

use common::{Failure, Log};
use contextlib::{Exit, IntoValue, async_context_manager, async_with};
use futures_executor::block_on;

#[async_context_manager]
async fn fallible_dir() -> Result<&'static str, Failure> {
    r#yield!("dir");
    Ok(())
}

#[async_context_manager]
async fn timer() -> u8 {
    r#yield!(0);
}

/// Item 1: Python's `async with temp_dir() as d: async with timer():` — the inner `async_with!` over
/// an infallible manager gives `Result<_, Infallible>`; `into_value` makes it the plain value.
#[test]
fn an_infallible_manager_nests_inside_a_fallible_one() {
    let n: Result<usize, Failure> = block_on(async {
        async_with!(fallible_dir() => |dir| async_with!(timer() => |_t| dir.len()).into_value())
    });
    assert_eq!(n, Ok(3));
    let both: Result<usize, Infallible> =
        block_on(async { async_with!(timer() => |_t| async_with!(timer() => |_u| 2)) });
    assert_eq!(both, Ok(2));
}

/// Logs when it is dropped.
struct Guard(Log, &'static str);
impl Drop for Guard {
    fn drop(&mut self) {
        self.0.push(format!("drop {}", self.1));
    }
}

#[async_context_manager]
async fn keeps_arguments(log: Log, _: Guard, (kept, _): (u8, Guard)) -> u8 {
    log.push("enter");
    r#yield!(kept);
    log.push("teardown");
}

/// Item 5: Arguments that the patterns do not bind live until the teardown ends, as an `async fn`
/// keeps its arguments.
#[test]
fn unbound_arguments_are_dropped_after_the_teardown() {
    let log = Log::default();
    let manager = keeps_arguments(
        log.clone(),
        Guard(log.clone(), "ignored argument"),
        (7, Guard(log.clone(), "ignored part")),
    );
    log.push("created");
    let n = block_on(async { async_with!(manager => |n| n) });
    assert_eq!(n, Ok(7));
    let events = log.take();
    assert_eq!(&events[..3], ["created", "enter", "teardown"], "{events:?}");
    assert_eq!(events.len(), 5, "{events:?}");
}

#[async_context_manager]
async fn with_inner_attribute() -> u8 {
    #![allow(unused_variables)]
    let unused = 1;
    r#yield!(2);
}

/// Item 6: Inner attributes at the top of the body apply to the whole fn.
#[test]
fn inner_attributes_are_accepted() {
    assert_eq!(
        block_on(async { async_with!(with_inner_attribute() => |n| n) }),
        Ok(2)
    );
}

/// Item 7: `ref mut` binds into the target.
#[test]
fn a_ref_mut_target_pattern_binds_the_target() {
    let n = block_on(async {
        async_with!(timer() => |ref mut n| {
            *n += 5;
            *n
        })
    });
    assert_eq!(n, Ok(5));
}

#[async_context_manager]
async fn branch(log: Log, fast: bool) -> Result<u32, Failure> {
    if fast {
        let exit = r#yield!(1);
        log.push(format!("fast: {}", common::describe(&exit)));
    } else {
        log.push("slow setup");
        match r#yield!(2) {
            Exit::Ok => log.push("slow: ok"),
            _ => log.push("slow: failed"),
        }
    }
    Ok(())
}

/// Item 11: A yield in each branch of an `if`/`else` (or a `match`): only one runs.
#[test]
fn mutually_exclusive_yields_are_allowed() {
    let log = Log::default();
    let fast = block_on(async { async_with!(branch(log.clone(), true) => |n| n) });
    let slow = block_on(async { async_with!(branch(log.clone(), false) => |n| n) });
    assert_eq!((fast, slow), (Ok(1), Ok(2)));
    assert_eq!(log.take(), ["fast: ok", "slow setup", "slow: ok"]);
}

#[async_context_manager]
async fn configured() -> &'static str {
    #[cfg(any())]
    r#yield!("never compiled");
    #[cfg(not(any()))]
    r#yield!("compiled");
}

/// Item 3: `#[cfg]` on the yield statement is honoured, and cfg'd alternatives count as one yield.
#[test]
fn cfg_on_the_yield_statement_is_honoured() {
    assert_eq!(
        block_on(async { async_with!(configured() => |s| s) }),
        Ok("compiled")
    );
}

/// A target that logs when it is dropped.
struct Counted(Log, u32);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.push(format!("drop {}", self.1));
    }
}

#[async_context_manager]
async fn both_configured(log: Log) -> Counted {
    #[cfg(not(any()))]
    r#yield!(Counted(log.clone(), 1));
    log.push("between");
    #[cfg(not(all(any())))]
    r#yield!(Counted(log.clone(), 2));
}

/// Two cfg'd alternatives both compiled in: the second yield panics clearly during the exit,
/// instead of hanging the teardown, and its target (lent to nobody) is dropped, not leaked.
#[test]
fn a_second_yield_at_run_time_panics_clearly() {
    let log = Log::default();
    let result = common::block_on_catching(async {
        async_with!(both_configured(log.clone()) => |target| target.1)
    });
    assert!(
        result
            .unwrap_err()
            .contains("reached a second `r#yield!` in one run"),
    );
    assert_eq!(log.take(), ["drop 1", "between", "drop 2"]);
}

type AppResult<T> = Result<T, Failure>;

#[async_context_manager]
async fn aliased(fail: bool) -> AppResult<u8> {
    if fail {
        return Err(Failure("setup"));
    }
    r#yield!(4);
    Ok(())
}

macro_rules! manager_returning {
    ($name:ident -> $ret:ty) => {
        #[async_context_manager]
        async fn $name() -> $ret {
            r#yield!(9);
            Ok(())
        }
    };
}
manager_returning!(from_a_macro -> Result<u8, Failure>);

/// Item 2: A fallible return type spelled through an alias, or handed over by a `macro_rules!`, is a
/// fallible manager lending the `Ok` type.
#[test]
fn aliases_and_macro_return_types_are_fallible_managers() {
    assert_eq!(
        block_on(async { async_with!(aliased(false) => |n| n + 1) }),
        Ok(5)
    );
    assert_eq!(
        block_on(async { async_with!(aliased(true) => |n| n + 1) }),
        Err(Failure("setup"))
    );
    assert_eq!(
        block_on(async { async_with!(from_a_macro() => |n| n) }),
        Ok(9)
    );
}

/// Lends the writer it is given, or none: a `dyn Write` behind `&mut` inside an `Option`.
#[async_context_manager]
async fn maybe_writer(out: Option<&mut Vec<u8>>, log: Log) -> Option<&mut dyn std::io::Write> {
    let exit = r#yield!(out.map(|out| out as &mut dyn std::io::Write));
    log.push(format!("{exit:?}"));
}

/// Lends a trait object it owns, and a borrow of a local, in a tuple.
#[async_context_manager]
async fn writer_and_name(name: &str) -> (&mut dyn std::io::Write, Option<&str>, usize) {
    let mut own: Box<dyn std::io::Write> = Box::new(Vec::new());
    let trimmed = name.trim().to_string();
    r#yield!((&mut *own, Some(trimmed.as_str()), trimmed.len()));
}

/// Item 10: A trait object behind `&mut` inside an `Option` or a tuple shortens its lifetime as
/// `&mut dyn Write` alone does: the target is handed out and written through.
#[test]
fn trait_objects_inside_options_and_tuples_are_lent() {
    let mut buffer = Vec::new();
    let log = Log::default();
    let written = block_on(async {
        async_with!(maybe_writer(Some(&mut buffer), log.clone()) => |out| {
            out.expect("a writer").write_all(b"hello")
        })
    });
    assert!(written.is_ok());
    let none =
        block_on(async { async_with!(maybe_writer(None, log.clone()) => |out| out.is_none()) });
    assert_eq!(none, Ok(true));
    assert_eq!(buffer, b"hello");
    assert_eq!(log.take(), ["Ok", "Ok"]);

    let seen = block_on(async {
        async_with!(writer_and_name("  db ") => |(out, name, len)| {
            out.write_all(b"x").map(|()| (name.map(str::to_owned), len))
        })
    });
    assert_eq!(seen.unwrap(), (Some("db".to_string()), 2));
}

/// A connection pool whose connection type borrows the pool (a generic associated type).
trait Pool {
    type Conn<'a>
    where
        Self: 'a;
    fn conn(&mut self) -> Self::Conn<'_>;
}

struct Rows(Vec<u8>);
impl Pool for Rows {
    type Conn<'a> = &'a mut Vec<u8>;
    fn conn(&mut self) -> Self::Conn<'_> {
        &mut self.0
    }
}

/// Item 10: A GAT target borrows the argument it names (`P::Conn<'p>`), not the manager: it is not
/// shortened, so it needs no covariance (`ui/gat_target_borrowing_manager` for `P::Conn<'_>`).
#[async_context_manager]
async fn connection<'p, P: Pool>(pool: &'p mut P) -> P::Conn<'p> {
    r#yield!(pool.conn());
}

#[test]
fn a_gat_target_naming_its_argument_lifetime_is_lent() {
    let mut rows = Rows(vec![1]);
    let len = block_on(async {
        async_with!(connection(&mut rows) => |conn| {
            conn.push(2);
            conn.len()
        })
    });
    assert_eq!(len, Ok(2));
    assert_eq!(rows.0, [1, 2]);
}

/// `&mut (dyn Trait + '_)` spelled out is lent as `&mut dyn Trait` is (the object's lifetime
/// shortens by a coercion): only `&mut T` with a borrowing `T` of another kind is refused
/// (ui/invariant_target).
#[async_context_manager]
async fn spelled_out_writer() -> &mut (dyn std::io::Write + '_) {
    let mut buffer = Vec::new();
    r#yield!(&mut buffer);
}

#[test]
fn a_trait_object_target_with_its_lifetime_spelled_out_is_lent() {
    let written = futures_executor::block_on(async {
        async_with!(spelled_out_writer() => |writer| writer.write(b"abc").unwrap())
    });
    assert_eq!(written, Ok(3));
}
