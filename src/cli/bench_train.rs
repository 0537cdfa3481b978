//! `svfap-tui bench train --mode pretrain|finetune`: the real training loop (loader threads,
//! augmentation, model step, metrics, checkpoints) on the demo data with the demo configs,
//! reduced to one epoch by default, on any backend (`--set backend=cuda`). Prints steps/s,
//! clips/s and the share of step time the loop spent waiting for its batches, from the
//! run's own `metrics.jsonl`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use svfap_tui::backend::{BackendChoice, device_info};
use svfap_tui::session::{MetricRecord, MetricsTail};
use svfap_tui::train::run_config::RunConfig;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq)]
pub enum TrainMode {
    Pretrain,
    Finetune,
}

#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    #[arg(long, value_enum, default_value_t = TrainMode::Pretrain)]
    pub mode: TrainMode,
    /// Session with the demo data (generated there if missing).
    #[arg(long, default_value = "sessions/bench")]
    pub session: PathBuf,
    /// Steps left out of the summary at the start (allocation, first-touch, thread start).
    #[arg(long, default_value_t = 2)]
    pub skip: usize,
    /// Keep the benchmark's run folder (deleted by default).
    #[arg(long)]
    pub keep: bool,
    /// Override a key of the demo config, e.g. `--set data.workers=1` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Numbers of processes to measure, one run each in this order (several: CPU ranks
    /// under mpirun, `batch_size` per process), e.g. `--processes 1,2,1,2`.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub processes: Vec<usize>,
}

/// Per-step timings summed over the measured steps.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainTimings {
    pub steps: usize,
    pub seconds: f64,
    pub clips: f64,
    pub waiting: f64,
    pub median_step: f64,
    /// Seconds in the gradient all-reduce (several processes).
    pub allreduce: f64,
}

impl TrainTimings {
    /// From a run's metrics: the train records of every step after the first `skip`.
    pub fn from_records(records: &[MetricRecord], skip: usize) -> Option<Self> {
        let mut per_step: BTreeMap<u64, BTreeMap<&str, f64>> = BTreeMap::new();
        for r in records.iter().filter(|r| r.split == "train") {
            per_step
                .entry(r.step)
                .or_default()
                .insert(r.name.as_str(), r.value);
        }
        let mut step_seconds = vec![];
        let (mut clips, mut waiting, mut allreduce) = (0.0, 0.0, 0.0);
        for values in per_step.values().skip(skip) {
            let (Some(&seconds), Some(&wait), Some(&rate)) = (
                values.get("step_seconds"),
                values.get("data_wait_seconds"),
                values.get("clips_per_s"),
            ) else {
                continue;
            };
            step_seconds.push(seconds);
            waiting += wait;
            allreduce += values.get("allreduce_seconds").copied().unwrap_or(0.0);
            clips += rate * seconds;
        }
        if step_seconds.is_empty() {
            return None;
        }
        let seconds = step_seconds.iter().sum();
        step_seconds.sort_by(f64::total_cmp);
        Some(Self {
            steps: step_seconds.len(),
            seconds,
            clips,
            waiting,
            median_step: step_seconds[step_seconds.len() / 2],
            allreduce,
        })
    }
}

pub fn run(args: &BenchTrainArgs) -> Result<()> {
    super::demo::ensure_demo_session(&args.session)?;
    for &processes in &args.processes {
        measure(args, processes)?;
    }
    Ok(())
}

/// One run of the demo config on `processes` processes, summarised in one line.
fn measure(args: &BenchTrainArgs, processes: usize) -> Result<()> {
    if processes == 0 {
        bail!("--processes: 0 (at least one process runs a run)");
    }
    let (name, text) = match args.mode {
        TrainMode::Pretrain => ("bench-pretrain", super::demo::PRETRAIN),
        TrainMode::Finetune => ("bench-finetune", super::demo::FINETUNE),
    };
    let devices: Vec<String> = (0..processes).map(|d| d.to_string()).collect();
    let mut overrides: Vec<String> = [
        "optim.epochs=1",
        "optim.warmup_epochs=0",
        "artifacts.recon_every=0",
        "artifacts.attn_every=0",
        "model.init=\"\"",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    overrides.push(format!("name={name}"));
    overrides.push(format!("devices=[{}]", devices.join(", ")));
    overrides.extend(args.overrides.iter().cloned());
    let run = super::demo::launch(&args.session, name, text, &overrides)?;
    let metrics = run.metrics_jsonl();
    let records = MetricsTail::new(&metrics)
        .poll(usize::MAX)
        .with_context(|| format!("{}: cannot read", metrics.display()))?
        .records;
    let Some(t) = TrainTimings::from_records(&records, args.skip) else {
        bail!(
            "{}: fewer than {} steps recorded; nothing to measure",
            metrics.display(),
            args.skip + 1
        );
    };
    let config = RunConfig::load(&run.run_toml(), &[])
        .with_context(|| format!("{}: cannot read", run.run_toml().display()))?;
    let device = match config.backend {
        BackendChoice::Cpu => svfap_tui::backend::device_info::cpu_line(),
        other => device_info::nvidia_name(config.devices[0])
            .unwrap_or_else(|| format!("{other} device {}", config.devices[0])),
    };
    let (steps_per_s, clips_per_s) = (t.steps as f64 / t.seconds, t.clips / t.seconds);
    let waiting = 100.0 * t.waiting / t.seconds;
    println!(
        "{:?} on {} ({device}), model {}, {}, batch {} × {processes} process(es), {} loader workers: {} steps measured, {steps_per_s:.2} steps/s, {clips_per_s:.1} clips/s, median step {:.3} s, waiting for data {waiting:.1}%, gradient all-reduce {:.1}% of step time ({:.1} ms a step)",
        args.mode,
        config.backend.name(),
        config.model.preset,
        config.precision(),
        config.optim.batch_size,
        config.data.workers,
        t.steps,
        t.median_step,
        100.0 * t.allreduce / t.seconds,
        1000.0 * t.allreduce / t.steps as f64
    );
    // One line for tables (tools/gpu-check collects them).
    println!(
        "row | {} | {} | {} | {} | {} | {processes} | {} | {clips_per_s:.2} | {:.3} | {waiting:.1}% |",
        config.backend.name(),
        config.model.preset,
        match args.mode {
            TrainMode::Pretrain => "pretrain",
            TrainMode::Finetune => "finetune",
        },
        config.precision(),
        config.optim.batch_size,
        config.data.workers,
        t.median_step,
    );
    if !args.keep {
        std::fs::remove_dir_all(&run.root)
            .with_context(|| format!("{}: cannot remove", run.root.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u64, name: &str, value: f64) -> MetricRecord {
        MetricRecord {
            step,
            epoch: 0,
            split: "train".into(),
            name: name.into(),
            value,
            time: 0.0,
        }
    }

    #[test]
    fn timings_sum_the_measured_steps_only() {
        let mut records = vec![];
        // Step 1 is skipped; steps 2–4 take 1, 2, 3 s with 8 clips and waits 0, 0.5, 0.1 s.
        for (step, seconds, wait) in [(1, 9.0, 9.0), (2, 1.0, 0.0), (3, 2.0, 0.5), (4, 3.0, 0.1)] {
            records.push(record(step, "step_seconds", seconds));
            records.push(record(step, "data_wait_seconds", wait));
            records.push(record(step, "clips_per_s", 8.0 / seconds));
            records.push(record(step, "loss", 1.0));
        }
        records.push(MetricRecord {
            split: "test".into(),
            ..record(4, "step_seconds", 100.0)
        });
        let t = TrainTimings::from_records(&records, 1).unwrap();
        assert_eq!(t.steps, 3);
        assert!((t.seconds - 6.0).abs() < 1e-12);
        assert!((t.clips - 24.0).abs() < 1e-9);
        assert!((t.waiting - 0.6).abs() < 1e-12);
        assert_eq!(t.median_step, 2.0);
        assert_eq!(TrainTimings::from_records(&records, 4), None);
    }
}
