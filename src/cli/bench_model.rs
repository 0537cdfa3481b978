//! `svfap-tui bench model`: clips/s and peak memory of one backend.

use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::backend::AutodiffBackend;
use clap::{Args, ValueEnum};
use rand::SeedableRng;
use svfap_tui::model::{
    ClassifierConfig, PretrainerConfig, SvfapClassifier, SvfapPretrainer, TubeMask, preset,
};
use svfap_tui::train::adamw::AdamW;
use svfap_tui::train::param_rules::param_rule;

use crate::{BackendArgs, BackendKind};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMode {
    /// Forward pass without gradients.
    Infer,
    /// Forward + cross-entropy + backward + AdamW step (the trainer's optimiser).
    Finetune,
    /// Masked forward + loss + backward + AdamW step.
    Pretrain,
}

#[derive(Args, Debug)]
pub struct BenchModelArgs {
    #[arg(long, default_value = "demo")]
    pub preset: String,
    #[arg(long, value_enum, default_value_t = BenchMode::Pretrain)]
    pub mode: BenchMode,
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Timed steps (after the warm-up).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    #[arg(long, default_value_t = 0.9)]
    pub mask_ratio: f64,
    #[command(flatten)]
    pub backend: BackendArgs,
}

pub fn run(args: &BenchModelArgs) -> Result<()> {
    match args.backend.backend {
        BackendKind::Cpu => {
            bench::<svfap_tui::backend::CpuTrain>(args, Default::default(), "cpu (burn flex)")
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => {
            bench::<svfap_tui::backend::GpuTrain>(args, svfap_tui::backend::cuda_device(0), "cuda")
        }
        #[cfg(not(feature = "cuda"))]
        BackendKind::Cuda => bail!(
            "this binary was built without CUDA; rebuild with `cargo build --release --features cuda`"
        ),
    }
}

fn bench<B: AutodiffBackend>(
    args: &BenchModelArgs,
    device: B::Device,
    backend_name: &str,
) -> Result<()> {
    if args.steps == 0 || args.batch == 0 {
        bail!("--steps and --batch must be positive");
    }
    let p = preset(&args.preset).map_err(|e| anyhow!(e))?;
    let e = &p.encoder;
    B::seed(&device, 0);
    let video_shape = [args.batch, e.in_chans, e.frames, e.img_size, e.img_size];
    // One random batch reused by every step: the benchmark measures the model, not the RNG.
    let batch_video = Tensor::<B, 5>::random(video_shape, Distribution::Normal(0.0, 1.0), &device);
    let video = move || batch_video.clone();
    let mut step: Box<dyn FnMut() -> f32> = match args.mode {
        BenchMode::Infer | BenchMode::Finetune => {
            let config = ClassifierConfig {
                encoder: e.clone(),
                num_outputs: 7,
                head_activation: Default::default(),
                fuse_multiscale: false,
            };
            config.validate()?;
            let mut model = Some(SvfapClassifier::<B>::new(&config, 0, &device));
            if args.mode == BenchMode::Infer {
                let model = model.take().unwrap().valid();
                Box::new(move || {
                    let v = video().inner();
                    model.forward(v).logits.sum().into_scalar().to_f32()
                })
            } else {
                let mut optim = AdamW::new(0.9, 0.999, 1e-8);
                let num_blocks = e.stage_depths.iter().sum::<usize>();
                let rule =
                    move |key: &str, rank| param_rule(key, rank, num_blocks, Some(0.75), 0.05);
                let loss_fn = CrossEntropyLossConfig::new().init(&device);
                let labels = Tensor::<B, 1, Int>::from_data(
                    TensorData::new(
                        (0..args.batch as i64).map(|i| i % 7).collect::<Vec<_>>(),
                        [args.batch],
                    ),
                    &device,
                );
                Box::new(move || {
                    let m = model.take().expect("model");
                    let loss = loss_fn.forward(m.forward(video()).logits, labels.clone());
                    let value = loss.clone().into_scalar().to_f32();
                    let grads = GradientsParams::from_grads(loss.backward(), &m);
                    model = Some(optim.step(m, &grads, 1e-4, 1.0, &rule));
                    value
                })
            }
        }
        BenchMode::Pretrain => {
            let config = PretrainerConfig {
                encoder: e.clone(),
                decoder: p.decoder.clone(),
                mask_ratio: args.mask_ratio,
                fuse_multiscale: true,
                target: Default::default(),
            };
            config.validate()?;
            let mut model = Some(SvfapPretrainer::<B>::new(&config, 0, &device));
            let mut optim = AdamW::new(0.9, 0.95, 1e-8);
            let rule = |key: &str, rank| param_rule(key, rank, 0, None, 0.05);
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let (spatial, masked) = (e.spatial_len(), config.masked_per_slice());
            let batch = args.batch;
            Box::new(move || {
                let masks: Vec<TubeMask> = (0..batch)
                    .map(|_| TubeMask::random(spatial, masked, &mut rng))
                    .collect();
                let m = model.take().expect("model");
                let loss = m.loss(video(), &masks).loss;
                let value = loss.clone().into_scalar().to_f32();
                let grads = GradientsParams::from_grads(loss.backward(), &m);
                model = Some(optim.step(m, &grads, 1.5e-4, 1.0, &rule));
                value
            })
        }
    };
    for _ in 0..args.warmup {
        step();
    }
    let mut times = Vec::with_capacity(args.steps);
    let mut last = 0.0;
    for _ in 0..args.steps {
        let start = Instant::now();
        last = step();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let total: f64 = times.iter().sum();
    let median = times[times.len() / 2];
    println!(
        "bench model preset={} mode={:?} batch={} steps={} backend={backend_name} threads={}",
        p.name,
        args.mode,
        args.batch,
        args.steps,
        rayon_threads()
    );
    println!(
        "clips/s          {:.2}",
        (args.batch * args.steps) as f64 / total
    );
    println!(
        "step median      {:.1} ms (min {:.1}, max {:.1})",
        median * 1e3,
        times[0] * 1e3,
        times[times.len() - 1] * 1e3
    );
    println!(
        "peak RSS         {}",
        peak_rss()
            .map(|kb| format!("{:.0} MiB", kb as f64 / 1024.0))
            .unwrap_or_else(|| "unavailable".into())
    );
    println!("last loss/output {last:.5}");
    Ok(())
}

fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| {
        std::thread::available_parallelism()
            .map(|n| n.get().to_string())
            .unwrap_or_else(|_| "?".into())
    })
}

/// Peak resident set size in KiB (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
