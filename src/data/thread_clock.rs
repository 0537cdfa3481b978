//! CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`), so that the loader's time split
//! (read, decode, transform, collate) counts the work a thread did, not the time it waited
//! for a core when more threads than cores run.

/// Seconds of CPU time this thread has used so far.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant libc knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_advances_the_thread_clock_and_sleeping_does_not() {
        let t0 = thread_cpu_seconds();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        let t1 = thread_cpu_seconds();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let t2 = thread_cpu_seconds();
        assert!(t1 > t0, "busy loop did not advance the clock");
        assert!(t2 - t1 < 0.1, "sleeping counted {} s of CPU time", t2 - t1);
    }
}
