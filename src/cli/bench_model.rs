//! `svfap-tui bench model`: clips/s, achieved TFLOP/s and MFU, peak memory and time to the
//! first step of one workload on one backend.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use svfap_tui::backend::BackendChoice;
use svfap_tui::backend::device_info::{nvidia_name, peak_tflops, reserved_bytes};
use svfap_tui::model::precision::{Precision, autocast};

use super::model_steps::{Workload, WorkloadArgs};
use crate::BackendArgs;

#[derive(Args, Debug)]
pub struct BenchModelArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Timed steps (after the warm-up).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed warm-up steps (the first one compiles and autotunes kernels on GPU backends).
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Dense peak TFLOP/s of the device for MFU (built in for H100/H200/A100/L40S by name).
    #[arg(long)]
    pub peak_tflops: Option<f64>,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// What one bench measured.
struct Measured {
    first_step_s: f64,
    /// Timed step durations, sorted.
    times: Vec<f64>,
    last: f32,
    reserved: Option<u64>,
}

pub fn run(args: &BenchModelArgs) -> Result<()> {
    if args.steps == 0 {
        bail!("--steps must be positive");
    }
    let precision = args.backend.precision()?;
    let workload = args.workload.workload(precision)?;
    let (choice, index) = (args.backend.backend, args.backend.device);
    let measured = svfap_tui::with_backend!(choice, |B, device_of| {
        measure::<B>(args, &workload, &device_of(index), choice, index)
    })?;
    report(args, &workload, choice, &measured);
    Ok(())
}

fn measure<B: AutodiffBackend>(
    args: &BenchModelArgs,
    workload: &Workload,
    device: &B::Device,
    choice: BackendChoice,
    index: usize,
) -> Result<Measured> {
    let _autocast = autocast(workload.precision);
    let start = Instant::now();
    let mut step = workload.step_fn::<B>(device)?;
    let mut last = step()?;
    let first_step_s = start.elapsed().as_secs_f64();
    for _ in 1..args.warmup {
        step()?;
    }
    let mut times = Vec::with_capacity(args.steps);
    for _ in 0..args.steps {
        let start = Instant::now();
        last = step()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(Measured {
        first_step_s,
        times,
        last,
        reserved: reserved_bytes(choice, index),
    })
}

fn report(args: &BenchModelArgs, w: &Workload, choice: BackendChoice, m: &Measured) {
    let total: f64 = m.times.iter().sum();
    let median = m.times[m.times.len() / 2];
    let clips_per_s = (w.batch * m.times.len()) as f64 / total;
    let tflops = w.flops_per_step() * m.times.len() as f64 / total / 1e12;
    let device_name = match choice {
        BackendChoice::Cpu => format!(
            "cpu {}, {} threads",
            svfap_tui::backend::device_info::cpu_line(),
            rayon::current_num_threads()
        ),
        BackendChoice::Cuda => nvidia_name(args.backend.device).unwrap_or_else(|| "cuda".into()),
        BackendChoice::Wgpu => "wgpu".into(),
    };
    let half = w.precision != Precision::F32;
    let peak = args.peak_tflops.or_else(|| peak_tflops(&device_name, half));
    let mfu = peak.map(|p| 100.0 * tflops / p);
    let memory = match choice {
        BackendChoice::Cpu => peak_rss_kib().map(|kib| (kib * 1024, "peak RSS")),
        _ => m.reserved.map(|b| (b, "device memory reserved")),
    };
    println!(
        "bench model preset={} mode={} batch={} precision={} steps={} backend={choice} device={device_name}",
        w.model_name,
        w.mode.name(),
        w.batch,
        w.precision,
        m.times.len(),
    );
    println!("clips/s          {clips_per_s:.2}");
    println!(
        "step median      {:.1} ms (min {:.1}, max {:.1})",
        median * 1e3,
        m.times[0] * 1e3,
        m.times[m.times.len() - 1] * 1e3
    );
    println!("TFLOP/s          {tflops:.3} (model FLOPs; a training step counts 3 passes)");
    match (mfu, peak) {
        (Some(mfu), Some(peak)) => println!("MFU              {mfu:.1}% of {peak} TFLOP/s"),
        _ => println!("MFU              unknown peak (pass --peak-tflops)"),
    }
    match memory {
        Some((bytes, what)) => println!("memory           {:.0} MiB ({what})", mib(bytes)),
        None => println!("memory           unavailable"),
    }
    println!(
        "first step       {:.2} s (model build, kernel compilation, autotune)",
        m.first_step_s
    );
    println!("last loss/output {:.5}", m.last);
    // One line for tables (tools/gpu-check collects them).
    println!(
        "row | {} | {} | {} | {} | {} | {clips_per_s:.2} | {tflops:.2} | {} | {} | {:.1} |",
        choice,
        w.model_name,
        w.mode.name(),
        w.precision,
        w.batch,
        mfu.map_or("-".into(), |m| format!("{m:.1}%")),
        memory.map_or("-".into(), |(b, _)| format!("{:.0}", mib(b))),
        m.first_step_s
    );
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Peak resident set size in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
