//! A crate that reaches contextlib only through a re-export, `framework::contextlib`, and not as
//! a dependency of its own: the attribute cannot find contextlib in this crate's manifest, and
//! names what `crate = path` gives it, or falls back to `::contextlib`. A hostile crate of this
//! shape can make either path name its own items (repros 03 and 04 of issue 20, kept below as
//! `compile_fail` doc tests: before the fix, both compiled and reached a use-after-free).
//! No `unsafe` in this crate.
//!
//! # Repro 03: `crate = path` names a module that swaps the target family
//!
//! The attribute's covariance check sees the declared, covariant `&Marker`; the module the
//! path names maps `Generated` (and the yield handle's type) to an invariant `&Cell<&str>`.
//! Today the expansion names no yield handle type (the handle is the real one, typed with the
//! declared family, so `r#yield!(&cell)` is refused), and the manager is built by the real
//! `generated` with the declared family, which the swapped return type does not match (both
//! E0308).
//!
//! ```compile_fail,E0308
//! #![forbid(unsafe_code)]
//! use framework::contextlib::{self, AsyncContextManager, Exit};
//! use std::cell::Cell;
//! use std::pin::pin;
//!
//! /// A covariant target the attribute's check sees.
//! pub struct Marker;
//!
//! /// Maps the family the attribute wrote (checked covariant) to an invariant one.
//! pub trait Swap {
//!     type Out;
//! }
//! impl Swap for for<'t, 'e> fn(&'t (), &'e ()) -> &'t Marker {
//!     type Out = for<'t, 'e> fn(&'t (), &'e ()) -> &'t Cell<&'t str>;
//! }
//!
//! /// The "contextlib" that `crate = crate::evil` names: the real one, except that the family in
//! /// the manager's type and in the yield handle's type is swapped.
//! pub mod evil {
//!     pub use framework::contextlib::*;
//!     pub type Generated<F, B> = framework::contextlib::Generated<<F as super::Swap>::Out, B>;
//!     pub mod expansion {
//!         pub use framework::contextlib::expansion::*;
//!         pub type Yielder<F, W> =
//!             framework::contextlib::expansion::Yielder<<F as super::super::Swap>::Out, W>;
//!     }
//! }
//!
//! #[contextlib::async_context_manager(crate = crate::evil)]
//! async fn lend_cell(seen: &mut String) -> &Marker {
//!     let cell: Cell<&str> = Cell::new("static text");
//!     let _exit = r#yield!(&cell);
//!     seen.push_str(cell.get()); // the teardown reads what the block stored
//! }
//!
//! fn main() {
//!     let mut seen = String::new();
//!     futures_executor::block_on(async {
//!         let mut manager = pin!(lend_cell(&mut seen));
//!         {
//!             let cell = manager.as_mut().enter().await.unwrap(); // &'m Cell<&'m str>
//!             let short = String::from("freed before the teardown reads it");
//!             cell.set(&short);
//!         }
//!         manager.as_mut().exit(Exit::Ok).await.unwrap();
//!     });
//!     println!("teardown read: {seen:?}");
//! }
//! ```
//!
//! # Repro 04: the fallback `::contextlib`, rebound by `extern crate self as contextlib`
//!
//! No `crate = path`: the attribute falls back to `::contextlib`, which one line makes this
//! crate, re-exporting the real items except the swapped ones. Refused the same way (E0308).
//! (The variant below keeps the body consistent with the declared target, so that the swapped
//! `Generated` is the only lever left.)
//!
//! ```compile_fail,E0308
//! #![forbid(unsafe_code)]
//! extern crate self as contextlib;
//!
//! use std::cell::Cell;
//!
//! // `::contextlib::*` is the real contextlib, except for the swapped names.
//! pub use framework::contextlib::*;
//! pub type Generated<F, B> = framework::contextlib::Generated<<F as Swap>::Out, B>;
//! pub mod expansion {
//!     pub use framework::contextlib::expansion::*;
//!     pub type Yielder<F, W> =
//!         framework::contextlib::expansion::Yielder<<F as super::Swap>::Out, W>;
//! }
//!
//! pub struct Marker;
//! pub trait Swap {
//!     type Out;
//! }
//! impl Swap for for<'t, 'e> fn(&'t (), &'e ()) -> &'t Marker {
//!     type Out = for<'t, 'e> fn(&'t (), &'e ()) -> &'t Cell<&'t str>;
//! }
//! impl Swap for for<'t, 'e> fn(&'t (), &'e ()) -> &'t String {
//!     type Out = for<'t, 'e> fn(&'t (), &'e ()) -> &'t String;
//! }
//!
//! /// Checked as `&Marker` (covariant), typed as `&Cell<&str>` (invariant).
//! #[async_context_manager]
//! async fn lend_cell(seen: &mut String) -> &Marker {
//!     let cell: Cell<&str> = Cell::new("static text");
//!     r#yield!(&cell);
//!     seen.push_str(cell.get()); // the teardown reads what the block stored
//! }
//!
//! /// An honest manager lending a borrow of its own local `String`, freed by its teardown.
//! #[async_context_manager]
//! async fn lend_string() -> &String {
//!     let text = String::from("owned by lend_string's coroutine");
//!     r#yield!(&text);
//! }
//!
//! fn main() {
//!     let mut seen = String::new();
//!     let result = futures_executor::block_on(async {
//!         // Exits right to left: `lend_string`'s local is freed before `lend_cell`'s teardown
//!         // reads the `&str` the block stored.
//!         async_with!((lend_cell(&mut seen), lend_string()) => |(cell, text)| {
//!             cell.set(text.as_str());
//!         })
//!     });
//!     println!("{result:?}; teardown read: {seen:?}");
//! }
//! ```
//!
//! # Repro 04, strongest form today: only `Generated` swapped
//!
//! The body yields the declared `&Marker`; only the manager's type claims the invariant
//! `&Cell<&str>` family. Had it compiled, the block would get a `&Marker` as a `&Cell<&str>`.
//! The real `generated` builds the manager with the family the attribute wrote, which the
//! swapped return type does not match (E0308).
//!
//! ```compile_fail,E0308
//! #![forbid(unsafe_code)]
//! extern crate self as contextlib;
//!
//! use std::cell::Cell;
//!
//! pub use framework::contextlib::*;
//! pub type Generated<F, B> = framework::contextlib::Generated<<F as Swap>::Out, B>;
//!
//! pub struct Marker;
//! pub trait Swap {
//!     type Out;
//! }
//! impl Swap for for<'t, 'e> fn(&'t (), &'e ()) -> &'t Marker {
//!     type Out = for<'t, 'e> fn(&'t (), &'e ()) -> &'t Cell<&'t str>;
//! }
//!
//! #[async_context_manager]
//! async fn lend_marker() -> &Marker {
//!     let marker = Marker;
//!     r#yield!(&marker);
//! }
//!
//! fn main() {
//!     let _ = futures_executor::block_on(async {
//!         async_with!(lend_marker() => |cell| cell.set("read as a cell"))
//!     });
//! }
//! ```
#![forbid(unsafe_code)]

use framework::contextlib::{self, Exit};

/// A manager written through the re-export with `crate = framework::contextlib`: lends a
/// borrow of its own buffer and records, in its teardown, how the block ended and what the
/// block wrote.
#[contextlib::async_context_manager(crate = framework::contextlib)]
pub async fn buffer(log: &mut Vec<String>) -> &mut String {
    let mut buffer = String::from("opened");
    let exit = r#yield!(&mut buffer);
    log.push(match exit {
        Exit::Ok => format!("ok: {buffer}"),
        Exit::Err(_) => format!("err: {buffer}"),
        Exit::Panic(_) => format!("panic: {buffer}"),
        _ => format!("cancelled: {buffer}"),
    });
}
