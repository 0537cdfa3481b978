//! `svfap-tui data faces INPUT --out DIR`: raw videos → aligned face clips in the DFEW layout
//! (a folder of JPEGs per clip, or mp4) plus a manifest with the labels carried over and a
//! report of every video. All cores; resumable (finished clips are skipped); a bad or
//! face-less video is counted and listed, never the end of the batch.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde_json::json;
use svfap_tui::backend::Cpu;
use svfap_tui::data::manifest::{Label, ManifestEntry};
use svfap_tui::faces::{
    AlignConfig, AlignMode, DetectorConfig, FaceDetector, MainFace, TrackConfig,
};
use svfap_tui::inference::face_clips::{
    ClipFormat, FaceClipOptions, FaceClipOutcome, write_face_clip,
};
use svfap_tui::inference::input::{InferInput, classify_input};
use svfap_tui::inference::video_faces::FaceSearch;

use super::bounded;
use super::progress::Progress;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AlignArg {
    /// Similarity transform of the five landmarks onto a template (removes head roll).
    Landmarks,
    /// A square around the detection box, upright (MARLIN's crops).
    Box,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// A folder of numbered JPEGs per clip (the DFEW layout).
    Frames,
    /// One mp4 per clip.
    Mp4,
}

#[derive(Args, Debug)]
pub struct FacesArgs {
    /// A video, a folder of videos, or a manifest (`path [label]` per line).
    pub input: PathBuf,
    /// Folder for the clips, `manifest.csv` and `faces-report.json`.
    #[arg(long)]
    pub out: PathBuf,
    /// Crop side in pixels (32–1024; DFEW/FERV39k style: 224).
    #[arg(long, default_value_t = 224, value_parser = bounded(32, 1024))]
    pub size: usize,
    #[arg(long, value_enum, default_value_t = AlignArg::Landmarks)]
    pub align: AlignArg,
    /// Context around the face, as a fraction of it (0–2).
    #[arg(long, default_value_t = 0.25)]
    pub margin: f32,
    /// Detect on every K-th frame; the track is interpolated between (1–60).
    #[arg(long, default_value_t = 5, value_parser = bounded(1, 60))]
    pub detect_every: usize,
    /// Smallest face searched for, in pixels of the detection copy (short side ≤ 360):
    /// 40 finds faces a ninth of a 360p frame's height at twice the speed of 20 (facenet-pytorch's default).
    #[arg(long, default_value_t = 40, value_parser = bounded(12, 1000))]
    pub min_face: usize,
    /// Which face when several are tracked (0: the largest × longest).
    #[arg(long, default_value_t = 0)]
    pub face: usize,
    #[arg(long, value_enum, default_value_t = FormatArg::Frames)]
    pub format: FormatArg,
    /// JPEG quality (1–100).
    #[arg(long, default_value_t = 95, value_parser = bounded(1, 100))]
    pub quality: usize,
    /// Videos processed at once (default: all cores).
    #[arg(long, value_parser = bounded(1, 256))]
    pub workers: Option<usize>,
}

/// MTCNN on the CPU with facenet-pytorch's settings but the given smallest face.
pub fn detector(min_face: usize) -> Result<FaceDetector<Cpu>> {
    let config = DetectorConfig {
        min_face_size: min_face as f64,
        ..DetectorConfig::default()
    };
    Ok(FaceDetector::<Cpu>::with_config(
        config,
        &Default::default(),
    )?)
}

/// A stable output name from the path as the manifest wrote it: `a/b/clip.mp4` → `a_b_clip`.
fn clip_name(raw: &str) -> String {
    let p = std::path::Path::new(raw);
    let stem = p.with_extension("");
    let s: String = stem
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("_");
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The videos of INPUT with their labels (class indices of a manifest are carried over).
fn videos(input: &std::path::Path) -> Result<Vec<ManifestEntry>> {
    // Any class index is carried over as it is (no class count to check it against).
    match classify_input(input, Some(usize::MAX))? {
        InferInput::Video(path) => Ok(vec![ManifestEntry {
            raw_path: path
                .file_name()
                .map_or(path.display().to_string(), |n| n.to_string_lossy().into()),
            path,
            label: Label::None,
            line: 1,
        }]),
        InferInput::Many { entries, .. } => Ok(entries),
        InferInput::Npy(p) => bail!(
            "{}: a .npy clip has no frames to find faces in",
            p.display()
        ),
    }
}

pub fn run(args: &FacesArgs) -> Result<()> {
    if !(0.0..=2.0).contains(&args.margin) {
        bail!("--margin {}: must lie in 0–2", args.margin);
    }
    let format = match args.format {
        FormatArg::Frames => ClipFormat::Frames,
        FormatArg::Mp4 => ClipFormat::Mp4,
    };
    if format == ClipFormat::Mp4 && args.size % 2 == 1 {
        bail!(
            "--size {}: H.264 needs an even side for --format mp4",
            args.size
        );
    }
    let entries = videos(&args.input)?;
    std::fs::create_dir_all(&args.out).with_context(|| args.out.display().to_string())?;
    let opts = FaceClipOptions {
        search: FaceSearch {
            every: args.detect_every,
            track: TrackConfig {
                main_face: if args.face == 0 {
                    MainFace::Largest
                } else {
                    MainFace::Index(args.face)
                },
                ..TrackConfig::default()
            },
            ..FaceSearch::default()
        },
        align: AlignConfig {
            size: args.size,
            mode: match args.align {
                AlignArg::Landmarks => AlignMode::Landmarks,
                AlignArg::Box => AlignMode::Box,
            },
            margin: args.margin,
        },
        format,
        quality: args.quality as u8,
    };
    opts.align.validate()?;
    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()?;
    let bar = Mutex::new(Progress::new(
        args.input.display().to_string(),
        "videos",
        entries.len(),
    ));
    let done = std::sync::atomic::AtomicUsize::new(0);
    let names: Vec<String> = entries.iter().map(|e| clip_name(&e.raw_path)).collect();
    let outcomes: Vec<Result<FaceClipOutcome>> = pool.install(|| {
        entries
            .par_iter()
            .zip(&names)
            .map_init(
                || detector(args.min_face),
                |detector, (e, name)| {
                    let r = match detector {
                        Ok(d) => write_face_clip(d, &e.path, &args.out, name, &opts),
                        Err(err) => Err(anyhow::anyhow!("{err}")),
                    };
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    bar.lock().unwrap().update(n);
                    r
                },
            )
            .collect()
    });
    bar.lock().unwrap().finish();
    let mut manifest = String::new();
    let mut rows = vec![];
    let (mut written, mut already, mut no_face, mut failed) = (0, 0, 0, 0);
    for ((e, name), outcome) in entries.iter().zip(&names).zip(outcomes) {
        let label = e.label.class().map(|c| format!(" {c}")).unwrap_or_default();
        let row = match outcome {
            Ok(FaceClipOutcome::Written { out, faces }) => {
                written += 1;
                manifest.push_str(&format!("{}{label}\n", out_name(&out)));
                json!({"input": e.raw_path, "line": e.line, "status": "written", "output": name,
                       "frames": faces.frames, "detected": faces.detected,
                       "interpolated": faces.interpolated, "missing": faces.missing,
                       "tracks": faces.tracks})
            }
            Ok(FaceClipOutcome::AlreadyDone { out }) => {
                already += 1;
                manifest.push_str(&format!("{}{label}\n", out_name(&out)));
                json!({"input": e.raw_path, "line": e.line, "status": "already done", "output": name})
            }
            Ok(FaceClipOutcome::NoFace { frames }) => {
                no_face += 1;
                json!({"input": e.raw_path, "line": e.line, "status": "no face", "frames": frames})
            }
            Err(err) => {
                failed += 1;
                json!({"input": e.raw_path, "line": e.line, "status": "error", "error": format!("{err:#}")})
            }
        };
        rows.push(row);
    }
    let report = json!({"input": args.input.display().to_string(), "size": args.size,
                        "align": format!("{:?}", args.align).to_lowercase(), "margin": args.margin,
                        "detect_every": args.detect_every, "videos": rows});
    let manifest_path = args.out.join("manifest.csv");
    let report_path = args.out.join("faces-report.json");
    svfap_tui::session::write_atomic(&manifest_path, manifest.as_bytes())?;
    svfap_tui::session::write_atomic(
        &report_path,
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    println!(
        "{} video(s): {written} written, {already} already done, {no_face} without a face, {failed} failed",
        entries.len()
    );
    for r in report["videos"].as_array().into_iter().flatten() {
        match r["status"].as_str() {
            Some("no face") => println!("  no face: {}", r["input"].as_str().unwrap_or("")),
            Some("error") => println!("  failed:  {}", r["error"].as_str().unwrap_or("")),
            Some("written") if r["missing"].as_u64().unwrap_or(0) > 0 => println!(
                "  {}: face missing on {} of {} frames (crop held at the nearest face)",
                r["input"].as_str().unwrap_or(""),
                r["missing"],
                r["frames"]
            ),
            _ => {}
        }
    }
    println!("manifest: {}", manifest_path.display());
    println!("report:   {}", report_path.display());
    if written + already == 0 {
        bail!("{}: no face clip could be made", args.input.display());
    }
    Ok(())
}

fn out_name(out: &std::path::Path) -> String {
    out.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_names_are_stable_and_flat() {
        assert_eq!(clip_name("videos/test/00001.mp4"), "videos_test_00001");
        assert_eq!(clip_name("/abs/a b/c.avi"), "abs_a_b_c");
        assert_eq!(clip_name("clip"), "clip");
    }
}
