//! Targets that borrow the manager's own locals and arguments. Run under Miri (both borrow
//! models): the block writes through the lent `&mut` while the coroutine is suspended, and the
//! teardown keeps using its own references afterwards.
mod common;

use common::Failure;
use contextlib::{Exit, async_context_manager, async_with};
use futures_executor::block_on;

struct Database {
    rows: Vec<String>,
}

/// A transaction borrowing its database: a target type with a lifetime of its own.
struct Tx<'db> {
    db: &'db mut Database,
    pending: Vec<String>,
}

impl Tx<'_> {
    fn insert(&mut self, row: &str) {
        self.pending.push(row.to_string());
    }
    async fn commit(self) -> Result<(), Failure> {
        self.db.rows.extend(self.pending);
        Ok(())
    }
}

/// `Tx<'db>` sits behind `&mut`, which is invariant: its lifetime is named, not elided (an
/// elided one would mean "the manager borrow", which `&mut` cannot shorten: a compile error).
#[async_context_manager]
async fn transaction<'db>(db: &'db mut Database) -> Result<&mut Tx<'db>, Failure> {
    let mut tx = Tx {
        db,
        pending: Vec::new(),
    };
    match r#yield!(&mut tx) {
        Exit::Ok => tx.commit().await,
        _ => Ok(()), // dropping the pending rows is the rollback
    }
}

#[test]
fn block_writes_through_a_borrow_of_the_managers_local() {
    block_on(async {
        let mut db = Database { rows: Vec::new() };
        let inserted: Result<usize, Failure> = async_with!(transaction(&mut db) => |tx| {
            tx.insert("a");
            tx.insert("b");
            Ok(tx.pending.len())
        });
        assert_eq!(inserted, Ok(2));
        let failed: Result<(), Failure> = async_with!(transaction(&mut db) => |tx| {
            tx.insert("c");
            Err(Failure("constraint"))
        });
        assert_eq!(failed, Err(Failure("constraint")));
        assert_eq!(db.rows, ["a", "b"]);
    });
}

/// The teardown keeps a reference into its own state across the yield, and the block mutates
/// state the teardown reads afterwards: the pattern that breaks under Stacked Borrows when the
/// driver retags the coroutine's memory.
#[async_context_manager]
async fn self_referential() -> &mut Vec<u32> {
    let mut values = vec![1];
    let mut sum = 0;
    let sum_ref = &mut sum;
    r#yield!(&mut values);
    *sum_ref = values.iter().sum();
    values.push(sum);
    assert_eq!(values, [1, 2, 3, 6]);
}

#[test]
fn teardown_keeps_its_own_references_across_the_yield() {
    block_on(async {
        let len = async_with!(self_referential() => |values| {
            values.push(2);
            std::future::ready(()).await;
            values.push(3);
            values.len()
        });
        assert_eq!(len, Ok(3));
    });
}

/// A target borrowed from an argument: `&str` into the caller's string.
#[async_context_manager]
async fn first_word(text: &str) -> &str {
    r#yield!(text.split(' ').next().unwrap_or(""));
}

#[test]
fn target_borrows_an_argument() {
    block_on(async {
        let text = String::from("hello world");
        assert_eq!(async_with!(first_word(&text) => |word| word.len()), Ok(5));
    });
}

/// A block that suspends many times while holding the lent borrow.
#[async_context_manager]
async fn buffer() -> &mut String {
    let mut text = String::new();
    r#yield!(&mut text);
    assert_eq!(text, "0123456789");
}

#[test]
fn the_lent_borrow_survives_many_suspensions() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let written = async_with!(buffer() => |text| {
            for digit in 0..10 {
                text.push_str(&digit.to_string());
                tokio::task::yield_now().await;
            }
            text.len()
        });
        assert_eq!(written, Ok(10));
    });
}

/// A target that is a struct with an elided lifetime: `Rows<'_>` borrows the manager's local.
struct Rows<'a> {
    rows: &'a [u32],
}

impl Rows<'_> {
    fn total(&self) -> u32 {
        self.rows.iter().sum()
    }
}

#[async_context_manager]
async fn snapshot(source: Vec<u32>) -> Rows<'_> {
    let copy = source.clone();
    r#yield!(Rows { rows: &copy });
    drop(copy);
}

#[test]
fn struct_target_with_an_elided_lifetime() {
    block_on(async {
        assert_eq!(
            async_with!(snapshot(vec![1, 2, 3]) => |rows| rows.total()),
            Ok(6)
        );
    });
}
