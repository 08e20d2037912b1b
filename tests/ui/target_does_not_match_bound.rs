// A manager whose target is not the one a bound asks for: one error naming both targets.
use contextlib::{async_context_manager, async_with, AsyncContextManager, Lend};

#[async_context_manager]
async fn numbers() -> &mut Vec<u32> {
    let mut numbers = vec![1];
    r#yield!(&mut numbers);
}

async fn write_hello<M>(manager: M) -> usize
where
    M: AsyncContextManager + for<'a> Lend<'a, Target = &'a mut Vec<u8>>,
{
    async_with!(manager => |bytes| bytes.len()).unwrap_or(0)
}

fn main() {
    let _ = write_hello(numbers());
}
