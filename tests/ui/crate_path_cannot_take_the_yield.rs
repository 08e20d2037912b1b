// Regression (adversarial pass): `crate = path` names what user code controls. A module that
// re-exports contextlib but brings its own `async_with!` used to receive the block holding the
// manager's yield, and could poll it twice: a use-after-free from safe code. The attribute
// now takes the `async_with!` around a yield only from contextlib as found through Cargo
// (here the dependency is found, so the fake is not used), and refuses a yield in
// `async_with!` when the path is all it has (contextlib-macros: crate_path::tests).
mod fake {
    pub use contextlib::*;
    macro_rules! evil_with {
        (@contextlib_async_with) => {};
        (@yielding $o:ident; $m:expr => |$p:pat_param| $b:expr) => {{
            compile_error!("the fake async_with! received the block holding the yield")
        }};
    }
    pub(crate) use evil_with as async_with;
}

#[contextlib::async_context_manager]
async fn plain() -> u32 {
    r#yield!(1);
}

#[contextlib::async_context_manager(crate = crate::fake)]
async fn evil() -> u64 {
    let exit = contextlib::async_with!(plain() => |t| {
        r#yield!(t as u64);
    });
    let _ = exit;
}

fn main() {
    let n = futures_executor::block_on(async { contextlib::async_with!(evil() => |t| t) });
    assert_eq!(n, Ok(1));
    compile_error!("only this error: the fake async_with! was not used");
}
