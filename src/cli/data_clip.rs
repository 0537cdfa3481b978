//! `svfap-tui data clip <video|folder> --out clip.npy`: the exact normalised `[3, T, H, W]`
//! tensor the model sees for one test clip, to compare our pipeline with another.

use std::path::PathBuf;

use anyhow::{Result, ensure};
use clap::Args;

use super::bounded;
use svfap_tui::data::{ViewConfig, load_clips};

#[derive(Args, Debug)]
pub struct ClipArgs {
    /// A video file or a folder of frames.
    pub path: PathBuf,
    /// Where to write the float32 .npy array.
    #[arg(long)]
    pub out: PathBuf,
    /// Which test clip (0-based) of `--clips`.
    #[arg(long, default_value_t = 0)]
    pub clip: usize,
    /// Test clips per video (1–32).
    #[arg(long, default_value_t = 2, value_parser = bounded(1, 32))]
    pub clips: usize,
    /// Output side: short side resized to this, then centre crop (16–1024).
    #[arg(long, default_value_t = 160, value_parser = bounded(16, 1024))]
    pub size: usize,
    /// Frames per clip (1–256).
    #[arg(long, default_value_t = 16, value_parser = bounded(1, 256))]
    pub frames: usize,
    /// Frame stride (1–32).
    #[arg(long, default_value_t = 4, value_parser = bounded(1, 32))]
    pub stride: usize,
    /// FFmpeg decoder threads (1–64).
    #[arg(long, default_value_t = 1, value_parser = bounded(1, 64))]
    pub threads: usize,
}

pub fn run(args: &ClipArgs) -> Result<()> {
    ensure!(
        args.clip < args.clips,
        "--clip {} is out of range for --clips {}",
        args.clip,
        args.clips
    );
    let mut view = ViewConfig::test();
    view.size = args.size;
    view.test_clips = args.clips;
    view.clip.frames = args.frames;
    view.clip.stride = args.stride;
    let mut rng = rand::rng();
    let loaded = load_clips(&args.path, &view, args.threads, &mut rng)?;
    for w in &loaded.warnings {
        eprintln!("warning: {}: {w}", args.path.display());
    }
    let clip = &loaded.clips[args.clip];
    svfap_tui::npy::write_f32(&args.out, &clip.shape, &clip.data)?;
    println!(
        "{}: {} frames; clip {} of {} = frames {:?}; wrote {:?} float32 to {}",
        args.path.display(),
        loaded.frames_in_file,
        args.clip,
        args.clips,
        clip.frame_indices,
        clip.shape,
        args.out.display()
    );
    Ok(())
}
