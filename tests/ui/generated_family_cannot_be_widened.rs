// A hostile review's find (issue 20): `Generated<Fam, B>` was covariant in `Fam` while its body
// `B` keeps the family it was built with, so plain subtyping widened `Generated<NeedsStatic, B>`
// into `Generated<TakesBorrowed, B>`: the driver read the body's `fn(&'static str)` as a
// `fn(&'m str)`, and the block handed a short borrow to a fn that kept it as `'static` (a
// use-after-free from safe code under Miri, both models). `Generated` is now invariant in its
// family: the widening does not compile.
use std::cell::RefCell;
use std::marker::PhantomData;

use contextlib::__private::generated;
use contextlib::expansion::{Body, Lent};
use contextlib::{async_with, Generated};

type NeedsStatic = for<'a, 'b> fn(&'a (), &'b ()) -> fn(&'b str);
type TakesBorrowed = for<'a, 'b> fn(&'a (), &'b ()) -> fn(&'a str);

thread_local! {
    static KEPT: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

fn keep(text: &'static str) {
    KEPT.with(|kept| kept.borrow_mut().push(text));
}

fn widen<B: Body>(manager: Generated<NeedsStatic, B>) -> Generated<TakesBorrowed, B> {
    manager
}

fn main() {
    let manager = generated::<NeedsStatic, _, _, _>(
        |_, Lent(keep, _)| Lent(keep, PhantomData),
        |mut yielder| async move {
            yielder.yield_(keep as fn(&'static str)).await;
        },
    );
    let manager = widen(manager);
    let short = String::from("freed when this scope ends");
    let _ = futures_executor::block_on(async { async_with!(manager => |keep| keep(&short)) });
}
