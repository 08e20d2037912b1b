//! The manager `#[async_context_manager]` returns: a pinned coroutine driven to its yield
//! point by `enter` and from there to completion by `exit`.

use core::cell::UnsafeCell;
use core::future::Future;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll};

use crate::family::Family;
use crate::output::BodyOutput;
use crate::slot::{Slot, SlotRef};
use crate::yield_point::Yielder;
use crate::{AsyncContextManager, Exit};

/// The not-yet-started body of a generated manager.
pub trait Body {
    /// The body's coroutine.
    type Fut: Future;
    /// Creates the coroutine, handing it the yield handle of the manager's slot.
    fn start(self, slot: SlotRef) -> Self::Fut;
    /// The generated fn's path, for panic messages.
    fn name() -> &'static str;
}

/// A body closure, typed by the target family its yield handle accepts.
pub struct Start<Fam, C> {
    body: C,
    _family: PhantomData<Fam>,
}

impl<Fam, C, Fut> Body for Start<Fam, C>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future,
{
    type Fut = Fut;

    fn start(self, slot: SlotRef) -> Fut {
        (self.body)(Yielder::new(slot))
    }

    fn name() -> &'static str {
        let closure = core::any::type_name::<C>();
        closure.strip_suffix("::{{closure}}").unwrap_or(closure)
    }
}

type ErrorOf<B> = <<<B as Body>::Fut as Future>::Output as BodyOutput>::Error;

enum State<B, F> {
    Init(B),
    Running(F),
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Fresh,
    Entering,
    Entered,
    Exiting,
    Done,
}

/// A manager written as one `async fn` with a single `r#yield!`.
///
/// This is what an `#[async_context_manager]` fn returns; its body runs on
/// [`enter`](AsyncContextManager::enter), not when the fn is called. It is one-shot, like
/// Python's: enter it once (with [`async_with!`](crate::async_with)).
///
/// It is `Send` and `Sync` exactly when the fn's arguments and the locals it holds across
/// `.await` are.
///
/// ```
/// use acm::{async_context_manager, async_with};
///
/// #[async_context_manager]
/// async fn greeting(name: &str) -> String {
///     r#yield!(format!("hello, {name}"));
/// }
///
/// # futures_executor::block_on(async {
/// let manager = greeting("world"); // nothing has run yet
/// assert_eq!(async_with!(manager => |text| text.len()), Ok(12));
/// # });
/// ```
pub struct Generated<Fam, B: Body> {
    state: UnsafeCell<ManuallyDrop<State<B, B::Fut>>>,
    slot: Slot,
    phase: Phase,
    _family: PhantomData<Fam>,
    _pinned: PhantomPinned,
}

// SAFETY: every access to the interior goes through `Pin<&mut Self>`; `&Generated` gives no
// access at all, so sharing it is as safe as sharing its parts. Exercised by tests/send.rs.
unsafe impl<Fam, B: Body + Sync> Sync for Generated<Fam, B> where B::Fut: Sync {}

impl<Fam, C, Fut> Generated<Fam, Start<Fam, C>>
where
    C: FnOnce(Yielder<Fam>) -> Fut,
    Fut: Future,
{
    /// Wraps a body closure; nothing runs until `enter`.
    pub fn new(body: C) -> Self {
        Generated {
            state: UnsafeCell::new(ManuallyDrop::new(State::Init(Start {
                body,
                _family: PhantomData,
            }))),
            slot: Slot::new(),
            phase: Phase::Fresh,
            _family: PhantomData,
            _pinned: PhantomPinned,
        }
    }
}

impl<Fam, B: Body> Generated<Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    /// # Safety
    /// `this` points to a pinned, live manager that nothing else accesses during the call.
    unsafe fn state(this: *mut Self) -> *mut State<B, B::Fut> {
        // SAFETY: caller; `raw_get` creates no reference, and `ManuallyDrop` is transparent.
        unsafe { UnsafeCell::raw_get(ptr::addr_of!((*this).state)).cast() }
    }

    /// # Safety
    /// As for `state`.
    unsafe fn slot(this: *mut Self) -> SlotRef {
        // SAFETY: caller.
        unsafe { Slot::handle(ptr::addr_of!((*this).slot)) }
    }

    /// # Safety
    /// As for `state`, and the state is `Running`.
    unsafe fn poll_body(this: *mut Self, cx: &mut Context<'_>) -> Poll<<B::Fut as Future>::Output> {
        // SAFETY: a `&mut` to a `!Unpin` coroutine is not retagged as unique, so it does not
        // invalidate borrows the coroutine lent to its own locals (tests/borrowed_target.rs
        // under Miri, both borrow models). The coroutine never moves: it is pinned in `this`.
        match unsafe { &mut *Self::state(this) } {
            State::Running(body) => unsafe { Pin::new_unchecked(body) }.poll(cx),
            _ => unreachable!("acm: the body of `{}` is not running", B::name()),
        }
    }

    /// # Safety
    /// As for `state`.
    unsafe fn finish_body(this: *mut Self) {
        // SAFETY: caller. Assignment drops the coroutine in place (it never moves) and leaves
        // `Done` even if a destructor unwinds.
        unsafe {
            *Self::state(this) = State::Done;
            (*this).phase = Phase::Done;
        }
    }

    /// Drives the body to its yield point; `Ok` carries the address of the lent target.
    ///
    /// # Safety
    /// As for `state`.
    unsafe fn poll_enter(
        this: *mut Self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<*mut (), ErrorOf<B>>> {
        // SAFETY: caller, for every access to `*this` below.
        unsafe {
            match (*this).phase {
                Phase::Fresh => {
                    let state = Self::state(this);
                    let State::Init(body) = ptr::replace(state, State::Done) else {
                        unreachable!("acm: fresh manager without a body")
                    };
                    ptr::write(state, State::Running(body.start(Self::slot(this))));
                    (*this).phase = Phase::Entering;
                }
                Phase::Entering => {}
                _ => panic!(
                    "acm: `{}` was entered twice: a generated manager is entered at most once",
                    B::name()
                ),
            }
            let slot = Self::slot(this);
            slot.take();
            // Poisoned while the body runs: a panic in setup leaves a manager that refuses
            // further use instead of resuming a panicked coroutine.
            (*this).phase = Phase::Done;
            match Self::poll_body(this, cx) {
                Poll::Ready(output) => {
                    Self::finish_body(this);
                    match output.into_result() {
                        Err(error) => Poll::Ready(Err(error)),
                        Ok(()) => panic!("acm: `{}` returned before its yield point", B::name()),
                    }
                }
                Poll::Pending => {
                    let target = slot.take();
                    if target.is_null() {
                        (*this).phase = Phase::Entering;
                        Poll::Pending
                    } else {
                        (*this).phase = Phase::Entered;
                        Poll::Ready(Ok(target))
                    }
                }
            }
        }
    }

    /// Drives the body from its yield point to completion, handing it `exit` on the first poll.
    ///
    /// # Safety
    /// As for `state`; `exit` stays valid until the body completes or is dropped.
    unsafe fn poll_exit(
        this: *mut Self,
        exit: Option<*const Exit<'_>>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ErrorOf<B>>> {
        // SAFETY: caller, for every access to `*this` below.
        unsafe {
            let slot = Self::slot(this);
            match ((*this).phase, exit) {
                (Phase::Entered, Some(exit)) => slot.publish(exit.cast_mut().cast()),
                (Phase::Exiting, None) => {}
                _ => panic!(
                    "acm: exit of `{}` called without a successful enter, or twice",
                    B::name()
                ),
            }
            (*this).phase = Phase::Done;
            let polled = Self::poll_body(this, cx);
            slot.take();
            match polled {
                Poll::Ready(output) => {
                    Self::finish_body(this);
                    Poll::Ready(output.into_result())
                }
                Poll::Pending => {
                    (*this).phase = Phase::Exiting;
                    Poll::Pending
                }
            }
        }
    }
}

impl<Fam, B: Body> Drop for Generated<Fam, B> {
    fn drop(&mut self) {
        if self.phase == Phase::Exiting {
            // The teardown was suspended and its `ExitFuture` forgotten: the coroutine may hold
            // an `Exit` borrowing a block error that no longer exists, so its destructors must
            // not run. Leaking is the only sound choice (tests/exit.rs::forgotten_exit_leaks).
            return;
        }
        // SAFETY: the state is dropped exactly once, here; the manager is pinned, so the
        // coroutine is dropped in place.
        unsafe { ManuallyDrop::drop(self.state.get_mut()) }
    }
}

impl<Fam, B> AsyncContextManager for Generated<Fam, B>
where
    Fam: for<'a> Family<'a>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
{
    type Target<'a>
        = <Fam as Family<'a>>::Target
    where
        Self: 'a;
    type Error = ErrorOf<B>;

    #[allow(refining_impl_trait)]
    fn enter(self: Pin<&mut Self>) -> EnterFuture<'_, Fam, B> {
        EnterFuture {
            manager: Some(self),
        }
    }

    #[allow(refining_impl_trait)]
    fn exit<'m, 'e>(self: Pin<&'m mut Self>, exit: Exit<'e>) -> ExitFuture<'m, 'e, Fam, B> {
        ExitFuture {
            manager: self,
            exit,
            started: false,
            finished: false,
        }
    }

    fn name(&self) -> &'static str {
        B::name()
    }
}

/// The future of a generated manager's `enter`.
pub struct EnterFuture<'m, Fam, B: Body> {
    manager: Option<Pin<&'m mut Generated<Fam, B>>>,
}

impl<'m, Fam, B> Future for EnterFuture<'m, Fam, B>
where
    Fam: Family<'m>,
    B: Body,
    <B::Fut as Future>::Output: BodyOutput,
{
    type Output = Result<<Fam as Family<'m>>::Target, ErrorOf<B>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let manager = this
            .manager
            .as_mut()
            .expect("acm: `enter` polled after it completed");
        // SAFETY: the manager is pinned and exclusively borrowed for 'm by this future.
        let raw: *mut Generated<Fam, B> = unsafe { manager.as_mut().get_unchecked_mut() };
        // SAFETY: `raw` is pinned, live and ours alone for the call.
        let polled = unsafe { Generated::poll_enter(raw, cx) };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.manager = None;
                Poll::Ready(result.map(|target| {
                    // SAFETY: `target` is the address of the body's `Option<T<'v>>`, suspended
                    // at its yield point inside the manager, which this future borrowed for
                    // 'm and no longer touches. `T` is covariant in its lifetime (checked by
                    // the attribute), and 'v outlives the suspension, which outlives 'm: the
                    // manager cannot resume or drop the body while the target borrows it.
                    // Exercised by tests/borrowed_target.rs under Miri.
                    let target = target.cast::<Option<<Fam as Family<'m>>::Target>>();
                    unsafe { ptr::replace(target, None) }
                        .expect("acm: yield point without a target")
                }))
            }
        }
    }
}

/// The future of a generated manager's `exit`.
///
/// Dropping it before it completes drops the rest of the teardown in place, so the coroutine
/// never outlives the `Exit` (and the block error) it was given.
pub struct ExitFuture<'m, 'e, Fam, B: Body>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    manager: Pin<&'m mut Generated<Fam, B>>,
    exit: Exit<'e>,
    started: bool,
    finished: bool,
}

impl<Fam, B: Body> Future for ExitFuture<'_, '_, Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    type Output = Result<(), ErrorOf<B>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "acm: `exit` polled after it completed");
        let exit = (!this.started).then_some(&this.exit as *const Exit<'_>);
        this.started = true;
        // SAFETY: the manager is pinned and exclusively borrowed by this future.
        let raw = unsafe { this.manager.as_mut().get_unchecked_mut() };
        // SAFETY: `raw` is ours for the call; `this.exit` lives as long as this future, and
        // `Drop` below ends the body before this future (and the `Exit`) goes away.
        let polled = unsafe { Generated::poll_exit(raw, exit, cx) };
        this.finished = polled.is_ready();
        polled
    }
}

impl<Fam, B: Body> Drop for ExitFuture<'_, '_, Fam, B>
where
    <B::Fut as Future>::Output: BodyOutput,
{
    fn drop(&mut self) {
        if self.started && !self.finished {
            // SAFETY: the manager is pinned and ours; dropping the suspended teardown here,
            // while `self.exit` is still alive, keeps the coroutine from outliving it.
            // Exercised by tests/exit.rs::dropped_exit_ends_the_teardown under Miri.
            unsafe { Generated::finish_body(self.manager.as_mut().get_unchecked_mut()) }
        }
    }
}
