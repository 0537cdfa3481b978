//! Fine-tuning loss (DESIGN §6): cross-entropy against soft targets built from label
//! smoothing and, per batch, either mixup or CutMix (timm `Mixup` with `switch_prob` 0.5:
//! mixup α = 0.8, CutMix α = 1.0 in the paper), each clip mixed with the batch reversed.
//! Regression heads use MSE instead (`regression_loss`).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use rand::Rng;
use rand_distr::{Beta, Distribution};

/// Mixing applied to one batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mix {
    None,
    /// x = λ·x + (1 − λ)·flip(x).
    Mixup {
        lambda: f64,
    },
    /// A box [y0, y1) × [x0, x1) of every frame taken from flip(x); λ = 1 − box area share.
    CutMix {
        lambda: f64,
        y0: usize,
        y1: usize,
        x0: usize,
        x1: usize,
    },
}

/// Draws the batch's mixing (alphas 0 = off; when both are on, each is picked half the time).
pub fn draw_mix(
    mixup_alpha: f64,
    cutmix_alpha: f64,
    height: usize,
    width: usize,
    rng: &mut impl Rng,
) -> Mix {
    let use_cutmix = match (mixup_alpha > 0.0, cutmix_alpha > 0.0) {
        (false, false) => return Mix::None,
        (true, false) => false,
        (false, true) => true,
        (true, true) => rng.random_bool(0.5),
    };
    if !use_cutmix {
        let lambda = Beta::new(mixup_alpha, mixup_alpha)
            .expect("alpha > 0")
            .sample(rng);
        return Mix::Mixup { lambda };
    }
    let lambda: f64 = Beta::new(cutmix_alpha, cutmix_alpha)
        .expect("alpha > 0")
        .sample(rng);
    let cut = (1.0 - lambda).sqrt();
    let (ch, cw) = (
        (height as f64 * cut) as usize,
        (width as f64 * cut) as usize,
    );
    let (cy, cx) = (rng.random_range(0..height), rng.random_range(0..width));
    let (y0, y1) = (cy.saturating_sub(ch / 2), (cy + ch / 2).min(height));
    let (x0, x1) = (cx.saturating_sub(cw / 2), (cx + cw / 2).min(width));
    let lambda = 1.0 - ((y1 - y0) * (x1 - x0)) as f64 / (height * width) as f64;
    Mix::CutMix {
        lambda,
        y0,
        y1,
        x0,
        x1,
    }
}

/// Applies `mix` to clips [B, C, T, H, W]; returns the clips and λ.
pub fn mix_clips<B: Backend>(video: Tensor<B, 5>, mix: Mix) -> (Tensor<B, 5>, f64) {
    match mix {
        Mix::None => (video, 1.0),
        Mix::Mixup { lambda } => {
            let flipped = video.clone().flip([0]);
            (video * lambda + flipped * (1.0 - lambda), lambda)
        }
        Mix::CutMix {
            lambda,
            y0,
            y1,
            x0,
            x1,
        } => {
            let [_, _, _, h, w] = video.dims();
            let device = video.device();
            let mut mask = vec![0f32; h * w];
            for y in y0..y1 {
                mask[y * w + x0..y * w + x1].fill(1.0);
            }
            let mask = Tensor::<B, 2>::from_data(TensorData::new(mask, [h, w]), &device)
                .reshape([1, 1, 1, h, w]);
            let flipped = video.clone().flip([0]);
            (video * (mask.clone().neg() + 1.0) + flipped * mask, lambda)
        }
    }
}

/// Soft targets [B, K]: smoothed one-hot labels mixed with the reversed batch's by λ.
pub fn soft_targets<B: Backend>(
    labels: &[usize],
    classes: usize,
    smoothing: f64,
    lambda: f64,
    device: &B::Device,
) -> Tensor<B, 2> {
    let off = smoothing / classes as f64;
    let on = 1.0 - smoothing + off;
    let one_hot = |order: &mut dyn Iterator<Item = &usize>| -> Vec<f32> {
        order
            .flat_map(|&l| (0..classes).map(move |k| if k == l { on } else { off } as f32))
            .collect()
    };
    let n = labels.len();
    let forward = Tensor::<B, 2>::from_data(
        TensorData::new(one_hot(&mut labels.iter()), [n, classes]),
        device,
    );
    if lambda >= 1.0 {
        return forward;
    }
    let reversed = Tensor::<B, 2>::from_data(
        TensorData::new(one_hot(&mut labels.iter().rev()), [n, classes]),
        device,
    );
    forward * lambda + reversed * (1.0 - lambda)
}

/// Cross-entropy of logits [B, K] against soft targets [B, K], mean over the batch.
pub fn soft_cross_entropy<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 2>) -> Tensor<B, 1> {
    (log_softmax(logits, 1) * targets).sum_dim(1).mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;
    use rand::SeedableRng;

    #[test]
    fn hard_targets_give_the_usual_cross_entropy() {
        let device = Default::default();
        let logits = Tensor::<Cpu, 2>::from_floats([[2.0, 0.0, 0.0]], &device);
        let loss = soft_cross_entropy(logits, soft_targets::<Cpu>(&[0], 3, 0.0, 1.0, &device))
            .into_scalar();
        let expected = -(2f32.exp() / (2f32.exp() + 2.0)).ln();
        assert!((loss - expected).abs() < 1e-6);
    }

    #[test]
    fn smoothed_mixed_targets_sum_to_one() {
        let device = Default::default();
        let t = soft_targets::<Cpu>(&[0, 1, 2], 3, 0.1, 0.7, &device);
        let sums = t.clone().sum_dim(1).into_data().to_vec::<f32>().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6));
        let first = t.into_data().to_vec::<f32>().unwrap();
        // Row 0 mixes label 0 (λ) with label 2 (the reversed batch).
        assert!((first[0] - (0.7 * (0.9 + 0.1 / 3.0) + 0.3 * 0.1 / 3.0) as f32).abs() < 1e-6);
    }

    #[test]
    fn cutmix_lambda_is_the_kept_area() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..20 {
            if let Mix::CutMix {
                lambda,
                y0,
                y1,
                x0,
                x1,
            } = draw_mix(0.0, 1.0, 32, 32, &mut rng)
            {
                assert!((lambda - (1.0 - ((y1 - y0) * (x1 - x0)) as f64 / 1024.0)).abs() < 1e-12);
            } else {
                panic!("cutmix only");
            }
        }
    }
}
