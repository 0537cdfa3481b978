//! Fault injection for the kill tests: with `SVFAP_CRASH_POINT=<point>:<step>` in its
//! environment the worker SIGKILLs itself when it reaches `<point>` of step `<step>`, so a
//! test can kill a run at an exact moment (half-way through writing a checkpoint) instead of
//! wherever a timer happens to land. `<point>:<step>:panic` panics there instead (the test of
//! the worker's panic handling). Unset, this is one environment lookup per call.

pub const VARIABLE: &str = "SVFAP_CRASH_POINT";

/// Kills this process with SIGKILL if `SVFAP_CRASH_POINT` names `point` at `step`.
pub fn crash_point(point: &str, step: u64) {
    let Ok(wanted) = std::env::var(VARIABLE) else {
        return;
    };
    if wanted == format!("{point}:{step}:panic") {
        panic!("crash point {point}:{step}");
    }
    if wanted == format!("{point}:{step}") {
        // SAFETY: kill(2) on our own pid; SIGKILL cannot be caught, nothing after it runs.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}
