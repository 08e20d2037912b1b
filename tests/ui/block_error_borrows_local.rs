// A block error that borrows a local (here `&str` into `name`) is refused: the manager may
// downcast the block's error (`BlockError::downcast_ref`), which needs a `'static` type, and
// `async_with!` cannot tell a `'static` error type from a borrowing one (the compiler erases
// lifetimes where the choice is made). Return an owned error (`name.clone()`, `to_string()`).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn scope() -> u32 {
    r#yield!(1);
}

async fn check(name: String) -> Result<u32, &'static str> {
    let local = name.clone();
    let outcome: Result<u32, &str> = async_with!(scope() => |n| {
        if n == 1 { return Err(local.as_str()); }
        Ok(n)
    });
    outcome.map_err(|_| "failed")
}

fn main() {
    let _ = check(String::from("db"));
}
