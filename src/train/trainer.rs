//! One optimisation step for any SVFAP model: micro-batch losses summed into one update
//! (gradient accumulation), each micro-batch split across the run's devices (data
//! parallelism, `data_parallel.rs`), global-norm clipping, per-parameter rules, the per-step cosine
//! schedule, and a refusal to apply a non-finite loss (the weights stay at the last good
//! step; the caller marks the run failed). Under f16 mixed precision the loss is scaled
//! dynamically (`loss_scale.rs`): an overflowing step is skipped, not failed.

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::adamw::{AdamW, grad_norm};
use super::data_parallel::{Shard, summed_gradients};
use super::loss_scale::LossScale;
use super::param_rules::{ParamRule, param_rule};
use super::schedule::CosineSchedule;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean loss over the micro-batches.
    pub loss: f64,
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// The update was skipped: the f16 loss scale overflowed (and was halved).
    pub skipped: bool,
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
    /// Dynamic loss scaling (f16 mixed precision), None otherwise.
    pub loss_scale: Option<LossScale>,
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
            loss_scale: None,
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
        let factor = self.loss_scale.map_or(1.0, |s| s.scale);
        let scaled_loss_of = |m: &M, shard: &Shard<B>| {
            let loss = loss_of(m, shard);
            if factor == 1.0 { loss } else { loss * factor }
        };
        let summed = summed_gradients(&model, &self.devices, micro_batches, &scaled_loss_of);
        // Loss and gradient norm of the unscaled loss.
        let (grads, total, norm) = match summed {
            Ok(summed) => {
                let norm = grad_norm(&model, &summed.grads) / factor;
                (Some(summed.grads), summed.loss / factor, norm)
            }
            Err(loss) => (None, loss / factor, f64::NAN),
        };
        if let Some(scale) = &mut self.loss_scale
            && !scale.update(norm.is_finite())
        {
            self.model = Some(model);
            self.step += 1;
            return Ok(StepStats {
                loss: total,
                lr: self.schedule.at(self.step - 1),
                grad_norm: norm,
                skipped: true,
            });
        }
        let Some(grads) = grads.filter(|_| norm.is_finite()) else {
            self.model = Some(model);
            return Err(NonFiniteLoss {
                loss: if total.is_finite() { norm } else { total },
                step: self.step,
            });
        };
        let clip = self.rules.clip_grad;
        let clip_scale = if clip > 0.0 && norm > clip {
            clip / (norm + 1e-6)
        } else {
            1.0
        };
        let scale = clip_scale / factor;
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
            skipped: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CpuTrain;
    use crate::train::loss_scale::INIT_SCALE;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        fc: Linear<B>,
    }

    fn trainer(loss_scale: Option<LossScale>) -> Trainer<CpuTrain, Net<CpuTrain>> {
        let device = Default::default();
        let mut fc: Linear<CpuTrain> = LinearConfig::new(1, 1).with_bias(false).init(&device);
        fc.weight = Param::from_tensor(Tensor::from_floats([[1.0]], &device));
        let schedule = CosineSchedule {
            base: 0.1,
            end: 0.1,
            warmup_start: 0.1,
            warmup_steps: 0,
            total_steps: 10,
        };
        let rules = UpdateRules {
            weight_decay: 0.0,
            layer_decay: None,
            num_blocks: 0,
            clip_grad: 0.0,
        };
        let mut t = Trainer::new(
            Net { fc },
            vec![device],
            AdamW::new(0.9, 0.999, 1e-8),
            schedule,
            rules,
            0,
        );
        t.loss_scale = loss_scale;
        t
    }

    fn weight(t: &Trainer<CpuTrain, Net<CpuTrain>>) -> f32 {
        t.model().fc.weight.val().into_scalar()
    }

    /// w·x·`factor` for x = 0.5.
    fn loss(net: &Net<CpuTrain>, factor: f32) -> Tensor<CpuTrain, 1> {
        let x = Tensor::<CpuTrain, 2>::from_floats([[0.5]], &Default::default());
        net.fc.forward(x).sum() * factor
    }

    #[test]
    fn an_overflowing_scaled_step_is_skipped_and_halves_the_scale() {
        let mut t = trainer(Some(LossScale::default()));
        // 1e35 × 2^16 overflows f32: the scaled gradients are infinite.
        let stats = t.step(1, |m, _| loss(m, 1e35)).unwrap();
        assert!(stats.skipped);
        assert_eq!(weight(&t), 1.0, "the weights are untouched");
        assert_eq!(t.loss_scale.unwrap().scale, INIT_SCALE / 2.0);
        assert_eq!(t.step, 1, "the schedule moves on");
    }

    #[test]
    fn a_scaled_step_updates_as_the_unscaled_one() {
        let mut scaled = trainer(Some(LossScale::default()));
        let mut plain = trainer(None);
        let a = scaled.step(1, |m, _| loss(m, 1.0)).unwrap();
        let b = plain.step(1, |m, _| loss(m, 1.0)).unwrap();
        assert!(!a.skipped);
        assert!((a.loss - b.loss).abs() < 1e-9 && (a.grad_norm - b.grad_norm).abs() < 1e-9);
        assert!((weight(&scaled) - weight(&plain)).abs() < 1e-7);
        assert!((weight(&plain) - 0.9).abs() < 1e-6, "{}", weight(&plain));
    }

    #[test]
    fn without_loss_scaling_a_non_finite_loss_fails_the_step() {
        let mut t = trainer(None);
        let err = t.step(1, |m, _| loss(m, f32::INFINITY)).unwrap_err();
        assert_eq!(err.step, 0);
        assert_eq!(weight(&t), 1.0);
    }
}
