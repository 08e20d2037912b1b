//! Runs one test of the current test binary again, in a child process: for what a test cannot
//! see from inside its own process (an abort, what reaches standard error when nothing is
//! installed to listen).

use std::process::{Command, Output};

/// In the child (`var` is set): `None`, and the caller does the child's part. Otherwise runs
/// this test binary again with `var` set, running only `test` (`--exact`, `--nocapture`, on one
/// thread), and returns the child's output.
pub fn rerun_in_a_child(test: &str, var: &str) -> Option<Output> {
    if std::env::var_os(var).is_some() {
        return None;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(var, "1")
        .output()
        .unwrap();
    Some(output)
}
