use contextlib::{async_context_manager, async_with};

#[derive(Debug)]
struct ManagerError;
impl std::fmt::Display for ManagerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("manager")
    }
}

#[derive(Debug)]
struct BlockError;

#[async_context_manager]
async fn fallible() -> Result<u32, ManagerError> {
    r#yield!(1);
    Ok(())
}

async fn run() -> Result<u32, BlockError> {
    async_with!(fallible() => |n| Ok::<_, BlockError>(n))
}

fn main() {
    let _ = run();
}
