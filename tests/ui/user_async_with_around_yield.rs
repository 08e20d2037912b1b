// A user macro named `async_with` around the yield is refused: its expansion could put the
// yield where something other than the manager polls it (issue 11). The attribute asks the
// macro the user named whether it is contextlib's; this one is not.
use contextlib::async_context_manager;

macro_rules! async_with {
    ($manager:expr => |$target:pat_param| $body:expr) => {
        contextlib::async_with!($manager => |$target| $body)
    };
}

#[async_context_manager]
async fn inner() -> u32 {
    r#yield!(1);
}

#[async_context_manager]
async fn outer() -> u32 {
    async_with!(inner() => |n| {
        r#yield!(n + 1);
    })
    .unwrap_or(())
}

fn main() {}
