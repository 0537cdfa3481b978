//! Spatial bottleneck (paper §3.2, Eq. 5–6; released `SpatialAttention`): per time slice,
//! A = softmax_S(MLP(LN X)) assigns the S positions to G bottleneck tokens and B = Aᵀ·X.

use burn::nn::LayerNorm;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::init::{ParamInit, layer_norm};
use super::mlp::Mlp;
use super::norm::normalize;

#[derive(Module, Debug)]
pub struct SpatialAttention<B: Backend> {
    pub norm: LayerNorm<B>,
    pub mlp: Mlp<B>,
    pub num_tokens: usize,
}

impl<B: Backend> SpatialAttention<B> {
    pub fn new(
        init: &mut ParamInit,
        dim: usize,
        hidden: usize,
        num_tokens: usize,
        device: &B::Device,
    ) -> Self {
        Self {
            norm: layer_norm(dim, device),
            mlp: Mlp::new(init, dim, hidden, num_tokens, device),
            num_tokens,
        }
    }

    /// `x`: [B, T·S, C] (t-major) → bottleneck tokens [B, T·G, C] and the assignment
    /// [B·T, G, S] (softmax over S).
    pub fn forward(&self, x: Tensor<B, 3>, slices: usize) -> (Tensor<B, 3>, Tensor<B, 3>) {
        let [b, n, c] = x.dims();
        let s = n / slices;
        let g = self.num_tokens;
        let logits = self.mlp.forward(normalize(&self.norm, x.clone())); // [B, T·S, G]
        let assignment = softmax(logits.reshape([b * slices, s, g]).swap_dims(1, 2), 2);
        let pooled = assignment.clone().matmul(x.reshape([b * slices, s, c]));
        (pooled.reshape([b, slices * g, c]), assignment)
    }
}
