//! The variants every benchmark target measures, shared by `enter_exit.rs` (divan),
//! `report.rs` (the ratio table) and `footprint.rs` (allocations and sizes).
//!
//! Every variant does the same trivial work: setup bumps a counter, the block reads the target
//! and returns it plus one (through `black_box`), teardown bumps the counter again (by 1 on a
//! normal exit, by 2 otherwise). Each call of a runner is one enter+exit, driven to completion
//! by `block_on` below: a single poll with a no-op waker, so no runtime cost hides a difference.
#![allow(dead_code)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use contextlib::{AsyncContextManager, Exit, async_context_manager, async_with};

// ---------------------------------------------------------------------------------------------
// The executor.

/// Polls `future` to completion with a no-op waker. Every future here completes on its first
/// poll; the loop is only there for correctness.
#[inline(always)]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// What the managers touch: one counter per manager of a tuple.
#[derive(Default)]
pub struct Counters {
    pub a: u64,
    pub b: u64,
    pub shared: std::sync::atomic::AtomicU64,
}

/// The block's error in the erroring variants: `'static + Display + Debug + Sync`, so
/// `async_with!` shows it to the manager in place, without allocating.
#[derive(Debug)]
pub struct BlockFailed;

impl fmt::Display for BlockFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("block failed")
    }
}

/// Silences the panic hook for the panicking variants (restored by nothing: benches only).
pub fn silence_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

// ---------------------------------------------------------------------------------------------
// (a) The baseline: a hand-written `AsyncContextManager`.

pub struct Hand<'c> {
    counter: &'c mut u64,
    value: u32,
}

pub fn hand(counter: &mut u64, value: u32) -> Hand<'_> {
    Hand { counter, value }
}

impl<'a> contextlib::Lend<'a> for Hand<'_> {
    type Target = u32;
}

impl AsyncContextManager for Hand<'_> {
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<u32, Infallible> {
        let this = self.get_mut();
        *this.counter += 1;
        Ok(this.value)
    }

    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        *self.get_mut().counter += if exit.is_ok() { 1 } else { 2 };
        Ok(())
    }
}

/// (a-ref) The hand-written manager lending `&mut` to its own field (the analogue of (c)).
pub struct HandRef<'c> {
    counter: &'c mut u64,
    value: u32,
}

pub fn hand_ref(counter: &mut u64, value: u32) -> HandRef<'_> {
    HandRef { counter, value }
}

impl<'a> contextlib::Lend<'a> for HandRef<'_> {
    type Target = &'a mut u32;
}

impl AsyncContextManager for HandRef<'_> {
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, Infallible> {
        let this = self.get_mut();
        *this.counter += 1;
        Ok(&mut this.value)
    }

    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), Infallible> {
        *self.get_mut().counter += if exit.is_ok() { 1 } else { 2 };
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// (b) and (c): the same managers, written with the attribute.

#[async_context_manager]
pub async fn generated(counter: &mut u64, value: u32) -> u32 {
    *counter += 1;
    let exit = r#yield!(value);
    *counter += if exit.is_ok() { 1 } else { 2 };
}

#[async_context_manager]
pub async fn generated_ref(counter: &mut u64, value: u32) -> &mut u32 {
    *counter += 1;
    let mut value = value;
    let exit = r#yield!(&mut value);
    *counter += if exit.is_ok() { 1 } else { 2 };
}

// ---------------------------------------------------------------------------------------------
// (d) The closure-style helper: no manager at all, setup and teardown around an async closure.
// (It runs no teardown on a panic; it is the lower bound of what the work itself costs.)

pub async fn with_value<R>(counter: &mut u64, value: u32, f: impl AsyncFnOnce(&mut u32) -> R) -> R {
    *counter += 1;
    let mut value = value;
    let result = f(&mut value).await;
    *counter += 1;
    result
}

// ---------------------------------------------------------------------------------------------
// (e) The design contextlib avoids: a naive generator. The body is a boxed `dyn Future` talking to
// the driver through an `Rc<RefCell<..>>` channel, and enter/exit return boxed futures (as
// `#[async_trait]` would): four allocations per use.

#[derive(Default)]
struct Channel {
    target: Option<u32>,
    exit_ok: Option<bool>,
}

pub struct Naive<'c> {
    channel: Rc<RefCell<Channel>>,
    body: Pin<Box<dyn Future<Output = ()> + 'c>>,
}

async fn naive_yield(channel: &RefCell<Channel>, target: u32) -> bool {
    channel.borrow_mut().target = Some(target);
    poll_fn(|_| match channel.borrow_mut().exit_ok.take() {
        Some(ok) => Poll::Ready(ok),
        None => Poll::Pending,
    })
    .await
}

pub fn naive(counter: &mut u64, value: u32) -> Naive<'_> {
    let channel = Rc::new(RefCell::new(Channel::default()));
    let body_channel = Rc::clone(&channel);
    let body = Box::pin(async move {
        *counter += 1;
        let exit_ok = naive_yield(&body_channel, value).await;
        *counter += if exit_ok { 1 } else { 2 };
    });
    Naive { channel, body }
}

impl<'a> contextlib::Lend<'a> for Naive<'_> {
    type Target = u32;
}

impl AsyncContextManager for Naive<'_> {
    type Error = Infallible;

    fn enter(self: Pin<&mut Self>) -> impl Future<Output = Result<u32, Infallible>> {
        let this = self.get_mut();
        let future: Pin<Box<dyn Future<Output = Result<u32, Infallible>> + '_>> =
            Box::pin(poll_fn(move |cx| match this.body.as_mut().poll(cx) {
                Poll::Ready(()) => panic!("naive: the body returned before yielding"),
                Poll::Pending => match this.channel.borrow_mut().target.take() {
                    Some(target) => Poll::Ready(Ok(target)),
                    None => Poll::Pending,
                },
            }));
        future
    }

    fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> impl Future<Output = Result<(), Infallible>> {
        let this = self.get_mut();
        this.channel.borrow_mut().exit_ok = Some(exit.is_ok());
        let future: Pin<Box<dyn Future<Output = Result<(), Infallible>> + '_>> =
            Box::pin(poll_fn(move |cx| this.body.as_mut().poll(cx).map(Ok)));
        future
    }
}

// ---------------------------------------------------------------------------------------------
// The runners: one call = one enter+exit (plus the block), driven by `block_on`.

#[inline]
pub fn a_hand(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async { async_with!(hand(&mut c.a, value) => |v| black_box(v) + 1) });
    out
}

#[inline]
pub fn a_hand_ref(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) =
        block_on(async { async_with!(hand_ref(&mut c.a, value) => |v| black_box(*v) + 1) });
    out
}

#[inline]
pub fn b_generated(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) =
        block_on(async { async_with!(generated(&mut c.a, value) => |v| black_box(v) + 1) });
    out
}

#[inline]
pub fn c_generated_ref(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) =
        block_on(async { async_with!(generated_ref(&mut c.a, value) => |v| black_box(*v) + 1) });
    out
}

#[inline]
pub fn d_closure(c: &mut Counters) -> u32 {
    let value = black_box(1);
    block_on(with_value(&mut c.a, value, async |v: &mut u32| {
        black_box(*v) + 1
    }))
}

#[inline]
pub fn e_naive(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async { async_with!(naive(&mut c.a, value) => |v| black_box(v) + 1) });
    out
}

#[inline]
pub fn f_tuple_generated(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async {
        async_with!((generated(&mut c.a, value), generated(&mut c.b, value)) => |(x, y)| {
            black_box(x) + black_box(y)
        })
    });
    out
}

#[inline]
pub fn f_tuple_hand(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async {
        async_with!((hand(&mut c.a, value), hand(&mut c.b, value)) => |(x, y)| {
            black_box(x) + black_box(y)
        })
    });
    out
}

/// The block returns `Err`: the exit sees `Exit::Err`, `async_with!` returns the error.
#[inline]
pub fn a_hand_err(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let out: Result<u32, BlockFailed> = block_on(async {
        async_with!(hand(&mut c.a, value) => |v| {
            if black_box(true) { return Err(BlockFailed); }
            Ok(v)
        })
    });
    black_box(out).is_err() as u32
}

#[inline]
pub fn b_generated_err(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let out: Result<u32, BlockFailed> = block_on(async {
        async_with!(generated(&mut c.a, value) => |v| {
            if black_box(true) { return Err(BlockFailed); }
            Ok(v)
        })
    });
    black_box(out).is_err() as u32
}

/// The block panics: the exit sees `Exit::Panic`, then the panic resumes out of
/// `async_with!` and is caught around the whole thing. Dominated by the unwinder.
#[inline]
pub fn a_hand_panic(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(async {
            async_with!(hand(&mut c.a, value) => |v| {
                if black_box(true) { panic!("block panicked"); }
                v
            })
        })
    }));
    black_box(caught).is_err() as u32
}

#[inline]
pub fn b_generated_panic(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(async {
            async_with!(generated(&mut c.a, value) => |v| {
                if black_box(true) { panic!("block panicked"); }
                v
            })
        })
    }));
    black_box(caught).is_err() as u32
}

// ---------------------------------------------------------------------------------------------
// Composition (issue 11): a manager built from two managers against the same two nested at the
// call site, and `ExitStack` against static nesting. A shared atomic counter, so that any
// number of managers can count at once (and stacked managers are `Send`).

#[async_context_manager]
pub async fn counted(counter: &std::sync::atomic::AtomicU64, value: u32) -> u32 {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let exit = r#yield!(value);
    counter.fetch_add(
        if exit.is_ok() { 1 } else { 2 },
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Two levels: `counted` inside `counted`, lending the sum on.
#[async_context_manager]
pub async fn two_levels(counter: &std::sync::atomic::AtomicU64, value: u32) -> u32 {
    async_with!(counted(counter, value) => |x| {
        async_with!(counted(counter, value) => |y| {
            r#yield!(x + y);
        })
    })
    .unwrap_or_else(|never: Infallible| match never {})
}

#[inline]
pub fn g_composed(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) =
        block_on(async { async_with!(two_levels(&c.shared, value) => |v| black_box(v) + 1) });
    out
}

#[inline]
pub fn g_nested(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async {
        async_with!(counted(&c.shared, value) => |x| {
            let Ok(sum) = async_with!(counted(&c.shared, value) => |y| black_box(x + y) + 1);
            sum
        })
    });
    out
}

/// `n` managers nested statically, each adding its target to the block's value.
macro_rules! nested {
    ($counter:expr;) => { 0 };
    ($counter:expr; $head:tt $($tail:tt)*) => {{
        let Ok(sum) = async_with!(counted($counter, black_box(1)) => |x| x + nested!($counter; $($tail)*));
        sum
    }};
}

#[inline]
pub fn s1_static(c: &mut Counters) -> u32 {
    block_on(async { nested!(&c.shared; x) })
}

#[inline]
pub fn s10_static(c: &mut Counters) -> u32 {
    block_on(async { nested!(&c.shared; x x x x x x x x x x) })
}

fn stack_of(c: &mut Counters, n: usize) -> u32 {
    let Ok(out) = block_on(async {
        async_with!(contextlib::ExitStack::<Infallible>::new() => |stack| {
            let mut sum = 0;
            for _ in 0..n {
                let Ok(x) = stack.enter(counted(&c.shared, black_box(1))).await;
                sum += x;
            }
            sum
        })
    });
    out
}

#[inline]
pub fn s1_stack(c: &mut Counters) -> u32 {
    stack_of(c, 1)
}

#[inline]
pub fn s10_stack(c: &mut Counters) -> u32 {
    stack_of(c, 10)
}

#[inline]
pub fn s1000_stack(c: &mut Counters) -> u32 {
    stack_of(c, 1000)
}

// ---------------------------------------------------------------------------------------------
// The decorator form (issue 12) against the same `async_with!` written by hand.

#[contextlib::with(counted(counter, value) => x)]
async fn decorated(counter: &std::sync::atomic::AtomicU64, value: u32) -> u32 {
    black_box(x) + 1
}

#[inline]
pub fn w_decorated(c: &mut Counters) -> u32 {
    block_on(decorated(&c.shared, black_box(1)))
}

#[inline]
pub fn w_hand(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) =
        block_on(async { async_with!(counted(&c.shared, value) => |x| black_box(x) + 1) });
    out
}

// ---------------------------------------------------------------------------------------------
// `concurrent` (issue 12) against the sequential tuple of the same two managers.

#[inline]
pub fn c2_concurrent(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async {
        async_with!(contextlib::concurrent((counted(&c.shared, value), counted(&c.shared, value))) => |(x, y)| {
            black_box(x) + black_box(y)
        })
    });
    out
}

#[inline]
pub fn c2_tuple(c: &mut Counters) -> u32 {
    let value = black_box(1);
    let Ok(out) = block_on(async {
        async_with!((counted(&c.shared, value), counted(&c.shared, value)) => |(x, y)| {
            black_box(x) + black_box(y)
        })
    });
    out
}
