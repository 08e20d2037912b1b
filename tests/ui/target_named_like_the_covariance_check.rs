// Review of the covariance check: it declares a covariant local struct
// `TargetMustBeCovariantInTheManagerBorrow` in the generated fn's body, where a target path of
// that name resolves to it. A user's invariant type of the same name would pass the check if
// the manager's family were resolved elsewhere; it is not: the yield handle's family is written
// in the same body, so the body and the declared return type disagree and nothing compiles.
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
