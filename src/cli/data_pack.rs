//! `svfap-tui data pack MANIFEST... --out FILE`: decodes every video of the manifests once into
//! a frame pack (uint8 frames, memory-mapped by the loader), so training epochs copy frames
//! instead of decoding them. All cores; resumable (an interrupted pack continues from its
//! journal); an unreadable video is listed and left out (the loader decodes it, or skips it,
//! as without a pack).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::Args;
use rayon::prelude::*;
use serde_json::json;
use svfap_tui::data::frame_pack::{FramePack, PackedSize};
use svfap_tui::data::frame_pack_writer::{FramePackWriter, report_path};
use svfap_tui::data::manifest::{LabelKind, Manifest, PathMapping};

use super::bounded;
use super::progress::Progress;

#[derive(Args, Debug)]
pub struct PackArgs {
    /// Manifests (`path [label]` per line; labels are not needed) whose videos are packed.
    #[arg(required = true)]
    pub manifests: Vec<PathBuf>,
    /// The pack file to write (a run reads it with `data.pack`).
    #[arg(long)]
    pub out: PathBuf,
    /// Relative paths are joined to this folder instead of the manifest's.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Store frames with the shorter side scaled to this (a run's training views must decode
    /// at the same size; without it frames keep their stored size, which every view can use
    /// for frame folders).
    #[arg(long, value_parser = bounded(16, 4096))]
    pub short_side: Option<usize>,
    /// Decoding threads (default: every core).
    #[arg(long, value_parser = bounded(1, 1024))]
    pub workers: Option<usize>,
}

/// Bytes as MiB below a GiB, else GiB.
fn size_text(bytes: u64) -> String {
    let mib = bytes as f64 / (1u64 << 20) as f64;
    if mib < 1024.0 {
        format!("{mib:.1} MiB")
    } else {
        format!("{:.2} GiB", mib / 1024.0)
    }
}

pub fn run(args: &PackArgs) -> Result<()> {
    if args.out.is_dir() {
        bail!(
            "--out {}: is a folder; name the pack file",
            args.out.display()
        );
    }
    let mapping = PathMapping {
        data_root: args.root.clone(),
        prefix: None,
    };
    let mut sources: BTreeSet<PathBuf> = BTreeSet::new();
    for m in &args.manifests {
        let manifest = Manifest::read(m, LabelKind::None, &mapping)?;
        sources.extend(manifest.entries.into_iter().map(|e| e.path));
    }
    let size = args
        .short_side
        .map_or(PackedSize::Native, PackedSize::ShortSide);
    if args.out.exists() {
        // A finished pack is rebuilt from scratch (its sources may have changed).
        FramePack::open(&args.out).with_context(|| {
            format!(
                "--out {} exists and is not a frame pack; not overwritten",
                args.out.display()
            )
        })?;
    }
    let writer = FramePackWriter::create_or_resume(&args.out, size)?;
    let done = writer.packed_sources();
    let todo: Vec<&PathBuf> = sources
        .iter()
        .filter(|p| !std::fs::canonicalize(p).is_ok_and(|c| done.contains(&c)))
        .collect();
    if !done.is_empty() {
        eprintln!(
            "{}: continuing an unfinished pack: {} videos already packed, {} to go",
            args.out.display(),
            done.len(),
            todo.len()
        );
    }
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .context("starting the decoding threads")?;
    let bar = Mutex::new((
        Progress::new(args.out.display().to_string(), "videos", todo.len()),
        0usize,
    ));
    let failed: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());
    pool.install(|| {
        todo.par_iter().for_each(|path| {
            if let Err(e) = writer.add(path) {
                failed
                    .lock()
                    .unwrap()
                    .push((path.to_path_buf(), e.kind.to_string()));
            }
            let mut b = bar.lock().unwrap();
            b.1 += 1;
            let n = b.1;
            b.0.update(n);
        });
    });
    bar.into_inner().unwrap().0.finish();
    let mut failed = failed.into_inner().unwrap();
    failed.sort();
    let summary = writer.finish()?;
    let file_bytes = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    let report = report_path(&args.out);
    let json = json!({
        "pack": args.out,
        "size": size,
        "videos": summary.videos,
        "frames": summary.frames,
        "bytes": file_bytes,
        "failed": failed.iter().map(|(p, e)| json!({"path": p, "error": e})).collect::<Vec<_>>(),
    });
    std::fs::write(&report, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", report.display()))?;
    println!(
        "{}: {} videos, {} frames at {}, {} ({} per video)",
        args.out.display(),
        summary.videos,
        summary.frames,
        size.describe(),
        size_text(file_bytes),
        size_text(file_bytes / summary.videos.max(1) as u64)
    );
    if !failed.is_empty() {
        println!(
            "{} videos could not be packed (listed in {}; a run decodes or skips them as without a pack):",
            failed.len(),
            report.display()
        );
        for (p, e) in failed.iter().take(10) {
            println!("  {}: {e}", p.display());
        }
        if failed.len() > 10 {
            println!("  … and {} more", failed.len() - 10);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_in_mib_below_a_gib() {
        assert_eq!(super::size_text(94_374_193), "90.0 MiB");
        assert_eq!(super::size_text(3 << 30), "3.00 GiB");
    }
}
