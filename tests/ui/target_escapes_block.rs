// The analogue of async-stream's unsoundness issue 107: a yielded reference must not outlive
// its referent (the manager's local), so it cannot leave the block.
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn lend() -> &mut String {
    let mut text = String::from("local to the manager");
    r#yield!(&mut text);
}

async fn escape() -> usize {
    let escaped = async_with!(lend() => |text| text).unwrap();
    escaped.len()
}

fn main() {
    let _ = escape();
}
