// `__private::Guard` is what `async_with!` holds while a manager is entered. Its "owes an exit"
// flag was a `&mut bool`: set by hand, the guard cancelled (and reported) a manager that never
// entered (issue 20). The flag is an `Arm` now, which only a successful enter sets.
use std::pin::pin;

#[contextlib::async_context_manager]
async fn generated() -> u8 {
    r#yield!(1);
}

fn main() {
    let manager = pin!(generated());
    let mut guard = contextlib::__private::Guard::new(manager);
    let (_manager, armed) = guard.entering();
    *armed = true;
}
