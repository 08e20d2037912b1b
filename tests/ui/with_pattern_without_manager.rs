// `#[with]` needs a manager before `=>` (issue 12).
#[contextlib::with(=> target)]
async fn no_manager() -> u32 {
    1
}

fn main() {}
