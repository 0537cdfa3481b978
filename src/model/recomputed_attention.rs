//! Attention for training on the CubeCL backends (CUDA, wgpu) in f32 that keeps no
//! [B, H, Nq, Nk] tensor for the backward pass.
//!
//! burn 0.21's autodiff builds attention from its parts (q·kᵀ, the softmax's max, exp, sum
//! and division, then ·v) and keeps three [B, H, Nq, Nk] tensors of every attention layer
//! until the backward pass: for SVFAP-B fine-tuning (800 tokens, 8 heads, 12 first-stage
//! blocks) about 0.7 GB per clip. Here the forward pass is burn's attention op (flash
//! attention on CubeCL), and the backward pass recomputes the softmax weights from the kept
//! q and k, a few clips at a time, as FlashAttention's backward pass does (Dao et al. 2022,
//! §3.1 "recomputation"): one more q·kᵀ product for no stored weights.
//!
//! Not under autocast (`precision`): the same backward pass with f16 products cast to f32
//! gave wrong ∂q and ∂k on wgpu (burn-fusion 0.21; 70% to 300% errors in the pre-trainer's
//! encoder gradients, tests/gpu_path.rs, in three formulations), so half precision keeps
//! the op-by-op path, which matches f32 there.

use std::any::TypeId;
use std::ops::Range;

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::{AttentionModuleOptions, FloatTensor};
use burn::tensor::{DType, TensorPrimitive};

use crate::backend::same_type;

/// Weights recomputed per slice of clips: at most this many [Nq, Nk] elements over all
/// heads (256 MiB in f32), so a slice's weight-sized temporaries stay well under a GPU's
/// memory whatever the batch.
const SLICE_ELEMENTS: usize = 1 << 26;

/// softmax(q·kᵀ/√d)·v of f32 q [B, H, Nq, d], k and v [B, H, Nk, d] when `B` is the
/// autodiff backend over a CubeCL backend built into this binary; the inputs back
/// otherwise.
pub(crate) fn tracked_attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
) -> Result<Tensor<B, 4>, [Tensor<B, 4>; 3]> {
    #[cfg(feature = "wgpu")]
    let [q, k, v] = match over::<B, crate::backend::Wgpu>([q, k, v]) {
        Ok(out) => return Ok(out),
        Err(inputs) => inputs,
    };
    #[cfg(feature = "cuda")]
    let [q, k, v] = match over::<B, crate::backend::Cuda>([q, k, v]) {
        Ok(out) => return Ok(out),
        Err(inputs) => inputs,
    };
    Err([q, k, v])
}

/// The op when `B` is `Autodiff<I>` (burn's default checkpointing) and the inputs are f32.
#[cfg_attr(not(any(feature = "wgpu", feature = "cuda")), allow(dead_code))]
fn over<B: Backend, I: Backend>(
    inputs: [Tensor<B, 4>; 3],
) -> Result<Tensor<B, 4>, [Tensor<B, 4>; 3]> {
    if TypeId::of::<B>() != TypeId::of::<Autodiff<I>>()
        || inputs.iter().any(|t| t.dtype() != DType::F32)
    {
        return Err(inputs);
    }
    let [q, k, v] = inputs.map(|t| {
        same_type::<_, FloatTensor<Autodiff<I>>>(t.into_primitive().tensor())
            .unwrap_or_else(|_| unreachable!("B is Autodiff<I>"))
    });
    let out = attend::<I>(q, k, v, SLICE_ELEMENTS);
    let out =
        same_type::<_, FloatTensor<B>>(out).unwrap_or_else(|_| unreachable!("B is Autodiff<I>"));
    Ok(Tensor::from_primitive(TensorPrimitive::Float(out)))
}

/// The tracked op on `Autodiff<I>`: `slice` bounds the weights computed at once.
fn attend<I: Backend>(
    q: FloatTensor<Autodiff<I>>,
    k: FloatTensor<Autodiff<I>>,
    v: FloatTensor<Autodiff<I>>,
    slice: usize,
) -> FloatTensor<Autodiff<I>> {
    let compute = || {
        let [q, k, v] = [&q, &k, &v].map(|t| inner::<I>(t.primitive.clone()));
        attention(q, k, v, None, None, AttentionModuleOptions::default())
            .into_primitive()
            .tensor()
    };
    let nodes = [q.node.clone(), k.node.clone(), v.node.clone()];
    let step = AttentionBackward { slice };
    match step
        .prepare::<NoCheckpointing>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = compute();
            prep.finish([q.primitive, k.primitive, v.primitive], out)
        }
        OpsKind::UnTracked(prep) => prep.finish(compute()),
    }
}

fn inner<I: Backend>(x: FloatTensor<I>) -> Tensor<I, 4> {
    Tensor::from_primitive(TensorPrimitive::Float(x))
}

/// softmax(q·kᵀ/√d) over the last axis.
fn weights<I: Backend>(q: Tensor<I, 4>, k: Tensor<I, 4>) -> Tensor<I, 4> {
    let scale = scale(&q);
    softmax(q.matmul(k.swap_dims(2, 3)) * scale, 3)
}

fn scale<I: Backend>(q: &Tensor<I, 4>) -> f64 {
    (q.dims()[3] as f64).powf(-0.5)
}

/// Ranges of clips whose weights, [clips, H, Nq, Nk], hold at most `slice` elements (at
/// least one clip each).
fn slices<I: Backend>(
    q: &Tensor<I, 4>,
    k: &Tensor<I, 4>,
    slice: usize,
) -> impl Iterator<Item = Range<usize>> {
    let [batch, heads, nq, _] = q.dims();
    let per_clip = heads * nq * k.dims()[2];
    let clips = (slice / per_clip.max(1)).clamp(1, batch.max(1));
    (0..batch)
        .step_by(clips)
        .map(move |start| start..(start + clips).min(batch))
}

/// The backward step: keeps q, k and v; recomputes the weights P per slice of clips and
/// returns ∂L/∂v = Pᵀ·∂O, ∂L/∂q = ∂S·k/√d and ∂L/∂k = ∂Sᵀ·q/√d, where ∂P = ∂O·vᵀ and the
/// softmax's ∂S = P ⊙ (∂P − Σ_k P ⊙ ∂P).
#[derive(Debug)]
struct AttentionBackward {
    slice: usize,
}

impl<I: Backend> Backward<I, 3> for AttentionBackward {
    type State = [FloatTensor<I>; 3];

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [q, k, v] = ops.state.map(inner::<I>);
        let grad_out = inner::<I>(grads.consume::<I>(&ops.node));
        let scale = scale(&q);
        let mut parts: [Vec<Tensor<I, 4>>; 3] = Default::default();
        for clips in slices(&q, &k, self.slice) {
            let [q, k, v, grad_out] =
                [&q, &k, &v, &grad_out].map(|t| t.clone().narrow(0, clips.start, clips.len()));
            let p = weights(q.clone(), k.clone());
            let grad_v = p.clone().swap_dims(2, 3).matmul(grad_out.clone());
            let grad_p = grad_out.matmul(v.swap_dims(2, 3));
            let row = (p.clone() * grad_p.clone()).sum_dim(3);
            let grad_qk = p * (grad_p - row) * scale;
            let grad_q = grad_qk.clone().matmul(k);
            let grad_k = grad_qk.swap_dims(2, 3).matmul(q);
            for (list, grad) in parts.iter_mut().zip([grad_q, grad_k, grad_v]) {
                list.push(grad);
            }
        }
        for (parent, list) in ops.parents.into_iter().zip(parts) {
            if let Some(parent) = parent {
                grads.register::<I>(parent.id, Tensor::cat(list, 0).into_primitive().tensor());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The op on `Autodiff<Flex>` (the same generic code the CubeCL backends run) against
    //! burn's attention differentiated op by op, in one slice and in slices of one clip.
    use super::*;
    use crate::backend::{Cpu, CpuTrain};
    use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
    use burn::tensor::Tolerance;

    /// burn's op-by-op attention: autodiff over flex with another strategy than `CpuTrain`
    /// (which the fused CPU kernels would take).
    type ByOps = Autodiff<Cpu, BalancedCheckpointing>;

    struct Observed {
        out: TensorData,
        grads: Vec<TensorData>,
    }

    /// Deterministic values of unit scale (no shared random generator between tests).
    fn wavy<B: Backend>(shape: [usize; 4], seed: u64) -> Tensor<B, 4> {
        let n = shape.iter().product::<usize>();
        let values: Vec<f32> = (0..n)
            .map(|i| 1.5 * ((i as f32) * 0.737 + seed as f32 * 1.9).sin())
            .collect();
        Tensor::from_data(TensorData::new(values, shape), &Default::default())
    }

    /// q [3, 2, nq, 8], k and v [3, 2, nk, 8].
    fn inputs<B: Backend>(nq: usize, nk: usize) -> [Tensor<B, 4>; 3] {
        let make = |n: usize, seed: u64| wavy::<B>([3, 2, n, 8], seed);
        [make(nq, 1), make(nk, 2), make(nk, 3)]
    }

    /// Output and ∂(Σ out ⊙ w)/∂{q, k, v} for a fixed w.
    fn observe<B: burn::tensor::backend::AutodiffBackend>(
        nq: usize,
        nk: usize,
        attend: impl Fn([Tensor<B, 4>; 3]) -> Tensor<B, 4>,
    ) -> Observed {
        let [q, k, v] = inputs::<B>(nq, nk).map(|t| t.require_grad());
        let out = attend([q.clone(), k.clone(), v.clone()]);
        let w = wavy::<B>(out.dims(), 4);
        let grads = (out.clone() * w).sum().backward();
        Observed {
            out: out.into_data(),
            grads: [q, k, v]
                .iter()
                .map(|t| {
                    t.grad(&grads)
                        .expect("every input gets a gradient")
                        .into_data()
                })
                .collect(),
        }
    }

    fn by_ops(nq: usize, nk: usize) -> Observed {
        observe::<ByOps>(nq, nk, |[q, k, v]| {
            attention(q, k, v, None, None, AttentionModuleOptions::default())
        })
    }

    fn recomputed(nq: usize, nk: usize, slice: usize) -> Observed {
        observe::<CpuTrain>(nq, nk, |[q, k, v]| {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().tensor());
            Tensor::from_primitive(TensorPrimitive::Float(attend::<Cpu>(q, k, v, slice)))
        })
    }

    fn assert_close(ours: &Observed, reference: &Observed, tolerance: Tolerance<f32>) {
        ours.out.assert_approx_eq::<f32>(&reference.out, tolerance);
        for (ours, reference) in ours.grads.iter().zip(&reference.grads) {
            ours.assert_approx_eq::<f32>(reference, tolerance);
        }
    }

    #[test]
    fn output_and_gradients_equal_burns_attention_in_one_slice_and_in_many() {
        let tolerance = Tolerance::rel_abs(1e-4, 1e-5);
        for (nq, nk) in [(7, 7), (4, 9)] {
            let reference = by_ops(nq, nk);
            assert_close(&recomputed(nq, nk, SLICE_ELEMENTS), &reference, tolerance);
            // One clip per slice: 3 slices, their gradients concatenated.
            assert_close(&recomputed(nq, nk, 1), &reference, tolerance);
        }
    }

    #[test]
    fn slices_cover_the_batch_in_order() {
        let [q, k, _] = inputs::<Cpu>(4, 9);
        let per_clip = 2 * 4 * 9;
        let got: Vec<_> = slices(&q, &k, 2 * per_clip).collect();
        assert_eq!(got, vec![0..2, 2..3]);
        assert_eq!(slices(&q, &k, 1).count(), 3);
        assert_eq!(slices(&q, &k, usize::MAX).collect::<Vec<_>>(), vec![0..3]);
    }
}
