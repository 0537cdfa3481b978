//! Per-step learning-rate schedule of the released scripts (VideoMAE `cosine_scheduler`):
//! linear warm-up from `warmup_start` to `base` over the warm-up steps, then a half cosine
//! from `base` to `end` over the remaining steps (DESIGN §6).

#[derive(Debug, Clone, PartialEq)]
pub struct CosineSchedule {
    pub base: f64,
    pub end: f64,
    pub warmup_start: f64,
    pub warmup_steps: u64,
    pub total_steps: u64,
}

impl CosineSchedule {
    /// Learning rate at 0-based step `step` (clamped to the last step).
    pub fn at(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            let t = step as f64 / self.warmup_steps as f64;
            return self.warmup_start + (self.base - self.warmup_start) * t;
        }
        let decay_steps = self.total_steps.saturating_sub(self.warmup_steps).max(1);
        let i = (step - self.warmup_steps).min(decay_steps - 1) as f64;
        self.end
            + 0.5
                * (self.base - self.end)
                * (1.0 + (std::f64::consts::PI * i / decay_steps as f64).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> CosineSchedule {
        CosineSchedule {
            base: 1e-3,
            end: 1e-6,
            warmup_start: 0.0,
            warmup_steps: 10,
            total_steps: 110,
        }
    }

    #[test]
    fn warmup_rises_linearly_then_cosine_falls_to_the_end_value() {
        let s = schedule();
        assert_eq!(s.at(0), 0.0);
        assert!((s.at(5) - 5e-4).abs() < 1e-12);
        assert!((s.at(10) - 1e-3).abs() < 1e-12);
        // Halfway through the decay: the midpoint of base and end.
        assert!((s.at(60) - (1e-3 + 1e-6) / 2.0).abs() < 1e-9);
        assert!(s.at(109) < 2e-6 && s.at(109) >= 1e-6);
        assert_eq!(s.at(500), s.at(109));
    }

    #[test]
    fn schedule_is_monotone_after_warmup() {
        let s = schedule();
        assert!((10..109).all(|i| s.at(i + 1) <= s.at(i)));
    }
}
