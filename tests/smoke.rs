use contextlib::{Exit, async_context_manager, async_with};
use futures_executor::block_on;

#[async_context_manager]
async fn counter(log: &mut Vec<String>) -> &mut u32 {
    let mut count = 1u32;
    log.push("setup".into());
    let exit = r#yield!(&mut count);
    log.push(format!("teardown {count} {:?}", exit.is_ok()));
}

#[derive(Debug, PartialEq)]
struct MyError(&'static str);
impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[async_context_manager]
async fn fallible(fail_enter: bool, log: &mut Vec<String>) -> Result<String, MyError> {
    if fail_enter {
        return Err(MyError("enter"));
    }
    let name = String::from("tx");
    match r#yield!(name.clone()) {
        Exit::Ok => log.push("commit".into()),
        Exit::Err(e) => log.push(format!("rollback {e} {:?}", e.downcast_ref::<MyError>())),
        other => log.push(format!("{other:?}")),
    }
    Ok(())
}

#[test]
fn smoke() {
    block_on(async {
        let mut log = Vec::new();
        let r = async_with!(counter(&mut log) => |c| { *c += 41; *c });
        assert_eq!(r, Ok(42));
        assert_eq!(log, ["setup", "teardown 42 true"]);

        let mut log = Vec::new();
        let r: Result<usize, MyError> = async_with!(fallible(false, &mut log) => |name| {
            if name.len() == 2 { return Err(MyError("block")); }
            Ok(1)
        });
        assert_eq!(r, Err(MyError("block")));
        let r = async_with!(fallible(true, &mut log) => |name| name.len());
        assert_eq!(r, Err(MyError("enter")));
        let r = async_with!(fallible(false, &mut log) => |name| name.len());
        assert_eq!(r, Ok(2));
        assert_eq!(log, ["rollback block Some(MyError(\"block\"))", "commit"]);
    });
}

#[test]
fn infallible_manager_result_block() {
    block_on(async {
        let mut log = Vec::new();
        let r: Result<u32, MyError> = async_with!(counter(&mut log) => |c| {
            if *c == 1 { return Err(MyError("no")); }
            Ok(*c)
        });
        assert_eq!(r, Err(MyError("no")));
    });
}
