//! Tells the tests whether a PostgreSQL server is given (`CONTEXTLIB_TEST_POSTGRES_URL`, which
//! `.ci/run` sets): without one, their PostgreSQL variants are `ignored`, with the reason, rather
//! than passing without running. Nothing else: users' builds get no cfg from here.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(contextlib_test_postgres)");
    println!("cargo::rerun-if-env-changed=CONTEXTLIB_TEST_POSTGRES_URL");
    if std::env::var_os("CONTEXTLIB_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=contextlib_test_postgres");
    }
}
