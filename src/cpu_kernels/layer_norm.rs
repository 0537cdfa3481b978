//! LayerNorm over the last dimension, y = (x − μ)/√(σ² + ε)·γ + β, with its backward step:
//! ∂x = r·(g − mean(g) − x̂·mean(g·x̂)) for g = ∂y·γ and r = 1/√(σ² + ε), ∂γ = Σ ∂y·x̂,
//! ∂β = Σ ∂y. burn's autodiff builds it from about twenty broadcast tensor ops.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::nn::LayerNorm;
use burn::prelude::*;
use burn::tensor::TensorMetadata;
use burn::tensor::ops::FloatTensor;
use rayon::prelude::*;

use super::buffers::{tensor, values};
use super::parallel::simd_kernel;
use super::vector_math;
use super::{OnCpu, back};
use crate::backend::{Cpu, CpuTrain};

/// Rows per parallel task.
const ROWS_PER_TASK: usize = 64;

/// `norm` applied to `x`, fused on the CPU backends. `eps` must be the one `norm` was made
/// with (burn keeps it private); elsewhere `norm.forward` runs as is.
pub fn layer_norm<B: Backend, const D: usize>(
    norm: &LayerNorm<B>,
    eps: f64,
    x: Tensor<B, D>,
) -> Tensor<B, D> {
    let Some(beta) = norm.beta.as_ref() else {
        return norm.forward(x);
    };
    let (gamma, beta) = (norm.gamma.val(), beta.val());
    match (OnCpu::of(x), OnCpu::of(gamma), OnCpu::of(beta)) {
        (OnCpu::Inference(x), OnCpu::Inference(g), OnCpu::Inference(b)) => {
            back::<B, D, Cpu>(forward(&x, &g, &b, eps as f32).0)
        }
        (OnCpu::Training(x), OnCpu::Training(g), OnCpu::Training(b)) => {
            back::<B, D, CpuTrain>(train(x, g, b, eps as f32))
        }
        (x, _, _) => norm.forward(x.into_tensor()),
    }
}

simd_kernel! {
    /// Normalises each row of `x` into `out`, writing its (μ, 1/σ) to `stats`.
    fn forward_rows(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32, out: &mut [f32], stats: &mut [f32]) {
        let width = gamma.len();
        let rows = x.chunks_exact(width).zip(out.chunks_exact_mut(width));
        for ((row, out), stats) in rows.zip(stats.chunks_exact_mut(2)) {
            let mean = vector_math::sum(row) / width as f32;
            // Two passes (centre, then square) keep the variance exact for large means.
            out.iter_mut().zip(row).for_each(|(o, &v)| *o = v - mean);
            let var = vector_math::dot(out, out) / width as f32;
            let rstd = 1.0 / (var + eps).sqrt();
            stats.copy_from_slice(&[mean, rstd]);
            for ((o, &g), &b) in out.iter_mut().zip(gamma).zip(beta) {
                *o = *o * rstd * g + b;
            }
        }
    }
}

/// (y, (μ, 1/σ) per row).
fn forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    eps: f32,
) -> (FlexTensor, Vec<f32>) {
    let (x_values, gamma, beta) = (values(x), values(gamma), values(beta));
    let width = gamma.len();
    let dims = x.shape();
    assert!(
        beta.len() == width && dims[dims.num_dims() - 1] == width,
        "layer_norm: input width {} against {width} parameters",
        dims[dims.num_dims() - 1]
    );
    let mut out = vec![0.0; x_values.len()];
    let mut stats = vec![0.0; 2 * (x_values.len() / width)];
    out.par_chunks_mut(ROWS_PER_TASK * width)
        .zip(stats.par_chunks_mut(2 * ROWS_PER_TASK))
        .zip(x_values.par_chunks(ROWS_PER_TASK * width))
        .for_each(|((out, stats), x)| forward_rows(x, &gamma, &beta, eps, out, stats));
    (tensor(out, x.shape()), stats)
}

simd_kernel! {
    /// ∂x of each row (its (μ, 1/σ) in `stats`) into `grad_x`; adds this block's ∂γ and ∂β
    /// into `grad_gamma`, `grad_beta`.
    fn backward_rows(
        x: &[f32],
        stats: &[f32],
        grad: &[f32],
        gamma: &[f32],
        grad_x: &mut [f32],
        grad_gamma: &mut [f32],
        grad_beta: &mut [f32],
    ) {
        let width = gamma.len();
        let rows = x.chunks_exact(width).zip(grad.chunks_exact(width)).zip(grad_x.chunks_exact_mut(width));
        for (((row, dy), dx), stats) in rows.zip(stats.chunks_exact(2)) {
            let (mean, r) = (stats[0], stats[1]);
            dx.iter_mut().zip(row).for_each(|(x_hat, &v)| *x_hat = (v - mean) * r);
            for i in 0..width {
                grad_gamma[i] += dy[i] * dx[i];
                grad_beta[i] += dy[i];
            }
            // g = ∂y·γ; mean(g) and mean(g·x̂).
            let mean_g = vector_math::dot(dy, gamma) / width as f32;
            let mean_gx = vector_math::dot3(dy, gamma, dx) / width as f32;
            for i in 0..width {
                dx[i] = r * (dy[i] * gamma[i] - mean_g - dx[i] * mean_gx);
            }
        }
    }
}

/// (∂x, ∂γ, ∂β).
fn backward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    stats: &[f32],
    grad: &FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let (x_values, gamma_values, grad_values) = (values(x), values(gamma), values(grad));
    let width = gamma_values.len();
    let mut grad_x = vec![0.0; x_values.len()];
    let block = ROWS_PER_TASK * width;
    // Per-block partial sums, added in block order so the result never depends on how
    // rayon scheduled the blocks (resumed runs must repeat bit for bit).
    let partials: Vec<(Vec<f32>, Vec<f32>)> = grad_x
        .par_chunks_mut(block)
        .zip(
            x_values
                .par_chunks(block)
                .zip(grad_values.par_chunks(block)),
        )
        .zip(stats.par_chunks(2 * ROWS_PER_TASK))
        .map(|((dx, (x, dy)), stats)| {
            let (mut gg, mut gb) = (vec![0.0; width], vec![0.0; width]);
            backward_rows(x, stats, dy, &gamma_values, dx, &mut gg, &mut gb);
            (gg, gb)
        })
        .collect();
    let (mut grad_gamma, mut grad_beta) = (vec![0.0; width], vec![0.0; width]);
    for (gg, gb) in partials {
        grad_gamma.iter_mut().zip(gg).for_each(|(a, b)| *a += b);
        grad_beta.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
    }
    (
        tensor(grad_x, x.shape()),
        tensor(grad_gamma, [width].into()),
        tensor(grad_beta, [width].into()),
    )
}

/// The autodiff step: keeps x, γ and (μ, 1/σ) per row.
#[derive(Debug)]
struct LayerNormBackward;

impl Backward<Cpu, 3> for LayerNormBackward {
    type State = (FlexTensor, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, gamma, stats) = ops.state;
        let grad = grads.consume::<Cpu>(&ops.node);
        let (grad_x, grad_gamma, grad_beta) = backward(&x, &gamma, &values(&stats), &grad);
        let [x_node, gamma_node, beta_node] = ops.parents;
        for (node, grad) in [
            (x_node, grad_x),
            (gamma_node, grad_gamma),
            (beta_node, grad_beta),
        ] {
            if let Some(node) = node {
                grads.register::<Cpu>(node.id, grad);
            }
        }
    }
}

fn train(
    x: FloatTensor<CpuTrain>,
    gamma: FloatTensor<CpuTrain>,
    beta: FloatTensor<CpuTrain>,
    eps: f32,
) -> FloatTensor<CpuTrain> {
    let (out, stats) = forward(&x.primitive, &gamma.primitive, &beta.primitive, eps);
    match LayerNormBackward
        .prepare::<NoCheckpointing>([x.node.clone(), gamma.node.clone(), beta.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let len = stats.len();
            prep.finish(
                (x.primitive, gamma.primitive, tensor(stats, [len].into())),
                out,
            )
        }
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu_kernels::test_support::close;
    use burn::module::Param;
    use burn::nn::LayerNormConfig;
    use burn::tensor::Distribution;

    const EPS: f64 = 1e-6;

    fn norm<B: Backend>(device: &B::Device) -> LayerNorm<B> {
        let mut norm = LayerNormConfig::new(48).with_epsilon(EPS).init(device);
        // Non-trivial scale and shift.
        let random = || Tensor::random([48], Distribution::Normal(0.5, 0.5), device);
        norm.gamma = Param::from_tensor(random());
        norm.beta = Some(Param::from_tensor(random()));
        norm
    }

    #[test]
    fn forward_matches_burns_layer_norm() {
        let device = Default::default();
        let norm = norm::<Cpu>(&device);
        let x = Tensor::<Cpu, 3>::random([3, 70, 48], Distribution::Normal(2.0, 3.0), &device);
        close(layer_norm(&norm, EPS, x.clone()), norm.forward(x));
    }

    #[test]
    fn rows_with_a_large_mean_keep_their_variance() {
        let device = Default::default();
        let norm = norm::<Cpu>(&device);
        let x = Tensor::<Cpu, 2>::random([5, 48], Distribution::Normal(0.0, 0.1), &device) + 1000.0;
        // In f64, as the reference: (x − μ)/√(σ² + ε)·γ + β.
        let rows = x.to_data().convert::<f64>().to_vec::<f64>().unwrap();
        let gamma = norm
            .gamma
            .val()
            .into_data()
            .convert::<f64>()
            .to_vec::<f64>()
            .unwrap();
        let beta = norm
            .beta
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .convert::<f64>()
            .to_vec::<f64>()
            .unwrap();
        let mut expected = Vec::new();
        for row in rows.chunks(48) {
            let mean = row.iter().sum::<f64>() / 48.0;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 48.0;
            let r = 1.0 / (var + EPS).sqrt();
            expected.extend(
                row.iter()
                    .zip(&gamma)
                    .zip(&beta)
                    .map(|((v, g), b)| (v - mean) * r * g + b),
            );
        }
        let ours = layer_norm(&norm, EPS, x)
            .into_data()
            .convert::<f64>()
            .to_vec::<f64>()
            .unwrap();
        for (o, e) in ours.iter().zip(&expected) {
            // f32 input at 1000 is quantised to 6e-5, 0.06% of σ = 0.1.
            assert!((o - e).abs() < 5e-3 * (1.0 + e.abs()), "{o} vs {e}");
        }
    }

    #[test]
    fn gradients_match_burns_autodiff() {
        let device = Default::default();
        let norm = norm::<CpuTrain>(&device);
        let x = Tensor::<Cpu, 3>::random([3, 70, 48], Distribution::Normal(2.0, 3.0), &device);
        let upstream =
            Tensor::<Cpu, 3>::random([3, 70, 48], Distribution::Normal(0.0, 1.0), &device);
        let grads = |fused: bool| {
            let x = Tensor::<CpuTrain, 3>::from_inner(x.clone()).require_grad();
            let y = if fused {
                layer_norm(&norm, EPS, x.clone())
            } else {
                norm.forward(x.clone())
            };
            let g = (y * Tensor::from_inner(upstream.clone())).sum().backward();
            let beta = norm.beta.as_ref().unwrap();
            (
                x.grad(&g).unwrap(),
                norm.gamma.grad(&g).unwrap(),
                beta.grad(&g).unwrap(),
            )
        };
        let ((x1, g1, b1), (x2, g2, b2)) = (grads(true), grads(false));
        close(x1, x2);
        close(g1, g2);
        close(b1, b2);
    }
}
