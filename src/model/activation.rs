//! GELU as the released MLPs use it (timm's `nn.GELU`: the exact x·Φ(x), not the tanh
//! approximation): the fused CPU kernel where it runs, burn's ops elsewhere.
//!
//! Not burn's `gelu` on the other backends: burn 0.21's default `gelu_backward`, which the
//! CubeCL backends (CUDA, wgpu) and fusion do not override, is the derivative of the tanh
//! approximation — 8.7e-4 off the exact derivative at |x| = 2.02, measured on wgpu
//! (tests/gpu_path.rs). Written as x·½(1 + erf(x/√2)) from burn's ops, autodiff takes the
//! exact derivative of erf, 2/√π·e^(−z²), so the gradient is the exact Φ(x) + x·φ(x).

use burn::prelude::*;

use crate::cpu_kernels::gelu::fused_gelu;

/// GELU of `x`.
pub fn gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    fused_gelu(x).unwrap_or_else(exact_gelu_by_ops)
}

/// x·Φ(x) = x·½(1 + erf(x/√2)), differentiated exactly by autodiff.
fn exact_gelu_by_ops<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let cdf = (x.clone() * std::f64::consts::FRAC_1_SQRT_2)
        .erf()
        .add_scalar(1.0)
        * 0.5;
    x * cdf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Cpu, CpuTrain};
    use burn::backend::Autodiff;
    use burn::backend::autodiff::checkpoint::strategy::BalancedCheckpointing;
    use burn::tensor::Tolerance;

    /// Autodiff over flex with another checkpointing strategy takes burn's ops, not the
    /// fused kernel (`cpu_kernels`): the formula is checked against the kernel there.
    type ByOps = Autodiff<Cpu, BalancedCheckpointing>;

    fn grad_and_value<B: burn::tensor::backend::AutodiffBackend>() -> (Vec<f32>, Vec<f32>) {
        let xs: Vec<f32> = (-600..=600).map(|i| i as f32 / 100.0).collect();
        let n = xs.len();
        let x =
            Tensor::<B, 1>::from_data(TensorData::new(xs, [n]), &Default::default()).require_grad();
        let y = gelu(x.clone());
        let grad = x.grad(&y.clone().sum().backward()).unwrap();
        (
            y.into_data().to_vec().unwrap(),
            grad.into_data().to_vec().unwrap(),
        )
    }

    #[test]
    fn the_ops_formula_and_its_gradient_equal_the_fused_kernel() {
        let (kernel_y, kernel_grad) = grad_and_value::<CpuTrain>();
        let (ops_y, ops_grad) = grad_and_value::<ByOps>();
        let tolerance = Tolerance::absolute(1e-6);
        TensorData::from(ops_y.as_slice())
            .assert_approx_eq::<f32>(&TensorData::from(kernel_y.as_slice()), tolerance);
        TensorData::from(ops_grad.as_slice())
            .assert_approx_eq::<f32>(&TensorData::from(kernel_grad.as_slice()), tolerance);
    }
}
