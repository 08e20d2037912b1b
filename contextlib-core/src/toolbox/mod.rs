//! Python's small managers: `nullcontext` and `closing`.

pub(crate) mod closing;
pub(crate) mod nullcontext;
