//! RandAugment as timm's `rand-m7-n4-mstd0.5-inc1` (the fine-tuning recipe, DESIGN §6):
//! 4 ops drawn with replacement from the 15 "increasing" ops, each applied with probability
//! 0.5 at a magnitude drawn from N(7, 0.5) clipped to [0, 10]. One draw per clip: every frame
//! gets the same ops with the same parameters.

use rand::Rng;
use rand_distr::{Distribution, Normal};

use super::frame::Frame;
pub use super::randaugment_ops::Op;
use super::randaugment_ops::PreparedOp;

const MAX_LEVEL: f64 = 10.0;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandAugmentConfig {
    pub magnitude: f64,
    pub num_ops: usize,
    pub magnitude_std: f64,
    pub prob: f64,
}

impl Default for RandAugmentConfig {
    fn default() -> Self {
        Self {
            magnitude: 7.0,
            num_ops: 4,
            magnitude_std: 0.5,
            prob: 0.5,
        }
    }
}

/// Draws the ops for one clip.
pub fn sample_ops(cfg: &RandAugmentConfig, rng: &mut impl Rng) -> Vec<Op> {
    let mut ops = Vec::new();
    for _ in 0..cfg.num_ops {
        let which = rng.random_range(0..15);
        let apply = rng.random_bool(cfg.prob);
        let mut m = cfg.magnitude;
        if cfg.magnitude_std > 0.0 {
            m = Normal::new(m, cfg.magnitude_std).unwrap().sample(rng);
        }
        let m = m.clamp(0.0, MAX_LEVEL) / MAX_LEVEL;
        let sign = if rng.random_bool(0.5) { -1.0 } else { 1.0 };
        if !apply {
            continue;
        }
        let enhance = 1.0 + sign * m * 0.9;
        ops.push(match which {
            0 => Op::AutoContrast,
            1 => Op::Equalize,
            2 => Op::Invert,
            3 => Op::Rotate(sign * m * 30.0),
            4 => Op::Posterize(4 - (m * 4.0) as u32),
            5 => Op::Solarize(256 - (m * 256.0) as u32),
            6 => Op::SolarizeAdd((m * 110.0) as i32),
            7 => Op::Color(enhance),
            8 => Op::Contrast(enhance),
            9 => Op::Brightness(enhance),
            10 => Op::Sharpness(enhance),
            11 => Op::ShearX(sign * m * 0.3),
            12 => Op::ShearY(sign * m * 0.3),
            13 => Op::TranslateX(sign * m * 0.45),
            _ => Op::TranslateY(sign * m * 0.45),
        });
    }
    ops
}

/// Applies RandAugment to a clip in place: one draw of ops, the same for every frame.
pub fn rand_augment(frames: &mut [Frame], cfg: &RandAugmentConfig, rng: &mut impl Rng) {
    let ops = sample_ops(cfg, rng);
    let Some(first) = frames.first() else {
        return;
    };
    let prepared: Vec<PreparedOp> = ops
        .iter()
        .map(|&op| PreparedOp::new(op, first.width, first.height))
        .collect();
    let mut scratch = Vec::new();
    for f in frames.iter_mut() {
        for op in &prepared {
            op.apply(f, &mut scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::randaugment_ops::tests::noise_frame;
    use rand::SeedableRng;

    #[test]
    fn every_frame_of_a_clip_gets_the_same_ops() {
        let f = noise_frame(2);
        for seed in 0..20 {
            let mut out = vec![f.clone(), f.clone(), f.clone()];
            rand_augment(
                &mut out,
                &RandAugmentConfig::default(),
                &mut rand::rngs::StdRng::seed_from_u64(seed),
            );
            assert!(out.windows(2).all(|w| w[0] == w[1]));
        }
    }
}
