// A body (built by calling `generated` directly) tries to keep the block's `Exit` beyond its
// coroutine, in a place the caller reads after the teardown: the `Exit` borrows the yield
// handle inside the coroutine, so it cannot leave it.
#![forbid(unsafe_code)]
use std::cell::RefCell;
use std::marker::PhantomData;

use contextlib::Exit;
use contextlib::__private::generated;
use contextlib::expansion::Lent;

type Owned = for<'a, 'b> fn(&'a (), &'b ()) -> u32;

fn main() {
    let kept: RefCell<Option<Exit<'static>>> = RefCell::new(None);
    let kept = &kept;
    let _manager = generated::<Owned, _, _, _>(
        |_, Lent(value, _)| Lent(value, PhantomData),
        move |mut yielder| async move {
            let exit = yielder.yield_(1).await;
            *kept.borrow_mut() = Some(exit);
        },
    );
}
