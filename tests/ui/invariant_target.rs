// `&mut Tx<'_>`: both elided lifetimes would mean "the manager borrow", but `&mut` is invariant
// in `Tx<'_>`, so the target could not be handed out for a shorter borrow soundly.
use contextlib::async_context_manager;

struct Tx<'db>(&'db mut Vec<u8>);

#[async_context_manager]
async fn transaction(db: &mut Vec<u8>) -> &mut Tx<'_> {
    let mut tx = Tx(db);
    r#yield!(&mut tx);
}

fn main() {}
