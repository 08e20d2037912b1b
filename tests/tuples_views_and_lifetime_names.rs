//! Hostile review of the diagnostics rewrite (commits 857ea99..f7221b4): `async_with!` checking
//! its manager first through `contextlib::expansion::async_with`; tuples and `concurrent` typed
//! through `OneError` and converting each member's error with an identity `FromSame`; the final
//! `match` of `async_with!` without block arms (the exit awaited inside `finish`'s first
//! argument, the dispatchers `Copy`); the readable lifetime names of a generated manager
//! (`'target`, `'elided`, `'arg0`..); and the hidden `expansion` module.
//!
//! Tried, all with safe code, and held (compile probes were built against this commit and
//! against cbf4f53, the commit before the rewrite, and compared):
//! - naming the readable lifetimes to skip the covariance check: in the target, in declared
//!   generics, in a method of a generic impl whose own lifetimes are `'target`/`'elided`/`'arg0`,
//!   through `macro_rules!` (a generated fn, a `$lt:lifetime`, an impl), through a macro in the
//!   body (`'target` stays undeclared there: the binder covers the target type alone; a body
//!   macro *can* name `'arg0`, which is only the argument's own lifetime), raw identifiers, and
//!   `r#yield!` inside `async_with!` in such a fn. The names are fresh against every spelled
//!   token; an impl lifetime the fn does not spell is E0496, never a capture.
//! - a target type named like the check's local struct (`TargetMustBeCovariantInTheManagerBorrow`):
//!   the check and the yield handle resolve it alike (both in the fn body), so it cannot pass the
//!   check as one type and be handed out as another; it is a type mismatch.
//! - tuples and `concurrent`: each member's error reaches the result and the other members'
//!   exits unchanged, at every position, for 2-, 3- and 4-tuples, nested tuples, tuples inside
//!   `concurrent`; generic user fns bounded per member `AsyncContextManager<Error = E>` still
//!   compile; a member whose error type is generic is inferred from a sibling's.
//! - the block's error type inferred from the `let`'s annotation still picks the view the manager
//!   sees (shared and downcastable, formatted for non-`Sync`, `Debug`-only, opaque), exactly as
//!   before the rewrite; the exit awaited inside `finish`'s argument still sees a non-`Sync`
//!   block error's text alive to its end, under cancellation at every poll (Miri).
//! - `contextlib::expansion::{async_with, value_of, Body, OneError, FromManagerError}` from user
//!   code: an identity, a safe unwrap (`CannotFail` is sealed since issue 20: a user type cannot
//!   implement it), a trait with no safe way to a `Generated`, a trait the orphan rule keeps users
//!   from implementing for tuples.
//!
//! Three deliberate breakages of the library each made this file fail: `concurrent` keeping the
//! rightmost exit error, a tuple's next exit not seeing the newest error, and a non-`Sync` block
//! error's `Display` text formatted with `Debug`.
//!
//! What broke, and is fixed: a manager whose error type is only known from the surrounding code
//! (`closing(v, |v| async move { ..; Ok(()) })`, `ExitStack::new()`, any `Manager<E>`) no
//! longer compiled in `async_with!` ("type annotations needed"): the check typed its result as
//! `<M::Error as ManagerWithError<M>>::Manager`, unknown until `M::Error` was. The check is now a
//! method whose bound fails during method lookup, for non-managers only; those programs are
//! `tests/ui-pass/manager_error_inferred_from_context.rs`. Also reported, and left: the readable
//! lifetime names collide with a surrounding `impl`'s lifetimes of the same name (`'target`,
//! `'elided`, `'arg0`) that the fn does not spell (E0496; the guide, Writing a manager, "The manager's type").
use std::cell::Cell;
use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex};

use contextlib::testing::{Observed, Probe, Run, cancel_at_every_poll, yield_now};
use contextlib::{AsyncContextManager, Exit, async_context_manager, async_with, concurrent};
use futures_executor::block_on;

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn describe(exit: &Exit<'_>) -> String {
    match exit {
        Exit::Ok => "ok".into(),
        Exit::Err(error) => format!(
            "err {error} | {error:?} | shared={}",
            error.downcast_ref::<Fail>().is_some()
        ),
        Exit::Panic(panic) => format!("panic {panic}"),
        _ => "cancelled".into(),
    }
}

/// The one error of every member; its number says who raised it.
#[derive(Debug, Clone, PartialEq)]
struct Fail(usize);

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fail {}", self.0)
    }
}

impl std::error::Error for Fail {}

/// Member `i`: suspends, maybe fails to enter with `Fail(i)`, lends `i`, suspends, logs what it
/// saw (reading the `Exit` after awaiting), maybe fails to exit with `Fail(100 + i)`.
#[async_context_manager]
async fn member(log: Log, i: usize, fails_enter: bool, fails_exit: bool) -> Result<usize, Fail> {
    yield_now().await;
    if fails_enter {
        return Err(Fail(i));
    }
    let exit = r#yield!(i);
    yield_now().await;
    log.push(format!("{i} saw {}", describe(&exit)));
    if fails_exit {
        Err(Fail(100 + i))
    } else {
        Ok(())
    }
}

fn saw(i: usize, error: Option<usize>) -> String {
    match error {
        None => format!("{i} saw ok"),
        Some(e) => format!("{i} saw err fail {e} | Fail({e}) | shared=true"),
    }
}

/// What a sequential tuple of `n` members gives, and logs: enters left to right; exits right to
/// left, each seeing the newest error, which wins.
fn tuple_model(
    n: usize,
    enter_fails: Option<usize>,
    exit_fails: &[usize],
) -> (Result<usize, Fail>, Vec<String>) {
    let entered = enter_fails.unwrap_or(n);
    let mut newest = enter_fails;
    let mut log = Vec::new();
    for i in (0..entered).rev() {
        log.push(saw(i, newest));
        if exit_fails.contains(&i) {
            newest = Some(100 + i);
        }
    }
    let result = match newest {
        Some(e) => Err(Fail(e)),
        None => Ok((0..n).sum()),
    };
    (result, log)
}

/// What `concurrent` gives, and logs (in any order): every member that entered exits seeing the
/// first failure (the enter's, or the block's `Ok`). After the block, the leftmost failing exit
/// wins; after a failed enter, the others are exited one by one from the left and, as in
/// `Unwinding`, the newest (rightmost) failing exit wins (so before and after this commit).
fn concurrent_model(
    n: usize,
    enter_fails: Option<usize>,
    exit_fails: &[usize],
) -> (Result<usize, Fail>, Vec<String>) {
    let exiting: Vec<usize> = (0..n).filter(|i| Some(*i) != enter_fails).collect();
    let mut log: Vec<String> = exiting.iter().map(|i| saw(*i, enter_fails)).collect();
    log.sort();
    let mut failing = exiting
        .iter()
        .filter(|i| exit_fails.contains(i))
        .map(|i| 100 + i);
    let winner = match enter_fails {
        None => failing.next(),
        Some(_) => failing.next_back(),
    };
    let result = match (winner, enter_fails) {
        (Some(e), _) | (None, Some(e)) => Err(Fail(e)),
        (None, None) => Ok((0..n).sum()),
    };
    (result, log)
}

/// Runs `async_with!` over members `0..n` as a tuple or under `concurrent`.
fn run_members(
    n: usize,
    concurrently: bool,
    enter_fails: Option<usize>,
    exit_fails: &[usize],
) -> (Result<usize, Fail>, Vec<String>) {
    let log = Log::default();
    let m = |i: usize| {
        member(
            log.clone(),
            i,
            enter_fails == Some(i),
            exit_fails.contains(&i),
        )
    };
    let result = block_on(async {
        match (n, concurrently) {
            (2, false) => async_with!((m(0), m(1)) => |(a, b)| a + b),
            (3, false) => async_with!((m(0), m(1), m(2)) => |(a, b, c)| a + b + c),
            (4, false) => async_with!((m(0), m(1), m(2), m(3)) => |(a, b, c, d)| a + b + c + d),
            (2, true) => async_with!(concurrent((m(0), m(1))) => |(a, b)| a + b),
            (3, true) => async_with!(concurrent((m(0), m(1), m(2))) => |(a, b, c)| a + b + c),
            (4, true) => {
                async_with!(concurrent((m(0), m(1), m(2), m(3))) => |(a, b, c, d)| a + b + c + d)
            }
            _ => unreachable!(),
        }
    });
    let mut events = log.take();
    if concurrently {
        events.sort();
    }
    (result, events)
}

#[test]
fn each_members_error_reaches_the_result_and_the_other_exits_unchanged() {
    for n in 2..=4 {
        let enter_cases = std::iter::once(None).chain((0..n).map(Some));
        for enter_fails in enter_cases {
            let exit_cases: [Vec<usize>; 4] = [vec![], vec![0], vec![n - 1], (0..n).collect()];
            for exit_fails in &exit_cases {
                for concurrently in [false, true] {
                    let expected = if concurrently {
                        concurrent_model(n, enter_fails, exit_fails)
                    } else {
                        tuple_model(n, enter_fails, exit_fails)
                    };
                    assert_eq!(
                        run_members(n, concurrently, enter_fails, exit_fails),
                        expected,
                        "n={n} concurrent={concurrently} enter fails at {enter_fails:?}, exits fail at {exit_fails:?}"
                    );
                }
            }
        }
    }
}

/// A hand-written manager whose error type is a parameter, inferred from elsewhere.
struct Generic<E>(usize, std::marker::PhantomData<E>);

fn generic<E>(n: usize) -> Generic<E> {
    Generic(n, std::marker::PhantomData)
}

impl<'a, E> contextlib::Lend<'a> for Generic<E> {
    type Target = usize;
}

impl<E> AsyncContextManager for Generic<E> {
    type Error = E;
    async fn enter(self: std::pin::Pin<&mut Self>) -> Result<usize, E> {
        Ok(self.0)
    }
    async fn exit(self: std::pin::Pin<&mut Self>, _: Exit<'_>) -> Result<(), E> {
        Ok(())
    }
}

/// Bounded per member, as users wrote it before tuples went through `OneError`.
async fn generic_pair<A, B, E>(pair: (A, B)) -> Result<String, E>
where
    A: AsyncContextManager<Error = E>,
    B: AsyncContextManager<Error = E>,
    E: fmt::Display + fmt::Debug + Sync + 'static,
{
    async_with!(pair => |(_a, _b)| "pair".to_string())
}

async fn generic_nested<A, B, C, E>(nested: ((A, B), C)) -> Result<String, E>
where
    A: AsyncContextManager<Error = E>,
    B: AsyncContextManager<Error = E>,
    C: AsyncContextManager<Error = E>,
    E: fmt::Display + fmt::Debug + Sync + 'static,
{
    async_with!(concurrent((nested, generic::<E>(9))) => |(_abc, nine)| Ok::<_, E>(format!("nested {nine}")))
}

#[test]
fn tuples_keep_compiling_and_converting_in_generic_and_inferred_code() {
    let log = Log::default();
    let m = |i: usize, fails_exit: bool| member(log.clone(), i, false, fails_exit);
    block_on(async {
        assert_eq!(
            generic_pair((m(0, false), m(1, true))).await,
            Err(Fail(101))
        );
        assert_eq!(
            generic_pair((m(0, false), m(1, false))).await.unwrap(),
            "pair"
        );
        assert_eq!(
            generic_nested(((m(0, false), m(1, false)), m(2, true))).await,
            Err(Fail(102))
        );
        assert_eq!(
            generic_nested(((m(0, false), m(1, false)), m(2, false)))
                .await
                .unwrap(),
            "nested 9"
        );
        // A member whose error type is a parameter takes its sibling's.
        let sum = async_with!((generic(5), m(1, false)) => |(a, b)| a + b);
        assert_eq!(sum, Ok(6));
        let sum = async_with!(concurrent((m(0, true), generic(5))) => |(a, b)| a + b);
        assert_eq!(sum, Err(Fail(100)));
        // Infallible managers, alone and nested, with a block that fails on its own.
        let infallible: Result<usize, Fail> = async_with!(
            ((contextlib::nullcontext(1usize), generic::<Infallible>(2)), contextlib::nullcontext(3usize))
                => |((a, b), c)| { if a + b + c == 6 { Err(Fail(6))? } Ok(a) }
        );
        assert_eq!(infallible, Err(Fail(6)));
    });
    let mut events = log.take();
    events.sort();
    let ok = |i| saw(i, None);
    let expected = [
        saw(0, Some(101)),
        saw(0, Some(102)),
        ok(0),
        ok(0),
        ok(0),
        saw(1, Some(102)),
        ok(1),
        ok(1),
        ok(1),
        ok(1),
        ok(2),
        ok(2),
    ];
    assert_eq!(events, expected);
}

// ---------------------------------------------------------------------------------------------
// The block's error type from the surrounding code, and the view the exit gets of it
// ---------------------------------------------------------------------------------------------

/// What `watch` and friends saw; the tests that read it take `serial()`.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).clear();
    guard
}

#[async_context_manager]
async fn watch() -> usize {
    let exit = r#yield!(1);
    yield_now().await;
    SEEN.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(describe(&exit));
}

#[async_context_manager]
async fn watch_fallible() -> Result<usize, Fail> {
    let exit = r#yield!(1);
    yield_now().await;
    SEEN.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(describe(&exit));
    Ok(())
}

#[derive(Debug, PartialEq)]
struct DebugOnly(usize);
impl From<Fail> for DebugOnly {
    fn from(error: Fail) -> Self {
        DebugOnly(error.0)
    }
}

struct Opaque;
impl From<Fail> for Opaque {
    fn from(_: Fail) -> Self {
        Opaque
    }
}

#[derive(Debug)]
struct NotSync(Cell<usize>);
impl fmt::Display for NotSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not sync {}", self.0.get())
    }
}
impl From<Fail> for NotSync {
    fn from(error: Fail) -> Self {
        NotSync(Cell::new(error.0))
    }
}

type BoxError = Box<dyn std::error::Error>;

#[test]
fn a_block_error_type_known_only_from_the_let_still_picks_the_right_view() {
    let _serial = serial();
    block_on(async {
        let shared: Result<usize, Fail> = async_with!(watch() => |x| { Err(Fail(x))?; Ok(x) });
        let boxed: Result<usize, BoxError> = async_with!(watch() => |x| { Err("boxed")?; Ok(x) });
        let debug: Result<usize, DebugOnly> = async_with!(watch() => |x| { Err(Fail(3))?; Ok(x) });
        let opaque: Result<usize, Opaque> = async_with!(watch() => |x| { Err(Fail(4))?; Ok(x) });
        let not_sync: Result<usize, NotSync> = async_with!(watch() => |x| { Err(Fail(5))?; Ok(x) });
        let debug_f: Result<usize, DebugOnly> =
            async_with!(watch_fallible() => |x| { Err(Fail(6))?; Ok(x) });
        let not_sync_f: Result<usize, NotSync> =
            async_with!(watch_fallible() => |x| { Err(Fail(7))?; Ok(x) });
        let boxed_f: Result<usize, BoxError> =
            async_with!(watch_fallible() => |x| { Err(Fail(8))?; Ok(x) });
        let shared_f: Result<usize, Fail> =
            async_with!(watch_fallible() => |x| { Err(Fail(9))?; Ok(x) });
        assert_eq!(shared, Err(Fail(1)));
        assert_eq!(boxed.unwrap_err().to_string(), "boxed");
        assert_eq!(debug, Err(DebugOnly(3)));
        assert!(opaque.is_err());
        assert_eq!(not_sync.unwrap_err().0.get(), 5);
        assert_eq!(debug_f, Err(DebugOnly(6)));
        assert_eq!(not_sync_f.unwrap_err().0.get(), 7);
        assert_eq!(boxed_f.unwrap_err().to_string(), "fail 8");
        assert_eq!(shared_f, Err(Fail(9)));
    });
    let opaque = format!(
        "err an error of type `{}` | <{0}> | shared=false",
        std::any::type_name::<Opaque>()
    );
    assert_eq!(
        std::mem::take(&mut *SEEN.lock().unwrap_or_else(|p| p.into_inner())),
        [
            "err fail 1 | Fail(1) | shared=true",
            "err boxed | \"boxed\" | shared=false",
            "err DebugOnly(3) | DebugOnly(3) | shared=false",
            opaque.as_str(),
            "err not sync 5 | NotSync(Cell { value: 5 }) | shared=false",
            "err DebugOnly(6) | DebugOnly(6) | shared=false",
            "err not sync 7 | NotSync(Cell { value: 7 }) | shared=false",
            "err fail 8 | Fail(8) | shared=false",
            "err fail 9 | Fail(9) | shared=true",
        ]
    );
}

/// The exit now runs inside `finish`'s first argument: cut at every poll, each member of a tuple
/// is torn down once, and a teardown that reads a non-`Sync` block error's boxed text after
/// suspending reads it alive (Miri).
#[test]
fn the_exit_inside_finish_still_ends_every_teardown_when_cut_at_every_poll() {
    let _serial = serial();
    let probe = Probe::default();
    let completed = Cell::new(false);
    cancel_at_every_poll(
        || async {
            let r: Result<usize, NotSync> = async_with!(
                (probe.observe(watch_fallible()), probe.observe(watch_fallible())) => |(a, b)| {
                    yield_now().await;
                    Err(Fail(a + b))?;
                    Ok(a)
                }
            );
            r
        },
        |run| {
            let teardowns = probe.assert_torn_down_once(&run);
            let seen = std::mem::take(&mut *SEEN.lock().unwrap_or_else(|p| p.into_inner()));
            if let Run::Completed { output, .. } = run {
                completed.set(true);
                assert_eq!(output.unwrap_err().0.get(), 2);
                assert_eq!(teardowns, [Observed::Err, Observed::Err]);
                let text = "err not sync 2 | NotSync(Cell { value: 2 }) | shared=false";
                assert_eq!(seen, [text, text]);
            }
        },
    );
    assert!(completed.get());
}

// ---------------------------------------------------------------------------------------------
// The readable lifetime names, spelled by the user
// ---------------------------------------------------------------------------------------------

/// Lifetimes named as the expansion's: the fn spells them, so they are the user's own.
struct Holder<'target, 'elided> {
    log: &'target mut Vec<String>,
    tag: &'elided str,
}

impl<'target, 'elided> Holder<'target, 'elided> {
    /// Lends a borrow of its own local, which its teardown reads after the block wrote to it.
    #[async_context_manager]
    async fn lend(&'target mut self, extra: &str) -> (&mut String, Option<&'elided str>) {
        let mut own = format!("{}+{extra}", self.tag);
        r#yield!((&mut own, Some(self.tag)));
        self.log.push(own);
    }
}

/// The same names in generics and an `r#yield!` inside an `async_with!`.
#[async_context_manager]
async fn composed<'arg0, 'target_1>(
    first: &'arg0 str,
    second: &'target_1 str,
    third: &str,
) -> &String {
    let mut joined = format!("{first}{second}{third}");
    async_with!(watch() => |_| {
        r#yield!(&joined);
    })
    .unwrap();
    joined.push('!');
    SEEN.lock().unwrap_or_else(|p| p.into_inner()).push(joined);
}

macro_rules! manager_with_lifetime {
    ($name:ident, $lt:lifetime) => {
        #[async_context_manager]
        async fn $name<$lt>(prefix: &$lt str) -> &String {
            let own = format!("{prefix}:own");
            let exit = r#yield!(&own);
            SEEN.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{own} {}", describe(&exit)));
        }
    };
}

manager_with_lifetime!(named_target, 'target);
manager_with_lifetime!(named_elided, 'elided);

#[test]
fn lifetimes_spelled_like_the_expansions_are_the_users_own_and_borrowed_targets_stay_valid() {
    let _serial = serial();
    let mut log = Vec::new();
    let tag = String::from("tag");
    block_on(async {
        let mut holder = Holder {
            log: &mut log,
            tag: &tag,
        };
        let got = async_with!(holder.lend("extra") => |(own, tag)| {
            own.push_str("+block");
            tag.unwrap().len()
        });
        assert_eq!(got, Ok(3));
        let seen = async_with!(composed("a", "b", "c") => |joined| joined.clone());
        assert_eq!(seen.unwrap(), "abc");
        let lens =
            async_with!((named_target("t"), named_elided("e")) => |(t, e)| t.len() + e.len());
        assert_eq!(lens, Ok(10));
    });
    assert_eq!(log, ["tag+extra+block"]);
    assert_eq!(
        std::mem::take(&mut *SEEN.lock().unwrap_or_else(|p| p.into_inner())),
        ["ok", "abc!", "e:own ok", "t:own ok"]
    );
}

#[test]
fn the_expansion_module_is_inert_from_user_code() {
    block_on(async {
        let manager = contextlib::expansion::async_with(contextlib::nullcontext(4u8)).manager();
        assert_eq!(async_with!(manager => |x| x + 1), Ok(5));
    });
    assert_eq!(contextlib::expansion::value_of(Ok::<u8, Infallible>(7)), 7);
}
