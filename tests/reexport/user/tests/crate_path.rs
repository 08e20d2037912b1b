//! A manager written with `crate = framework::contextlib` (src/lib.rs), used through the
//! re-export: it lends, sees the block's outcome and tears down, natively and under Miri.
#![forbid(unsafe_code)]
use contextlib_reexport_user::buffer;
use framework::contextlib::async_with;

#[test]
fn a_manager_written_through_the_reexported_path_lends_and_tears_down() {
    let mut log = Vec::new();
    let length = futures_executor::block_on(async {
        async_with!(buffer(&mut log) => |text| {
            text.push_str(", written");
            text.len()
        })
    });
    assert_eq!(length, Ok(15));
    let failed: Result<(), &str> = futures_executor::block_on(async {
        async_with!(buffer(&mut log) => |text| {
            text.push_str(", failed");
            Err("the block failed")
        })
    });
    assert_eq!(failed, Err("the block failed"));
    assert_eq!(log, ["ok: opened, written", "err: opened, failed"]);
}

/// A panic in the block runs the teardown with `Exit::Panic`, then resumes.
#[test]
fn a_panicking_block_through_the_reexported_path_is_torn_down_and_resumes() {
    let mut log = Vec::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        futures_executor::block_on(async {
            let _ = async_with!(buffer(&mut log) => |text| {
                text.push_str(", then");
                if text.len() > 1 {
                    panic!("the block panics");
                }
                text.len()
            });
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(log, ["panic: opened, then"]);
}
