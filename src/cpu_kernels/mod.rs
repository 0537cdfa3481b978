//! Fused CPU kernels for the ops where burn-flex is far behind PyTorch on the model's
//! shapes. burn-flex runs element-wise ops single-threaded and scalar (its GELU calls libm's
//! `erf` per element: 8.9 ms forward + backward on [8, 64, 768] against PyTorch's 1.1 ms), and
//! burn's autodiff builds softmax and attention from many small ops.
//!
//! Each op here is a plain function generic over the backend. On the CPU backends (`Cpu`,
//! and `CpuTrain` with its own backward step) it runs the fused kernel; on any other backend
//! (CUDA) it is burn's op, unchanged.

pub mod gelu;
mod parallel;
mod vector_math;

use std::any::Any;

use burn::prelude::*;
use burn::tensor::TensorPrimitive;
use burn::tensor::ops::FloatTensor;

use crate::backend::{Cpu, CpuTrain};

/// `value` as a `T` when `A` is `T`, else `value` back.
fn same_type<A: 'static, T: 'static>(value: A) -> Result<T, A> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<T>>() {
        Some(as_t) => Ok(as_t.take().expect("slot was filled above")),
        None => Err(slot.expect("slot is untouched when the types differ")),
    }
}

/// Runs `on_cpu` (inference) or `on_cpu_train` (autodiff) when `B` is one of the CPU
/// backends and the tensor is f32, else `elsewhere`.
fn dispatch<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    on_cpu: impl FnOnce(FloatTensor<Cpu>) -> FloatTensor<Cpu>,
    on_cpu_train: impl FnOnce(FloatTensor<CpuTrain>) -> FloatTensor<CpuTrain>,
    elsewhere: impl FnOnce(Tensor<B, D>) -> Tensor<B, D>,
) -> Tensor<B, D> {
    if x.dtype() != burn::tensor::DType::F32 {
        return elsewhere(x);
    }
    let primitive = x.into_primitive().tensor();
    let primitive = match same_type::<_, FloatTensor<Cpu>>(primitive) {
        Ok(cpu) => return back::<B, D, Cpu>(on_cpu(cpu)),
        Err(other) => other,
    };
    match same_type::<_, FloatTensor<CpuTrain>>(primitive) {
        Ok(cpu) => back::<B, D, CpuTrain>(on_cpu_train(cpu)),
        Err(other) => elsewhere(Tensor::from_primitive(TensorPrimitive::Float(other))),
    }
}

/// The result of a CPU kernel as a tensor of `B`, which is `C`.
fn back<B: Backend, const D: usize, C: Backend>(out: FloatTensor<C>) -> Tensor<B, D> {
    let out = same_type::<_, FloatTensor<B>>(out)
        .unwrap_or_else(|_| unreachable!("dispatch only calls the kernel of B's own type"));
    Tensor::from_primitive(TensorPrimitive::Float(out))
}
