//! Managers whose target names a type parameter of the fn or of the impl around it, borrowed
//! or owned, are lent like any other (a bound on the target's family must not ask `P: 'static`).

use contextlib::{async_context_manager, async_with};

trait Pool {
    type Item;
    type Conn<'a>
    where
        Self: 'a;
    fn conn(&mut self) -> Self::Conn<'_>;
}

struct Numbers(Vec<u32>);

impl Pool for Numbers {
    type Item = u32;
    type Conn<'a> = &'a mut Vec<u32>;
    fn conn(&mut self) -> &mut Vec<u32> {
        &mut self.0
    }
}

struct Wrapper<P: Pool> {
    pool: P,
    first: P::Item,
}

impl<P: Pool> Wrapper<P> {
    #[async_context_manager]
    async fn first(&self) -> &P::Item {
        r#yield!(&self.first);
    }

    #[async_context_manager]
    async fn pool(&mut self) -> &mut P {
        r#yield!(&mut self.pool);
    }
}

#[async_context_manager]
async fn lend_local<T: Clone>(value: &T) -> &T {
    let copy = value.clone();
    r#yield!(&copy);
}

#[async_context_manager]
async fn owned<T>(value: T) -> T {
    r#yield!(value);
}

#[test]
fn targets_naming_type_parameters_are_lent() {
    futures_executor::block_on(async {
        let mut wrapper = Wrapper {
            pool: Numbers(vec![1, 2]),
            first: 7,
        };
        assert_eq!(async_with!(wrapper.first() => |first| *first), Ok(7));
        let len = async_with!(wrapper.pool() => |pool| {
            pool.conn().push(3);
            pool.conn().len()
        });
        assert_eq!(len, Ok(3));
        let text = String::from("borrowed");
        assert_eq!(async_with!(lend_local(&text) => |copy| copy.len()), Ok(8));
        assert_eq!(async_with!(owned(vec![1u8]) => |v| v.len()), Ok(1));
    });
}
