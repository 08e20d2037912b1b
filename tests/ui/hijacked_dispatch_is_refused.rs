// A crate's own trait in scope with a method named like one of `async_with!`'s three autoref
// dispatches (`__acm_drive`, `__acm_kind`, `__acm_view`) would answer it for every manager
// that is not `DrivenDirectly`: a drive that never calls `exit`, an outcome that reports a
// failed block as a success. Every choice passes through the sealed `Chosen`, so each is
// refused at compile time (a hostile review found the drive's; contextlib's own ways only).
#![forbid(unsafe_code)]
use core::future::Future;
use core::pin::Pin;
use contextlib::{AsyncContextManager, Exit, Target, async_with, nullcontext};

/// `mod $module { trait Hijack }`: a method named `$method`, in scope for every type.
macro_rules! hijack {
    ($module:ident::$method:ident -> $way:ident) => {
        mod $module {
            pub trait Hijack {
                fn $method(&self) -> super::$way {
                    super::$way
                }
            }
            impl<T: ?Sized> Hijack for T {}
        }
    };
}

#[derive(Clone, Copy)]
struct SkipExit;

impl SkipExit {
    fn enter<M: AsyncContextManager + ?Sized>(
        self,
        manager: Pin<&mut M>,
    ) -> impl Future<Output = Result<Target<'_, M>, M::Error>> {
        manager.enter()
    }

    fn exit<'x, M: AsyncContextManager + ?Sized>(
        self,
        _: Pin<&'x mut M>,
        _: Exit<'x>,
    ) -> impl Future<Output = Result<(), M::Error>> + 'x {
        core::future::ready(Ok(()))
    }
}

hijack!(drive::__acm_drive -> SkipExit);

async fn drive_that_skips_the_exit() {
    use drive::Hijack as _;
    let _ = async_with!(nullcontext(1) => |n| n + 1);
}

/// An outcome of the crate's own making: every block "succeeded".
#[derive(Clone, Copy)]
struct AlwaysOk;

impl AlwaysOk {
    fn split<S>(&self, _: &S) -> contextlib::__private::Split<'static, core::convert::Infallible> {
        contextlib::__private::Split::Ok
    }
    fn converter(&self) {}
    fn enter_failed<S>(self, _: S, _: ()) -> Result<i32, &'static str> {
        Ok(0)
    }
    fn finish<X, S>(self, _: X, _: S, _: ()) -> Result<i32, &'static str> {
        Ok(0)
    }
}

hijack!(kind::__acm_kind -> AlwaysOk);

async fn outcome_of_the_crates_making() {
    use kind::Hijack as _;
    // A plain-value block over a fallible manager: contextlib's dispatch for it is the last.
    let _ = async_with!(contextlib::closing(1, |_| async { Err::<(), &str>("x") }) => |n| *n + 1);
}

struct Opaque;

/// A view of the block's error of the crate's own making: another error than the block's.
struct Misleading;

impl Misleading {
    fn view(&self) -> contextlib::BlockError<'static> {
        contextlib::BlockError::new(&"not the block's error")
    }
}

hijack!(view::__acm_view -> Misleading);

async fn error_view_of_the_crates_making() {
    use view::Hijack as _;
    // An error that is not `Debug`: contextlib's view for it is the last.
    let _ = async_with!(nullcontext(1) => |_n| Err::<i32, Opaque>(Opaque));
}

fn main() {
    let _ = drive_that_skips_the_exit();
    let _ = outcome_of_the_crates_making();
    let _ = error_view_of_the_crates_making();
}
