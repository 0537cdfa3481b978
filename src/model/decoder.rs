//! MAE decoder (released `PretrainVisionTransformerDecoder`): plain blocks on visible +
//! mask tokens, then LN and a Linear to the tube's pixels, applied to the mask tokens only.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use super::block::Block;
use super::config::DecoderConfig;
use super::dense::apply;
use super::init::{ParamInit, layer_norm};
use super::norm::normalize;

#[derive(Module, Debug)]
pub struct MaeDecoder<B: Backend> {
    pub blocks: Vec<Block<B>>,
    pub norm: LayerNorm<B>,
    pub head: Linear<B>,
}

impl<B: Backend> MaeDecoder<B> {
    pub fn new(
        cfg: &DecoderConfig,
        mlp_ratio: usize,
        patch_dim: usize,
        init: &mut ParamInit,
        device: &B::Device,
    ) -> Self {
        let blocks = (0..cfg.depth)
            .map(|_| Block::new(init, cfg.width, cfg.heads, mlp_ratio, 0.0, device))
            .collect();
        Self {
            blocks,
            norm: layer_norm(cfg.width, device),
            head: init.linear(cfg.width, patch_dim, true, device),
        }
    }

    /// `x`: [B, N_vis + N_mask, D] with the mask tokens last → predictions [B, N_mask, patch_dim].
    pub fn forward(&self, x: Tensor<B, 3>, num_masked: usize) -> Tensor<B, 3> {
        let x = self
            .blocks
            .iter()
            .fold(x, |x, block| block.forward(x, false).0);
        let n = x.dims()[1];
        apply(
            &self.head,
            normalize(&self.norm, x.narrow(1, n - num_masked, num_masked)),
        )
    }
}
