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
    /// Only scan packets; do not decode every frame to count the decodable ones.
    #[arg(long)]
    pub no_decode: bool,
}

pub fn run(args: &ProbeArgs) -> Result<()> {
    if args.path.is_dir() {
        let folder = FrameFolder::open(&args.path)?;
        let first = folder.read(0)?;
        println!("path:       {}", args.path.display());
        println!("kind:       frame folder");
        println!("frames:     {} (counted)", folder.len());
        println!("size:       {}x{}", first.width, first.height);
        println!(
            "first/last: {} / {}",
            folder.files[0].display(),
            folder.files[folder.len() - 1].display()
        );
        return Ok(());
    }
    probe_video(args)
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
