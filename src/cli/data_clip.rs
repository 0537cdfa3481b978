//! `svfap-tui data clip <video|folder> --out clip.npy`: the exact normalised `[3, T, H, W]`
//! tensor the model sees for one test clip, to compare our pipeline with another.

use std::path::PathBuf;

use anyhow::{Result, anyhow, ensure};
use clap::Args;

use super::bounded;
use svfap_tui::data::{ViewConfig, load_clips};
use svfap_tui::model::checkpoint::{ArchitectureHints, infer_spec, read_checkpoint};
use svfap_tui::model::preset;

#[derive(Args, Debug)]
pub struct ClipArgs {
    /// A video file or a folder of frames.
    pub path: PathBuf,
    /// Where to write the float32 .npy array.
    #[arg(long)]
    pub out: PathBuf,
    /// Take the clip geometry (frames, size, stride, test clips, normalisation) from this
    /// checkpoint, so the clip fits `infer --checkpoint` of the same file.
    #[arg(long, conflicts_with = "preset")]
    pub checkpoint: Option<PathBuf>,
    /// Take frames and size from a model preset (base, small, demo, test).
    #[arg(long)]
    pub preset: Option<String>,
    /// Which test clip (0-based) of `--clips`.
    #[arg(long, default_value_t = 0)]
    pub clip: usize,
    /// Test clips per video (1–32; default: the checkpoint's, else 2).
    #[arg(long, value_parser = bounded(1, 32))]
    pub clips: Option<usize>,
    /// Output side: short side resized to this, then centre crop (16–1024; default: the
    /// model's, else 160).
    #[arg(long, value_parser = bounded(16, 1024))]
    pub size: Option<usize>,
    /// Frames per clip (1–256; default: the model's, else 16).
    #[arg(long, value_parser = bounded(1, 256))]
    pub frames: Option<usize>,
    /// Frame stride (1–32; default: the checkpoint's, else 4).
    #[arg(long, value_parser = bounded(1, 32))]
    pub stride: Option<usize>,
    /// FFmpeg decoder threads (1–64).
    #[arg(long, default_value_t = 1, value_parser = bounded(1, 64))]
    pub threads: usize,
}

/// The test view of a checkpoint or preset (else the paper's), with the flags' overrides.
fn view(args: &ClipArgs) -> Result<ViewConfig> {
    let mut view = ViewConfig::test();
    let encoder = if let Some(path) = &args.checkpoint {
        let ckpt = read_checkpoint(path)?;
        let spec = infer_spec(&ckpt, &ArchitectureHints::default())?;
        let input = ckpt.input.clone().unwrap_or_default();
        view.clip.stride = input.stride;
        view.test_clips = input.test_clips;
        view.mean = input.mean;
        view.std = input.std;
        Some(spec.encoder().clone())
    } else if let Some(name) = &args.preset {
        Some(preset(name).map_err(|e| anyhow!(e))?.encoder)
    } else {
        None
    };
    if let Some(e) = encoder {
        view.size = e.img_size;
        view.clip.frames = e.frames;
    }
    view.size = args.size.unwrap_or(view.size);
    view.clip.frames = args.frames.unwrap_or(view.clip.frames);
    view.clip.stride = args.stride.unwrap_or(view.clip.stride);
    view.test_clips = args.clips.unwrap_or(view.test_clips);
    Ok(view)
}

pub fn run(args: &ClipArgs) -> Result<()> {
    let view = view(args)?;
    ensure!(
        args.clip < view.test_clips,
        "--clip {} is out of range for {} test clips",
        args.clip,
        view.test_clips
    );
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
        view.test_clips,
        clip.frame_indices,
        clip.shape,
        args.out.display()
    );
    Ok(())
}
