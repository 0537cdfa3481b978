//! Seeded parameter initialisation, identical on every backend.
//!
//! The released code uses timm's `trunc_normal_(std=.02)` for fine-tuning Linear layers,
//! `xavier_uniform_` with zero bias for pre-training, PyTorch's default uniform(±1/√fan_in)
//! for the Conv3d/Conv1d layers, and `trunc_normal_(std=.02, a=-std, b=std)` for the mask
//! token. Values are drawn on the host from one seeded stream, so a seed gives the same
//! model on CPU and GPU.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal, Uniform};

/// How the Linear layers of a model are initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinearInit {
    /// timm `trunc_normal_(std)` (bounds ±2 absolute), zero bias: fine-tuning.
    TruncNormal { std: f64 },
    /// Glorot uniform, zero bias: pre-training.
    XavierUniform,
}

/// A seeded source of initial parameter values.
pub struct ParamInit {
    rng: StdRng,
    linear: LinearInit,
}

impl ParamInit {
    pub fn new(seed: u64, linear: LinearInit) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            linear,
        }
    }

    /// Normal(0, std²) truncated to [-bound, bound] by rejection.
    pub fn trunc_normal<B: Backend, const D: usize>(
        &mut self,
        shape: [usize; D],
        std: f64,
        bound: f64,
        device: &B::Device,
    ) -> Tensor<B, D> {
        let normal = Normal::new(0.0, std).expect("std is finite and positive");
        let n = shape.iter().product();
        let mut values = Vec::with_capacity(n);
        while values.len() < n {
            let v: f64 = normal.sample(&mut self.rng);
            if v.abs() <= bound {
                values.push(v as f32);
            }
        }
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Uniform(-limit, limit).
    pub fn uniform<B: Backend, const D: usize>(
        &mut self,
        shape: [usize; D],
        limit: f64,
        device: &B::Device,
    ) -> Tensor<B, D> {
        let dist = Uniform::new_inclusive(-limit, limit).expect("limit is finite");
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| dist.sample(&mut self.rng) as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// A Linear layer `d_in → d_out` initialised by this model's rule.
    pub fn linear<B: Backend>(
        &mut self,
        d_in: usize,
        d_out: usize,
        bias: bool,
        device: &B::Device,
    ) -> Linear<B> {
        // burn stores Linear weights as [d_in, d_out].
        let weight = match self.linear {
            LinearInit::TruncNormal { std } => self.trunc_normal([d_in, d_out], std, 2.0, device),
            LinearInit::XavierUniform => {
                let limit = (6.0 / (d_in + d_out) as f64).sqrt();
                self.uniform([d_in, d_out], limit, device)
            }
        };
        let mut layer = LinearConfig::new(d_in, d_out)
            .with_bias(bias)
            .init::<B>(device);
        layer.weight = Param::from_tensor(weight);
        layer.bias = bias.then(|| Param::from_tensor(Tensor::zeros([d_out], device)));
        layer
    }

    /// PyTorch's default Conv init: uniform(±1/√fan_in) for weight and bias.
    pub fn conv_weight<B: Backend, const D: usize>(
        &mut self,
        shape: [usize; D],
        device: &B::Device,
    ) -> Tensor<B, D> {
        let fan_in: usize = shape[1..].iter().product();
        self.uniform(shape, 1.0 / (fan_in as f64).sqrt(), device)
    }

    pub fn conv_bias<B: Backend>(
        &mut self,
        out: usize,
        fan_in: usize,
        device: &B::Device,
    ) -> Tensor<B, 1> {
        self.uniform([out], 1.0 / (fan_in as f64).sqrt(), device)
    }
}

/// A LayerNorm with the released code's eps (1e-6), weight 1, bias 0.
pub fn layer_norm<B: Backend>(d: usize, device: &B::Device) -> burn::nn::LayerNorm<B> {
    burn::nn::LayerNormConfig::new(d)
        .with_epsilon(super::norm::LAYER_NORM_EPS)
        .init(device)
}
