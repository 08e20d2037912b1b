//! Nothing here: `tests/managers.rs` is the check, compiled as edition 2021.
