//! One optimisation step for any SVFAP model: micro-batch losses summed into one update
//! (gradient accumulation), each micro-batch split across the run's devices (data
//! parallelism, `data_parallel.rs`), global-norm clipping, per-parameter rules, the per-step cosine
//! schedule, and a refusal to apply a non-finite loss (the weights stay at the last good
//! step; the caller marks the run failed).

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::adamw::{AdamW, grad_norm};
use super::data_parallel::{Shard, summed_gradients};
use super::param_rules::{ParamRule, param_rule};
use super::schedule::CosineSchedule;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean loss over the micro-batches.
    pub loss: f64,
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
}

#[derive(Debug, thiserror::Error)]
#[error("loss is {loss} at step {step}; weights kept at the last finite step")]
pub struct NonFiniteLoss {
    pub loss: f64,
    pub step: u64,
}

/// How parameters are treated, fixed for a run.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRules {
    pub weight_decay: f64,
    /// Layer-wise lr decay (fine-tuning), None = off.
    pub layer_decay: Option<f64>,
    /// Encoder blocks (for layer ids).
    pub num_blocks: usize,
    /// Clip the global gradient norm to this; 0 = off.
    pub clip_grad: f64,
}

pub struct Trainer<B: AutodiffBackend, M: AutodiffModule<B>> {
    model: Option<M>,
    /// Where the micro-batches' shards run; the model and optimiser live on the first.
    devices: Vec<B::Device>,
    pub optim: AdamW<B>,
    pub schedule: CosineSchedule,
    pub rules: UpdateRules,
    /// Updates done (= the schedule position).
    pub step: u64,
}

impl<B: AutodiffBackend, M: AutodiffModule<B> + Sync> Trainer<B, M> {
    pub fn new(
        model: M,
        devices: Vec<B::Device>,
        optim: AdamW<B>,
        schedule: CosineSchedule,
        rules: UpdateRules,
        step: u64,
    ) -> Self {
        assert!(!devices.is_empty(), "a trainer needs a device");
        Self {
            model: Some(model),
            devices,
            optim,
            schedule,
            rules,
            step,
        }
    }

    pub fn model(&self) -> &M {
        self.model
            .as_ref()
            .expect("the model is only absent inside step")
    }

    /// One update from `micro_batches` micro-batches, each split into one shard per device;
    /// `loss_of(replica, shard)` computes a shard's mean loss on the shard's device.
    pub fn step(
        &mut self,
        micro_batches: usize,
        loss_of: impl Fn(&M, &Shard<B>) -> Tensor<B, 1> + Sync,
    ) -> Result<StepStats, NonFiniteLoss> {
        let model = self.model.take().expect("model present");
        let summed = match summed_gradients(&model, &self.devices, micro_batches, &loss_of) {
            Ok(summed) => summed,
            Err(loss) => {
                self.model = Some(model);
                return Err(NonFiniteLoss {
                    loss,
                    step: self.step,
                });
            }
        };
        let (grads, total) = (summed.grads, summed.loss);
        let norm = grad_norm(&model, &grads);
        if !norm.is_finite() {
            self.model = Some(model);
            return Err(NonFiniteLoss {
                loss: norm,
                step: self.step,
            });
        }
        let clip = self.rules.clip_grad;
        let scale = if clip > 0.0 && norm > clip {
            clip / (norm + 1e-6)
        } else {
            1.0
        };
        let lr = self.schedule.at(self.step);
        let rules = self.rules.clone();
        let rule = move |key: &str, rank: usize| -> ParamRule {
            param_rule(
                key,
                rank,
                rules.num_blocks,
                rules.layer_decay,
                rules.weight_decay,
            )
        };
        self.model = Some(self.optim.step(model, &grads, lr, scale, &rule));
        self.step += 1;
        Ok(StepStats {
            loss: total,
            lr,
            grad_norm: norm,
        })
    }
}
