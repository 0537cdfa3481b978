//! `svfap-tui bench data <manifest>`: data pipeline throughput. Two measurements:
//! 1. decode + resize: every frame of every video decoded and resized to `--size`² on one
//!    thread (frames/s per core, the number to compare with decord);
//! 2. the loader, for each view asked (test, fine-tuning, pre-training): clips/s with
//!    `--workers` threads, clips/s per core (clips over the threads' busy seconds), and where
//!    a clip's time goes: reading files, decoding, transforming, collating batches.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};
use clap::{Args, ValueEnum};
use svfap_tui::backend::device_info::cpu_line;
use svfap_tui::data::frame_pack::{FramePack, PackedSize};
use svfap_tui::data::loader::{DataOrder, Loader, LoaderConfig};
use svfap_tui::data::manifest::{LabelKind, Manifest, ManifestEntry, PathMapping};
use svfap_tui::data::{ClipSource, DecodeOptions, Resize, ViewConfig, ViewKind};

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq)]
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
    /// Views measured through the loader (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [BenchView::Test, BenchView::Finetune, BenchView::Pretrain])]
    pub view: Vec<BenchView>,
    /// Clip side.
    #[arg(long, default_value_t = 160)]
    pub size: usize,
    /// Loader worker threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Passes over the videos per view (each an epoch with its own random clips).
    #[arg(long, default_value_t = 1, value_parser = crate::cli::bounded(1, 1000))]
    pub epochs: usize,
    /// Use at most this many videos.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Skip the single-thread decode + resize measurement.
    #[arg(long)]
    pub no_decode_only: bool,
    /// Take frames from this frame pack (`data pack`) where it holds them; a pack made with
    /// `--short-side N` makes the training views decode at that size.
    #[arg(long)]
    pub pack: Option<PathBuf>,
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
    println!(
        "{}: {} videos; CPU: {}",
        args.manifest.display(),
        entries.len(),
        cpu_line()
    );
    let pack = match &args.pack {
        Some(p) => {
            let pack = FramePack::open(p).map_err(|e| anyhow!("--pack: {e}"))?;
            println!(
                "frame pack {}: {} videos at {}",
                p.display(),
                pack.videos().len(),
                pack.size().describe()
            );
            Some(Arc::new(pack))
        }
        None => None,
    };
    if !args.no_decode_only {
        decode_only(&entries, args.size);
    }
    println!(
        "{:<9} {:>8} {:>9} | per clip, thread-ms: {:>6} {:>7} {:>9} | {:>11}",
        "view", "clips/s", "per core", "read", "decode", "transform", "collate ms"
    );
    for &view in &args.view {
        loader_row(&entries, view, args, pack.as_ref());
    }
    Ok(())
}

/// Every frame, decoded and resized to size², one thread.
fn decode_only(entries: &[ManifestEntry], size: usize) {
    let opts = DecodeOptions {
        threads: 1,
        resize: Resize::Exact(size, size),
        force_seek: false,
    };
    let start = Instant::now();
    let (mut frames, mut failed) = (0usize, 0usize);
    for e in entries {
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
        rate = frames as f64 / s,
        note = if failed > 0 {
            format!(" ({failed} videos failed)")
        } else {
            String::new()
        }
    );
}

fn loader_row(
    entries: &[ManifestEntry],
    which: BenchView,
    args: &BenchDataArgs,
    pack: Option<&Arc<FramePack>>,
) {
    let kind = match which {
        BenchView::Test => ViewKind::Test,
        BenchView::Finetune => ViewKind::Finetune,
        BenchView::Pretrain => ViewKind::Pretrain,
    };
    let mut view = ViewConfig::new(kind);
    view.size = args.size;
    if kind == ViewKind::Pretrain && args.size != 160 {
        view.pretrain.fixed_crop = None;
    }
    // One FFmpeg thread per worker (the default): it decodes on the worker's own thread, so
    // the thread CPU clocks behind "per core" count all of the decoding.
    let cfg = LoaderConfig {
        batch_size: args.batch_size,
        workers: args.workers,
        decode_threads: 1,
        drop_last: false,
        ..Default::default()
    };
    if let Some(PackedSize::ShortSide(side)) = pack.map(|p| p.size()) {
        view.train_short_side = Some(side);
    }
    let mut loader = Loader::new(entries, view.clone(), cfg);
    if let Some(pack) = pack {
        loader = loader.with_pack(pack.clone());
    }
    let start = Instant::now();
    let (mut clips, mut batches) = (0usize, 0usize);
    let mut order = DataOrder::new(0);
    for _ in 0..args.epochs {
        for batch in loader.epoch(order) {
            clips += batch.len();
            batches += 1;
        }
        order = order.next_epoch();
    }
    let wall = start.elapsed().as_secs_f64();
    let st = loader.stats();
    let busy = st.read_s + st.decode_s + st.transform_s;
    let per_clip = |s: f64| 1000.0 * s / clips.max(1) as f64;
    println!(
        "{:<9} {:>8.1} {:>9.1} | {:>27.2} {:>7.2} {:>9.2} | {:>11.2}{}",
        format!("{which:?}").to_lowercase(),
        clips as f64 / wall,
        clips as f64 / busy.max(1e-9),
        per_clip(st.read_s),
        per_clip(st.decode_s),
        per_clip(st.transform_s),
        1000.0 * st.collate_s / batches.max(1) as f64,
        // The counters add up every epoch's loads; each epoch loads every video once.
        [
            (st.videos_skipped, "unreadable videos skipped"),
            (st.videos_short, "videos shorter than a clip window"),
        ]
        .map(|(n, what)| (n / args.epochs.max(1), what))
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("  ({n} {what})"))
        .collect::<String>()
    );
    println!(
        "  {} workers, {}x{}x{} clips, {} clips in {wall:.2}s, {} frames decoded ({:.0}/s per thread)",
        args.workers,
        view.clip.frames,
        view.size,
        view.size,
        clips,
        st.frames_decoded,
        st.frames_decoded as f64 / (st.read_s + st.decode_s).max(1e-9)
    );
    if pack.is_some() {
        let loads = st.videos_loaded + st.videos_skipped;
        println!(
            "  {} of {loads} loads from the frame pack{}",
            st.videos_from_pack,
            if st.videos_pack_stale > 0 {
                format!(" ({} sources changed since packing)", st.videos_pack_stale)
            } else {
                String::new()
            }
        );
    }
}
