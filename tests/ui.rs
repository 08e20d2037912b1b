//! Every compile error of the attribute and of `async_with!`, with its reviewed message.
#[test]
#[cfg_attr(miri, ignore)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
