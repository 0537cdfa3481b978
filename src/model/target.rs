//! Pre-training targets and loss (DESIGN §5). Each masked tube's pixels, un-normalised to
//! [0, 1] and ordered (dt, dy, dx, channel) with the channel fastest, either normalised per
//! tube and channel by their mean and unbiased std + 1e-6 (released
//! `engine_for_pretraining.py`) or left as plain pixels (paper Eq. 11). Loss: MSE over the
//! masked tubes.
//!
//! Targets are constants of the step, so they are built on the host in one pass over the
//! clip (broadcasting the per-channel and per-tube statistics as tensor ops cost more than
//! the encoder on CPU).

use burn::prelude::*;

use super::config::ReconstructionTarget;
use super::pixel_norm::{IMAGENET_MEAN, IMAGENET_STD};
use super::tube_mask::TubeMask;

const STD_EPS: f32 = 1e-6;

/// Pixels in [0, 1] of every masked tube of normalised clips `clips` [B, C, T, H, W]:
/// [B, T'·M, tubelet·patch²·C], tubes t-major with masked positions ascending, each tube
/// ordered (dt, dy, dx, c).
pub fn masked_tube_pixels(
    clips: &[f32],
    dims: [usize; 5],
    masks: &[TubeMask],
    tubelet: usize,
    patch: usize,
) -> Vec<f32> {
    let [b, c, t, h, w] = dims;
    let grid_w = w / patch;
    let tube_len = tubelet * patch * patch * c;
    let per_clip: usize = (t / tubelet) * masks.first().map_or(0, |m| m.masked.len());
    let mut out = Vec::with_capacity(b * per_clip * tube_len);
    for (clip, mask) in masks.iter().enumerate().take(b) {
        for slice in 0..t / tubelet {
            for &s in &mask.masked {
                let (y0, x0) = ((s / grid_w) * patch, (s % grid_w) * patch);
                for dt in 0..tubelet {
                    let frame = slice * tubelet + dt;
                    for dy in 0..patch {
                        for dx in 0..patch {
                            for ch in 0..c {
                                let i = (((clip * c + ch) * t + frame) * h + y0 + dy) * w + x0 + dx;
                                out.push(clips[i] * IMAGENET_STD[ch] + IMAGENET_MEAN[ch]);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Per channel (mean, std + eps) of one tube of `tube.len() / channels` pixels, std unbiased.
fn tube_stats(tube: &[f32], channels: usize) -> Vec<(f32, f32)> {
    let n = (tube.len() / channels) as f32;
    (0..channels)
        .map(|ch| {
            let values = tube.iter().skip(ch).step_by(channels);
            let mean = values.clone().sum::<f32>() / n;
            let var = values.map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0);
            (mean, var.sqrt() + STD_EPS)
        })
        .collect()
}

/// Regression targets from masked tube pixels (`tube_len` values per tube, 3 channels).
pub fn reconstruction_targets(
    masked_pixels: &[f32],
    tube_len: usize,
    kind: ReconstructionTarget,
) -> Vec<f32> {
    match kind {
        ReconstructionTarget::Pixels => masked_pixels.to_vec(),
        ReconstructionTarget::NormalizedPixels => masked_pixels
            .chunks(tube_len)
            .flat_map(|tube| {
                let stats = tube_stats(tube, 3);
                tube.iter().enumerate().map(move |(i, v)| {
                    let (mean, std) = stats[i % 3];
                    (v - mean) / std
                })
            })
            .collect(),
    }
}

/// Turns predictions back into pixels in [0, 1] for reconstruction images: with normalised
/// targets, each tube's prediction is rescaled by the original tube's own mean and std (the
/// only way to show a per-tube-normalised prediction; VideoMAE's visualisation does the same).
pub fn predictions_to_pixels(
    predictions: &[f32],
    masked_pixels: &[f32],
    tube_len: usize,
    kind: ReconstructionTarget,
) -> Vec<f32> {
    match kind {
        ReconstructionTarget::Pixels => predictions.to_vec(),
        ReconstructionTarget::NormalizedPixels => predictions
            .chunks(tube_len)
            .zip(masked_pixels.chunks(tube_len))
            .flat_map(|(pred, original)| {
                let stats = tube_stats(original, 3);
                pred.iter().enumerate().map(move |(i, v)| {
                    let (mean, std) = stats[i % 3];
                    v * std + mean
                })
            })
            .collect(),
    }
}

/// Mean squared error over every value of the masked tubes.
pub fn mse<B: Backend>(predictions: Tensor<B, 3>, targets: Tensor<B, 3>) -> Tensor<B, 1> {
    (predictions - targets).powi_scalar(2).mean()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_targets_invert_back_to_pixels() {
        let pixels: Vec<f32> = (0..2 * 12)
            .map(|i| (i as f32 * 0.37).sin() * 0.5 + 0.5)
            .collect();
        let targets = reconstruction_targets(&pixels, 12, ReconstructionTarget::NormalizedPixels);
        let back = predictions_to_pixels(
            &targets,
            &pixels,
            12,
            ReconstructionTarget::NormalizedPixels,
        );
        assert!(pixels.iter().zip(&back).all(|(a, b)| (a - b).abs() < 1e-5));
    }
}
