// A manager that borrows cannot be detached: its teardown would outlive what it borrows.
// This is a compile error, never a silently skipped teardown.
use contextlib::tokio::detach_on_cancel;
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn borrows(name: &str) -> usize {
    r#yield!(name.len());
}

async fn run() {
    let name = String::from("pool");
    let _ = async_with!(detach_on_cancel(borrows(&name)) => |n| n);
}

fn main() {
    let _ = run();
}
