//! examples/managers/hand_written.rs: a hand-written `AsyncContextManager` behaves in
//! `async_with!` exactly like a generated one and sees the same `Exit`s.

#[path = "../examples/managers/hand_written.rs"]
mod hand_written;

use std::io;
use std::panic::AssertUnwindSafe;

use contextlib::async_with;
use futures_util::FutureExt;
use hand_written::{
    AppError, Seen, SimpleAsyncContextManager, create_async_context, typed_async_context,
};

#[tokio::test]
async fn ok_blocks_get_the_value_and_give_the_same_result() {
    let mut manager = SimpleAsyncContextManager::new(String::from("Hello"));
    let by_hand = async_with!(&mut manager => |value| format!("{value}, World!"));
    let mut seen = Vec::new();
    let generated = async_with!(create_async_context(String::from("Hello"), &mut seen) => |value| {
        format!("{value}, World!")
    });
    assert_eq!(by_hand, Ok("Hello, World!".to_string()));
    assert_eq!(generated, by_hand);
    assert_eq!(manager.seen, [Seen::Ok]);
    assert_eq!(seen, manager.seen);
}

#[tokio::test]
async fn errors_are_returned_and_seen_with_display_and_downcast() {
    let mut manager = SimpleAsyncContextManager::new(7u32);
    let mut seen = Vec::new();
    let by_hand: Result<u32, AppError> = async_with!(&mut manager => |n| {
        if *n == 7 { return Err(AppError { code: 409 }); }
        Ok(*n)
    });
    let generated: Result<u32, AppError> = async_with!(create_async_context(7u32, &mut seen) => |n| {
        if n == 7 { return Err(AppError { code: 409 }); }
        Ok(n)
    });
    assert_eq!(by_hand, Err(AppError { code: 409 }));
    assert_eq!(generated, by_hand);
    let expected = Seen::Err {
        message: "application error 409".to_string(),
        app_error: Some(AppError { code: 409 }),
    };
    assert_eq!(manager.seen, [expected]);
    assert_eq!(seen, manager.seen);

    // Another error type: readable through Display, and not downcast to AppError.
    let other: io::Result<()> =
        async_with!(&mut manager => |_n| Err(io::Error::other("disk on fire")));
    assert_eq!(other.unwrap_err().to_string(), "disk on fire");
    assert_eq!(
        manager.seen[1],
        Seen::Err {
            message: "disk on fire".to_string(),
            app_error: None
        }
    );
}

#[tokio::test]
async fn panics_are_seen_with_their_message_and_resume() {
    let mut manager = SimpleAsyncContextManager::new(3i64);
    let mut seen = Vec::new();
    let by_hand = AssertUnwindSafe(async {
        async_with!(&mut manager => |n| {
            if *n == 3 { panic!("bad value {n}"); }
        })
    })
    .catch_unwind()
    .await;
    let generated = AssertUnwindSafe(async {
        async_with!(create_async_context(3i64, &mut seen) => |n| {
            if n == 3 { panic!("bad value {n}"); }
        })
    })
    .catch_unwind()
    .await;
    assert_eq!(
        by_hand.unwrap_err().downcast_ref::<String>().unwrap(),
        "bad value 3"
    );
    assert_eq!(
        generated.unwrap_err().downcast_ref::<String>().unwrap(),
        "bad value 3"
    );
    assert_eq!(manager.seen, [Seen::Panic("bad value 3".to_string())]);
    assert_eq!(seen, manager.seen);
}

#[tokio::test]
async fn hand_written_and_generated_combine_in_a_tuple() {
    let mut manager = SimpleAsyncContextManager::new(40u8);
    let mut seen = Vec::new();
    let sum = async_with!((&mut manager, create_async_context(2u8, &mut seen)) => |(a, b)| {
        *a + b
    });
    assert_eq!(sum, Ok(42));
    assert_eq!(manager.seen, [Seen::Ok]);
    assert_eq!(seen, [Seen::Ok]);
}

#[test]
fn the_typed_manager_lends_a_borrow_of_its_value() {
    futures_executor::block_on(async {
        let total =
            async_with!(typed_async_context(vec![1, 2, 3]) => |values| values.iter().sum::<i32>());
        assert_eq!(total, Ok(6));
    });
}
