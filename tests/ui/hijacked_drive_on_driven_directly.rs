// A hostile crate's own `__acm_drive`, in scope for every type, meets contextlib's drive for a
// manager that is `DrivenDirectly` (here a tuple) at the same autoderef step: the call is
// ambiguous, so the hijack is refused at compile time instead of choosing what runs. (Over any
// other manager, `Chosen` refuses it: ui/hijacked_dispatch_is_refused.)
#![forbid(unsafe_code)]
use contextlib::{async_with, nullcontext};

#[derive(Clone, Copy)]
struct Mine;

trait Hijack {
    fn __acm_drive(&self) -> Mine {
        Mine
    }
}

impl<T: ?Sized> Hijack for T {}

fn main() {
    let _ = async {
        let _ = async_with!((nullcontext(1), nullcontext(2)) => |(a, b)| a + b);
    };
}
