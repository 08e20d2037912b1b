// The same mistake on a parameter of the surrounding `impl`, which the attribute cannot see:
// the covariance check refuses it, and the error names the rule it broke.
use contextlib::async_context_manager;

trait Pool {
    type Conn<'a>
    where
        Self: 'a;
    fn conn(&mut self) -> Self::Conn<'_>;
}

struct Wrapper<P>(P);

impl<P: Pool> Wrapper<P> {
    #[async_context_manager]
    async fn connection(&mut self) -> P::Conn<'_> {
        r#yield!(self.0.conn());
    }
}

fn main() {}
