// Yielding a value of another type than the declared target is one error, at the value.
use contextlib::async_context_manager;

#[async_context_manager]
async fn lends_text() -> u32 {
    r#yield!("forty-two");
}

fn main() {}
