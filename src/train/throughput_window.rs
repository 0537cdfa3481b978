//! The clips/s a run shows (status, rank heartbeats, the workbench): clips over wall time of
//! the last steps, so one step after a data wait or a checkpoint does not make the number
//! jump, and two ranks at the same step show the same rate. The metrics keep each step's own.

use std::collections::VecDeque;

/// Steps the rate is taken over.
pub const WINDOW_STEPS: usize = 20;

#[derive(Debug, Clone)]
pub struct ThroughputWindow {
    steps: VecDeque<(usize, f64)>,
    cap: usize,
}

impl Default for ThroughputWindow {
    fn default() -> Self {
        Self::new(WINDOW_STEPS)
    }
}

impl ThroughputWindow {
    pub fn new(cap: usize) -> Self {
        Self {
            steps: VecDeque::with_capacity(cap.max(1)),
            cap: cap.max(1),
        }
    }

    /// Adds a step of `clips` that took `seconds`; returns the rate over the window.
    pub fn observe(&mut self, clips: usize, seconds: f64) -> f64 {
        if self.steps.len() == self.cap {
            self.steps.pop_front();
        }
        self.steps.push_back((clips, seconds));
        let clips: usize = self.steps.iter().map(|s| s.0).sum();
        let seconds: f64 = self.steps.iter().map(|s| s.1).sum();
        clips as f64 / seconds.max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slow_step_moves_the_rate_by_its_share_of_the_window() {
        let mut w = ThroughputWindow::new(4);
        for _ in 0..4 {
            assert_eq!(w.observe(8, 1.0), 8.0);
        }
        // A step that waited 3 s for data: 32 clips in 7 s, not 8 / 4 = 2 clips/s.
        assert!((w.observe(8, 4.0) - 32.0 / 7.0).abs() < 1e-12);
        // It leaves the window after four more steps.
        for _ in 0..4 {
            w.observe(8, 1.0);
        }
        assert_eq!(w.observe(8, 1.0), 8.0);
    }
}
