// A tuple of managers needs one error type: mixing `io::Error` and `fmt::Error` is a common
// mistake (issue 15, item 14).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn file() -> Result<u32, std::io::Error> {
    r#yield!(1);
    Ok(())
}

#[async_context_manager]
async fn formatter() -> Result<u32, std::fmt::Error> {
    r#yield!(2);
    Ok(())
}

async fn both() -> Result<u32, std::io::Error> {
    async_with!((file(), formatter()) => |(a, b)| Ok::<_, std::io::Error>(a + b))
}

fn main() {
    let _ = both();
}
