//! Multi-head self-attention with the released code's bias layout: one fused `qkv` Linear
//! without bias, plus learnable `q_bias` and `v_bias` (the key bias is fixed at 0).

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::dense::{apply, dense};
use super::init::ParamInit;
use super::multi_head::{attention_with_weights, merge_heads, self_attention, split_fused};

#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    pub qkv: Linear<B>,
    pub q_bias: Param<Tensor<B, 1>>,
    pub v_bias: Param<Tensor<B, 1>>,
    pub proj: Linear<B>,
    pub num_heads: usize,
}

impl<B: Backend> Attention<B> {
    pub fn new(init: &mut ParamInit, dim: usize, num_heads: usize, device: &B::Device) -> Self {
        Self {
            qkv: init.linear(dim, 3 * dim, false, device),
            q_bias: Param::from_tensor(Tensor::zeros([dim], device)),
            v_bias: Param::from_tensor(Tensor::zeros([dim], device)),
            proj: init.linear(dim, dim, true, device),
            num_heads,
        }
    }

    /// `x`: [B, N, C] → [B, N, C]; with `want_weights`, also the softmax weights [B, H, N, N].
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        want_weights: bool,
    ) -> (Tensor<B, 3>, Option<Tensor<B, 4>>) {
        let q_bias = self.q_bias.val();
        let bias = Tensor::cat(
            vec![q_bias.clone(), q_bias.zeros_like(), self.v_bias.val()],
            0,
        );
        let qkv = dense(x, self.qkv.weight.val(), Some(bias));
        if !want_weights {
            let out = self_attention(qkv, self.num_heads);
            return (apply(&self.proj, out), None);
        }
        let [q, k, v] = split_fused(qkv, self.num_heads);
        let (out, weights) = attention_with_weights(q, k, v);
        (apply(&self.proj, merge_heads(out)), Some(weights))
    }
}
