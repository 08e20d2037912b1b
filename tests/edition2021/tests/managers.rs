//! `#[async_context_manager]` in an edition 2021 crate, where `impl Trait` in return position
//! captures only the lifetimes its bounds name: borrowed arguments, explicit lifetimes, methods
//! of generic impls, and a spawned task. The crate forbids `unsafe` code: the attribute's
//! expansion must not make a user write (or be blamed for) any. It depends on contextlib under
//! another name (`ctx`), and reaches it through a re-export too (`crate = path`).
#![forbid(unsafe_code)]
use ctx::{async_context_manager, async_with, Exit};

pub struct Db {
    name: String,
    rows: Vec<String>,
}

#[async_context_manager]
async fn name_of(db: &Db, prefix: &str) -> String {
    r#yield!(format!("{prefix}{}", db.name));
}

#[async_context_manager]
async fn transaction<'db>(db: &'db mut Db) -> Result<&mut Vec<String>, String> {
    let mut pending = Vec::new();
    if let Exit::Ok = r#yield!(&mut pending) {
        db.rows.extend(pending);
    }
    Ok(())
}

pub struct Scoped<'a, T> {
    items: &'a [T],
}

impl<'a, T: Clone + Send + Sync> Scoped<'a, T> {
    #[async_context_manager]
    async fn first(&self) -> Option<T> {
        r#yield!(self.items.first().cloned());
    }
}

#[test]
fn borrowed_arguments_explicit_lifetimes_and_generic_impls() {
    futures_executor::block_on(async {
        let mut db = Db {
            name: "main".into(),
            rows: Vec::new(),
        };
        assert_eq!(async_with!(name_of(&db, "db:") => |n| n.len()), Ok(7));
        let inserted: Result<usize, String> = async_with!(transaction(&mut db) => |rows| {
            rows.push("a".into());
            Ok(rows.len())
        });
        assert_eq!(inserted, Ok(1));
        assert_eq!(db.rows, ["a"]);
        let items = [3, 4];
        let scoped = Scoped { items: &items };
        assert_eq!(async_with!(scoped.first() => |x| x), Ok(Some(3)));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_using_a_borrowing_manager_can_be_spawned() {
    let task = tokio::spawn(async {
        let db = Db {
            name: "spawned".into(),
            rows: Vec::new(),
        };
        async_with!(name_of(&db, "") => |n| {
            tokio::task::yield_now().await;
            n
        })
    });
    assert_eq!(task.await.unwrap(), Ok("spawned".to_string()));
}

/// A framework that re-exports contextlib; its users name it through the framework.
mod framework {
    pub use ctx as contextlib;
}

#[framework::contextlib::async_context_manager(crate = crate::framework::contextlib)]
async fn through_a_reexport(log: &mut Vec<String>) -> Result<u8, String> {
    framework::contextlib::async_with!(inner_for_reexport() => |n| {
        let exit = r#yield!(n);
        log.push(format!("{exit:?}"));
        Ok::<_, String>(())
    })
}

#[async_context_manager]
async fn inner_for_reexport() -> Result<u8, String> {
    r#yield!(5);
    Ok(())
}

#[test]
fn a_renamed_dependency_and_a_reexport_both_work() {
    let mut log = Vec::new();
    let n = futures_executor::block_on(async {
        async_with!(through_a_reexport(&mut log) => |n| n + 1)
    });
    assert_eq!(n, Ok(6));
    assert_eq!(log, ["Ok"]);
}
