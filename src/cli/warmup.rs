//! `svfap-tui warmup`: runs each shape of a run once — the training step (forward,
//! backward, gradient norm, optimiser) and, for fine-tuning, the evaluation forward pass —
//! so that CubeCL compiles and autotunes their kernels into its caches
//! (`~/.cache/svfap-tui/cubecl`) and the run itself starts warm.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use svfap_tui::backend::BackendChoice;
use svfap_tui::data::registry::dataset;
use svfap_tui::model::precision::autocast;
use svfap_tui::train::run_config::{RunConfig, RunKind};

use super::model_steps::{BenchMode, Workload, WorkloadArgs};
use crate::BackendArgs;

#[derive(Args, Debug)]
pub struct WarmupArgs {
    /// A run config (assets/*.toml or a run's run.toml): its model, batch, backend,
    /// devices and precision. Without it: --preset, --mode, --batch and the backend flags.
    pub config: Option<PathBuf>,
    /// Override a config key, e.g. `--set optim.batch_size=32` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// What to warm: workloads on one backend device.
struct Plan {
    backend: BackendChoice,
    device: usize,
    workloads: Vec<Workload>,
}

pub fn run(args: &WarmupArgs) -> Result<()> {
    let plan = match &args.config {
        Some(path) => plan_of_config(&RunConfig::load(path, &args.overrides)?)?,
        None => {
            if !args.overrides.is_empty() {
                bail!("--set needs a config");
            }
            Plan {
                backend: args.backend.backend,
                device: args.backend.device,
                workloads: vec![args.workload.workload(args.backend.precision()?)?],
            }
        }
    };
    let started = Instant::now();
    svfap_tui::with_backend!(plan.backend, |B, device_of| {
        warm::<B>(&plan, &device_of(plan.device))
    })?;
    println!(
        "warm-up done in {:.1} s on {}{}",
        started.elapsed().as_secs_f64(),
        plan.backend,
        svfap_tui::backend::cubecl_cache_note()
    );
    Ok(())
}

/// The shapes a run computes: its training step per device, and its evaluation pass.
fn plan_of_config(config: &RunConfig) -> Result<Plan> {
    let micro_batch = config.optim.batch_size / config.devices.len();
    let precision = config.precision();
    let outputs = match dataset(&config.data.dataset) {
        Some(info) => info.labels.len(),
        None => 1,
    };
    let workload = |mode, batch| Workload {
        model_name: config.name.clone(),
        mode,
        batch,
        precision,
        classifier: config.classifier_config(outputs),
        pretrainer: config.pretrainer_config(),
    };
    let workloads = match config.kind {
        RunKind::Pretrain => vec![workload(BenchMode::Pretrain, micro_batch)],
        RunKind::Finetune => vec![
            workload(BenchMode::Finetune, micro_batch),
            workload(BenchMode::Infer, config.data.test_clips),
        ],
        RunKind::Eval => vec![workload(BenchMode::Infer, config.data.test_clips)],
    };
    Ok(Plan {
        backend: config.backend,
        device: config.devices[0],
        workloads,
    })
}

fn warm<B: AutodiffBackend>(plan: &Plan, device: &B::Device) -> Result<()> {
    for w in &plan.workloads {
        let _autocast = autocast(w.precision);
        let started = Instant::now();
        let mut step = w.step_fn::<B>(device)?;
        step()?;
        let first = started.elapsed().as_secs_f64();
        let again = Instant::now();
        step()?;
        println!(
            "{} {} batch {} {}: first step {first:.2} s, next {:.3} s",
            w.model_name,
            w.mode.name(),
            w.batch,
            w.precision,
            again.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
