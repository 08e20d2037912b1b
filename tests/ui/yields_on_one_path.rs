// Mutually exclusive branches may each yield, but a yield after the branches is a second yield
// on the same path (issue 15, item 11).
use contextlib::async_context_manager;

#[async_context_manager]
async fn twice(fast: bool) -> u32 {
    if fast {
        r#yield!(1);
    } else {
        r#yield!(2);
    }
    r#yield!(3);
}

fn main() {}
