//! Fault injection for the kill tests: with `SVFAP_CRASH_POINT=<point>:<step>` in its
//! environment the worker SIGKILLs itself when it reaches `<point>` of step `<step>`, so a
//! test can kill a run at an exact moment (half-way through writing a checkpoint) instead of
//! wherever a timer happens to land. `<point>:<step>:panic` panics there instead (the test of
//! the worker's panic handling), `<point>:<step>:stop` stops itself with SIGSTOP (a hung
//! rank). A trailing `@<rank>` limits it to that rank of an MPI job (mpirun gives every rank
//! the same environment). Unset, this is one environment lookup per call.

pub const VARIABLE: &str = "SVFAP_CRASH_POINT";

/// Kills (or panics, or stops) this process if `SVFAP_CRASH_POINT` names `point` at `step`.
pub fn crash_point(point: &str, step: u64) {
    let Ok(wanted) = std::env::var(VARIABLE) else {
        return;
    };
    let (wanted, rank) = match wanted.split_once('@') {
        Some((w, r)) => (w.to_string(), r.parse::<usize>().ok()),
        None => (wanted, None),
    };
    if rank.is_some_and(|r| launcher_rank() != Some(r)) {
        return;
    }
    let here = format!("{point}:{step}");
    let signal = if wanted == format!("{here}:panic") {
        panic!("crash point {here}");
    } else if wanted == format!("{here}:stop") {
        libc::SIGSTOP
    } else if wanted == here {
        libc::SIGKILL
    } else {
        return;
    };
    // SAFETY: kill(2) on our own pid.
    unsafe { libc::kill(libc::getpid(), signal) };
}

/// This process's rank as the MPI launcher set it.
fn launcher_rank() -> Option<usize> {
    ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}
