//! Applying the model's LayerNorms. All of them come from `init::layer_norm` with the
//! released code's eps, which the fused CPU kernel is given (burn keeps a LayerNorm's eps
//! private).

use burn::nn::LayerNorm;
use burn::prelude::*;

/// eps of every LayerNorm in the released models (timm `partial(nn.LayerNorm, eps=1e-6)`).
pub const LAYER_NORM_EPS: f64 = 1e-6;

/// `norm(x)` over the last dimension.
pub fn normalize<B: Backend, const D: usize>(norm: &LayerNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    crate::cpu_kernels::layer_norm::layer_norm(norm, LAYER_NORM_EPS, x)
}
