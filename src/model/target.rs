//! Pre-training targets and loss (DESIGN §5). Each masked tube's pixels, un-normalised to
//! [0, 1] and ordered (dt, dy, dx, channel) with the channel fastest, either normalised per
//! tube and channel by their mean and unbiased std + 1e-6 (released
//! `engine_for_pretraining.py`) or left as plain pixels (paper Eq. 11). Loss: MSE over the
//! masked tubes.

use burn::prelude::*;

use super::config::ReconstructionTarget;
use super::patch_embed::tubes_pixel_major;
use super::pixel_norm::unnormalize;

const STD_EPS: f64 = 1e-6;

/// Pixel tubes [B·N, P·3] (pixel-major) of a normalised clip, in [0, 1].
pub fn pixel_tubes<B: Backend>(video: Tensor<B, 5>, tubelet: usize, patch: usize) -> Tensor<B, 2> {
    let tubes = tubes_pixel_major(unnormalize(video), tubelet, patch);
    let [b, n, d] = tubes.dims();
    tubes.reshape([b * n, d])
}

/// Per tube and channel statistics of pixel tubes [B, M, P·3]: (mean, std + eps), each
/// [B, M, 1, 3], std unbiased.
fn tube_stats<B: Backend>(tubes: Tensor<B, 3>) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let [b, m, d] = tubes.dims();
    let p = d / 3;
    let x = tubes.reshape([b, m, p, 3]);
    let mean = x.clone().mean_dim(2);
    let var = (x - mean.clone()).powi_scalar(2).sum_dim(2) / (p as f64 - 1.0);
    (mean, var.sqrt() + STD_EPS)
}

/// Regression targets for the selected tubes [B, M, P·3] (pixels in [0, 1]).
pub fn reconstruction_targets<B: Backend>(
    masked_pixels: Tensor<B, 3>,
    kind: ReconstructionTarget,
) -> Tensor<B, 3> {
    match kind {
        ReconstructionTarget::Pixels => masked_pixels,
        ReconstructionTarget::NormalizedPixels => {
            let [b, m, d] = masked_pixels.dims();
            let (mean, std) = tube_stats(masked_pixels.clone());
            ((masked_pixels.reshape([b, m, d / 3, 3]) - mean) / std).reshape([b, m, d])
        }
    }
}

/// Turns predictions back into pixels in [0, 1] for reconstruction images: with normalised
/// targets, each tube's prediction is rescaled by the original tube's own mean and std (the
/// only way to show a per-tube-normalised prediction; VideoMAE's visualisation does the same).
pub fn predictions_to_pixels<B: Backend>(
    predictions: Tensor<B, 3>,
    masked_pixels: Tensor<B, 3>,
    kind: ReconstructionTarget,
) -> Tensor<B, 3> {
    match kind {
        ReconstructionTarget::Pixels => predictions,
        ReconstructionTarget::NormalizedPixels => {
            let [b, m, d] = predictions.dims();
            let (mean, std) = tube_stats(masked_pixels);
            (predictions.reshape([b, m, d / 3, 3]) * std + mean).reshape([b, m, d])
        }
    }
}

/// Mean squared error over every value of the masked tubes.
pub fn mse<B: Backend>(predictions: Tensor<B, 3>, targets: Tensor<B, 3>) -> Tensor<B, 1> {
    (predictions - targets).powi_scalar(2).mean()
}
