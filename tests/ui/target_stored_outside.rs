use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn lend() -> &str {
    let text = String::from("local to the manager");
    r#yield!(&text);
}

async fn store() {
    let mut kept: Vec<&str> = Vec::new();
    let _ = async_with!(lend() => |text| kept.push(text));
    println!("{kept:?}");
}

fn main() {
    let _ = store();
}
