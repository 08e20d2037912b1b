// A hand-written manager still written with the former `type Target<'a>`: the compiler says
// the one-line migration (`impl<'a> Lend<'a> for Counter { type Target = ..; }`).
use std::convert::Infallible;
use std::pin::Pin;

use contextlib::{AsyncContextManager, Exit};

struct Counter(u32);

impl AsyncContextManager for Counter {
    type Target<'a> = &'a mut u32 where Self: 'a;
    type Error = Infallible;

    async fn enter(self: Pin<&mut Self>) -> Result<&mut u32, Infallible> {
        Ok(&mut self.get_mut().0)
    }

    async fn exit(self: Pin<&mut Self>, _: Exit<'_>) -> Result<(), Infallible> {
        Ok(())
    }
}

fn main() {}
