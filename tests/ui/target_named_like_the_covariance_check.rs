// Review of the covariance check: a user type named like the witness's first argument
// (`TargetMustBeCovariantInTheManagerBorrow`), used as an invariant target. The name means
// nothing to the check: the witness's argument is contextlib's own type, and the invariant
// target is refused like any other.
use std::cell::Cell;
use std::marker::PhantomData;

use contextlib::async_context_manager;

pub struct TargetMustBeCovariantInTheManagerBorrow<'a, 'b>(&'a Cell<&'a String>, PhantomData<&'b ()>);

#[async_context_manager]
async fn disguised() -> TargetMustBeCovariantInTheManagerBorrow<'_, 'static> {
    let mine = String::from("slot's own string");
    let cell = Cell::new(&mine);
    r#yield!(self::TargetMustBeCovariantInTheManagerBorrow(&cell, PhantomData));
}

fn main() {}
