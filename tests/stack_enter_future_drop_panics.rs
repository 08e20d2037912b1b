//! Every manager that entered is exited or reported, even when its enter future's `Drop`
//! panics right after the enter completed (issue 20, item 4: `StackEnter::poll` dropped the
//! finished enter future before pushing the manager onto the stack, so that panic leaked an
//! entered manager, never exited, cancelled or reported).
use contextlib::{AsyncContextManager, BoxExit, Exit, ExitStack, SendAsyncContextManager};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// A hand-written manager whose enter future completes at once, and panics when dropped (outside
/// an unwind); with `fails`, the enter fails.
struct HandMade {
    value: u32,
    log: &'static Mutex<Vec<String>>,
    fails: bool,
}

impl<'a> contextlib::Lend<'a> for HandMade {
    type Target = &'a mut u32;
}

impl AsyncContextManager for HandMade {
    type Error = &'static str;
    async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, &'static str> {
        Ok(&mut self.get_mut().value)
    }
    async fn exit(self: Pin<&mut Self>, exit: Exit<'_>) -> Result<(), &'static str> {
        self.log.lock().unwrap().push(format!("exit {exit:?}"));
        Ok(())
    }
}

struct EnterThenPanicOnDrop<'m>(Option<Pin<&'m mut HandMade>>);

impl<'m> Future for EnterThenPanicOnDrop<'m> {
    type Output = Result<&'m mut u32, &'static str>;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        let manager = self.0.take().unwrap().get_mut();
        manager.log.lock().unwrap().push("entered".into());
        if manager.fails {
            return Poll::Ready(Err("the enter failed"));
        }
        Poll::Ready(Ok(&mut manager.value))
    }
}

impl Drop for EnterThenPanicOnDrop<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the enter future's Drop panics");
        }
    }
}

impl SendAsyncContextManager for HandMade {
    type EnterFuture<'m> = EnterThenPanicOnDrop<'m>;
    type ExitFuture<'x> = BoxExit<'x, &'static str>;
    fn enter_send(self: Pin<&mut Self>) -> EnterThenPanicOnDrop<'_> {
        EnterThenPanicOnDrop(Some(self))
    }
    fn exit_send<'x>(self: Pin<&'x mut Self>, exit: Exit<'x>) -> BoxExit<'x, &'static str> {
        Box::pin(self.exit(exit))
    }
}

/// Polls `stack.enter` of a `HandMade` (logging to `log`, failing its enter if `fails`) once;
/// the enter future's `Drop` panic must propagate.
fn poll_once_catching(
    stack: &ExitStack<'_, &'static str>,
    log: &'static Mutex<Vec<String>>,
    fails: bool,
) {
    let manager = HandMade {
        value: 1,
        log,
        fails,
    };
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut enter = pin!(stack.enter(manager));
        let _ = enter.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }));
    let panic = *polled
        .expect_err("the Drop panic propagates")
        .downcast::<&str>()
        .unwrap();
    assert_eq!(panic, "the enter future's Drop panics");
}

#[test]
fn an_entered_manager_is_kept_when_its_finished_enter_future_panics_in_drop() {
    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stack = ExitStack::<&'static str>::new();
    poll_once_catching(&stack, &LOG, false);
    assert_eq!(stack.len(), 1, "the manager entered: the stack holds it");
    drop(stack); // its exit never ran: the stack cancels what it holds
    assert_eq!(*LOG.lock().unwrap(), ["entered", "exit Cancelled"]);
}

#[test]
fn an_entered_manager_is_exited_by_close_after_that_panic() {
    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut stack = ExitStack::<&'static str>::new();
    poll_once_catching(&stack, &LOG, false);
    futures_executor::block_on(stack.close()).unwrap();
    assert_eq!(*LOG.lock().unwrap(), ["entered", "exit Ok"]);
}

#[test]
fn a_failed_enter_whose_future_panics_in_drop_keeps_nothing() {
    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stack = ExitStack::<&'static str>::new();
    poll_once_catching(&stack, &LOG, true);
    assert!(
        stack.is_empty(),
        "a manager that failed to enter is not kept"
    );
    drop(stack);
    assert_eq!(*LOG.lock().unwrap(), ["entered"]);
}
