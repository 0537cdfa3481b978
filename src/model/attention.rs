//! Multi-head self-attention with the released code's bias layout: one fused `qkv` Linear
//! without bias, plus learnable `q_bias` and `v_bias` (the key bias is fixed at 0).

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::dense::{apply, dense};
use super::init::ParamInit;
use crate::cpu_kernels::attention::self_attention;

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

/// [B, N, C] → [B, H, N, C/H].
pub(crate) fn split_heads<B: Backend>(x: Tensor<B, 3>, heads: usize) -> Tensor<B, 4> {
    let [b, n, c] = x.dims();
    x.reshape([b, n, heads, c / heads]).swap_dims(1, 2)
}

/// A fused projection [B, N, P·C] (e.g. `qkv`, P = 3) → its P parts, each [B, H, N, C/H].
pub(crate) fn split_fused<B: Backend, const P: usize>(
    x: Tensor<B, 3>,
    heads: usize,
) -> [Tensor<B, 4>; P] {
    let c = x.dims()[2] / P;
    std::array::from_fn(|i| split_heads(x.clone().narrow(2, i * c, c), heads))
}

/// [B, H, N, C/H] → [B, N, C].
pub(crate) fn merge_heads<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 3> {
    let [b, h, n, d] = x.dims();
    x.swap_dims(1, 2).reshape([b, n, h * d])
}

/// softmax(q·kᵀ / √d)·v and the softmax weights, from plain tensor ops. Only the probe that
/// shows attention maps asks for the weights; the normal forward pass uses the fused
/// kernels of `cpu_kernels::attention` (burn's attention op on other backends).
pub(crate) fn attention_with_weights<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let scale = (q.dims()[3] as f64).powf(-0.5);
    let weights = softmax((q * scale).matmul(k.swap_dims(2, 3)), 3);
    (weights.clone().matmul(v), weights)
}
