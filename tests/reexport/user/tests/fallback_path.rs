//! No `crate = path`: the attribute falls back to `::contextlib`, which this crate root makes
//! itself (`extern crate self as contextlib`) and fills with the re-exported real items. A yield
//! inside `async_with!` works through that path too (the fallback is trusted to name the real
//! `async_with!`), and composed managers exit right to left.
#![forbid(unsafe_code)]
extern crate self as contextlib;

pub use framework::contextlib::*;

#[async_context_manager]
async fn lend_text(log: &mut Vec<String>) -> &String {
    let text = String::from("lent by lend_text");
    let exit = r#yield!(&text);
    log.push(format!("lend_text: {exit:?}"));
}

/// Yields inside an `async_with!` of another manager: the block's outcome reaches it.
#[async_context_manager]
async fn composed(log: &mut Vec<String>) -> usize {
    let mut inner_log = Vec::new();
    let exit: Exit<'_> = async_with!(lend_text(&mut inner_log) => |text| {
        r#yield!(text.len())
    })
    .expect("lend_text cannot fail");
    log.push(format!("composed: {exit:?}"));
    log.append(&mut inner_log);
}

#[test]
fn a_manager_through_the_fallback_path_lends_and_tears_down() {
    let mut log = Vec::new();
    let seen = futures_executor::block_on(async {
        async_with!(lend_text(&mut log) => |text| text.clone())
    });
    assert_eq!(seen, Ok(String::from("lent by lend_text")));
    assert_eq!(log, ["lend_text: Ok"]);
}

#[test]
fn a_yield_inside_async_with_through_the_fallback_path_sees_the_outcome() {
    let mut log = Vec::new();
    let failed: Result<usize, &str> = futures_executor::block_on(async {
        async_with!(composed(&mut log) => |length| {
            assert_eq!(length, 17);
            Err("the outer block failed")
        })
    });
    assert_eq!(failed, Err("the outer block failed"));
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].starts_with("composed: Err"), "{log:?}");
    assert!(log[1].starts_with("lend_text: Err"), "{log:?}");
}
