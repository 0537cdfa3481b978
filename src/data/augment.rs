//! Augmentations on normalised clips and batches: random erasing (VideoMAE "cube" mode:
//! the same rectangle in every frame, filled with N(0, 1) noise) and mixup / cutmix with
//! label smoothing (timm `Mixup`, batch mode, as in the fine-tuning recipe).

use rand::Rng;
use rand_distr::{Beta, Distribution, StandardNormal};

/// Random erasing (timm `RandomErasing`, mode "pixel", one rectangle, cube over time).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandomErasing {
    pub prob: f64,
    pub min_area: f64,
    pub max_area: f64,
    pub min_aspect: f64,
}

impl Default for RandomErasing {
    fn default() -> Self {
        Self {
            prob: 0.25,
            min_area: 0.02,
            max_area: 1.0 / 3.0,
            min_aspect: 0.3,
        }
    }
}

impl RandomErasing {
    /// Erases one rectangle of a `[3, T, H, W]` clip in place (all frames alike).
    pub fn apply(&self, clip: &mut [f32], t: usize, h: usize, w: usize, rng: &mut impl Rng) {
        if !rng.random_bool(self.prob) {
            return;
        }
        let area = (h * w) as f64;
        let (lo, hi) = (self.min_aspect.ln(), (1.0 / self.min_aspect).ln());
        for _ in 0..10 {
            let target = rng.random_range(self.min_area..self.max_area) * area;
            let ar = rng.random_range(lo..hi).exp();
            let eh = (target * ar).sqrt().round() as usize;
            let ew = (target / ar).sqrt().round() as usize;
            if eh > 0 && ew > 0 && eh < h && ew < w {
                let top = rng.random_range(0..=h - eh);
                let left = rng.random_range(0..=w - ew);
                // One noise value per (channel, row, col), shared by all frames (cube).
                let noise: Vec<f32> = (0..3 * eh * ew)
                    .map(|_| StandardNormal.sample(rng))
                    .collect();
                for c in 0..3 {
                    for ti in 0..t {
                        for y in 0..eh {
                            for x in 0..ew {
                                clip[((c * t + ti) * h + top + y) * w + left + x] =
                                    noise[(c * eh + y) * ew + x];
                            }
                        }
                    }
                }
                return;
            }
        }
    }
}

/// Mixup / cutmix settings (fine-tuning: mixup 0.8, cutmix 1.0, switch 0.5, smoothing 0.1).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MixupConfig {
    pub mixup_alpha: f64,
    pub cutmix_alpha: f64,
    /// Probability of mixing a batch at all.
    pub prob: f64,
    /// Probability of cutmix instead of mixup when both are on.
    pub switch_prob: f64,
    pub label_smoothing: f64,
}

impl Default for MixupConfig {
    fn default() -> Self {
        Self {
            mixup_alpha: 0.8,
            cutmix_alpha: 1.0,
            prob: 1.0,
            switch_prob: 0.5,
            label_smoothing: 0.1,
        }
    }
}

/// Smoothed one-hot targets: `1 - s + s/K` on the class, `s/K` elsewhere.
pub fn smooth_one_hot(labels: &[usize], classes: usize, smoothing: f64) -> Vec<f32> {
    let off = (smoothing / classes as f64) as f32;
    let on = (1.0 - smoothing) as f32 + off;
    let mut out = vec![off; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        out[i * classes + l] = on;
    }
    out
}

/// Mixes a batch `[B, 3, T, H, W]` in place with its reverse (timm batch mode) and returns
/// soft targets `[B, classes]` and the mixing weight λ.
pub fn mixup_batch(
    cfg: &MixupConfig,
    clips: &mut [f32],
    shape: [usize; 5],
    labels: &[usize],
    classes: usize,
    rng: &mut impl Rng,
) -> (Vec<f32>, f64) {
    let [b, c, t, h, w] = shape;
    let y = smooth_one_hot(labels, classes, cfg.label_smoothing);
    let mut lam = 1.0;
    let active = (cfg.mixup_alpha > 0.0 || cfg.cutmix_alpha > 0.0) && rng.random_bool(cfg.prob);
    if active && b > 1 {
        let use_cutmix =
            cfg.cutmix_alpha > 0.0 && (cfg.mixup_alpha <= 0.0 || rng.random_bool(cfg.switch_prob));
        let alpha = if use_cutmix {
            cfg.cutmix_alpha
        } else {
            cfg.mixup_alpha
        };
        lam = Beta::new(alpha, alpha).unwrap().sample(rng);
        let per = c * t * h * w;
        let orig = clips.to_vec();
        if use_cutmix {
            // timm rand_bbox: a box of side sqrt(1 - λ), centre uniform, clipped; λ corrected.
            let cut = (1.0 - lam).sqrt();
            let (ch, cw) = ((h as f64 * cut) as usize, (w as f64 * cut) as usize);
            let cy = rng.random_range(0..h);
            let cx = rng.random_range(0..w);
            let (y0, y1) = (cy.saturating_sub(ch / 2), (cy + ch / 2).min(h));
            let (x0, x1) = (cx.saturating_sub(cw / 2), (cx + cw / 2).min(w));
            lam = 1.0 - ((y1 - y0) * (x1 - x0)) as f64 / (h * w) as f64;
            for i in 0..b {
                let j = b - 1 - i;
                for ct in 0..c * t {
                    for yy in y0..y1 {
                        let row = (ct * h + yy) * w;
                        clips[i * per + row + x0..i * per + row + x1]
                            .copy_from_slice(&orig[j * per + row + x0..j * per + row + x1]);
                    }
                }
            }
        } else {
            let l = lam as f32;
            for i in 0..b {
                let j = b - 1 - i;
                for k in 0..per {
                    clips[i * per + k] = orig[i * per + k] * l + orig[j * per + k] * (1.0 - l);
                }
            }
        }
    }
    let l = lam as f32;
    let mut targets = vec![0f32; b * classes];
    for i in 0..b {
        let j = b - 1 - i;
        for k in 0..classes {
            targets[i * classes + k] = y[i * classes + k] * l + y[j * classes + k] * (1.0 - l);
        }
    }
    (targets, lam)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn erasing_uses_one_rectangle_for_all_frames() {
        let (t, h, w) = (4, 20, 20);
        let mut clip = vec![9.0f32; 3 * t * h * w];
        let er = RandomErasing {
            prob: 1.0,
            ..Default::default()
        };
        er.apply(
            &mut clip,
            t,
            h,
            w,
            &mut rand::rngs::StdRng::seed_from_u64(3),
        );
        let frame =
            |c: usize, ti: usize| clip[(c * t + ti) * h * w..(c * t + ti + 1) * h * w].to_vec();
        assert!(frame(0, 0).iter().any(|&v| v != 9.0));
        for ti in 1..t {
            assert_eq!(frame(0, ti), frame(0, 0));
        }
    }

    #[test]
    fn mixed_targets_are_distributions() {
        let shape = [4, 3, 2, 8, 8];
        let mut clips: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|i| i as f32)
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..10 {
            let (t, lam) = mixup_batch(
                &MixupConfig::default(),
                &mut clips,
                shape,
                &[0, 1, 2, 3],
                7,
                &mut rng,
            );
            assert!((0.0..=1.0).contains(&lam));
            for row in t.chunks(7) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
        let y = smooth_one_hot(&[2], 7, 0.1);
        assert!((y[2] - (0.9 + 0.1 / 7.0)).abs() < 1e-6);
    }
}
