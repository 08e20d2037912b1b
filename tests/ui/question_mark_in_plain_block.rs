// `?` in a block that returns a plain value: the block must return `Result` to use `?`.
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn number() -> u32 {
    r#yield!(1);
}

async fn parse() -> Result<u32, std::num::ParseIntError> {
    async_with!(number() => |n| {
        let parsed: u32 = "2".parse()?;
        n + parsed
    })
}

fn main() {
    let _ = parse();
}
