//! Fused CPU kernels for the ops where burn-flex is far behind PyTorch on the model's
//! shapes. burn-flex runs element-wise ops single-threaded and scalar (its GELU calls libm's
//! `erf` per element: 8.9 ms forward + backward on [8, 64, 768] against PyTorch's 1.1 ms), and
//! burn's autodiff builds attention and LayerNorm from many small ops plus layout copies.
//!
//! Each op here is a plain function generic over the backend. On the CPU backends (`Cpu`,
//! and `CpuTrain` with its own backward step) it runs the fused kernel; on any other backend
//! (CUDA) it is burn's ops, unchanged. Every kernel is tested against burn's ops, forward
//! and gradients.
//!
//! - `linear`: x·W + b as direct gemm calls, bias fused.
//! - `attention`: multi-head self- and cross-attention straight from the fused projections.
//! - `layer_norm`, `gelu`: one parallel, vectorised pass each way.
//! - `tubes`: clips cut into tubes by row copies.
//! - `adamw`: the optimiser update in one pass.
//! - `sum_squares`: Σ x² for the gradient norm.

pub mod adamw;
pub mod attention;
mod buffers;
pub mod gelu;
pub mod layer_norm;
pub mod linear;
pub mod parallel;
pub mod sum_squares;
pub mod tubes;
mod vector_math;

use std::any::TypeId;

use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::TensorPrimitive;
use burn::tensor::ops::FloatTensor;

use crate::backend::{Cpu, CpuTrain, same_type};

/// A tensor of backend `B` seen as what the kernels can take.
enum OnCpu<B: Backend, const D: usize> {
    /// `B` is `Cpu`: the data, no gradient tracking.
    Inference(FlexTensor),
    /// `B` is `CpuTrain`: the data plus its autodiff node.
    Training(FloatTensor<CpuTrain>),
    /// Any other backend, or not f32.
    Elsewhere(Tensor<B, D>),
}

impl<B: Backend, const D: usize> OnCpu<B, D> {
    fn of(x: Tensor<B, D>) -> Self {
        // Decided by the backend type: primitives alone cannot tell `CpuTrain` from autodiff
        // over flex with another checkpointing strategy, which the kernels do not support.
        let backend = TypeId::of::<B>();
        if x.dtype() != burn::tensor::DType::F32
            || (backend != TypeId::of::<Cpu>() && backend != TypeId::of::<CpuTrain>())
        {
            return Self::Elsewhere(x);
        }
        let primitive = x.into_primitive().tensor();
        let primitive = match same_type::<_, FloatTensor<Cpu>>(primitive) {
            Ok(cpu) => return Self::Inference(cpu),
            Err(other) => other,
        };
        match same_type::<_, FloatTensor<CpuTrain>>(primitive) {
            Ok(cpu) => Self::Training(cpu),
            Err(other) => Self::Elsewhere(Tensor::from_primitive(TensorPrimitive::Float(other))),
        }
    }

    /// Back to a tensor of `B`, for the path that does not use a kernel.
    fn into_tensor(self) -> Tensor<B, D> {
        match self {
            Self::Inference(t) => back::<B, D, Cpu>(t),
            Self::Training(t) => back::<B, D, CpuTrain>(t),
            Self::Elsewhere(t) => t,
        }
    }
}

/// A kernel's result as a tensor of `B`, which is `C` (the input was `C`'s).
fn back<B: Backend, const D: usize, C: Backend>(out: FloatTensor<C>) -> Tensor<B, D> {
    let out = same_type::<_, FloatTensor<B>>(out)
        .unwrap_or_else(|_| unreachable!("kernels return their input's backend"));
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// What the kernels' tests share: inputs, and the tolerance against burn's ops.
#[cfg(test)]
mod test_support {
    use burn::prelude::*;
    use burn::tensor::{Distribution, Tolerance};

    /// Standard normal values of `shape`.
    pub fn random<B: Backend, const D: usize>(
        shape: [usize; D],
        device: &B::Device,
    ) -> Tensor<B, D> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    /// Kernel output against burn's, to 1e-4 relative (1e-5 absolute near zero).
    pub fn close<const D: usize>(
        ours: Tensor<impl Backend, D>,
        reference: Tensor<impl Backend, D>,
    ) {
        ours.into_data()
            .assert_approx_eq::<f32>(&reference.into_data(), Tolerance::rel_abs(1e-4, 1e-5));
    }
}
