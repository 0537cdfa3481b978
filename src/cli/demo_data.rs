//! `svfap-tui demo-data <dir>`: writes the synthetic face-video set (train / test /
//! unlabeled clips as mp4 files or frame folders, and manifests in the released split format).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use svfap_tui::data::demo_set::{DemoFormat, DemoSpec, generate};

use super::bounded;

#[derive(Args, Debug)]
pub struct DemoDataArgs {
    /// Output folder (created).
    pub dir: PathBuf,
    /// Seed: the same seed gives the same set.
    #[arg(long, default_value_t = DemoSpec::default().seed)]
    pub seed: u64,
    /// Labelled training clips (balanced over the 7 DFEW classes).
    #[arg(long, default_value_t = DemoSpec::default().train, value_parser = bounded(0, 100_000))]
    pub train: usize,
    /// Labelled test clips.
    #[arg(long, default_value_t = DemoSpec::default().test, value_parser = bounded(0, 100_000))]
    pub test: usize,
    /// Unlabeled clips for pre-training (pretrain.csv also lists the training clips).
    #[arg(long, default_value_t = DemoSpec::default().unlabeled, value_parser = bounded(0, 1_000_000))]
    pub unlabeled: usize,
    /// Frame side in pixels (even, 32–1024).
    #[arg(long, default_value_t = DemoSpec::default().size, value_parser = bounded(32, 1024))]
    pub size: usize,
    /// Frames per clip (25 fps; 1–1024).
    #[arg(long, default_value_t = DemoSpec::default().frames, value_parser = bounded(1, 1024))]
    pub frames: usize,
    /// Generator threads (1–256; default: the cores, up to 16).
    #[arg(long, default_value_t = default_workers(), value_parser = bounded(1, 256))]
    pub workers: usize,
    /// Clips as mp4 files or as frame folders (default: mp4 where this build has FFmpeg).
    #[arg(long, value_enum, default_value_t = DemoFormat::for_this_build())]
    pub format: DemoFormat,
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(16))
}

impl DemoDataArgs {
    /// The default set into `dir` (what `svfap-tui demo-data <dir>` writes).
    pub fn defaults(dir: PathBuf) -> Self {
        let spec = DemoSpec::default();
        Self {
            dir,
            seed: spec.seed,
            train: spec.train,
            test: spec.test,
            unlabeled: spec.unlabeled,
            size: spec.size,
            frames: spec.frames,
            workers: default_workers(),
            format: spec.format,
        }
    }
}

pub fn run(args: &DemoDataArgs) -> Result<()> {
    anyhow::ensure!(
        args.size.is_multiple_of(2) && args.size >= 32,
        "--size must be even and at least 32"
    );
    let spec = DemoSpec {
        seed: args.seed,
        train: args.train,
        test: args.test,
        unlabeled: args.unlabeled,
        size: args.size,
        frames: args.frames,
        fps: 25,
        workers: args.workers,
        format: args.format,
    };
    let start = std::time::Instant::now();
    let set = generate(&args.dir, &spec, &|done, total| {
        if done % 50 == 0 || done == total {
            eprintln!("  {done}/{total} clips");
        }
    })?;
    println!(
        "wrote {} clips ({}x{}, {} frames, codec {}) to {} in {:.1}s",
        set.clips,
        args.size,
        args.size,
        args.frames,
        set.codec,
        set.dir.display(),
        start.elapsed().as_secs_f64()
    );
    println!(
        "  train:    {} ({} clips)",
        set.train_manifest.display(),
        args.train
    );
    println!(
        "  test:     {} ({} clips)",
        set.test_manifest.display(),
        args.test
    );
    println!(
        "  pretrain: {} ({} clips)",
        set.pretrain_manifest.display(),
        args.unlabeled + args.train
    );
    println!("  classes (DFEW order): happy, sad, neutral, angry, surprise, disgust, fear");
    Ok(())
}
