// A generic associated type cannot borrow from the manager (`P::Conn<'_>`): the compiler treats
// it as invariant in that lifetime, so it cannot be handed out for a shorter borrow. Naming the
// argument's lifetime (`P::Conn<'p>`) works (tests/macro_edges.rs). Issue 15, item 10.
use contextlib::async_context_manager;

trait Pool {
    type Conn<'a>
    where
        Self: 'a;
    fn conn(&mut self) -> Self::Conn<'_>;
}

#[async_context_manager]
async fn connection<P: Pool>(pool: &mut P) -> P::Conn<'_> {
    r#yield!(pool.conn());
}

fn main() {}
