// A fallible manager's body ends with `Ok(())`; forgetting it is one error at the body's end
// (issue 15, item 12).
use contextlib::async_context_manager;

#[async_context_manager]
async fn forgets_ok() -> Result<u32, std::io::Error> {
    r#yield!(1);
    println!("teardown");
}

fn main() {}
