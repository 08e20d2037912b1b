//! Every compile error of the attribute and of `async_with!`, with its reviewed message; and
//! programs that must compile (`tests/ui-pass`).
#[test]
#[cfg_attr(miri, ignore = "trybuild runs rustc, which Miri cannot")]
fn every_case_compiles_as_expected_runs_rustc_on_each_about_3_minutes() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
}
