//! Pre-norm ViT block (stage 1 of TPSBT and the MAE decoder): x + attn(LN x), x + mlp(LN x).

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::attention::Attention;
use super::drop_path::drop_path;
use super::init::{ParamInit, layer_norm};
use super::mlp::Mlp;
use super::norm::normalize;

#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    pub norm1: LayerNorm<B>,
    pub attn: Attention<B>,
    pub norm2: LayerNorm<B>,
    pub mlp: Mlp<B>,
    pub drop_path: f64,
}

impl<B: Backend> Block<B> {
    pub fn new(
        init: &mut ParamInit,
        dim: usize,
        heads: usize,
        mlp_ratio: usize,
        drop_path: f64,
        device: &B::Device,
    ) -> Self {
        Self {
            norm1: layer_norm(dim, device),
            attn: Attention::new(init, dim, heads, device),
            norm2: layer_norm(dim, device),
            mlp: Mlp::new(init, dim, dim * mlp_ratio, dim, device),
            drop_path,
        }
    }

    /// [B, N, C] → [B, N, C]; with `want_weights`, also the self-attention [B, H, N, N].
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        want_weights: bool,
    ) -> (Tensor<B, 3>, Option<Tensor<B, 4>>) {
        let (attn, weights) = self
            .attn
            .forward(normalize(&self.norm1, x.clone()), want_weights);
        let x = x + drop_path(attn, self.drop_path);
        let x = x.clone() + drop_path(self.mlp.forward(normalize(&self.norm2, x)), self.drop_path);
        (x, weights)
    }
}
