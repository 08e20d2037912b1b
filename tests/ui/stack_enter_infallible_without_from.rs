use contextlib::{async_context_manager, async_with, ExitStack};

#[derive(Debug)]
struct DbError;
impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("db")
    }
}

#[async_context_manager]
async fn timer() -> u32 {
    r#yield!(1);
}

async fn run() -> Result<u32, DbError> {
    async_with!(ExitStack::<DbError>::new() => |stack| {
        let n = stack.enter(timer()).await.unwrap();
        Ok::<_, DbError>(n)
    })
}

fn main() {
    let _ = run();
}
