// A refused manager is one error, at the mistake, not one more at every `async_with!` that uses
// it: the fn left in its place returns a manager of the declared target and error (issue 15,
// item 13).
use contextlib::{async_context_manager, async_with};

#[async_context_manager]
async fn lend(name: &str) -> Result<&mut String, std::io::Error> {
    let mut owned = name.to_string();
    let lend = |value: &mut String| r#yield!(value);
    lend(&mut owned);
    Ok(())
}

async fn callers() -> std::io::Result<usize> {
    let a = async_with!(lend("a") => |text| {
        text.push('!');
        Ok::<_, std::io::Error>(text.len())
    })?;
    let b = async_with!(lend("b") => |text| text.len())?;
    Ok(a + b)
}

fn main() {
    let _ = callers;
}
