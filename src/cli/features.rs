//! `svfap-tui features --checkpoint CKPT INPUT --out FILE`: pooled encoder features per clip
//! and per video, for a manifest, a folder of videos, one video (sliding windows) or a
//! prepared `.npy` clip, from a fine-tuned or a pre-trained checkpoint.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use clap::Args;
use svfap_tui::data::manifest::Label;
use svfap_tui::inference::clip_frames::ClipFrames;
use svfap_tui::inference::features_file::{ClipRow, FeatureSet, VideoRow, output_files};
use svfap_tui::inference::input::{InferInput, classify_input};
use svfap_tui::inference::many::{ManyOptions, score_many};
use svfap_tui::inference::scorer::{Scorer, classifier_config};
use svfap_tui::inference::timeline::{TimelineOptions, score_video};
use svfap_tui::model::checkpoint::read_checkpoint;
use svfap_tui::model::precision::autocast;

use super::progress::Progress;

#[derive(Args, Debug)]
pub struct FeaturesArgs {
    /// Fine-tuned or pre-trained checkpoint (ours, or a released .pth/.safetensors).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// A manifest, a folder of videos, one video or frame folder, or a `.npy` clip.
    pub input: PathBuf,
    /// Output: `.safetensors` (clip_features, video_features, clip_video) or `.npy`
    /// (FILE per video, FILE.clips.npy per clip); an index CSV is written beside it.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub scoring: super::scoring_args::ScoringArgs,
    #[command(flatten)]
    pub backend: crate::BackendArgs,
}

fn label_text(label: &Label) -> String {
    match label {
        Label::Class(c) => c.to_string(),
        Label::Values(v) => v.iter().map(f32::to_string).collect::<Vec<_>>().join(" "),
        Label::None => String::new(),
    }
}

pub fn run(args: &FeaturesArgs) -> Result<()> {
    super::end_quietly_on_closed_pipe();
    output_files(&args.out)?;
    args.scoring.check()?;
    let ckpt = read_checkpoint(&args.checkpoint)?;
    let (config, encoder_only) = classifier_config(&ckpt, true)?;
    let mut spec = ckpt.input.clone().unwrap_or_default();
    if let Some(s) = args.scoring.stride {
        spec.stride = s;
    }
    let input = classify_input(&args.input, None)?;
    let precision = args.backend.precision()?;
    let mut set = svfap_tui::with_backend!(args.backend.backend, |B, device_of| {
        let device = device_of(args.backend.device);
        let _autocast = autocast(precision);
        let scorer = Scorer::<<B as AutodiffBackend>::InnerBackend>::load(
            &ckpt,
            config.clone(),
            encoder_only,
            spec.clone(),
            &device,
        )?;
        collect(args, &scorer, input)
    })?;
    set.metadata = vec![
        ("checkpoint".into(), args.checkpoint.display().to_string()),
        ("input".into(), args.input.display().to_string()),
        ("stride".into(), spec.stride.to_string()),
        ("frames".into(), config.encoder.frames.to_string()),
        ("size".into(), config.encoder.img_size.to_string()),
        (
            "pooling".into(),
            if encoder_only {
                "mean of the encoder's tokens, layer-normalised without affine (pre-trained encoder)"
            } else {
                "fc_norm of the mean of the encoder's tokens (fine-tuned model)"
            }
            .into(),
        ),
    ];
    let files = set.write(&args.out)?;
    println!(
        "{} video(s), {} clip(s), {} features each{}",
        set.videos.len(),
        set.clips.len(),
        set.dim(),
        if encoder_only {
            " (pre-trained encoder)"
        } else {
            ""
        }
    );
    for f in files {
        println!("wrote {}", f.display());
    }
    Ok(())
}

fn collect<B: Backend>(
    args: &FeaturesArgs,
    scorer: &Scorer<B>,
    input: InferInput,
) -> Result<FeatureSet> {
    let mut set = FeatureSet::default();
    match input {
        InferInput::Npy(path) => {
            let clip = scorer.read_clip(&path)?;
            let f = scorer.score(clip, 1)?.remove(0).features;
            set.videos.push(VideoRow {
                path: path.display().to_string(),
                label: String::new(),
                features: f.clone(),
            });
            set.clips.push(ClipRow {
                video: 0,
                clip: 0,
                frames: None,
                features: f,
            });
        }
        InferInput::Video(path) => {
            let opts = TimelineOptions {
                step_s: args.scoring.window_stride,
                fps: None,
                batch: args.scoring.batch,
                decode_threads: 2,
            };
            let frames = ClipFrames::new(scorer.config.encoder.img_size, &scorer.input);
            let mut bar = Progress::new(path.display().to_string(), "windows", 0);
            let t = score_video(scorer, &frames, None, &path, &opts, &mut |done, total| {
                bar.set_total(total);
                bar.update(done)
            })?;
            bar.finish();
            set.videos.push(VideoRow {
                path: path.display().to_string(),
                label: String::new(),
                features: t.features,
            });
            for (i, w) in t.windows.into_iter().enumerate() {
                set.clips.push(ClipRow {
                    video: 0,
                    clip: i,
                    frames: Some((w.window.first, w.window.last)),
                    features: w.score.features,
                });
            }
        }
        InferInput::Many {
            origin, entries, ..
        } => {
            let workers = args.scoring.workers();
            let opts = ManyOptions {
                batch: args.scoring.batch,
                workers,
            };
            let mut bar = Progress::new(origin.display().to_string(), "videos", entries.len());
            let log: svfap_tui::data::loader::LogSink = Arc::new(|m: &str| eprintln!("\n{m}"));
            let m = score_many(scorer, &entries, &opts, log, &mut |done, _| {
                bar.update(done)
            })?;
            bar.finish();
            if m.videos.is_empty() {
                bail!(
                    "{}: none of the {} videos could be read",
                    origin.display(),
                    entries.len()
                );
            }
            for (path, reason) in &m.skipped {
                eprintln!("skipped {}: {reason}", path.display());
            }
            for (v, video) in m.videos.into_iter().enumerate() {
                for (k, c) in video.clips.into_iter().enumerate() {
                    set.clips.push(ClipRow {
                        video: v,
                        clip: k,
                        frames: None,
                        features: c.features,
                    });
                }
                set.videos.push(VideoRow {
                    path: video.raw_path,
                    label: label_text(&video.label),
                    features: video.features,
                });
            }
        }
    }
    Ok(set)
}
