//! Σ x² of a tensor (the gradient-norm clip's per-parameter term): one parallel, vectorised
//! pass on the CPU backend, where burn-flex squares into a new tensor and then sums it on one
//! thread.

use burn::prelude::*;
use rayon::prelude::*;

use super::buffers::{tensor, values};
use super::parallel::{CHUNK, simd_kernel};
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

/// Σ x² of one chunk: sixteen f32 lanes (vectorised), added up in f64.
fn chunk_sum_of_squares(x: &[f32]) -> f64 {
    let mut lanes = [0.0f32; LANES];
    lane_sums(x, &mut lanes);
    lanes.iter().map(|&s| s as f64).sum()
}

const LANES: usize = 16;

simd_kernel! {
    fn lane_sums(x: &[f32], lanes: &mut [f32; LANES]) {
        let mut blocks = x.chunks_exact(LANES);
        for block in &mut blocks {
            for (lane, &v) in lanes.iter_mut().zip(block) {
                *lane += v * v;
            }
        }
        for (lane, &v) in lanes.iter_mut().zip(blocks.remainder()) {
            *lane += v * v;
        }
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
