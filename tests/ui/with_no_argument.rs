// `#[with]` needs a manager (issue 12).
#[contextlib::with()]
async fn no_manager() -> u32 {
    1
}

fn main() {}
