//! Running the real binary from integration tests.

use std::process::{Command, Output};

/// `svfap-tui ARGS…`, waited for.
pub fn svfap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svfap-tui"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Its stdout, after asserting it succeeded (both streams shown when not).
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
