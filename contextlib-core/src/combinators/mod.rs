//! Managers made of managers: tuples, `concurrent` (and the join it is built on), `ExitStack`,
//! `Either`, `Option<M>`, and the type-erased `BoxManager`.

pub(crate) mod boxed;
pub(crate) mod concurrent;
pub(crate) mod either;
pub(crate) mod join;
pub(crate) mod optional;
pub(crate) mod stack;
pub(crate) mod tuple;
