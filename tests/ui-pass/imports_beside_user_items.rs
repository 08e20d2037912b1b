// Importing contextlib's macros by name, or all of it by glob, brings nothing that collides with
// a user's own items: the expansion's named items live in `contextlib::expansion`, not at the
// root (a root `fn async_with` came along with `use contextlib::async_with`, E0255; a root
// `Body` made `Body` ambiguous beside another crate's glob).
mod web {
    pub struct Body;
}

mod by_name {
    use contextlib::{async_with, nullcontext, with};

    pub fn async_with() {}
    pub mod with {}

    pub async fn run() -> u32 {
        async_with!(nullcontext(1u32) => |x| x + 1).unwrap()
    }

    #[with(nullcontext(2u32) => n)]
    pub async fn decorated() -> u32 {
        n
    }
}

mod by_glob {
    use super::web::*;
    use contextlib::*;

    pub fn body() -> Body {
        Body
    }

    pub async fn run() -> u32 {
        async_with!(nullcontext(1u32) => |x| x).unwrap()
    }
}

fn main() {
    by_name::async_with();
    let _ = by_name::run();
    let _ = by_name::decorated();
    let _ = by_glob::body();
    let _ = by_glob::run();
}
