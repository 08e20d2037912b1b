use contextlib::{async_context_manager, async_with, ExitStack};

#[derive(Debug)]
struct DbError;
impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("db")
    }
}

#[derive(Debug)]
struct IoError;

#[async_context_manager]
async fn file() -> Result<u32, IoError> {
    r#yield!(1);
    Ok(())
}

async fn run() -> Result<u32, DbError> {
    async_with!(ExitStack::<DbError>::new() => |stack| {
        let n = stack.enter(file()).await.unwrap();
        Ok::<_, DbError>(n)
    })
}

fn main() {
    let _ = run();
}
