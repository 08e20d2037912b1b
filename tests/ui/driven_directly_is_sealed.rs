// `DrivenDirectly` is sealed: which way `async_with!` drives a manager is contextlib's choice,
// declared next to each of its own managers. (Choosing it could only change whether the
// `async_with!` future is `Send`, never what runs; the impl is refused all the same.)
use contextlib::nullcontext;

struct Mine;

impl contextlib::__private::DrivenDirectly for Mine {}

fn main() {
    let _ = nullcontext(Mine);
}
