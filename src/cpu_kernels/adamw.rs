//! One AdamW update of a flattened parameter (PyTorch's `torch.optim.AdamW`):
//! m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p(1 − lr·wd) − lr · m̂ / (√v̂ + ε), with
//! m̂ = m / (1−β₁ᵗ), v̂ = v / (1−β₂ᵗ) and g the gradient times `grad_scale` (clipping).
//! As tensor ops that is a dozen passes over every parameter, each allocating; here it
//! is one parallel pass that updates the parameter and the moments in place.

use burn::backend::flex::FlexTensor;
use burn::prelude::*;
use burn::tensor::TensorMetadata;
use rayon::prelude::*;

use super::buffers::values;
use super::parallel::{CHUNK, simd_kernel};
use super::{OnCpu, back};
use crate::backend::Cpu;

/// The constants of one update.
#[derive(Debug, Clone, Copy)]
pub struct AdamWUpdate {
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Updates so far including this one (t ≥ 1).
    pub step: u64,
    pub grad_scale: f64,
}

/// (parameter, first moment, second moment) after one update; all flattened.
pub fn adamw<B: Backend>(
    param: Tensor<B, 1>,
    grad: Tensor<B, 1>,
    moments: (Tensor<B, 1>, Tensor<B, 1>),
    update: &AdamWUpdate,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let (m, v) = moments;
    match (
        OnCpu::of(param),
        OnCpu::of(grad),
        OnCpu::of(m),
        OnCpu::of(v),
    ) {
        (OnCpu::Inference(p), OnCpu::Inference(g), OnCpu::Inference(m), OnCpu::Inference(v)) => {
            let (p, m, v) = fused(p, &g, m, v, update);
            (
                back::<B, 1, Cpu>(p),
                back::<B, 1, Cpu>(m),
                back::<B, 1, Cpu>(v),
            )
        }
        (p, g, m, v) => tensor_ops(
            p.into_tensor(),
            g.into_tensor(),
            m.into_tensor(),
            v.into_tensor(),
            update,
        ),
    }
}

fn tensor_ops<B: Backend>(
    p: Tensor<B, 1>,
    g: Tensor<B, 1>,
    m: Tensor<B, 1>,
    v: Tensor<B, 1>,
    u: &AdamWUpdate,
) -> (Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let g = g * u.grad_scale;
    let m = m * u.beta1 + g.clone() * (1.0 - u.beta1);
    let v = v * u.beta2 + g.powi_scalar(2) * (1.0 - u.beta2);
    let t = u.step as i32;
    let m_hat = m.clone() / (1.0 - u.beta1.powi(t));
    let v_hat = v.clone() / (1.0 - u.beta2.powi(t));
    let p = p * (1.0 - u.lr * u.weight_decay) - m_hat / (v_hat.sqrt() + u.eps) * u.lr;
    (p, m, v)
}

/// The update's constants in f32, in the order the kernel uses them.
#[derive(Clone, Copy)]
struct Constants {
    grad_scale: f32,
    beta1: f32,
    beta2: f32,
    inv_correction1: f32,
    inv_correction2: f32,
    decay: f32,
    lr: f32,
    eps: f32,
}

simd_kernel! {
    fn update_chunk(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: Constants) {
        for i in 0..p.len() {
            let g = g[i] * c.grad_scale;
            m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * g;
            v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * g * g;
            let m_hat = m[i] * c.inv_correction1;
            let v_hat = v[i] * c.inv_correction2;
            p[i] = p[i] * c.decay - c.lr * m_hat / (v_hat.sqrt() + c.eps);
        }
    }
}

fn fused(
    mut p: FlexTensor,
    g: &FlexTensor,
    mut m: FlexTensor,
    mut v: FlexTensor,
    u: &AdamWUpdate,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let t = u.step as i32;
    let c = Constants {
        grad_scale: u.grad_scale as f32,
        beta1: u.beta1 as f32,
        beta2: u.beta2 as f32,
        inv_correction1: (1.0 / (1.0 - u.beta1.powi(t))) as f32,
        inv_correction2: (1.0 / (1.0 - u.beta2.powi(t))) as f32,
        decay: (1.0 - u.lr * u.weight_decay) as f32,
        lr: u.lr as f32,
        eps: u.eps as f32,
    };
    let g_values = values(g);
    let n = p.shape().num_elements();
    assert!(
        g_values.len() == n && m.shape().num_elements() == n && v.shape().num_elements() == n,
        "adamw: parameter, gradient and moments differ in size"
    );
    // In place where the buffers are not shared (`storage_mut` copies shared ones first).
    p = p.to_contiguous();
    m = m.to_contiguous();
    v = v.to_contiguous();
    p.storage_mut::<f32>()
        .par_chunks_mut(CHUNK)
        .zip(m.storage_mut::<f32>().par_chunks_mut(CHUNK))
        .zip(v.storage_mut::<f32>().par_chunks_mut(CHUNK))
        .zip(g_values.par_chunks(CHUNK))
        .for_each(|(((p, m), v), g)| update_chunk(p, g, m, v, c));
    (p, m, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn fused_update_matches_the_tensor_formula() {
        let device = Default::default();
        let n = 70_000; // several parallel chunks
        let random = || Tensor::<Cpu, 1>::random([n], Distribution::Normal(0.0, 1.0), &device);
        let (p, g, m) = (random(), random(), random());
        let v = random().abs();
        let update = AdamWUpdate {
            lr: 1e-3,
            weight_decay: 0.05,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 3,
            grad_scale: 0.5,
        };
        let ours = adamw(p.clone(), g.clone(), (m.clone(), v.clone()), &update);
        let reference = tensor_ops(p, g, m, v, &update);
        let tolerance = Tolerance::rel_abs(1e-5, 1e-7);
        ours.0
            .into_data()
            .assert_approx_eq::<f32>(&reference.0.into_data(), tolerance);
        ours.1
            .into_data()
            .assert_approx_eq::<f32>(&reference.1.into_data(), tolerance);
        ours.2
            .into_data()
            .assert_approx_eq::<f32>(&reference.2.into_data(), tolerance);
    }

    #[test]
    fn shared_moments_are_copied_not_overwritten() {
        let device = Default::default();
        let ones = Tensor::<Cpu, 1>::ones([8], &device);
        let kept = ones.clone(); // shares the buffer with the moment passed in
        let update = AdamWUpdate {
            lr: 0.1,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            step: 1,
            grad_scale: 1.0,
        };
        let _ = adamw(ones.clone(), ones.clone(), (ones.clone(), ones), &update);
        assert_eq!(kept.into_data().to_vec::<f32>().unwrap(), vec![1.0; 8]);
    }
}
