async fn plain() -> u32 {
    contextlib::r#yield!(1);
    1
}

fn main() {
    let _ = plain();
}
