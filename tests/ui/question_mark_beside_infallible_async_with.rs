// An `async_with!` over an infallible manager around a plain block, as the value of a block
// that also uses `?` on the manager's error: the block's type is the inner `Result<u32,
// Infallible>`, which the `?` cannot convert `Boom` into. Written `Ok(async_with!(..)
// .into_value())`, it compiles (issue 22, item 4). The error is rustc's own `?` error, one, on
// the `?`.
use contextlib::{async_context_manager, async_with};

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}

#[async_context_manager]
async fn opened() -> Result<u32, Boom> {
    r#yield!(1);
    Ok(())
}

#[async_context_manager]
async fn plain() -> u32 {
    r#yield!(2);
}

fn check(n: u32) -> Result<u32, Boom> {
    if n > 9 { Err(Boom) } else { Ok(n) }
}

async fn run() -> Result<u32, Boom> {
    async_with!(opened() => |x| {
        let x = check(x)?;
        async_with!(plain() => |y| x + y)
    })
}

fn main() {
    let _ = check;
    let _ = run();
}
