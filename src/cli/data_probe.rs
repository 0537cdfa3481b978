//! `svfap-tui data probe <video|folder>`: container, codec, size, fps, frame count (counted,
//! not trusted from the header), rotation and any problems found.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use svfap_tui::data::folder::FrameFolder;

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// A video file or a folder of frames.
    pub path: PathBuf,
    /// Do not decode every frame (video: only scan packets; folder: only the first frame).
    #[arg(long)]
    pub no_decode: bool,
}

pub fn run(args: &ProbeArgs) -> Result<()> {
    if args.path.is_dir() {
        return probe_folder(args);
    }
    probe_video(args)
}

/// A frame folder: counted, and unless `--no-decode` every frame decoded, naming each file
/// that cannot be read or has another size than the first (a loader would stop on those).
fn probe_folder(args: &ProbeArgs) -> Result<()> {
    let folder = FrameFolder::open(&args.path)?;
    println!("path:       {}", args.path.display());
    println!("kind:       frame folder");
    println!("frames:     {} (counted)", folder.len());
    println!(
        "first/last: {} / {}",
        folder.files[0].display(),
        folder.files[folder.len() - 1].display()
    );
    if args.no_decode {
        let first = folder.read(0)?;
        println!("size:       {}x{} (first frame)", first.width, first.height);
        return Ok(());
    }
    let check = folder.check();
    match check.size {
        Some((w, h)) => println!("size:       {w}x{h}"),
        None => println!("size:       unknown (no frame decodes)"),
    }
    println!("decodable:  {} of {}", check.decodable, folder.len());
    for p in &check.problems {
        println!("warning:    {p}");
    }
    Ok(())
}

#[cfg(feature = "video")]
fn probe_video(args: &ProbeArgs) -> Result<()> {
    use svfap_tui::data::decode::{VideoReader, count_decodable};
    let reader = VideoReader::open(&args.path)?;
    let i = &reader.info;
    let (dw, dh) = i.display_size();
    println!("path:       {}", args.path.display());
    println!("container:  {}", i.container);
    println!("codec:      {}", i.codec);
    println!(
        "size:       {}x{} stored, {}x{} displayed",
        i.width, i.height, dw, dh
    );
    println!("rotation:   {} degrees clockwise", i.rotation);
    println!(
        "fps:        {:.3} average{}",
        i.avg_fps,
        if i.variable_frame_rate {
            " (variable frame rate)"
        } else {
            ""
        }
    );
    println!("duration:   {:.3} s", i.duration_s);
    let header = if i.header_frames > 0 {
        i.header_frames.to_string()
    } else {
        "not stated".into()
    };
    println!(
        "frames:     {} counted (packets), header: {header}",
        i.frames
    );
    if !args.no_decode {
        let (n, warnings) = count_decodable(&args.path)?;
        println!("decodable:  {n} of {}", i.frames);
        for w in warnings.iter().filter(|w| !i.warnings.contains(w)) {
            println!("warning:    {w}");
        }
    }
    for w in &i.warnings {
        println!("warning:    {w}");
    }
    Ok(())
}

#[cfg(not(feature = "video"))]
fn probe_video(args: &ProbeArgs) -> Result<()> {
    anyhow::bail!(
        "{}: video files need the `video` feature (FFmpeg)",
        args.path.display()
    )
}
