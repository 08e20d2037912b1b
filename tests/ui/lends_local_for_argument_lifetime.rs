// A target declared with an argument's lifetime cannot borrow the manager's own local.
use contextlib::async_context_manager;

#[async_context_manager]
async fn name<'a>(prefix: &'a str) -> &'a str {
    let name = format!("{prefix}-local");
    r#yield!(&name);
}

fn main() {}
