//! `svfap-tui bench tui`: frame render time (median, p99) of every view with 100 runs ×
//! 100k metric points each, of the Monitor with 4 runs overlaid and in grid mode, and
//! start-up time (session open + first scan + first frame).

use std::time::Instant;

use anyhow::Result;
use clap::Args;

use svfap_tui::session::fixtures;
use svfap_tui::session::metrics::MetricRecord;
use svfap_tui::tui::View;
use svfap_tui::tui::action::Action;
use svfap_tui::tui::gpu::GpuReadings;
use svfap_tui::tui::gpu::{GpuSource, Nvml};
use svfap_tui::tui::{Headless, Options};

#[derive(Args, Debug)]
pub struct BenchTuiArgs {
    /// Runs in the session.
    #[arg(long, default_value_t = 100)]
    pub runs: usize,
    /// Metric points per run (train loss; plus lr / val every 10th).
    #[arg(long, default_value_t = 100_000)]
    pub points: u64,
    /// Frames rendered per view.
    #[arg(long, default_value_t = 100)]
    pub frames: usize,
    /// Terminal size.
    #[arg(long, default_value_t = 200)]
    pub width: u16,
    #[arg(long, default_value_t = 50)]
    pub height: u16,
    /// Runs overlaid in the Monitor's multi-run measurement (the selected and the marked).
    #[arg(long, default_value_t = 4)]
    pub overlay: usize,
    /// Also write a metrics.jsonl of this many MiB and time reading it incrementally
    /// (e.g. 1024 for the 1 GB case).
    #[arg(long, default_value_t = 0)]
    pub big_metrics_mib: u64,
}

/// (median, p99) in ms of `frames` renders; `every_tenth` runs before every tenth frame.
fn frame_times(h: &mut Headless, frames: usize, every_tenth: impl Fn(&mut Headless)) -> (f64, f64) {
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames {
        if i % 10 == 9 {
            every_tenth(h);
        }
        let t = Instant::now();
        let buf = h.render();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(buf);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(args: &BenchTuiArgs) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("svfap-bench-tui-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let session = fixtures::empty(&tmp)?;
    // Run folders on disk (status, config, a few artifacts) ...
    fixtures::running_pretrain(&session, 200)?;
    for i in 1..args.runs {
        fixtures::finished_finetune(
            &session,
            &format!("r{i:03}"),
            0.001,
            0.5 + i as f64 / 1000.0,
        )?;
    }
    // ... metrics.jsonl files removed so start-up measures the scan, not the 1 GB of metrics,
    // which the app reads incrementally on a background thread after the first frame.
    for r in session.list_runs() {
        let _ = std::fs::remove_file(r.metrics_jsonl());
    }
    let mut options = Options::new(&tmp);
    options.keymap_file = None;
    options.theme_dirs = vec![];

    let t0 = Instant::now();
    let mut h = Headless::new_for_bench(options, args.width, args.height)?;
    let _ = h.render();
    let startup = t0.elapsed().as_secs_f64() * 1e3;

    // Metrics in memory: `points` per run, as the incremental reader would deliver them.
    let t1 = Instant::now();
    let ids: Vec<String> = h
        .app
        .state
        .data
        .runs
        .iter()
        .map(|r| r.summary.id.clone())
        .collect();
    for id in &ids {
        let run = h
            .app
            .state
            .data
            .runs
            .iter_mut()
            .find(|r| r.summary.id == *id)
            .unwrap();
        let mut batch = Vec::with_capacity(args.points as usize + args.points as usize / 5);
        for s in 1..=args.points {
            let x = s as f64 / args.points as f64;
            let rec = |split: &str, name: &str, value: f64| MetricRecord {
                step: s,
                epoch: s * 10 / args.points,
                split: split.into(),
                name: name.into(),
                value,
                time: 0.0,
            };
            batch.push(rec(
                "train",
                "loss",
                (-3.0 * x).exp() + 0.1 + 0.01 * ((s % 13) as f64),
            ));
            if s % 10 == 0 {
                batch.push(rec("train", "lr", 3e-4 * (1.0 - x)));
                batch.push(rec("val", "uar", 0.3 + 0.3 * x));
            }
        }
        run.metrics.apply(&batch);
    }
    let ingest = t1.elapsed().as_secs_f64();

    println!(
        "svfap-tui bench tui: {} runs × {} metric points, {}×{} terminal, {} frames per view",
        ids.len(),
        args.points,
        args.width,
        args.height,
        args.frames
    );
    println!(
        "start-up (open session, scan {} runs, first frame): {startup:.1} ms (target < 300 ms)",
        ids.len()
    );
    println!(
        "metrics ingest: {:.2} s for {} points ({:.1} M points/s)",
        ingest,
        ids.len() as u64 * args.points,
        (ids.len() as u64 * args.points) as f64 / ingest / 1e6
    );
    let mut worst: f64 = 0.0;
    let pretrain = ids.iter().find(|i| i.starts_with("pretrain")).cloned();
    for view in View::ALL {
        h.app.handle(Action::for_view(view));
        // Reconstructions and attention maps: the run that has them.
        let images = matches!(view, View::Recon | View::Attention);
        if images {
            h.app.state.gui.selected = pretrain.clone();
        }
        h.settle();
        // Move the selection now and then so caches cannot help.
        let (med, p99) = frame_times(&mut h, args.frames, |h| {
            if !images {
                h.app.handle(Action::Down);
            }
        });
        worst = worst.max(p99);
        println!(
            "frame {:<16} median {med:6.2} ms  p99 {p99:6.2} ms",
            view.title()
        );
    }
    // The Monitor with several runs overlaid (the selected and marked ones), then in grid
    // mode (several metrics at once) with the same runs.
    h.app.handle(Action::for_view(View::Monitor));
    h.app.state.gui.selected = ids.get(1).cloned();
    h.app.state.gui.marked = ids
        .iter()
        .skip(2)
        .take(args.overlay.saturating_sub(1))
        .cloned()
        .collect();
    let overlaid = h.app.state.overlay_runs().len();
    for (label, grid) in [
        (format!("Monitor ×{overlaid}"), false),
        (format!("grid ×{overlaid}"), true),
    ] {
        h.app.state.gui.monitor.grid = grid;
        h.settle();
        let (med, p99) = frame_times(&mut h, args.frames, |_| {});
        worst = worst.max(p99);
        println!("frame {label:<16} median {med:6.2} ms  p99 {p99:6.2} ms");
    }
    println!("worst p99 {worst:.2} ms (target < 16 ms per frame)");
    match Nvml::init().read() {
        GpuReadings::Devices(devices) => {
            for d in &devices {
                println!(
                    "GPU panel: {} util {}% mem {:.1}/{:.1} GiB power {}",
                    d.name,
                    d.util_percent,
                    d.mem_used as f64 / 1073741824.0,
                    d.mem_total as f64 / 1073741824.0,
                    d.power_w.map_or("-".into(), |p| format!("{p:.0} W"))
                );
            }
        }
        GpuReadings::Unavailable(why) => {
            println!("GPU panel: unavailable ({why})")
        }
        GpuReadings::NotYet => {}
    }
    if args.big_metrics_mib > 0 {
        big_metrics(&session, args.big_metrics_mib)?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Writes one run's metrics.jsonl of `mib` MiB and reads it the way the workbench does.
fn big_metrics(session: &svfap_tui::session::SessionDir, mib: u64) -> Result<()> {
    use std::io::Write;
    let run = session.run("pretrain-20260101-000000-big");
    std::fs::create_dir_all(&run.root)?;
    let path = run.metrics_jsonl();
    let t = Instant::now();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut written = 0u64;
    let mut step = 0u64;
    while written < mib << 20 {
        let line = format!(
            "{{\"step\":{step},\"epoch\":{},\"split\":\"train\",\"name\":\"loss\",\"value\":{},\"time\":1767225600.0}}\n",
            step / 10000,
            1.0 / (step + 1) as f64
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
        step += 1;
    }
    drop(w);
    println!(
        "big metrics: wrote {mib} MiB ({step} lines) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut loader = svfap_tui::tui::loader::Loader::new(session.clone());
    loader.rescan();
    let mut metrics = svfap_tui::tui::series::RunMetrics::default();
    let t = Instant::now();
    let mut worst: f64 = 0.0;
    let mut polls = 0;
    loop {
        let p = Instant::now();
        let (deltas, behind) = loader.poll_metrics(svfap_tui::tui::loader::POLL_BUDGET);
        for d in deltas.iter().filter(|d| d.run == run.id()) {
            metrics.apply(&d.records);
        }
        worst = worst.max(p.elapsed().as_secs_f64() * 1e3);
        polls += 1;
        if !behind {
            break;
        }
    }
    let s = metrics
        .get("train", "loss")
        .map(|s| (s.count(), s.points.len()))
        .unwrap_or_default();
    println!(
        "big metrics: read in {:.1} s on the loader thread, {polls} polls of <= 4 MiB, slowest poll {worst:.0} ms; {} records kept as {} points",
        t.elapsed().as_secs_f64(),
        s.0,
        s.1
    );
    Ok(())
}
