// Regression (issue 9, adversarial pass; issue 15 item 4): a guard on an or-pattern runs once per
// alternative, so a yield there could run twice and suspend the teardown forever.
use contextlib::async_context_manager;

#[async_context_manager]
async fn twice() -> u32 {
    match 1u8 {
        0 | _ if r#yield!(7).is_ok() => {}
        _ => {}
    }
}

fn main() {}
