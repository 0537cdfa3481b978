//! Σ x² of a tensor (the gradient-norm clip's per-parameter term): one parallel, vectorised
//! pass on the CPU backend, where burn-flex squares into a new tensor and then sums it on one
//! thread.

use burn::prelude::*;
use rayon::prelude::*;

use super::buffers::{tensor, values};
use super::parallel::{CHUNK, simd_kernel};
use super::vector_math;
use super::{OnCpu, back};
use crate::backend::Cpu;

/// Σ x² over every element of `x`, as a one-element tensor on `x`'s device.
pub fn sum_of_squares<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, 1> {
    match OnCpu::of(x) {
        OnCpu::Inference(x) => {
            let x = values(&x);
            let total: f64 = if x.len() < 2 * CHUNK {
                chunk_sum_of_squares(&x)
            } else {
                x.par_chunks(CHUNK).map(chunk_sum_of_squares).sum()
            };
            back::<B, 1, Cpu>(tensor(vec![total as f32], [1].into()))
        }
        other => other.into_tensor().powi_scalar(2).sum(),
    }
}

/// Σ x² of one chunk (`vector_math::dot` of the chunk with itself), in f64 for the total.
fn chunk_sum_of_squares(x: &[f32]) -> f64 {
    let mut sum = 0.0;
    chunk_dot_self(x, &mut sum);
    sum as f64
}

simd_kernel! {
    fn chunk_dot_self(x: &[f32], sum: &mut f32) {
        *sum = vector_math::dot(x, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu_kernels::test_support::{close, random};

    #[test]
    fn matches_burns_ops_on_short_long_and_strided_tensors() {
        let device = Default::default();
        for shape in [[3, 5], [300, 401]] {
            let x = random::<Cpu, 2>(shape, &device);
            close(sum_of_squares(x.clone()), x.powi_scalar(2).sum());
        }
        let strided = random::<Cpu, 2>([70, 900], &device).transpose();
        close(
            sum_of_squares(strided.clone()),
            strided.powi_scalar(2).sum(),
        );
    }
}
