// The manager's type names its lifetimes `'target` and `'elided` (readable in rustdoc, hover and
// errors), fresh against every name the fn spells. A lifetime of the surrounding `impl` that the
// fn never spells is out of the attribute's sight: the collision is a compile error, never a
// silent capture. Renaming the impl's lifetime, or spelling it in the fn, resolves it.
use contextlib::async_context_manager;

struct Pool<'target>(&'target str);

impl<'target> Pool<'target> {
    #[async_context_manager]
    async fn size(&self) -> usize {
        r#yield!(self.0.len());
    }
}

fn main() {}
