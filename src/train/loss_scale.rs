//! Dynamic loss scaling for f16 training, with the semantics of PyTorch's `GradScaler`
//! (defaults `init_scale = 2^16`, `growth_factor = 2`, `backoff_factor = 0.5`,
//! `growth_interval = 2000`): the loss is multiplied by the scale before the backward pass,
//! so small gradients do not flush to zero in f16; gradients are divided by it again before
//! clipping and the update. A step whose gradients overflowed (inf or NaN) is skipped and
//! the scale halved; after `growth_interval` finite steps in a row it doubles.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossScale {
    /// What the loss is multiplied by.
    pub scale: f64,
    /// Finite steps since the last change.
    pub good_steps: u32,
}

pub const INIT_SCALE: f64 = 65536.0;
pub const GROWTH_INTERVAL: u32 = 2000;

impl Default for LossScale {
    fn default() -> Self {
        Self {
            scale: INIT_SCALE,
            good_steps: 0,
        }
    }
}

impl LossScale {
    /// Records whether this step's gradients were finite and returns whether to apply it.
    pub fn update(&mut self, finite: bool) -> bool {
        if !finite {
            self.scale *= 0.5;
            self.good_steps = 0;
            return false;
        }
        self.good_steps += 1;
        if self.good_steps == GROWTH_INTERVAL {
            self.scale *= 2.0;
            self.good_steps = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_skips_the_step_and_halves_the_scale() {
        let mut s = LossScale::default();
        assert!(s.update(true));
        assert!(!s.update(false));
        assert_eq!(s.scale, INIT_SCALE / 2.0);
        assert_eq!(s.good_steps, 0);
    }

    #[test]
    fn the_scale_doubles_after_the_growth_interval_of_finite_steps() {
        let mut s = LossScale::default();
        for _ in 0..GROWTH_INTERVAL - 1 {
            assert!(s.update(true));
        }
        assert_eq!(s.scale, INIT_SCALE);
        assert!(s.update(true));
        assert_eq!(s.scale, 2.0 * INIT_SCALE);
        assert_eq!(s.good_steps, 0);
    }
}
