//! One optimisation step for any SVFAP model: micro-batch losses summed into one update
//! (gradient accumulation), the gradients of all ranks summed by one all-reduce when the run
//! has several processes (`distributed`), global-norm clipping, per-parameter rules, the
//! per-step cosine schedule, and a refusal to apply a non-finite loss (the weights stay at
//! the last good step; the caller marks the run failed). Under f16 mixed precision the loss
//! is scaled dynamically (`loss_scale.rs`): an overflowing step is skipped, not failed.
//!
//! Each micro-batch's loss is its mean, scaled by 1 / (micro-batches × ranks): with equal
//! micro-batches the summed gradient is that of the mean loss over the effective batch. A
//! rank whose loss is not finite sends zeros and a flag in the same all-reduce, so every
//! rank sees the same sums and takes the same decision (apply, skip, or fail).

use std::rc::Rc;
use std::sync::Arc;

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::adamw::{AdamW, grad_norm};
use super::loss_scale::LossScale;
use super::param_rules::{ParamRule, param_rule};
use super::schedule::CosineSchedule;
use crate::distributed::gradient_buffer::{flatten, flatten_on_device};
use crate::distributed::{DeviceSum, World};

type Inner<B> = <B as AutodiffBackend>::InnerBackend;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean loss over the micro-batches.
    pub loss: f64,
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// The update was skipped: the f16 loss scale overflowed (and was halved).
    pub skipped: bool,
    /// Seconds this rank spent in the gradient all-reduce (0 for one process): copying the
    /// gradients to the host and back, and waiting for the slowest rank.
    pub exchange_seconds: f64,
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
    /// Where the model, its gradients and the optimiser live.
    device: B::Device,
    /// The run's processes; their gradients are summed before every update.
    world: Rc<World>,
    /// Sums the gradients on the devices (NCCL) instead of through host memory and MPI.
    device_sum: Option<Arc<dyn DeviceSum<Inner<B>>>>,
    pub optim: AdamW<B>,
    pub schedule: CosineSchedule,
    pub rules: UpdateRules,
    /// Updates done (= the schedule position).
    pub step: u64,
    /// Dynamic loss scaling (f16 mixed precision), None otherwise.
    pub loss_scale: Option<LossScale>,
}

/// The summed gradients of one update and its loss.
struct Summed {
    /// None when a loss term (of any rank) was not finite.
    grads: Option<GradientsParams>,
    /// Mean loss over the effective batch (NaN or infinite when a term was).
    loss: f64,
}

impl<B: AutodiffBackend, M: AutodiffModule<B>> Trainer<B, M> {
    /// A trainer of one process; `with_world` makes it one rank of several.
    pub fn new(
        model: M,
        device: B::Device,
        optim: AdamW<B>,
        schedule: CosineSchedule,
        rules: UpdateRules,
        step: u64,
    ) -> Self {
        Self {
            model: Some(model),
            device,
            world: Rc::new(World::single()),
            device_sum: None,
            optim,
            schedule,
            rules,
            step,
            loss_scale: None,
        }
    }

    pub fn with_world(mut self, world: Rc<World>) -> Self {
        self.world = world;
        self
    }

    /// Sums gradients with `sum` (on the devices) rather than through the host.
    pub fn with_device_sum(mut self, sum: Option<Arc<dyn DeviceSum<Inner<B>>>>) -> Self {
        self.device_sum = sum;
        self
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn model(&self) -> &M {
        self.model
            .as_ref()
            .expect("the model is only absent inside step")
    }

    /// This rank's gradients summed over its micro-batches, each term scaled by `scale`;
    /// stops at the first non-finite term (no gradient then).
    fn local_gradients(
        &self,
        model: &M,
        micro_batches: usize,
        scale: f64,
        loss_of: &impl Fn(&M, usize) -> Tensor<B, 1>,
    ) -> Summed {
        let mut accumulator = GradientsAccumulator::<M>::new();
        let mut loss = 0.0;
        for micro in 0..micro_batches {
            let term = loss_of(model, micro) * scale;
            let value = term.clone().into_scalar().to_f64();
            loss += value;
            if !value.is_finite() {
                return Summed { grads: None, loss };
            }
            accumulator.accumulate(model, GradientsParams::from_grads(term.backward(), model));
        }
        Summed {
            grads: Some(accumulator.grads()),
            loss,
        }
    }

    /// Every rank's `local` summed, in one all-reduce: the gradients flattened in parameter
    /// order, then which parameters had one, then the loss and the non-finite flag.
    fn all_ranks(&self, model: &M, local: Summed) -> Summed {
        if self.world.size == 1 {
            return local;
        }
        if let Some(device_sum) = &self.device_sum {
            return self.all_ranks_on_devices(model, local, device_sum.as_ref());
        }
        let (mut buffer, layout) = flatten(model, local.grads.as_ref());
        let finite = local.grads.is_some();
        buffer.extend_from_slice(&layout.present);
        buffer.push(if finite { local.loss as f32 } else { 0.0 });
        buffer.push(if finite { 0.0 } else { 1.0 });
        let what = format!("the gradient all-reduce of step {}", self.step + 1);
        self.world.all_reduce_sum(&mut buffer, &what);
        let (loss, non_finite) = (buffer[buffer.len() - 2], buffer[buffer.len() - 1]);
        if non_finite > 0.0 {
            let loss = if finite { f64::NAN } else { local.loss };
            return Summed { grads: None, loss };
        }
        let present = buffer[layout.len..layout.len + layout.present.len()].to_vec();
        Summed {
            grads: Some(layout.unflatten(model, buffer, &present, &self.device)),
            loss: loss as f64,
        }
    }

    /// As `all_ranks`, the gradients summed on the devices (NCCL): first the small host
    /// all-reduce of which parameters had a gradient, the loss and the non-finite flag (MPI,
    /// with the collective timeout, so every rank is known to be here), then the gradients.
    fn all_ranks_on_devices(
        &self,
        model: &M,
        local: Summed,
        device_sum: &dyn DeviceSum<Inner<B>>,
    ) -> Summed {
        let (flat, layout) = flatten_on_device(model, local.grads.as_ref());
        let finite = local.grads.is_some();
        let mut small = layout.present.clone();
        small.push(if finite { local.loss as f32 } else { 0.0 });
        small.push(if finite { 0.0 } else { 1.0 });
        let what = format!("the gradient all-reduce of step {}", self.step + 1);
        self.world.all_reduce_sum(&mut small, &what);
        let (loss, non_finite) = (small[small.len() - 2], small[small.len() - 1]);
        if non_finite > 0.0 {
            let loss = if finite { f64::NAN } else { local.loss };
            return Summed { grads: None, loss };
        }
        let Some(flat) = flat else {
            return Summed {
                grads: Some(GradientsParams::new()),
                loss: loss as f64,
            };
        };
        let summed = device_sum
            .sum_in_place(flat)
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        let present = &small[..layout.present.len()];
        Summed {
            grads: Some(layout.unflatten_tensor(model, summed, present)),
            loss: loss as f64,
        }
    }

    /// One update from `micro_batches` micro-batches of this rank; `loss_of(model, micro)`
    /// computes micro-batch `micro`'s mean loss.
    pub fn step(
        &mut self,
        micro_batches: usize,
        loss_of: impl Fn(&M, usize) -> Tensor<B, 1>,
    ) -> Result<StepStats, NonFiniteLoss> {
        let model = self.model.take().expect("model present");
        let factor = self.loss_scale.map_or(1.0, |s| s.scale);
        let scale = factor / (micro_batches * self.world.size) as f64;
        let local = self.local_gradients(&model, micro_batches, scale, &loss_of);
        let exchange = std::time::Instant::now();
        let summed = self.all_ranks(&model, local);
        let exchange_seconds = if self.world.size > 1 {
            exchange.elapsed().as_secs_f64()
        } else {
            0.0
        };
        // Loss and gradient norm of the unscaled loss.
        let total = summed.loss / factor;
        let (grads, norm) = match summed.grads {
            Some(grads) => {
                let norm = grad_norm(&model, &grads) / factor;
                (Some(grads), norm)
            }
            None => (None, f64::NAN),
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
                exchange_seconds,
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
            exchange_seconds,
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
            device,
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
