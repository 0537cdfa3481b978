//! Fine-tuning model (released `TPSBT` with `use_mean_pooling`): trunk → mean over the last
//! stage's tokens → `fc_norm` → `head` (→ optional activation for regression).

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid, tanh};

use super::config::{ClassifierConfig, HeadActivation};
use super::encoder::Tpsbt;
use super::init::{LinearInit, ParamInit, layer_norm};
use super::norm::normalize;
use super::probe::AttentionMaps;
use super::sinusoid::PositionTable;
use crate::cpu_kernels::tubes::tubes_channel_major;

/// Released fine-tuning init: head weight and bias × 0.001 (`init_scale`).
const HEAD_INIT_SCALE: f64 = 0.001;

#[derive(Module, Debug)]
pub struct SvfapClassifier<B: Backend> {
    pub encoder: Tpsbt<B>,
    pub fc_norm: LayerNorm<B>,
    pub head: Linear<B>,
    pub config: ClassifierConfig,
    pub positions: PositionTable,
}

pub struct ClassifierOutput<B: Backend> {
    /// Head outputs [B, K] (after the head activation, if any).
    pub logits: Tensor<B, 2>,
    /// Pooled, normalised features [B, C] (`fc_norm` output).
    pub features: Tensor<B, 2>,
    pub attention: Option<AttentionMaps<B>>,
}

impl<B: Backend> SvfapClassifier<B> {
    /// A freshly initialised model (released fine-tuning init: trunc_normal(0.02) Linears).
    pub fn new(config: &ClassifierConfig, seed: u64, device: &B::Device) -> Self {
        let mut init = ParamInit::new(seed, LinearInit::TruncNormal { std: 0.02 });
        let enc = &config.encoder;
        let encoder = Tpsbt::new(enc, &mut init, device);
        let mut head = init.linear(enc.width, config.num_outputs, true, device);
        // Scaled into a new leaf: the product itself would keep the multiply in the autodiff
        // graph, and the first backward would credit the gradient to the unscaled initial
        // weight, leaving the parameter without one for the first step.
        head.weight = head
            .weight
            .map(|w| (w * HEAD_INIT_SCALE).detach().require_grad());
        Self {
            encoder,
            fc_norm: layer_norm(enc.width, device),
            head,
            config: config.clone(),
            positions: PositionTable::new(enc.num_tokens(), enc.width),
        }
    }

    /// `video`: normalised clip [B, 3, T, H, W].
    pub fn forward(&self, video: Tensor<B, 5>) -> ClassifierOutput<B> {
        self.forward_probed(video, None)
    }

    /// As `forward`, also returning the attention weights of block `probe`.
    pub fn forward_probed(&self, video: Tensor<B, 5>, probe: Option<usize>) -> ClassifierOutput<B> {
        let enc = &self.encoder.config;
        let device = video.device();
        let tubes = tubes_channel_major(video, enc.tubelet, enc.patch);
        let tokens =
            self.encoder.patch_embed.forward(tubes) + self.positions.tensor(&device).unsqueeze();
        let out = self.encoder.forward_stages(tokens, probe);
        // Mean over all tokens. With fusion, mean(X1 + up(X2) + up(X3)) = Σ mean(X_i) because
        // repeating time slices leaves a mean unchanged, so no upsampled copy is built.
        let pooled = if self.config.fuse_multiscale {
            out.stages
                .iter()
                .map(|x| x.clone().mean_dim(1))
                .reduce(|a, b| a + b)
                .expect("at least one stage")
        } else {
            out.stages
                .last()
                .expect("at least one stage")
                .clone()
                .mean_dim(1)
        };
        let features = normalize(&self.fc_norm, pooled.squeeze_dim(1));
        let logits = self.head.forward(features.clone());
        let logits = match self.config.head_activation {
            HeadActivation::None => logits,
            HeadActivation::Sigmoid => sigmoid(logits),
            HeadActivation::Tanh => tanh(logits),
            HeadActivation::Relu => relu(logits),
        };
        ClassifierOutput {
            logits,
            features,
            attention: out.attention,
        }
    }
}
