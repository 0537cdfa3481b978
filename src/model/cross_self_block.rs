//! Cross-self block of the spatial bottleneck transformer (released `CSBlock`):
//! x + cross_attn(LN x, LN context), then x + self_attn(LN x), then x + mlp(LN x).
//! The same block type serves as the stage's reverse block, with the roles of the
//! full-resolution tokens and the bottleneck tokens swapped (paper §3.2).

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::attention::Attention;
use super::cross_attention::CrossAttention;
use super::drop_path::drop_path;
use super::init::{ParamInit, layer_norm};
use super::mlp::Mlp;
use super::norm::normalize;

#[derive(Module, Debug)]
pub struct CrossSelfBlock<B: Backend> {
    pub cross_attn: CrossAttention<B>,
    pub cross_norm1: LayerNorm<B>,
    pub cross_norm2: LayerNorm<B>,
    pub norm1: LayerNorm<B>,
    pub attn: Attention<B>,
    pub norm2: LayerNorm<B>,
    pub mlp: Mlp<B>,
    pub drop_path: f64,
}

/// Attention weights of one cross-self block, when asked for.
pub struct CrossSelfWeights<B: Backend> {
    /// [B, H, Nq, Nk]
    pub cross: Tensor<B, 4>,
    /// [B, H, Nq, Nq]
    pub own: Tensor<B, 4>,
}

impl<B: Backend> CrossSelfBlock<B> {
    pub fn new(
        init: &mut ParamInit,
        dim: usize,
        heads: usize,
        mlp_ratio: usize,
        drop_path: f64,
        device: &B::Device,
    ) -> Self {
        Self {
            cross_attn: CrossAttention::new(init, dim, heads, device),
            cross_norm1: layer_norm(dim, device),
            cross_norm2: layer_norm(dim, device),
            norm1: layer_norm(dim, device),
            attn: Attention::new(init, dim, heads, device),
            norm2: layer_norm(dim, device),
            mlp: Mlp::new(init, dim, dim * mlp_ratio, dim, device),
            drop_path,
        }
    }

    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        context: Tensor<B, 3>,
        want_weights: bool,
    ) -> (Tensor<B, 3>, Option<CrossSelfWeights<B>>) {
        let (cross, cross_w) = self.cross_attn.forward(
            normalize(&self.cross_norm1, x.clone()),
            normalize(&self.cross_norm2, context),
            want_weights,
        );
        let x = x + drop_path(cross, self.drop_path);
        let (own, own_w) = self
            .attn
            .forward(normalize(&self.norm1, x.clone()), want_weights);
        let x = x + drop_path(own, self.drop_path);
        let x = x.clone() + drop_path(self.mlp.forward(normalize(&self.norm2, x)), self.drop_path);
        let weights = cross_w
            .zip(own_w)
            .map(|(cross, own)| CrossSelfWeights { cross, own });
        (x, weights)
    }
}
