//! A framework that hands contextlib to its users as `framework::contextlib`: its users depend
//! on this crate, not on contextlib (tests/reexport/user).
pub use contextlib;
