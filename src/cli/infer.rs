//! `svfap-tui infer --checkpoint CKPT INPUT`: class probabilities from a fine-tuned model for
//! one video (a timeline of sliding windows plus the video's mean), for many videos (a
//! manifest or a folder: one row each, with UAR/WAR when the manifest has labels), or for one
//! prepared `.npy` clip. The clip geometry comes from the checkpoint.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use svfap_tui::data::registry::Task;
use svfap_tui::faces::{AlignConfig, AlignMode};
use svfap_tui::inference::clip_frames::ClipFrames;
use svfap_tui::inference::input::{InferInput, classify_input};
use svfap_tui::inference::inspection::{
    InspectionSource, write_inspection, write_window_attention,
};
use svfap_tui::inference::many::{ManyOptions, score_many};
use svfap_tui::inference::scorer::{Scorer, argmax, classifier_config};
use svfap_tui::inference::timeline::{FaceStep, TimelineOptions, score_video};
use svfap_tui::inference::video_faces::FaceSearch;
use svfap_tui::model::checkpoint::read_checkpoint;
use svfap_tui::model::precision::autocast;
use svfap_tui::session::artifacts::Prediction;
use svfap_tui::session::inspection::{Inspection, InspectionDir};
use svfap_tui::train::eval_report::{EvalScope, score_predictions};

use super::bounded;
use super::infer_output as out;
use super::progress::Progress;

#[derive(Args, Debug)]
pub struct InferArgs {
    /// Fine-tuned checkpoint (ours, or a released .pth/.safetensors).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// A video file, a folder of frames, a manifest (`path [label]` per line), a folder of
    /// videos, or a normalised `.npy` [3, T, H, W] clip.
    pub input: PathBuf,
    /// Class names, comma separated, in label order (default: the checkpoint's, if recorded).
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// Dataset the checkpoint was fine-tuned on, for its label names (dfew, ferv39k, mafw, …).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Frame rate of a frame folder (default 25; a video file's own rate is used).
    #[arg(long)]
    pub fps: Option<f64>,
    #[command(flatten)]
    pub scoring: super::scoring_args::ScoringArgs,
    /// Print JSON on stdout (per window and the video's mean; or per video).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV on stdout (a row per window and a `video` row; or a row per video).
    #[arg(long)]
    pub csv: bool,
    /// One video: use the frames as they are, without finding and cropping the face (for
    /// input that is already a face crop).
    #[arg(long)]
    pub no_faces: bool,
    /// One video: how the face is cropped (landmarks: rotation removed; box: upright square).
    #[arg(long, value_enum, default_value_t = super::data_faces::AlignArg::Landmarks)]
    pub align: super::data_faces::AlignArg,
    /// One video: smallest face searched for, px at the detection size (see `data faces`).
    #[arg(long, default_value_t = 40, value_parser = bounded(12, 1000))]
    pub min_face: usize,
    /// One video: detect the face on every K-th frame (1–60).
    #[arg(long, default_value_t = 5, value_parser = bounded(1, 60))]
    pub detect_every: usize,
    /// One video: keep the timeline, the face on every frame, each window's middle frame and
    /// the attention maps of the window where the predicted class peaks in DIR (what the
    /// workbench's Inspect view shows).
    #[arg(long, value_name = "DIR")]
    pub inspect: Option<PathBuf>,
    /// With --inspect: write the attention maps of window N (1-based, as the timeline counts
    /// them; repeatable). When DIR already holds this video's inspection, only the maps are
    /// computed.
    #[arg(long, value_name = "N", requires = "inspect", value_parser = bounded(1, 1_000_000))]
    pub attention_window: Vec<usize>,
    /// Many labelled videos: also write the evaluation report (the run's `eval/*.json` format).
    #[arg(long)]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub backend: crate::BackendArgs,
}

pub fn run(args: &InferArgs) -> Result<()> {
    super::end_quietly_on_closed_pipe();
    args.scoring.check()?;
    if let Some(f) = args.fps
        && !(f.is_finite() && f > 0.0)
    {
        bail!("--fps {f}: must be a positive frame rate");
    }
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let (config, _) = classifier_config(&ckpt, false)?;
    let spec = ckpt
        .input
        .clone()
        .unwrap_or_default()
        .overridden(
            args.dataset.as_deref(),
            args.labels.as_deref(),
            args.scoring.stride,
            config.num_outputs,
        )
        .map_err(anyhow::Error::msg)?;
    let classes = (!spec.regression).then_some(config.num_outputs);
    let input = classify_input(&args.input, classes)?;
    let precision = args.backend.precision()?;
    svfap_tui::with_backend!(args.backend.backend, |B, device_of| {
        let device = device_of(args.backend.device);
        let _autocast = autocast(precision);
        let scorer = Scorer::<<B as AutodiffBackend>::InnerBackend>::load(
            &ckpt,
            config.clone(),
            false,
            spec.clone(),
            &device,
        )?;
        run_on(args, &scorer, input)
    })
}

/// True when `a` and `b` name the same file (compared as absolute paths).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    abs(a) == abs(b)
}

/// The attention maps of the 1-based `windows` of an inspection.
fn window_attention<B: Backend>(
    scorer: &Scorer<B>,
    dir: &InspectionDir,
    insp: &Inspection,
    windows: &[usize],
) -> Result<()> {
    for &w in windows {
        let out = write_window_attention(scorer, dir, insp, w.saturating_sub(1))?;
        eprintln!("attention of window {w} written to {}", out.display());
    }
    Ok(())
}

fn run_on<B: Backend>(args: &InferArgs, scorer: &Scorer<B>, input: InferInput) -> Result<()> {
    let spec = &scorer.input;
    let size = scorer.config.encoder.img_size;
    if args.inspect.is_some() && !matches!(input, InferInput::Video(_)) {
        bail!(
            "--inspect: looks at one video or frame folder; {} is not one",
            args.input.display()
        );
    }
    match input {
        InferInput::Npy(path) => npy_clip(args, scorer, &path),
        InferInput::Video(path) => {
            if let Some(dir) = &args.inspect {
                let dir = InspectionDir::new(dir);
                if !args.attention_window.is_empty()
                    && let Ok(insp) = dir.read()
                    && same_file(&insp.video, &path)
                {
                    return window_attention(scorer, &dir, &insp, &args.attention_window);
                }
            }
            let opts = TimelineOptions {
                step_s: args.scoring.window_stride,
                fps: args.fps,
                batch: args.scoring.batch,
                decode_threads: 2,
            };
            let frames = ClipFrames::new(size, spec);
            let detector = if args.no_faces {
                None
            } else {
                Some(super::data_faces::detector(args.min_face)?)
            };
            let step = detector.as_ref().map(|d| FaceStep {
                detector: d,
                search: FaceSearch {
                    every: args.detect_every,
                    ..FaceSearch::default()
                },
                align: AlignConfig {
                    mode: match args.align {
                        super::data_faces::AlignArg::Landmarks => AlignMode::Landmarks,
                        super::data_faces::AlignArg::Box => AlignMode::Box,
                    },
                    ..AlignConfig::default()
                },
            });
            let mut bar = Progress::new(format!("{}", path.display()), "windows", 0);
            let t = score_video(
                scorer,
                &frames,
                step.as_ref(),
                &path,
                &opts,
                &mut |done, total| {
                    bar.set_total(total);
                    bar.update(done)
                },
            )?;
            bar.finish();
            for w in &t.warnings {
                eprintln!("warning: {w}");
            }
            if let Some(dir) = &args.inspect {
                let dir = InspectionDir::new(dir);
                let source = InspectionSource {
                    checkpoint: &args.checkpoint,
                    spec,
                    align: step.as_ref().map(|s| s.align.mode),
                };
                let insp = write_inspection(&t, &dir, &source)?;
                let mut windows = args.attention_window.clone();
                if windows.is_empty() {
                    windows.extend(insp.peak_window().map(|w| w + 1));
                }
                window_attention(scorer, &dir, &insp, &windows)?;
                eprintln!("inspection written to {}", dir.root.display());
            }
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&out::timeline_json(&t, spec, size))?
                );
            } else if args.csv {
                print!("{}", out::timeline_csv(&t, spec));
            } else {
                print!("{}", out::timeline_table(&t, spec, size));
            }
            Ok(())
        }
        InferInput::Many {
            origin,
            entries,
            labelled,
            labels_unused,
        } => {
            if let Some(why) = labels_unused {
                eprintln!("note: labels not used: {why}");
            }
            let workers = args.scoring.workers();
            let opts = ManyOptions {
                batch: args.scoring.batch,
                workers,
            };
            let mut bar = Progress::new(format!("{}", origin.display()), "videos", entries.len());
            let log: svfap_tui::data::loader::LogSink = Arc::new(|m: &str| eprintln!("\n{m}"));
            let m = score_many(scorer, &entries, &opts, log, &mut |done, _| {
                bar.update(done)
            })?;
            bar.finish();
            if m.videos.is_empty() {
                bail!(
                    "{}: none of the {} videos could be read (first: {})",
                    origin.display(),
                    entries.len(),
                    m.skipped
                        .first()
                        .map_or(String::new(), |(p, r)| format!("{}: {r}", p.display()))
                );
            }
            let report = if labelled && !spec.regression {
                let predictions = m
                    .videos
                    .iter()
                    .map(|v| Prediction {
                        path: v.raw_path.clone(),
                        label: v.label.class().into(),
                        pred: argmax(&v.probs).into(),
                        probs: v.probs.iter().map(|&p| f64::from(p)).collect(),
                    })
                    .collect();
                let scope = EvalScope {
                    dataset: spec.dataset.clone(),
                    split: origin
                        .file_stem()
                        .map_or("infer".into(), |s| s.to_string_lossy().into()),
                    fold: None,
                };
                let names: Vec<String> = (0..scorer.config.num_outputs)
                    .map(|i| spec.label(i))
                    .collect();
                let mut report =
                    score_predictions(&scope, Task::Classification, &names, predictions)?;
                report.videos_skipped = m.skipped.len();
                Some(report)
            } else {
                None
            };
            if let Some(path) = &args.report {
                let Some(report) = &report else {
                    bail!(
                        "--report: {} has no class labels to score against",
                        origin.display()
                    );
                };
                report.write(path)?;
            }
            let metrics = report
                .as_ref()
                .map(|r| serde_json::to_value(&r.metrics))
                .transpose()?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string(&out::many_json(&m, spec, metrics.as_ref()))?
                );
                return Ok(());
            }
            if args.csv {
                print!("{}", out::many_csv(&m, spec));
                return Ok(());
            }
            print!("{}", out::many_table(&m, spec));
            println!(
                "{} video(s), {} clip(s) in {:.1} s: {:.1} clips/s{}",
                m.videos.len(),
                m.clips,
                m.seconds,
                m.clips as f64 / m.seconds.max(1e-9),
                if m.skipped.is_empty() {
                    String::new()
                } else {
                    format!("; {} skipped (listed above)", m.skipped.len())
                }
            );
            if let Some(r) = &report {
                let get = |k: &str| r.metrics.get(k).copied().unwrap_or(f64::NAN) * 100.0;
                println!(
                    "UAR {:.2}  WAR {:.2}  (over the {} labelled videos read)",
                    get("uar"),
                    get("war"),
                    r.videos_scored
                );
            }
            Ok(())
        }
    }
}

/// One prepared clip, used as is.
fn npy_clip<B: Backend>(
    args: &InferArgs,
    scorer: &Scorer<B>,
    path: &std::path::Path,
) -> Result<()> {
    let clip = scorer.read_clip(path)?;
    let score = scorer.score(clip, 1)?.remove(0);
    if args.json {
        let v = serde_json::json!({
            "logits": score.logits, "probs": score.probs, "features": score.features
        });
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    let spec = &scorer.input;
    let mut order: Vec<usize> = (0..score.probs.len()).collect();
    order.sort_by(|&a, &b| score.probs[b].total_cmp(&score.probs[a]));
    for i in order {
        if spec.regression {
            println!("{:>16}  {:.4}", spec.label(i), score.probs[i]);
        } else {
            println!("{:>16}  {:6.2}%", spec.label(i), score.probs[i] * 100.0);
        }
    }
    Ok(())
}
