async fn plain() -> u32 {
    acm::r#yield!(1);
    1
}

fn main() {
    let _ = plain();
}
