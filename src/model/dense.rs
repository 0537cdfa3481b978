//! Linear layers as one 2-D matrix product. burn's `linear` on [B, N, C] runs B small
//! batched products and computes the weight gradient as B products summed afterwards;
//! flattening the leading dimensions first makes each of the three a single larger gemm
//! (with the bias fused on the CPU backends, `cpu_kernels::linear`).

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::module::linear;

use super::precision::{matmul, product_dtype};

/// `x @ weight (+ bias)` over the last dimension of `x`, any rank.
pub fn dense<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    weight: Tensor<B, 2>,
    bias: Option<Tensor<B, 1>>,
) -> Tensor<B, D> {
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let x = x.reshape([rows, d_in]);
    let y = match (product_dtype(), bias) {
        // Autocast: the product in the half type, the bias added in f32.
        (Some(_), bias) => {
            let y = matmul(x, weight);
            match bias {
                Some(bias) => y + bias.unsqueeze_dim(0),
                None => y,
            }
        }
        (None, Some(bias)) => crate::cpu_kernels::linear::linear(x, weight, bias),
        (None, None) => linear(x, weight, None),
    };
    dims[D - 1] = y.dims()[1];
    y.reshape(dims)
}

/// A burn `Linear` layer applied through [`dense`].
pub fn apply<B: Backend, const D: usize>(layer: &Linear<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    dense(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;
    use burn::tensor::Distribution;

    #[test]
    fn matches_burns_batched_linear() {
        let device = Default::default();
        let x = Tensor::<Cpu, 3>::random([3, 5, 7], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<Cpu, 2>::random([7, 4], Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<Cpu, 1>::random([4], Distribution::Normal(0.0, 1.0), &device);
        let ours = dense(x.clone(), w.clone(), Some(b.clone()));
        let burns = linear(x, w, Some(b));
        assert_eq!(ours.dims(), [3, 5, 4]);
        ours.into_data()
            .assert_approx_eq::<f32>(&burns.into_data(), burn::tensor::Tolerance::absolute(1e-5));
    }
}
