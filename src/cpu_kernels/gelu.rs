//! GELU, x·Φ(x) (exact form, as timm's `nn.GELU` in the released MLPs), and its gradient
//! Φ(x) + x·φ(x), as fused, parallel, vectorised CPU loops with their own autodiff step.

use std::mem::MaybeUninit;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::TensorMetadata;
use burn::tensor::ops::FloatTensor;

use super::buffers::{tensor, values};
use super::parallel::{map1, map2, wide_simd_kernel};
use super::vector_math::normal_cdf_pdf;
use super::{OnCpu, back};
use crate::backend::{Cpu, CpuTrain};

/// GELU of `x`, fused on the CPU backends; `Err(x)` back on any other backend.
pub fn fused_gelu<B: Backend, const D: usize>(
    x: Tensor<B, D>,
) -> Result<Tensor<B, D>, Tensor<B, D>> {
    match OnCpu::of(x) {
        OnCpu::Inference(x) => Ok(back::<B, D, Cpu>(forward(&x))),
        OnCpu::Training(x) => Ok(back::<B, D, CpuTrain>(train(x))),
        OnCpu::Elsewhere(x) => Err(x),
    }
}

wide_simd_kernel! {
    fn gelu_chunk(x: &[f32], out: &mut [MaybeUninit<f32>]) {
        assert_eq!(x.len(), out.len());
        for (out, &x) in out.iter_mut().zip(x) {
            out.write(x * normal_cdf_pdf(x).0);
        }
    }
}

wide_simd_kernel! {
    fn gelu_grad_chunk(x: &[f32], grad: &[f32], out: &mut [MaybeUninit<f32>]) {
        assert!(x.len() == out.len() && grad.len() == out.len());
        for ((out, &x), &grad) in out.iter_mut().zip(x).zip(grad) {
            let (cdf, pdf) = normal_cdf_pdf(x);
            out.write(grad * (cdf + x * pdf));
        }
    }
}

fn forward(x: &FlexTensor) -> FlexTensor {
    tensor(map1(&values(x), gelu_chunk), x.shape())
}

fn backward(x: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    tensor(map2(&values(x), &values(grad), gelu_grad_chunk), x.shape())
}

/// The autodiff step: keeps the input, and in the backward pass multiplies the incoming
/// gradient by GELU'(input).
#[derive(Debug)]
struct GeluBackward;

impl Backward<Cpu, 1> for GeluBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<FlexTensor, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let input = ops.state;
        unary::<Cpu, _>(ops.parents, ops.node, grads, |grad| backward(&input, &grad));
    }
}

fn train(x: FloatTensor<CpuTrain>) -> FloatTensor<CpuTrain> {
    match GeluBackward
        .prepare::<NoCheckpointing>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let out = forward(&x.primitive);
            prep.finish(x.primitive, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(&x.primitive)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    fn gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
        fused_gelu(x).unwrap_or_else(|_| unreachable!("the CPU backends have the kernel"))
    }

    fn input<B: Backend>(device: &B::Device) -> Tensor<B, 3> {
        // Wide enough to take the parallel path, with tails beyond ±5.
        Tensor::random([4, 64, 300], Distribution::Normal(0.0, 2.5), device)
    }

    #[test]
    fn forward_matches_burns_exact_gelu() {
        let device = Default::default();
        let x = input::<Cpu>(&device);
        let ours = gelu(x.clone()).into_data();
        let burns = burn::tensor::activation::gelu(x).into_data();
        ours.assert_approx_eq::<f32>(&burns, Tolerance::absolute(1e-6));
    }

    #[test]
    fn gradient_matches_burns_autodiff() {
        let device = Default::default();
        let x = input::<Cpu>(&device);
        let weights = input::<Cpu>(&device); // a non-uniform upstream gradient
        let grad_of = |fused: bool| {
            let x = Tensor::<CpuTrain, 3>::from_inner(x.clone()).require_grad();
            let y = if fused {
                gelu(x.clone())
            } else {
                burn::tensor::activation::gelu(x.clone())
            };
            let loss = (y * Tensor::from_inner(weights.clone())).sum();
            x.grad(&loss.backward()).unwrap().into_data()
        };
        grad_of(true).assert_approx_eq::<f32>(&grad_of(false), Tolerance::rel_abs(2e-6, 2e-6));
    }

    #[test]
    fn strided_input_is_read_in_logical_order() {
        let device = Default::default();
        let x = input::<Cpu>(&device).swap_dims(0, 2);
        let ours = gelu(x.clone()).into_data();
        let burns = burn::tensor::activation::gelu(x).into_data();
        ours.assert_approx_eq::<f32>(&burns, Tolerance::absolute(1e-6));
    }
}
