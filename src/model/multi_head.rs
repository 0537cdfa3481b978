//! Multi-head attention over the fused projections: the fused CPU kernels where they run,
//! burn's ops on every other backend (CUDA, wgpu), with the head split and merge helpers
//! the attention modules and the probes share.

use burn::prelude::*;
use burn::tensor::FloatDType;
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::precision::product_dtype;
use super::recomputed_attention::tracked_attention;
use crate::cpu_kernels::attention::{fused_cross_attention, fused_self_attention};

/// Self-attention over `qkv` [B, N, 3C] (q, k, v side by side) → [B, N, C], heads merged.
pub fn self_attention<B: Backend>(qkv: Tensor<B, 3>, heads: usize) -> Tensor<B, 3> {
    fused_self_attention(qkv, heads).unwrap_or_else(|qkv| {
        let [q, k, v] = split_fused(qkv, heads);
        merge_heads(attend(q, k, v))
    })
}

/// Queries `q` [B, Nq, C] over `kv` [B, Nk, 2C] (k, v side by side) → [B, Nq, C].
pub fn cross_attention<B: Backend>(
    q: Tensor<B, 3>,
    kv: Tensor<B, 3>,
    heads: usize,
) -> Tensor<B, 3> {
    fused_cross_attention(q, kv, heads).unwrap_or_else(|(q, kv)| {
        let [k, v] = split_fused(kv, heads);
        merge_heads(attend(split_heads(q, heads), k, v))
    })
}

/// softmax(q·kᵀ/√d)·v per head from burn's ops. In f32, training on a CubeCL backend takes
/// the op that keeps no weights for the backward pass (`recomputed_attention`), anything
/// else burn's attention op (flash attention in inference on CubeCL backends). Under
/// autocast the two products run in the half type and the softmax in f32, as PyTorch's
/// autocast does.
fn attend<B: Backend>(q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>) -> Tensor<B, 4> {
    let Some(half) = product_dtype() else {
        return tracked_attention(q, k, v).unwrap_or_else(|[q, k, v]| {
            attention(q, k, v, None, None, AttentionModuleOptions::default())
        });
    };
    let scale = (q.dims()[3] as f64).powf(-0.5);
    let scores = q
        .cast(half)
        .matmul(k.cast(half).swap_dims(2, 3))
        .cast(FloatDType::F32);
    let weights = softmax(scores * scale, 3);
    weights
        .cast(half)
        .matmul(v.cast(half))
        .cast(FloatDType::F32)
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
/// shows attention maps asks for the weights.
pub(crate) fn attention_with_weights<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
) -> (Tensor<B, 4>, Tensor<B, 4>) {
    let scale = (q.dims()[3] as f64).powf(-0.5);
    let weights = softmax((q * scale).matmul(k.swap_dims(2, 3)), 3);
    (weights.clone().matmul(v), weights)
}

#[cfg(test)]
mod tests {
    //! The fused CPU kernels against burn's ops, forward and gradients.
    use super::*;
    use crate::backend::{Cpu, CpuTrain};
    use burn::tensor::{Distribution, Tolerance};

    const HEADS: usize = 3;

    fn random<const D: usize>(shape: [usize; D]) -> Tensor<Cpu, D> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), &Default::default())
    }

    fn close<const D: usize>(ours: Tensor<impl Backend, D>, reference: Tensor<impl Backend, D>) {
        ours.into_data()
            .assert_approx_eq::<f32>(&reference.into_data(), Tolerance::rel_abs(1e-4, 1e-5));
    }

    fn self_by_ops<B: Backend>(qkv: Tensor<B, 3>) -> Tensor<B, 3> {
        let [q, k, v] = split_fused(qkv, HEADS);
        merge_heads(attend(q, k, v))
    }

    fn cross_by_ops<B: Backend>(q: Tensor<B, 3>, kv: Tensor<B, 3>) -> Tensor<B, 3> {
        let [k, v] = split_fused(kv, HEADS);
        merge_heads(attend(split_heads(q, HEADS), k, v))
    }

    #[test]
    fn self_attention_matches_burns_attention() {
        let qkv = random([2, 10, 3 * 24]);
        close(self_attention(qkv.clone(), HEADS), self_by_ops(qkv));
    }

    #[test]
    fn cross_attention_matches_burns_attention() {
        let (q, kv) = (random([2, 5, 24]), random([2, 9, 48]));
        close(
            cross_attention(q.clone(), kv.clone(), HEADS),
            cross_by_ops(q, kv),
        );
    }

    #[test]
    fn strided_input_is_read_in_logical_order() {
        let qkv = random([10, 2, 3 * 24]).swap_dims(0, 1);
        close(self_attention(qkv.clone(), HEADS), self_by_ops(qkv));
    }

    #[test]
    fn self_attention_gradient_matches_burns_autodiff() {
        let qkv = random([2, 10, 3 * 24]);
        let upstream = random([2, 10, 24]);
        let grad = |fused: bool| {
            let x = Tensor::<CpuTrain, 3>::from_inner(qkv.clone()).require_grad();
            let out = if fused {
                self_attention(x.clone(), HEADS)
            } else {
                self_by_ops(x.clone())
            };
            let loss = (out * Tensor::from_inner(upstream.clone())).sum();
            x.grad(&loss.backward()).unwrap()
        };
        close(grad(true), grad(false));
    }

    #[test]
    fn cross_attention_gradients_match_burns_autodiff() {
        let (q, kv) = (random([2, 5, 24]), random([2, 9, 48]));
        let upstream = random([2, 5, 24]);
        let grads = |fused: bool| {
            let q = Tensor::<CpuTrain, 3>::from_inner(q.clone()).require_grad();
            let kv = Tensor::<CpuTrain, 3>::from_inner(kv.clone()).require_grad();
            let out = if fused {
                cross_attention(q.clone(), kv.clone(), HEADS)
            } else {
                cross_by_ops(q.clone(), kv.clone())
            };
            let g = (out * Tensor::from_inner(upstream.clone()))
                .sum()
                .backward();
            (q.grad(&g).unwrap(), kv.grad(&g).unwrap())
        };
        let ((q_ours, kv_ours), (q_ref, kv_ref)) = (grads(true), grads(false));
        close(q_ours, q_ref);
        close(kv_ours, kv_ref);
    }
}
