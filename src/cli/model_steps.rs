//! The model workloads `bench model` times and `warmup` runs once: inference, a fine-tuning
//! step and a pre-training step of a preset at a batch size, each through the trainer the
//! runs use (AdamW with its parameter rules, the global gradient norm, f16 loss scaling).

use anyhow::{Result, bail};
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::backend::AutodiffBackend;
use clap::ValueEnum;
use rand::SeedableRng;
use svfap_tui::model::accounting::{classifier_flops, pretrainer_flops};
use svfap_tui::model::precision::Precision;
use svfap_tui::model::{
    ClassifierConfig, Preset, PretrainerConfig, SvfapClassifier, SvfapPretrainer, TubeMask,
};
use svfap_tui::train::adamw::AdamW;
use svfap_tui::train::loss_scale::LossScale;
use svfap_tui::train::schedule::CosineSchedule;
use svfap_tui::train::trainer::{Trainer, UpdateRules};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMode {
    /// Forward pass without gradients.
    Infer,
    /// Forward + cross-entropy + backward + AdamW step (the trainer's optimiser).
    Finetune,
    /// Masked forward + loss + backward + AdamW step.
    Pretrain,
}

impl BenchMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Infer => "infer",
            Self::Finetune => "finetune",
            Self::Pretrain => "pretrain",
        }
    }
}

/// The workload flags `bench model` and `warmup` share.
#[derive(clap::Args, Debug)]
pub struct WorkloadArgs {
    /// Model preset: base, small, demo or test.
    #[arg(long, default_value = "demo")]
    pub preset: String,
    #[arg(long, value_enum, default_value_t = BenchMode::Pretrain)]
    pub mode: BenchMode,
    /// Clips per step.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Pre-training mask ratio.
    #[arg(long, default_value_t = 0.9)]
    pub mask_ratio: f64,
}

impl WorkloadArgs {
    pub fn workload(&self, precision: Precision) -> Result<Workload> {
        let preset = svfap_tui::model::preset(&self.preset).map_err(|e| anyhow::anyhow!(e))?;
        Ok(Workload::of_preset(
            &preset,
            self.mode,
            self.batch,
            self.mask_ratio,
            precision,
        ))
    }
}

/// One workload: what a step computes.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The model's name in reports (a preset's, or a run's).
    pub model_name: String,
    pub mode: BenchMode,
    pub batch: usize,
    pub precision: Precision,
    /// The model of `infer` and `finetune` steps.
    pub classifier: ClassifierConfig,
    /// The model of `pretrain` steps.
    pub pretrainer: PretrainerConfig,
}

const CLASSES: usize = 7;

impl Workload {
    /// A preset's models (7 classes, the paper's pre-training set-up at `mask_ratio`).
    pub fn of_preset(
        preset: &Preset,
        mode: BenchMode,
        batch: usize,
        mask_ratio: f64,
        precision: Precision,
    ) -> Self {
        Self {
            model_name: preset.name.to_string(),
            mode,
            batch,
            precision,
            classifier: ClassifierConfig {
                encoder: preset.encoder.clone(),
                num_outputs: CLASSES,
                head_activation: Default::default(),
                fuse_multiscale: false,
            },
            pretrainer: PretrainerConfig {
                encoder: preset.encoder.clone(),
                decoder: preset.decoder.clone(),
                mask_ratio,
                fuse_multiscale: true,
                target: Default::default(),
            },
        }
    }

    /// FLOPs of one step (a multiply-add is 2; a training step is 3 forward passes: the
    /// backward pass costs two, the usual MFU convention).
    pub fn flops_per_step(&self) -> f64 {
        let macs_per_clip = match self.mode {
            BenchMode::Infer | BenchMode::Finetune => classifier_flops(&self.classifier),
            BenchMode::Pretrain => pretrainer_flops(&self.pretrainer),
        };
        let passes = if self.mode == BenchMode::Infer {
            1.0
        } else {
            3.0
        };
        2.0 * macs_per_clip * passes * self.batch as f64
    }

    /// A closure running one step on `device` and returning its loss (or summed output),
    /// read back from the device so that the step has finished.
    pub fn step_fn<B: AutodiffBackend>(
        &self,
        device: &B::Device,
    ) -> Result<Box<dyn FnMut() -> Result<f32>>> {
        if self.batch == 0 {
            bail!("--batch must be positive");
        }
        let e = match self.mode {
            BenchMode::Pretrain => &self.pretrainer.encoder,
            _ => &self.classifier.encoder,
        };
        B::seed(device, 0);
        let shape = [self.batch, e.in_chans, e.frames, e.img_size, e.img_size];
        // One random batch reused by every step: the step measures the model, not the RNG.
        let video = Tensor::<B, 5>::random(shape, Distribution::Normal(0.0, 1.0), device);
        let schedule = CosineSchedule {
            base: 1e-4,
            end: 1e-6,
            warmup_start: 1e-6,
            warmup_steps: 0,
            total_steps: 1_000_000,
        };
        let loss_scale = (self.precision == Precision::F16).then(LossScale::default);
        match self.mode {
            BenchMode::Infer => {
                let config = &self.classifier;
                config.validate()?;
                let model = SvfapClassifier::<B>::new(config, 0, device).valid();
                let video = video.inner();
                Ok(Box::new(move || {
                    let out = model.forward(video.clone()).logits.sum();
                    Ok(out.into_scalar().to_f32())
                }))
            }
            BenchMode::Finetune => {
                let config = &self.classifier;
                config.validate()?;
                let model = SvfapClassifier::<B>::new(config, 0, device);
                let rules = UpdateRules {
                    weight_decay: 0.05,
                    layer_decay: Some(0.75),
                    num_blocks: e.stage_depths.iter().sum(),
                    clip_grad: 0.0,
                };
                let mut trainer = trainer(model, device, (0.9, 0.999), schedule, rules, loss_scale);
                let loss_fn = CrossEntropyLossConfig::new().init(device);
                let classes = config.num_outputs as i64;
                let labels = (0..self.batch as i64)
                    .map(|i| i % classes)
                    .collect::<Vec<_>>();
                let labels =
                    Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [self.batch]), device);
                Ok(Box::new(move || {
                    let stats = trainer.step(1, |m, _| {
                        loss_fn.forward(m.forward(video.clone()).logits, labels.clone())
                    })?;
                    Ok(stats.loss as f32)
                }))
            }
            BenchMode::Pretrain => {
                let config = &self.pretrainer;
                config.validate()?;
                let model = SvfapPretrainer::<B>::new(config, 0, device);
                let rules = UpdateRules {
                    weight_decay: 0.05,
                    layer_decay: None,
                    num_blocks: 0,
                    clip_grad: 0.0,
                };
                let mut trainer = trainer(model, device, (0.9, 0.95), schedule, rules, loss_scale);
                let mut rng = rand::rngs::StdRng::seed_from_u64(0);
                let (spatial, masked) = (e.spatial_len(), config.masked_per_slice());
                let batch = self.batch;
                Ok(Box::new(move || {
                    let masks: Vec<TubeMask> = (0..batch)
                        .map(|_| TubeMask::random(spatial, masked, &mut rng))
                        .collect();
                    let stats = trainer.step(1, |m, _| m.loss(video.clone(), &masks).loss)?;
                    Ok(stats.loss as f32)
                }))
            }
        }
    }
}

/// The runs' trainer on one device: AdamW with `betas`, optional f16 loss scaling.
fn trainer<B: AutodiffBackend, M: AutodiffModule<B> + Sync>(
    model: M,
    device: &B::Device,
    (beta1, beta2): (f64, f64),
    schedule: CosineSchedule,
    rules: UpdateRules,
    loss_scale: Option<LossScale>,
) -> Trainer<B, M> {
    let optim = AdamW::new(beta1, beta2, 1e-8);
    let mut trainer = Trainer::new(model, device.clone(), optim, schedule, rules, 0);
    trainer.loss_scale = loss_scale;
    trainer
}
