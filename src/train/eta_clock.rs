//! The time left of a run, from the steps this process has timed. Timing starts after the
//! first step of the process, whose kernel compilation and autotuning (minutes on a cold GPU
//! cache) say nothing about the rest; the lr warm-up does not change a step's cost, so the
//! estimate is there from the second step on.

use std::time::Instant;

#[derive(Debug, Default)]
pub struct EtaClock {
    /// When the first timed step began, and the step count then.
    start: Option<(Instant, u64)>,
}

impl EtaClock {
    /// Seconds left after `step` of `total_steps` has finished at `now`; `None` until a step
    /// after the process's first has been timed.
    pub fn observe(&mut self, now: Instant, step: u64, total_steps: u64) -> Option<f64> {
        let Some((t0, from)) = self.start else {
            self.start = Some((now, step));
            return None;
        };
        (step > from).then(|| {
            now.duration_since(t0).as_secs_f64() / (step - from) as f64
                * total_steps.saturating_sub(step) as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_estimate_is_there_from_the_second_step_even_in_lr_warm_up() {
        let t = Instant::now();
        let mut clock = EtaClock::default();
        // A resumed process: its first step (step 11) compiles kernels for 60 s.
        assert_eq!(clock.observe(t + Duration::from_secs(60), 11, 1000), None);
        let eta = clock
            .observe(t + Duration::from_secs(62), 12, 1000)
            .unwrap();
        assert!((eta - 2.0 * 988.0).abs() < 1e-6, "{eta}");
        let eta = clock
            .observe(t + Duration::from_secs(66), 14, 1000)
            .unwrap();
        assert!((eta - 2.0 * 986.0).abs() < 1e-6, "{eta}");
    }
}
