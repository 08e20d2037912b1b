// A target declared `'static` cannot borrow the manager's local: lend a borrow of the manager
// (`-> &str`, elided) instead.
use contextlib::async_context_manager;

#[async_context_manager]
async fn name() -> &'static str {
    let name = String::from("local");
    r#yield!(&name);
}

fn main() {}
