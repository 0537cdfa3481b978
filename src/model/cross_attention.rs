//! Cross-attention of the cross-self blocks (released `GeneralAttention`): queries from one
//! token set, keys and values from a context; `q` and `kv` Linears without bias plus
//! `q_bias` and `v_bias`.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::dense::{apply, dense};
use super::init::ParamInit;
use super::multi_head::{
    attention_with_weights, cross_attention, merge_heads, split_fused, split_heads,
};

#[derive(Module, Debug)]
pub struct CrossAttention<B: Backend> {
    pub q: Linear<B>,
    pub kv: Linear<B>,
    pub q_bias: Param<Tensor<B, 1>>,
    pub v_bias: Param<Tensor<B, 1>>,
    pub proj: Linear<B>,
    pub num_heads: usize,
}

impl<B: Backend> CrossAttention<B> {
    pub fn new(init: &mut ParamInit, dim: usize, num_heads: usize, device: &B::Device) -> Self {
        Self {
            q: init.linear(dim, dim, false, device),
            kv: init.linear(dim, 2 * dim, false, device),
            q_bias: Param::from_tensor(Tensor::zeros([dim], device)),
            v_bias: Param::from_tensor(Tensor::zeros([dim], device)),
            proj: init.linear(dim, dim, true, device),
            num_heads,
        }
    }

    /// `x`: [B, Nq, C] queries, `context`: [B, Nk, C] → [B, Nq, C] (and weights [B, H, Nq, Nk]).
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        context: Tensor<B, 3>,
        want_weights: bool,
    ) -> (Tensor<B, 3>, Option<Tensor<B, 4>>) {
        let v_bias = self.v_bias.val();
        let kv_bias = Tensor::cat(vec![v_bias.zeros_like(), v_bias], 0);
        let q = dense(x, self.q.weight.val(), Some(self.q_bias.val()));
        let kv = dense(context, self.kv.weight.val(), Some(kv_bias));
        if !want_weights {
            let out = cross_attention(q, kv, self.num_heads);
            return (apply(&self.proj, out), None);
        }
        let [k, v] = split_fused(kv, self.num_heads);
        let (out, weights) = attention_with_weights(split_heads(q, self.num_heads), k, v);
        (apply(&self.proj, merge_heads(out)), Some(weights))
    }
}
