// A target type written by a macro would hide its lifetimes from the attribute's checks.
use contextlib::async_context_manager;

macro_rules! text {
    () => { &'static str };
}

#[async_context_manager]
async fn lend() -> text!() {
    r#yield!("hello");
}

fn main() {}
