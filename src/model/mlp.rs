//! Two-layer perceptron with GELU (timm `Mlp`; released code drops the inner dropout).

use burn::nn::Linear;
use burn::prelude::*;

use super::activation::gelu;
use super::dense::apply;
use super::init::ParamInit;

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    pub fc1: Linear<B>,
    pub fc2: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    pub fn new(
        init: &mut ParamInit,
        d_in: usize,
        hidden: usize,
        d_out: usize,
        device: &B::Device,
    ) -> Self {
        Self {
            fc1: init.linear(d_in, hidden, true, device),
            fc2: init.linear(hidden, d_out, true, device),
        }
    }

    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        apply(&self.fc2, gelu(apply(&self.fc1, x)))
    }
}
