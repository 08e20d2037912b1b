// `concurrent` needs one error type, as a tuple does: a mismatch is two errors naming both types.
use contextlib::{async_context_manager, async_with, concurrent};

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
    async_with!(concurrent((file(), formatter())) => |(a, b)| Ok::<_, std::io::Error>(a + b))
}

fn main() {
    let _ = both();
}
