// `Option<&mut dyn Write>` is accepted (its trait object's lifetime shortens by a coercion), but
// not behind `&mut`: a block could store a shorter-lived writer in the manager's `Option`.
use std::io::Write;

use contextlib::async_context_manager;

#[async_context_manager]
async fn slot() -> &mut Option<&mut dyn Write> {
    let mut buffer = Vec::new();
    let mut slot: Option<&mut dyn Write> = Some(&mut buffer);
    r#yield!(&mut slot);
}

fn main() {}
