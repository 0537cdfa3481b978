//! `svfap-tui bench data <manifest>`: data pipeline throughput. Two measurements:
//! 1. decode + resize: every frame of every video decoded and resized to `--size`² on one
//!    thread (frames/s per core, the number to compare with decord);
//! 2. the loader: clips/s and frames/s through the chosen view with `--workers` threads,
//!    with time spent decoding and transforming reported separately.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow};
use clap::{Args, ValueEnum};
use svfap_tui::data::loader::{DataOrder, Loader, LoaderConfig};
use svfap_tui::data::manifest::{LabelKind, Manifest, PathMapping};
use svfap_tui::data::{ClipSource, DecodeOptions, Resize, ViewConfig, ViewKind};

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum BenchView {
    Test,
    Finetune,
    Pretrain,
}

#[derive(Args, Debug)]
pub struct BenchDataArgs {
    /// Manifest in the released format (`<path> <label>` per line).
    pub manifest: PathBuf,
    /// Folder that relative paths in the manifest are under (default: the manifest's).
    #[arg(long)]
    pub data_root: Option<PathBuf>,
    /// View measured through the loader.
    #[arg(long, value_enum, default_value_t = BenchView::Test)]
    pub view: BenchView,
    /// Clip side.
    #[arg(long, default_value_t = 160)]
    pub size: usize,
    /// Loader worker threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Use at most this many videos.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Skip the single-thread decode + resize measurement.
    #[arg(long)]
    pub no_decode_only: bool,
}

pub fn run(args: &BenchDataArgs) -> Result<()> {
    let mapping = PathMapping {
        data_root: args.data_root.clone(),
        prefix: None,
    };
    let manifest =
        Manifest::read(&args.manifest, LabelKind::None, &mapping).map_err(|e| anyhow!(e))?;
    let mut entries = manifest.entries.clone();
    if let Some(n) = args.limit {
        entries.truncate(n);
    }
    println!("{}: {} videos", args.manifest.display(), entries.len());

    if !args.no_decode_only {
        // 1. Every frame, decoded and resized to size², one thread.
        let opts = DecodeOptions {
            threads: 1,
            resize: Resize::Exact(args.size, args.size),
            force_seek: false,
        };
        let start = Instant::now();
        let (mut frames, mut failed) = (0usize, 0usize);
        for e in &entries {
            match ClipSource::open(&e.path, &opts).and_then(|mut s| {
                let all: Vec<usize> = (0..s.len()).collect();
                s.read(&all, &opts)
            }) {
                Ok(d) => frames += d.frames.len(),
                Err(err) => {
                    failed += 1;
                    eprintln!("warning: {err}");
                }
            }
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "decode+resize to {size}x{size} (1 thread): {frames} frames in {s:.2}s = {rate:.0} frames/s per core{note}",
            size = args.size,
            rate = frames as f64 / s,
            note = if failed > 0 {
                format!(" ({failed} videos failed)")
            } else {
                String::new()
            }
        );
    }

    // 2. The loader.
    let kind = match args.view {
        BenchView::Test => ViewKind::Test,
        BenchView::Finetune => ViewKind::Finetune,
        BenchView::Pretrain => ViewKind::Pretrain,
    };
    let mut view = ViewConfig::new(kind);
    view.size = args.size;
    if kind == ViewKind::Pretrain && args.size != 160 {
        view.pretrain.fixed_crop = None;
    }
    let cfg = LoaderConfig {
        batch_size: args.batch_size,
        workers: args.workers,
        drop_last: false,
        ..Default::default()
    };
    let loader = Loader::new(&entries, view.clone(), cfg);
    let start = Instant::now();
    let mut clips = 0usize;
    for batch in loader.epoch(DataOrder::new(0)) {
        clips += batch.len();
    }
    let wall = start.elapsed().as_secs_f64();
    let st = loader.stats();
    let frames = clips * view.clip.frames;
    println!(
        "loader ({:?} view, {} workers, {}x{}x{}): {clips} clips in {wall:.2}s = {:.1} clips/s, {:.0} frames/s",
        args.view,
        args.workers,
        view.clip.frames,
        view.size,
        view.size,
        clips as f64 / wall,
        frames as f64 / wall
    );
    println!(
        "  decode:    {:.2} thread-s, {} frames through the decoder = {:.0} decoded frames/s per thread, {:.0} clip frames/s per thread",
        st.decode_s,
        st.frames_decoded,
        st.frames_decoded as f64 / st.decode_s.max(1e-9),
        frames as f64 / st.decode_s.max(1e-9)
    );
    println!(
        "  transform: {:.2} thread-s = {:.0} clip frames/s per thread (crop, augment, normalise)",
        st.transform_s,
        frames as f64 / st.transform_s.max(1e-9)
    );
    if st.videos_skipped > 0 {
        println!("  skipped {} unreadable videos", st.videos_skipped);
    }
    Ok(())
}
